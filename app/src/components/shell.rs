//! The document around every page: head, skip link, header navigation, main landmark, footer.

use leptos::prelude::*;

use crate::model::Section;
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
                <link rel="stylesheet" href="/assets/portal.css"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
            </head>
            <body>
                <a class="skip-link" href="#main">"Skip to content"</a>
                <header class="site-header">
                    <a class="brand" href="/">"Audit Portal"</a>
                    <nav aria-label="Sections">
                        <ul>{nav}</ul>
                    </nav>
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
