//! The sign-in flow: `/auth/login`, the provider's callback, the local demo sign-in, sign-out.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::{Expiry, Session};

use app::model::{Role, Section};
use app::pages::auth::{DemoSignInPage, SignInFailedPage, SignedOutPage};
use app::render_page;

use crate::audited::trail::{self, Outcome, Record};
use crate::auth::guard::safe_next;
use crate::auth::oidc::{Identity, PendingSignIn};
use crate::auth::session::{CSRF_KEY, PENDING_KEY, USER_KEY, role_from_groups};
use crate::auth::{DEMO_ISSUER, Page, SessionUser};
use crate::error::{AppError, AppResult};
use crate::routes::form::ValidForm;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    /// Set by a sign-off that needs a recent authentication: sign in again even when signed in.
    fresh: Option<String>,
}

/// How long a sign-in may take from the redirect to the provider (or the demo's form) to the
/// callback. A visitor who never comes back leaves a row that expires this soon and is purged.
const PENDING_SIGN_IN_LIFETIME: Expiry = Expiry::OnInactivity(time::Duration::minutes(10));

pub(crate) fn session_error(e: tower_sessions::session::Error) -> AppError {
    AppError::Internal(anyhow::Error::new(e).context("session store"))
}

pub async fn login(
    State(state): State<AppState>,
    page: Page,
    session: Session,
    Query(q): Query<LoginQuery>,
) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    let fresh = q.fresh.is_some();
    if page.user.is_some() && !fresh {
        return Ok(Redirect::to(&next).into_response());
    }
    if let Some(oidc) = &state.oidc {
        let max_age = fresh.then_some(state.settings.auth.reauth_max_age);
        let (url, pending) = oidc.begin(next, max_age).await.map_err(|e| {
            tracing::error!(
                error = format!("{e:#}"),
                "cannot reach the identity provider"
            );
            AppError::Unavailable(
                "The sign-in provider cannot be reached right now. Try again in a minute.".into(),
            )
        })?;
        session
            .insert(PENDING_KEY, &pending)
            .await
            .map_err(session_error)?;
        session.set_expiry(Some(PENDING_SIGN_IN_LIFETIME));
        return Ok(Redirect::to(&url).into_response());
    }
    if state.settings.auth.demo_sign_in {
        // Showing the demo's form starts a sign-in: its CSRF token needs a (short-lived) session.
        let csrf = crate::auth::csrf::token(&session)
            .await
            .map_err(session_error)?;
        session.set_expiry(Some(PENDING_SIGN_IN_LIFETIME));
        let page = Page { csrf, ..page };
        let meta = page.meta("Sign in", Section::None);
        return Ok(Html(render_page(
            meta,
            move || view! { <DemoSignInPage next=next/> },
        ))
        .into_response());
    }
    Err(AppError::Unavailable("Sign-in is not configured.".into()))
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn failed(page: &Page, reason: String) -> Response {
    tracing::warn!(reason = %reason, "sign-in refused");
    let meta = page.meta("Sign-in failed", Section::None);
    (
        StatusCode::UNAUTHORIZED,
        Html(render_page(
            meta,
            move || view! { <SignInFailedPage reason=reason/> },
        )),
    )
        .into_response()
}

pub async fn callback(
    State(state): State<AppState>,
    page: Page,
    session: Session,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    let Some(oidc) = &state.oidc else {
        return Err(AppError::NotFound("The sign-in callback".into()));
    };
    // The pending sign-in is taken out only by an answer that carries its `state`: a forged
    // callback link must not be able to cancel a sign-in this browser has in progress.
    let pending: Option<PendingSignIn> = session.get(PENDING_KEY).await.map_err(session_error)?;
    let Some(pending) = pending else {
        return Ok(failed(
            &page,
            "No sign-in was in progress in this browser: the link was used already, or it expired."
                .into(),
        ));
    };
    if q.state.as_deref() != Some(pending.state.as_str()) {
        return Ok(failed(
            &page,
            "The sign-in answer does not belong to this browser's sign-in (state mismatch).".into(),
        ));
    }
    // From here on the answer is this browser's own: a callback can be used once only.
    session
        .remove::<PendingSignIn>(PENDING_KEY)
        .await
        .map_err(session_error)?;
    if let Some(error) = q.error {
        // Only the standard error code is shown: the description is free text anyone can put in
        // a link, and the portal's page must not lend it credibility.
        tracing::info!(error = %error.escape_debug(), description = %q.error_description.unwrap_or_default().escape_debug(), "the provider refused the sign-in");
        return Ok(failed(
            &page,
            format!(
                "The sign-in provider refused the sign-in ({}).",
                oauth_error_code(&error)
            ),
        ));
    }
    let Some(code) = q.code else {
        return Ok(failed(
            &page,
            "The sign-in provider sent no authorization code.".into(),
        ));
    };
    let identity = match oidc.finish(&pending, &code).await {
        Ok(identity) => identity,
        Err(e) => {
            return Ok(failed(
                &page,
                format!("The sign-in could not be verified: {e:#}."),
            ));
        }
    };
    let user = user_from(identity, &state);
    start_session(&state, &session, user).await?;
    Ok(Redirect::to(&pending.next).into_response())
}

/// The error codes of OAuth 2.0 and OpenID Connect; anything else is shown as "unknown error".
fn oauth_error_code(code: &str) -> &str {
    const KNOWN: &[&str] = &[
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "interaction_required",
        "login_required",
        "account_selection_required",
        "consent_required",
        "invalid_request_uri",
        "invalid_request_object",
        "request_not_supported",
        "request_uri_not_supported",
        "registration_not_supported",
    ];
    KNOWN
        .iter()
        .find(|k| **k == code)
        .copied()
        .unwrap_or("unknown error")
}

fn user_from(identity: Identity, state: &AppState) -> SessionUser {
    let role = role_from_groups(&identity.groups, &state.settings.auth.groups);
    SessionUser {
        issuer: identity.issuer,
        subject: identity.subject,
        username: identity.username,
        name: identity.name,
        email: identity.email,
        groups: identity.groups,
        role,
        auth_time: identity.auth_time,
        signed_in_at: OffsetDateTime::now_utc().unix_timestamp(),
    }
}

/// A new session id (no fixation), a new CSRF token, the person, and an audit entry.
async fn start_session(state: &AppState, session: &Session, user: SessionUser) -> AppResult<()> {
    session.cycle_id().await.map_err(session_error)?;
    let idle = time::Duration::seconds(state.settings.auth.session_idle.as_secs() as i64);
    session.set_expiry(Some(Expiry::OnInactivity(idle)));
    session
        .remove::<String>(CSRF_KEY)
        .await
        .map_err(session_error)?;
    session
        .insert(USER_KEY, &user)
        .await
        .map_err(session_error)?;
    tracing::info!(subject = %user.subject, role = ?user.role, "signed in");
    let after = serde_json::json!({ "role": user.role, "groups": user.groups });
    trail::append(
        &state.db,
        Record::<(), _> {
            actor: &user,
            action: "auth.sign_in",
            target: "session",
            outcome: Outcome::Done,
            before: None,
            after: Some(after),
        },
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct DemoForm {
    role: String,
    next: Option<String>,
}

/// The local demo sign-in; refused outright unless that mode is on.
pub async fn demo(
    State(state): State<AppState>,
    session: Session,
    ValidForm(form): ValidForm<DemoForm>,
) -> AppResult<Response> {
    if !state.settings.auth.demo_sign_in || state.oidc.is_some() {
        return Err(AppError::NotFound("The demo sign-in".into()));
    }
    let role = Role::parse(&form.role)
        .ok_or_else(|| AppError::BadRequest(format!("'{}' is not a role.", form.role)))?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let user = SessionUser {
        issuer: DEMO_ISSUER.into(),
        subject: format!("demo-{}", role.as_str()),
        username: Some(format!("demo-{}", role.as_str())),
        name: Some(format!("Demo {}", role.as_str())),
        email: None,
        groups: vec![],
        role: Some(role),
        auth_time: now,
        signed_in_at: now,
    };
    start_session(&state, &session, user).await?;
    Ok(Redirect::to(&safe_next(form.next.as_deref())).into_response())
}

/// Ends the portal's session. Authelia offers no RP-initiated logout, so the single sign-on
/// session lives on; the signed-out page links to the provider's own sign-out page.
pub async fn logout(session: Session) -> AppResult<Response> {
    let user: Option<SessionUser> = session.get(USER_KEY).await.map_err(session_error)?;
    session.flush().await.map_err(session_error)?;
    if let Some(user) = &user {
        tracing::info!(subject = %user.subject, "signed out");
    }
    // The browser drops the pages it kept for revalidation: nothing of the session stays on a
    // shared computer.
    Ok((
        [(
            axum::http::HeaderName::from_static("clear-site-data"),
            "\"cache\"",
        )],
        Redirect::to("/auth/signed-out"),
    )
        .into_response())
}

pub async fn signed_out(State(state): State<AppState>, page: Page) -> Html<String> {
    let meta = page.meta("Signed out", Section::None);
    let provider_sign_out = state
        .oidc
        .as_ref()
        .and_then(|oidc| oidc.sign_out_url())
        .map(String::from);
    Html(render_page(meta, move || {
        view! { <SignedOutPage provider_sign_out=provider_sign_out/> }
    }))
}
