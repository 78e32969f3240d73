//! `/engines`: each Docker engine's reachability, version and last refresh.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::widgets::TimeAgo;
use crate::model::EngineStatus;

#[component]
pub fn EnginesPage(engines: Vec<EngineStatus>, now: OffsetDateTime) -> impl IntoView {
    let empty = engines.is_empty();
    let rows = engines
        .into_iter()
        .map(|e| {
            let state = if !e.reachable { "down" } else if e.stale { "stale" } else { "up" };
            let class = format!("badge status-{state}");
            view! {
                <tr>
                    <th scope="row"><a href=format!("/services?engine={}", crate::model::service_query::url_encode(&e.name))>{e.name.clone()}</a></th>
                    <td><code>{e.endpoint}</code></td>
                    <td><span class=class>{state}</span></td>
                    <td>{e.docker_version.unwrap_or_else(|| "unknown".into())}" "<span class="muted">{e.api_version.map(|v| format!("(API {v})"))}</span></td>
                    <td class="num">{e.containers}</td>
                    <td>{e.last_refresh_at.map(|at| view! { <TimeAgo at=at now=now/> })}</td>
                    <td>{e.last_success_at.map(|at| view! { <TimeAgo at=at now=now/> })}</td>
                    <td class="num">{e.last_duration_ms.map(|ms| format!("{ms} ms"))}</td>
                    <td class="error-text">{e.last_error}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h1>"Docker engines"</h1>
        <p class="lead">"The worker reads every engine on a timer; pages never call Docker."</p>
        {empty.then(|| view! { <p class="empty">"No engine is configured. Set AUDIT_ENGINES or add [[engines]] to the configuration file."</p> })}
        <div class="table-wrap">
            <table>
                <caption>"Engines and their last refresh"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Engine"</th>
                        <th scope="col">"Endpoint"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Docker version"</th>
                        <th scope="col" class="num">"Containers"</th>
                        <th scope="col">"Last refresh"</th>
                        <th scope="col">"Last success"</th>
                        <th scope="col" class="num">"Duration"</th>
                        <th scope="col">"Last error"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
