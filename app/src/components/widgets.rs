//! Small widgets shared by several pages: status badges, finding counts, times.

use leptos::prelude::*;
use time::OffsetDateTime;

use super::format;
use crate::model::{Finding, Severity};

/// A coloured word for a container status; the colour is decoration, the word carries the meaning.
#[component]
pub fn StatusBadge(#[prop(into)] status: String, #[prop(optional)] stale: bool) -> impl IntoView {
    let class = format!("badge status-{status}");
    view! {
        <span class=class>{status}</span>
        {stale.then(|| view! { <span class="badge status-stale" title="the engine did not answer the last refreshes">"stale"</span> })}
    }
}

/// "2 high, 1 medium" with a badge each; "none" when clean.
#[component]
pub fn FindingCounts(findings: Vec<Finding>) -> impl IntoView {
    if findings.is_empty() {
        return view! { <span class="muted">"none"</span> }.into_any();
    }
    Severity::ALL
        .into_iter()
        .filter_map(|sev| {
            let n = findings.iter().filter(|f| f.severity == sev).count();
            (n > 0).then(|| {
                let class = format!("badge sev-{}", sev.as_str());
                view! { <span class=class>{n}" "{sev.as_str()}</span>" " }
            })
        })
        .collect_view()
        .into_any()
}

/// A time shown relative to now, with the exact time as a tooltip and machine-readable value.
#[component]
pub fn TimeAgo(at: OffsetDateTime, now: OffsetDateTime) -> impl IntoView {
    view! { <time datetime=format::iso(at) title=format::timestamp(at)>{format::ago(at, now)}</time> }
}
