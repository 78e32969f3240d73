//! Sign-in, sign-in failures and the "no access" page.

use leptos::prelude::*;

use crate::components::forms::CsrfField;
use crate::model::Role;

/// The local demo sign-in: pick a role. Only offered when no identity provider is configured
/// and the portal listens on loopback, and it says so.
#[component]
pub fn DemoSignInPage(next: String) -> impl IntoView {
    let describe = |role: Role| match role {
        Role::Admin => "signs off phases, records assessments, runs rollouts",
        Role::Editor => "tracks and claims documentation work",
        Role::Viewer => "reads grades, trends and the inventory",
    };
    let buttons = Role::ALL
        .into_iter()
        .map(|role| {
            view! {
                <button type="submit" name="role" value=role.as_str()>
                    {format!("Sign in as demo {}", role.as_str())}
                    <small>{describe(role)}</small>
                </button>
            }
        })
        .collect_view();
    view! {
        <h1>"Sign in"</h1>
        <p class="notice warn" role="note">
            "This is a local demo: no identity provider is configured, so you choose a role below. "
            "This mode only runs when the portal listens on this machine alone, and never when Authelia is configured."
        </p>
        <form method="post" action="/auth/demo" class="signin-roles">
            <CsrfField/>
            <input type="hidden" name="next" value=next/>
            {buttons}
        </form>
    }
}

/// A sign-in that did not work, with the reason and a way to try again. No session was created.
#[component]
pub fn SignInFailedPage(#[prop(into)] reason: String) -> impl IntoView {
    view! {
        <h1>"Sign-in failed"</h1>
        <p class="error-message">{reason}</p>
        <p>"You are not signed in. "<a href="/auth/login">"Try again"</a></p>
    }
}

/// Signed in, but in none of the portal's groups.
#[component]
pub fn NoAccessPage(name: String, groups: Vec<String>) -> impl IntoView {
    let groups = if groups.is_empty() {
        "none".to_string()
    } else {
        groups.join(", ")
    };
    view! {
        <h1>"No access"</h1>
        <p>{format!("You are signed in as {name}, but you are in none of the groups that give access to the audit portal.")}</p>
        <p class="muted">{format!("Your groups: {groups}.")}</p>
        <p>"Ask the portal's owner to add you to the admin, editor or viewer group in Authelia, then sign in again."</p>
    }
}

#[component]
pub fn SignedOutPage(
    /// The identity provider's own sign-out page, when the portal knows it.
    provider_sign_out: Option<String>,
) -> impl IntoView {
    view! {
        <h1>"Signed out"</h1>
        <p>"Your portal session has ended."</p>
        <p>
            "Your single sign-on session at the identity provider may still be open: signing in "
            "again here would not ask for a password."
            {provider_sign_out
                .map(|href| {
                    view! {
                        " "
                        <a href=href rel="noreferrer">"Sign out at the identity provider"</a>
                        " to end it too."
                    }
                })}
        </p>
        <p><a class="button" href="/auth/login">"Sign in again"</a></p>
    }
}
