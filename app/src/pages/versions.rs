//! The image versions page: each image reference, its versions over time and the services running it.

use crate::components::format::timestamp;
use crate::components::widgets::TimeAgo;
use crate::model::capacity::VersionRow;
use leptos::prelude::*;
use time::OffsetDateTime;

#[component]
pub fn VersionsPage(rows: Vec<VersionRow>, sort: String, now: OffsetDateTime) -> impl IntoView {
    let latest = rows.iter().filter(|r| r.on_latest()).count();
    let header = |key: &'static str, label: &'static str| {
        let current = sort == key;
        view! {
            <th scope="col" aria-sort=if current { "descending" } else { "none" }>
                <a href=format!("/versions?sort={key}")>{label}</a>
            </th>
        }
    };
    let body = rows
        .into_iter()
        .map(|r| {
            let class = if r.on_latest() { "on-latest" } else { "" };
            let short: String = r.image_id.trim_start_matches("sha256:").chars().take(12).collect();
            let updated = r.updated.as_ref().map(|(at, prev)| {
                let prev: String = prev.trim_start_matches("sha256:").chars().take(12).collect();
                view! { <span>"from "<code>{prev}</code>" "<TimeAgo at=*at now=now/></span> }
            });
            view! {
                <tr class=class>
                    <td><code>{r.image_ref.clone()}</code><small class="muted">" ("{r.engine.clone()}")"</small></td>
                    <td>{r.tag.clone()}</td>
                    <td><code>{short}</code></td>
                    <td>{r.created.map(timestamp).unwrap_or_else(|| "unknown".into())}</td>
                    <td class="num">{r.age_days.map_or("–".into(), |d| format!("{d} days"))}</td>
                    <td>{updated}</td>
                    <td>{r.services.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>"Image versions"</h1>
        <p class="lead summary-line">{format!("{latest} image references in use are on latest (or have no tag).")}</p>
        <p class="muted">"As the engines report them; no registry is asked. An image ID that changed under the same reference means the image was updated. "
            <a href="/versions.csv">"Download as CSV"</a></p>
        <table class="versions">
            <thead><tr>{header("image", "Image")}<th scope="col">"Tag"</th><th scope="col">"Image ID"</th>
                <th scope="col">"Created"</th>{header("age", "Age")}{header("updated", "Updated")}{header("services", "Services")}</tr></thead>
            <tbody>{body}</tbody>
        </table>
    }
}
