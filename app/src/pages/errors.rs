//! The 404 page and the error page: readable, with no internals.

use leptos::prelude::*;

#[component]
pub fn NotFoundPage(path: String) -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no page at "<code>{path}</code>"."</p>
        <p><a href="/">"Back to the dashboard"</a></p>
    }
}

/// Shown for every refused or failed request; `message` is written for people, never a backtrace.
#[component]
pub fn ErrorPage(
    status: u16,
    #[prop(into)] heading: String,
    #[prop(into)] message: String,
) -> impl IntoView {
    view! {
        <h1>{heading}</h1>
        <p class="error-message">{message}</p>
        <p class="muted">"HTTP status "{status}"."</p>
        <p><a href="/">"Back to the dashboard"</a></p>
    }
}
