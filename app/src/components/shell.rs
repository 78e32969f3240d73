//! The document around every page: head, skip link, header navigation, main landmark, footer.

use leptos::prelude::*;

use crate::components::forms::CsrfField;
use crate::model::{Role, Section, Viewer};
use crate::render::PageMeta;

#[component]
pub fn Shell(meta: PageMeta, children: Children) -> impl IntoView {
    let title = if meta.title.is_empty() {
        "Audit Portal".to_string()
    } else {
        format!("{} · Audit Portal", meta.title)
    };
    let nav = Section::NAV
        .into_iter()
        .map(|(section, label, href)| {
            let current = (section == meta.section).then_some("page");
            view! { <li><a href=href aria-current=current>{label}</a></li> }
        })
        .collect_view();
    view! {
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <title>{title}</title>
                <link rel="stylesheet" href=crate::assets::stylesheet_path()/>
                <link rel="icon" href=crate::assets::favicon_path() type="image/svg+xml"/>
            </head>
            <body>
                <a class="skip-link" href="#main">"Skip to content"</a>
                <header class="site-header">
                    <a class="brand" href="/">"Audit Portal"</a>
                    <nav aria-label="Sections">
                        <ul>{nav}</ul>
                    </nav>
                    {meta.viewer.map(|v| view! { <UserArea viewer=v/> })}
                </header>
                <main id="main" tabindex="-1">
                    {meta.notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
                    {children()}
                </main>
                <footer class="site-footer">
                    <p>"Audit Portal: production readiness from evidence."</p>
                </footer>
            </body>
        </html>
    }
}

/// Who is signed in, their role, the audit trail for admins, and the sign-out button.
#[component]
fn UserArea(viewer: Viewer) -> impl IntoView {
    let role = viewer.role.map(|r| r.as_str()).unwrap_or("no access");
    let is_admin = viewer.role == Some(Role::Admin);
    view! {
        <div class="user-area">
            {viewer.demo.then(|| view! { <span class="badge status-stale" title="local demo sign-in, no identity provider">"demo"</span> })}
            <span class="user-name">{viewer.name}</span>
            <span class="badge">{role}</span>
            {is_admin.then(|| view! { <a href="/audit">"Audit trail"</a> })}
            {is_admin.then(|| view! { <a href="/settings/tokens">"API tokens"</a> })}
            {is_admin.then(|| view! { <a href="/settings/notifications">"Notifications"</a> })}
            <form method="post" action="/auth/logout" class="inline">
                <CsrfField/>
                <button type="submit" class="link-button">"Sign out"</button>
            </form>
        </div>
    }
}
