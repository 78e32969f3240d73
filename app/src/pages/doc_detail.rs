//! `/docs/{service}`: one doc rendered (sanitized), its checklist, attestations and history.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::widgets::TimeAgo;
use crate::model::docs::{Attestation, DocStatus};
use crate::pages::docs::VerifyForm;

#[derive(Clone, Debug)]
pub struct DocView {
    pub status: DocStatus,
    /// Sanitized when the doc was scanned; safe to insert.
    pub html: String,
    pub attestations: Vec<Attestation>,
    pub history: Vec<(OffsetDateTime, String, bool)>,
    pub can_edit: bool,
    pub now: OffsetDateTime,
}

#[component]
pub fn DocPage(data: DocView) -> impl IntoView {
    let DocView {
        status,
        html,
        attestations,
        history,
        can_edit,
        now,
    } = data;
    let checks = status
        .checks
        .iter()
        .map(|c| {
            let class = if c.passed { "badge status-up" } else { "badge status-down" };
            view! { <tr><th scope="row">{c.name.clone()}</th><td><span class=class>{if c.passed { "pass" } else { "fail" }}</span></td><td>{c.reason.clone()}</td></tr> }
        })
        .collect_view();
    let covers = if status.covers.is_empty() {
        view! { <span class="error-text">"no running service matches (orphan)"</span> }.into_any()
    } else {
        status
            .covers
            .iter()
            .map(|(e, k)| view! { <a href=format!("/services/{e}/{k}")>{format!("{k} on {e}")}</a>" " })
            .collect_view()
            .into_any()
    };
    let attested = attestations
        .into_iter()
        .map(|a| view! { <li><TimeAgo at=a.at now=now/>" · "<strong>{a.by}</strong>": "{a.note}</li> })
        .collect_view();
    let history = history
        .into_iter()
        .map(|(at, event, passing)| view! { <li><TimeAgo at=at now=now/>" · "{event}" · "{if passing { "file checks pass" } else { "file checks fail" }}</li> })
        .collect_view();
    view! {
        <nav aria-label="Breadcrumb" class="breadcrumb"><a href="/docs">"Documentation"</a>" / "</nav>
        <h1>{status.title.clone().unwrap_or_else(|| status.path.clone())}</h1>
        <dl class="facts">
            <dt>"File"</dt><dd><code>{status.path.clone()}</code></dd>
            <dt>"Documents"</dt><dd>{covers}</dd>
            <dt>"Owner"</dt><dd>{status.owner.clone().unwrap_or_else(|| "none".into())}</dd>
            <dt>"Last verified"</dt><dd>{status.last_verified.map(|d| d.to_string()).unwrap_or_else(|| "never".into())}</dd>
            <dt>"Checklist"</dt><dd>{if status.passing { "passes" } else { "fails" }}</dd>
        </dl>
        <table>
            <caption>"Quality checklist"</caption>
            <thead><tr><th scope="col">"Check"</th><th scope="col">"Result"</th><th scope="col">"Why"</th></tr></thead>
            <tbody>{checks}</tbody>
        </table>
        {can_edit.then(|| view! { <VerifyForm path=status.path.clone()/> })}
        <article class="doc-body" aria-label="The document" inner_html=html></article>
        <section aria-labelledby="att-h"><h2 id="att-h">"Verification attestations"</h2><ul>{attested}</ul></section>
        <section aria-labelledby="hist-h"><h2 id="hist-h">"History"</h2><ul>{history}</ul></section>
    }
}
