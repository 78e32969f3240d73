//! `/audit`: the append-only trail of every write, with filters. Admins only; nothing here edits it.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::widgets::TimeAgo;
use crate::model::audit_log::{AuditEntry, AuditFilter};

fn json_text(value: &Option<serde_json::Value>) -> String {
    match value {
        None => "–".into(),
        Some(v) => serde_json::to_string_pretty(v).unwrap_or_default(),
    }
}

#[component]
pub fn AuditPage(
    entries: Vec<AuditEntry>,
    filter: AuditFilter,
    now: OffsetDateTime,
) -> impl IntoView {
    let empty = entries.is_empty();
    let rows = entries
        .into_iter()
        .map(|e| {
            let outcome_class = format!("badge status-{}", if e.outcome == "done" { "up" } else { "down" });
            view! {
                <tr>
                    <td><TimeAgo at=e.at now=now/></td>
                    <td>{e.actor_name.clone()}<br/><small class="muted">{e.actor_role.clone().unwrap_or_default()}" · "<code>{e.actor_subject.clone()}</code></small></td>
                    <td><code>{e.action.clone()}</code></td>
                    <td>{e.target.clone()}</td>
                    <td><span class=outcome_class>{e.outcome.clone()}</span></td>
                    <td><pre class="json">{json_text(&e.before)}</pre></td>
                    <td><pre class="json">{json_text(&e.after)}</pre></td>
                </tr>
            }
        })
        .collect_view();
    let outcome = filter.outcome.clone().unwrap_or_default();
    view! {
        <h1>"Audit trail"</h1>
        <p class="lead">"Every write in the portal: who, what, when, before and after. Append-only: the database refuses changes to it."</p>
        <form method="get" action="/audit" class="filters" role="search" aria-label="Filter the audit trail">
            <label>"Person"<input type="search" name="actor" value=filter.actor.clone().unwrap_or_default()/></label>
            <label>"Action"<input type="search" name="action" value=filter.action.clone().unwrap_or_default()/></label>
            <label>"Outcome"
                <select name="outcome">
                    <option value="">"any"</option>
                    <option value="done" selected=outcome == "done">"done"</option>
                    <option value="refused" selected=outcome == "refused">"refused"</option>
                </select>
            </label>
            <button type="submit">"Apply"</button>
            <a href="/audit">"Clear"</a>
        </form>
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Audit trail"</caption>
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Action"</th>
                    <th scope="col">"Target"</th><th scope="col">"Outcome"</th><th scope="col">"Before"</th><th scope="col">"After"</th>
                </tr></thead>
                <tbody>
                    {rows}
                    {empty.then(|| view! { <tr><td colspan="7" class="empty">"Nothing recorded matches."</td></tr> })}
                </tbody>
            </table>
        </div>
    }
}
