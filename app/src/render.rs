//! Turns a page component into a complete HTML document inside the portal's shell.

use leptos::prelude::*;

use crate::components::shell::Shell;
use crate::model::{Section, Viewer};

/// What the shell needs to know about the page around the content.
#[derive(Clone, Debug)]
pub struct PageMeta {
    pub title: String,
    pub section: Section,
    /// A short message shown above the content, e.g. after a form was accepted.
    pub notice: Option<String>,
    /// The signed-in person, if any.
    pub viewer: Option<Viewer>,
    /// This session's CSRF token, put into every form on the page.
    pub csrf: String,
}

/// The session's CSRF token, available to every component through context.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl PageMeta {
    pub fn new(title: impl Into<String>, section: Section) -> Self {
        Self {
            title: title.into(),
            section,
            notice: None,
            viewer: None,
            csrf: String::new(),
        }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }
}

/// Stands in for the CSRF token in HTML rendered once for many views (whole pages, the action
/// plan's rows); each response puts its own masked token in its place.
pub const CSRF_PLACEHOLDER: &str = "csrf-token-of-this-response";

/// Renders `content` inside the shell and returns the whole document, doctype included.
///
/// Rendering is synchronous: the data is already loaded, so the page is complete HTML with no
/// hydration scripts and works without JavaScript.
pub fn render_page<F, V>(meta: PageMeta, content: F) -> String
where
    F: FnOnce() -> V + Send + 'static,
    V: IntoView + 'static,
{
    // Components may use context; a fresh owner per page keeps pages independent.
    let owner = Owner::new();
    let html = owner.with(|| {
        provide_context(CsrfToken(meta.csrf.clone()));
        view! { <Shell meta=meta>{content()}</Shell> }.to_html()
    });
    owner.cleanup();
    format!("<!DOCTYPE html>\n{html}")
}
