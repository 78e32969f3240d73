//! Pieces every form needs: the CSRF token field.

use leptos::prelude::*;

use crate::render::CsrfToken;

/// The hidden field the server checks on every POST.
#[component]
pub fn CsrfField() -> impl IntoView {
    let token = use_context::<CsrfToken>().map(|t| t.0).unwrap_or_default();
    view! { <input type="hidden" name="csrf_token" value=token/> }
}
