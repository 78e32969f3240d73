//! `/services`: every service on every engine, filtered, searched and sorted through the query string.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format;
use crate::components::forms::CsrfField;
use crate::components::widgets::{FindingCounts, StatusBadge};
use crate::model::service_query::{
    ROUTE_FILTERS, STATE_FILTERS, ServiceQuery, SortKey, url_encode,
};
use crate::model::{FindingKind, InventoryCounts, ServiceSummary};

/// Everything the services page shows.
#[derive(Clone, Debug)]
pub struct ServicesView {
    pub counts: InventoryCounts,
    pub engines: Vec<String>,
    pub query: ServiceQuery,
    /// The table's rows, rendered by [`rows_html`]: the server keeps them per state of the data
    /// and query, since a thousand rows cost far more to render than the rest of the page.
    pub rows_html: std::sync::Arc<String>,
    pub shown: usize,
    /// Whether this visitor may press "Refresh now".
    pub can_refresh: bool,
}

/// The services table's rows as HTML (a row saying so when none matches).
pub fn rows_html(rows: Vec<ServiceSummary>, now: OffsetDateTime) -> String {
    let owner = Owner::new();
    let html = owner.with(|| {
        if rows.is_empty() {
            view! { <tr><td colspan="10" class="empty">"No service matches."</td></tr> }.to_html()
        } else {
            rows.into_iter()
                .map(|s| view! { <ServiceRow s=s now=now/> })
                .collect_view()
                .to_html()
        }
    });
    owner.cleanup();
    html
}

#[component]
pub fn ServicesPage(data: ServicesView) -> impl IntoView {
    let ServicesView {
        counts,
        engines,
        query,
        rows_html,
        shown,
        can_refresh,
    } = data;
    view! {
        <h1>"Services"</h1>
        <p class="lead summary-line">{counts.sentence()}</p>
        <div class="toolbar">
            <FilterForm engines=engines query=query.clone()/>
            <div class="actions">
                <a class="button secondary" href="/services.csv">"Download CSV"</a>
                <a class="button secondary" href="/api/v1/services">"JSON"</a>
                <a class="button secondary" href="/engines">"Engines"</a>
                {can_refresh.then(|| view! {
                    <form method="post" action="/services/refresh" class="inline">
                        <CsrfField/>
                        <button type="submit">"Refresh now"</button>
                    </form>
                })}
            </div>
        </div>
        <ServicesTable rows_html=rows_html query=query/>
        <p class="muted">{format!("{shown} shown.")}</p>
    }
}

#[component]
fn FilterForm(engines: Vec<String>, query: ServiceQuery) -> impl IntoView {
    let engine_options = engines
        .into_iter()
        .map(|e| {
            let selected = query.engine.as_deref() == Some(e.as_str());
            view! { <option value=e.clone() selected=selected>{e.clone()}</option> }
        })
        .collect_view();
    let state_options = STATE_FILTERS
        .into_iter()
        .map(|s| view! { <option value=s selected=query.state.as_deref() == Some(s)>{s}</option> })
        .collect_view();
    let finding_options = FindingKind::ALL
        .into_iter()
        .map(|k| view! { <option value=k.slug() selected=query.finding == Some(k)>{k.title()}</option> })
        .collect_view();
    let route_options = ROUTE_FILTERS
        .into_iter()
        .map(|(slug, label)| view! { <option value=slug selected=query.routes.as_deref() == Some(slug)>{label}</option> })
        .collect_view();
    view! {
        <form method="get" action="/services" class="filters" role="search" aria-label="Filter services">
            <label>"Engine"
                <select name="engine"><option value="">"all"</option>{engine_options}</select>
            </label>
            <label>"State"
                <select name="state"><option value="">"current"</option>{state_options}</select>
            </label>
            <label>"Finding"
                <select name="finding"><option value="">"any"</option>{finding_options}</select>
            </label>
            <label>"Routes"
                <select name="routes"><option value="">"any"</option>{route_options}</select>
            </label>
            <label>"Search"
                <input type="search" name="q" value=query.text.clone().unwrap_or_default() placeholder="name, image, group"/>
            </label>
            <input type="hidden" name="sort" value=query.sort.slug()/>
            <input type="hidden" name="dir" value=if query.descending { "desc" } else { "asc" }/>
            <button type="submit">"Apply"</button>
            <a href="/services">"Clear"</a>
        </form>
    }
}

#[component]
fn ServicesTable(rows_html: std::sync::Arc<String>, query: ServiceQuery) -> impl IntoView {
    let header = |key: SortKey, label: &'static str| {
        let sort = if query.sort == key {
            Some(if query.descending {
                "descending"
            } else {
                "ascending"
            })
        } else {
            None
        };
        view! { <th scope="col" aria-sort=sort><a href=query.href_sorted_by(key)>{label}</a></th> }
    };
    view! {
        <div class="table-wrap">
            <table class="services">
                <caption class="visually-hidden">"Services"</caption>
                <thead>
                    <tr>
                        {header(SortKey::Name, "Service")}
                        {header(SortKey::Engine, "Engine")}
                        <th scope="col">"Image"</th>
                        {header(SortKey::Status, "State")}
                        <th scope="col">"Routes"</th>
                        {header(SortKey::Availability, "Avail. 24 h")}
                        {header(SortKey::Cpu, "CPU")}
                        {header(SortKey::Memory, "Memory")}
                        {header(SortKey::Findings, "Findings")}
                        <th scope="col">"Docs"</th>
                    </tr>
                </thead>
                <tbody inner_html=rows_html.to_string()></tbody>
            </table>
        </div>
    }
}

#[component]
fn ServiceRow(s: ServiceSummary, now: OffsetDateTime) -> impl IntoView {
    let href = format!("/services/{}/{}", url_encode(&s.engine), url_encode(&s.key));
    let status = s.status_label().to_string();
    let cpu = match (s.cpu_percent, s.cpu_limit) {
        (Some(p), Some(l)) => format!("{p:.1}% of {l:.2} CPU"),
        (Some(p), None) => format!("{p:.1}%, no limit"),
        (None, _) => "–".into(),
    };
    let memory = match (s.memory_usage_bytes, s.memory_limit_bytes) {
        (Some(u), Some(l)) => format!("{} / {}", format::bytes(u), format::bytes(l)),
        (Some(u), None) => format!("{}, no limit", format::bytes(u)),
        (None, _) => "–".into(),
    };
    let stale_note = s.stale.then(|| {
        view! { <br/><small class="muted">"last seen "{format::ago(s.last_seen, now)}</small> }
    });
    view! {
            <tr>
                <th scope="row">
                    <a href=href>{s.display_name.clone()}</a>
                    {s.group.clone().map(|g| view! { <br/><small class="muted">{g}</small> })}
                </th>
                <td>{s.engine.clone()}</td>
                <td><code>{s.image_ref.clone()}</code></td>
                <td><StatusBadge status=status stale=s.stale/>{stale_note}</td>
                <td>{match (s.routes, s.routes_failing) {
                    (0, _) => view! { <span class="muted">"none"</span> }.into_any(),
                    (n, 0) => view! { <span>{n}" ok"</span> }.into_any(),
                    (n, f) => view! { <span class="error-text">{n}", "<strong>{f}" failing"</strong></span> }.into_any(),
                }}</td>
                <td class="num" title=if s.availability_from_routes { "from route probes" } else { "from the container" }>
                    {s.availability_24h.map(format::percent).unwrap_or_else(|| "–".into())}
                    {s.availability_from_routes.then(|| view! { <small class="muted">" routes"</small> })}
                </td>
                <td class="num">{cpu}</td>
                <td class="num">{memory}</td>
                <td><FindingCounts findings=s.findings.clone()/></td>
    <td>{match s.doc.clone() {
                    Some(doc) => view! { <a href=format!("/docs/{}", url_encode(&doc))>"doc"</a> }.into_any(),
                    None => view! { <span class="muted">"none"</span> }.into_any(),
                }}</td>
            </tr>
        }
}
