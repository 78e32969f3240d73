//! Pages of sections whose feature is not built yet: they say so plainly instead of faking data.

use leptos::prelude::*;

use crate::components::widgets::NotBuilt;

#[component]
pub fn NotBuiltPage(
    #[prop(into)] heading: String,
    #[prop(into)] purpose: String,
    #[prop(into)] status: String,
) -> impl IntoView {
    view! {
        <h1>{heading}</h1>
        <p class="lead">{purpose}</p>
        <NotBuilt what=status/>
    }
}
