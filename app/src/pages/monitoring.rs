//! `/monitoring`: the monitoring stack's own checks (failing first, with since when), the alerts
//! firing now, and the infrastructure repository's state for Change Control.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::widgets::TimeAgo;
use crate::model::evidence::{ChangeControlView, MonitoringPage};

#[component]
pub fn MonitoringStackPage(
    data: MonitoringPage,
    change: Option<ChangeControlView>,
    now: OffsetDateTime,
) -> impl IntoView {
    let MonitoringPage {
        sources,
        checks,
        configured,
    } = data;
    let passing = checks.iter().filter(|c| c.ok).count();
    let total = checks.len();
    let summary = if configured.is_empty() {
        "No monitoring source is configured (AUDIT_PROMETHEUS_URL, AUDIT_ALERTMANAGER_URL, AUDIT_LOKI_URL): Monitoring is assessed by an admin until one is.".to_string()
    } else {
        format!(
            "{passing} of {total} checks pass, from {}.",
            configured.join(", ")
        )
    };
    let source_items = sources
        .iter()
        .map(|s| {
            view! {
                <li class=if s.reachable { "" } else { "error-text" }>
                    <strong>{s.source.clone()}</strong>": "
                    {if s.reachable { "answers".to_string() } else { format!("unreachable: {}", s.error.clone().unwrap_or_default()) }}
                    {s.failing_since.map(|at| view! { " (since "<TimeAgo at=at now=now/>")" })}
                    ", checked "<TimeAgo at=s.checked_at now=now/>
                </li>
            }
        })
        .collect_view();
    let alerts: Vec<_> = sources.iter().flat_map(|s| s.alerts.clone()).collect();
    let alert_rows = alerts
        .iter()
        .map(|a| view! { <tr><td>{a.name.clone()}</td><td>{a.severity.clone()}</td><td>{a.summary.clone()}</td><td>{a.starts_at.clone()}</td></tr> })
        .collect_view();
    let check_rows = checks
        .into_iter()
        .map(|c| {
            view! {
                <tr data-check=c.key.clone()>
                    <td><span class=if c.ok { "badge status-up" } else { "badge status-down" }>{if c.ok { "ok" } else { "failing" }}</span></td>
                    <td>{c.source.clone()}</td>
                    <th scope="row">{c.title.clone()}</th>
                    <td>{c.fact.clone()}</td>
                    <td>{c.failing_since.map(|at| view! { <TimeAgo at=at now=now/> })}</td>
                </tr>
            }
        })
        .collect_view();
    let change_view = change.map(|c| {
        let f = c.facts;
        view! {
            <section aria-labelledby="change-h">
                <h2 id="change-h">"Change control: the infrastructure repository"</h2>
                <p class="muted"><code>{f.path.clone()}</code>", read "<TimeAgo at=c.checked_at now=now/></p>
                {f.error.clone().map(|e| view! { <p class="notice warn">{e}</p> })}
                <dl class="facts">
                    <dt>"Branch"</dt><dd>{f.branch.clone().unwrap_or_default()}{f.upstream.clone().map(|u| format!(" (tracks {u})"))}</dd>
                    <dt>"Uncommitted"</dt><dd>{if f.uncommitted.is_empty() { "nothing".to_string() } else { f.uncommitted.join("; ") }}</dd>
                    <dt>"Not pushed"</dt><dd>{match f.unpushed { Some(n) => format!("{n} commit(s)"), None => "no upstream branch".into() }}</dd>
                    <dt>"Last commit"</dt><dd>{f.last_commit_at.map(|at| view! { <TimeAgo at=at now=now/> })}" "{f.last_commit_subject.clone().unwrap_or_default()}</dd>
                    <dt>"Compose files in the repository"</dt><dd>{format!("{} tracked", f.compose_tracked.len())}
                        {(!f.compose_untracked.is_empty()).then(|| format!("; not tracked: {}", f.compose_untracked.join(", ")))}</dd>
                </dl>
            </section>
        }
    });
    view! {
        <h1>"Monitoring"</h1>
        <p class="lead summary-line">{summary}</p>
        <ul class="plain">{source_items}</ul>
        {(total > 0).then(|| view! {
            <div class="table-wrap">
                <table class="checks">
                    <caption>"Checks"</caption>
                    <thead><tr><th scope="col">"Result"</th><th scope="col">"Source"</th><th scope="col">"Check"</th><th scope="col">"Fact"</th><th scope="col">"Failing since"</th></tr></thead>
                    <tbody>{check_rows}</tbody>
                </table>
            </div>
        })}
        {(!alerts.is_empty()).then(|| view! {
            <section aria-labelledby="alerts-h">
                <h2 id="alerts-h">"Alerts firing"</h2>
                <table><thead><tr><th scope="col">"Alert"</th><th scope="col">"Severity"</th><th scope="col">"Summary"</th><th scope="col">"Since"</th></tr></thead>
                <tbody>{alert_rows}</tbody></table>
            </section>
        })}
        {change_view}
    }
}
