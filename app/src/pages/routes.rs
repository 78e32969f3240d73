//! `/routes`: every route of the fleet as users reach it (the service status matrix), and the
//! route details shown on a service's page.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format;
use crate::components::widgets::{FindingCounts, TimeAgo};
use crate::model::routes::{DayShare, RouteRow, RouteSort, RoutesPage};
use crate::model::service_query::url_encode;

#[component]
pub fn RoutesListPage(data: RoutesPage, sort: RouteSort, now: OffsetDateTime) -> impl IntoView {
    let RoutesPage {
        mut routes,
        traefik,
        traefik_configured,
    } = data;
    sort.apply(&mut routes);
    let total = routes.len();
    let failing = routes
        .iter()
        .filter(|r| r.status_label() == "failing")
        .count();
    let source = match (traefik_configured, traefik) {
        (false, _) => view! {
            <p class="muted">"Routes come from the containers' Traefik labels (Traefik's API is not configured: set AUDIT_TRAEFIK_API to include file-provider routers)."</p>
        }.into_any(),
        (true, None) => view! { <p class="muted">"Traefik's API has not been read yet."</p> }.into_any(),
        (true, Some(t)) if t.ok => view! {
            <p class="muted">"From Traefik's API: "{t.routers}" routers, read "<TimeAgo at=t.read_at now=now/>"."</p>
        }.into_any(),
        (true, Some(t)) => view! {
            <p class="notice warn">"Traefik's API does not answer"
                {t.failing_since.map(|at| view! { " since "<TimeAgo at=at now=now/> })}
                ": "{t.error.unwrap_or_default()}". Routes come from labels meanwhile."</p>
        }.into_any(),
    };
    let sorts = RouteSort::ALL
        .iter()
        .map(|(key, slug, label)| {
            let current = *key == sort;
            view! {
                <a href=format!("/routes?sort={slug}") aria-current=current.then_some("true")
                   class=if current { "button" } else { "button secondary" }>{*label}</a>
            }
        })
        .collect_view();
    let body = routes
        .into_iter()
        .map(|r| view! { <RouteTableRow r=r now=now/> })
        .collect_view();
    view! {
        <h1>"Routes"</h1>
        <p class="lead summary-line">{format!("{total} routes, {failing} failing their latest probe.")}</p>
        {source}
        <nav class="sort-links" aria-label="Sort routes">"Sort by: "{sorts}</nav>
        <div class="table-wrap">
            <table class="routes">
                <caption class="visually-hidden">"Routes"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Route"</th>
                        <th scope="col">"Service"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Latency"</th>
                        <th scope="col">"Avail. 24 h"</th>
                        <th scope="col">"Certificate"</th>
                        <th scope="col">"Authentication"</th>
                        <th scope="col">"Findings"</th>
                    </tr>
                </thead>
                <tbody>
                    {body}
                    {(total == 0).then(|| view! { <tr><td colspan="8" class="empty">"No route: no container carries Traefik router labels and no URL is configured."</td></tr> })}
                </tbody>
            </table>
        </div>
    }
}

fn service_href(engine: &str, key: &str) -> String {
    format!("/services/{}/{}", url_encode(engine), url_encode(key))
}

/// "answered 200 in 12 ms", "unreachable: connection refused", "not probed yet".
fn probe_summary(r: &RouteRow) -> String {
    match &r.probe {
        None => "not probed yet".into(),
        Some(p) => match (p.failure.as_deref(), p.status) {
            (Some("unreachable"), _) | (Some("protocol"), _) => {
                format!("failed: {}", p.error.clone().unwrap_or_default())
            }
            (_, Some(status)) => format!(
                "{status}{}",
                p.redirect_to
                    .as_ref()
                    .map(|to| format!(" → {to}"))
                    .unwrap_or_default()
            ),
            _ => "no answer".into(),
        },
    }
}

fn cert_summary(r: &RouteRow, now: OffsetDateTime) -> String {
    match r.probe.as_ref().and_then(|p| p.cert.as_ref()) {
        None if r.tls => "–".into(),
        None => "plain HTTP".into(),
        Some(c) => {
            let days = c
                .days_left(now)
                .map(|d| format!("{d} days left"))
                .unwrap_or_else(|| "expiry unknown".into());
            match &c.chain_error {
                Some(e) => format!("invalid ({e}), {days}"),
                None => days,
            }
        }
    }
}

fn auth_summary(r: &RouteRow) -> &'static str {
    match (r.auth_expected, r.auth_verdict) {
        (true, Some(true)) => "enforced",
        (true, Some(false)) => "configured, not enforced",
        (true, None) => "configured, not proven by the probe",
        (false, Some(true)) => "none configured; the answer asks to sign in",
        (false, _) => "none configured",
    }
}

#[component]
fn RouteTableRow(r: RouteRow, now: OffsetDateTime) -> impl IntoView {
    let status = r.status_label();
    let status_class = match status {
        "ok" => "badge status-up",
        "failing" => "badge status-down",
        _ => "badge",
    };
    let service = match &r.service {
        Some((engine, key, name)) => view! {
            <a href=format!("{}#route-{}", service_href(engine, key), r.id)>{name.clone()}</a>
        }
        .into_any(),
        None => view! { <span class="muted">{if r.source == "configured" { "configured URL" } else { "no container" }}</span> }.into_any(),
    };
    let latency = r
        .probe
        .as_ref()
        .and_then(|p| p.latency_ms)
        .map(|l| format!("{l} ms"))
        .unwrap_or_else(|| "–".into());
    let p95 = r.p95_24h_ms.map(|p| format!("p95 {p:.0} ms"));
    let expiry_sort = r
        .probe
        .as_ref()
        .and_then(|p| p.cert.as_ref())
        .and_then(|c| c.not_after)
        .map(format::iso)
        .unwrap_or_default();
    view! {
        <tr data-url=r.url.clone()>
            <th scope="row"><a href=r.url.clone() rel="noopener noreferrer">{r.url.clone()}</a>
                <br/><small class="muted">{if r.router.is_empty() { String::new() } else { format!("router {}", r.router) }}</small></th>
            <td>{service}</td>
            <td><span class=status_class>{status}</span><br/><small>{probe_summary(&r)}</small></td>
            <td class="num">{latency}{p95.map(|p| view! { <br/><small class="muted">{p}</small> })}</td>
            <td class="num">{r.availability_24h.map(format::percent).unwrap_or_else(|| "–".into())}</td>
            <td data-expiry=expiry_sort>{cert_summary(&r, now)}</td>
            <td>{auth_summary(&r)}</td>
            <td><FindingCounts findings=r.findings.clone()/></td>
        </tr>
    }
}

/// A service's routes in full: last probe, certificate, redirect target, Traefik's view.
#[component]
pub fn RouteDetails(routes: Vec<RouteRow>, now: OffsetDateTime) -> impl IntoView {
    let empty = routes.is_empty();
    let items = routes
        .into_iter()
        .map(|r| {
            let cert = r.probe.as_ref().and_then(|p| p.cert.clone());
            let probe = r.probe.clone();
            view! {
                <article class="route" id=format!("route-{}", r.id)>
                    <h3><a href=r.url.clone() rel="noopener noreferrer">{r.url.clone()}</a>" "
                        <span class=if r.status_label() == "ok" { "badge status-up" } else if r.status_label() == "failing" { "badge status-down" } else { "badge" }>{r.status_label()}</span></h3>
                    <dl class="facts">
                        <dt>"Router"</dt><dd><code>{r.router.clone()}</code>" ("{r.source.clone()}
                            {r.traefik_status.clone().map(|s| format!(", Traefik: {s}"))}")"</dd>
                        {(!r.traefik_errors.is_empty()).then(|| view! { <dt>"Traefik errors"</dt><dd class="error-text">{r.traefik_errors.join("; ")}</dd> })}
                        <dt>"Entrypoints"</dt><dd>{if r.entrypoints.is_empty() { "default".to_string() } else { r.entrypoints.join(", ") }}</dd>
                        <dt>"Middlewares"</dt><dd>{if r.middlewares.is_empty() { "none".to_string() } else { r.middlewares.join(", ") }}</dd>
                        <dt>"Last probe"</dt><dd>{match probe.clone() {
                            None => view! { <span class="muted">"not probed yet"</span> }.into_any(),
                            Some(p) => view! { {probe_summary(&r)}{p.latency_ms.map(|l| format!(", {l} ms"))}", "<TimeAgo at=p.probed_at now=now/> }.into_any(),
                        }}</dd>
                        {probe.as_ref().and_then(|p| p.redirect_to.clone()).map(|to| view! { <dt>"Redirects to"</dt><dd><code>{to}</code></dd> })}
                        {probe.as_ref().and_then(|p| p.error.clone()).map(|e| view! { <dt>"Error"</dt><dd class="error-text">{e}</dd> })}
                        <dt>"Latency, 24 h"</dt><dd>{r.p95_24h_ms.map(|p| format!("p95 {p:.0} ms")).unwrap_or_else(|| "no data".into())}</dd>
                        <dt>"Certificate"</dt><dd>{match cert {
                            None => view! { <span class="muted">{if r.tls { "not seen yet" } else { "none: plain HTTP" }}</span> }.into_any(),
                            Some(c) => view! {
                                {c.chain_error.clone().map(|e| view! { <strong class="error-text">"Invalid: "{e}". "</strong> })}
                                "Issuer "<code>{c.issuer.clone()}</code>
                                ", for "{c.names.join(", ")}
                                {c.not_after.map(|t| format!(", expires {} ({} days left)", t.date(), (t - now).whole_days()))}
                            }.into_any(),
                        }}</dd>
                        <dt>"Authentication"</dt><dd>{auth_summary(&r)}</dd>
                    </dl>
                </article>
            }
        })
        .collect_view();
    view! {
        {empty.then(|| view! { <p class="muted">"No Traefik route reaches this service."</p> })}
        {items}
    }
}

/// 90 days, one cell a day, coloured by the share of successful checks; drawn as SVG.
#[component]
pub fn StatusBar(days: Vec<DayShare>) -> impl IntoView {
    let cells = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (class, label) = match d.share {
                None => ("day-none", format!("{}: no data", d.day)),
                Some(s) if s >= 0.999 => ("day-up", format!("{}: {}", d.day, format::percent(s))),
                Some(s) if s >= 0.95 => {
                    ("day-degraded", format!("{}: {}", d.day, format::percent(s)))
                }
                Some(s) => ("day-down", format!("{}: {}", d.day, format::percent(s))),
            };
            view! {
                <rect x=(i * 8).to_string() y="0" width="6" height="24" rx="1" class=class>
                    <title>{label}</title>
                </rect>
            }
        })
        .collect_view();
    let width = (days.len() * 8).to_string();
    view! {
        <svg class="status-bar" role="img" aria-label="Availability per day, 90 days" width=width.clone()
             height="24" viewBox=format!("0 0 {width} 24")>{cells}</svg>
    }
}
