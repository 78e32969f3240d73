//! Audit Portal's pages and components, rendered to complete HTML on the server (Leptos SSR, no wasm).
//!
//! Handlers in the server crate load their data first, then call [`render_page`] with a page
//! component built from plain data; nothing here touches the database or Docker.
// Leptos views are nested generic types; the larger pages need more than the default 128
// levels of type layout on a clean build.
#![recursion_limit = "256"]

pub mod assets;
pub mod components;
pub mod model;
pub mod pages;
mod render;

pub use render::{CSRF_PLACEHOLDER, CsrfToken, PageMeta, render_page};
