//! `/services/{engine}/{service}`: everything known about one service.

use leptos::prelude::*;
use time::OffsetDateTime;

use crate::components::format;
use crate::components::widgets::{StatusBadge, TimeAgo};
use crate::model::actions::ServiceAction;
use crate::model::capacity::{ServiceDependencies, ServiceResources};
use crate::model::{Finding, ServiceDetail, ServiceEvent, ServiceFacts};
use crate::pages::capacity::ResourcesSection;
use crate::pages::dependencies::DependenciesSection;
use crate::pages::routes::{RouteDetails, StatusBar};

#[component]
pub fn ServiceDetailPage(
    detail: ServiceDetail,
    actions: Vec<ServiceAction>,
    now: OffsetDateTime,
    resources: ServiceResources,
    dependencies: ServiceDependencies,
) -> impl IntoView {
    let ServiceDetail {
        summary,
        compose_project,
        compose_service,
        description,
        owner,
        tier,
        first_seen,
        facts,
        availability,
        route_availability,
        routes,
        status_days,
        latency_svg,
        engine_down_since,
        events,
    } = detail;
    let has_probes = route_availability.month.is_some();
    let status = summary.status_label().to_string();
    let avail = |v: Option<f64>| v.map(format::percent).unwrap_or_else(|| "no data".into());
    view! {
        <nav aria-label="Breadcrumb" class="breadcrumb">
            <a href="/services">"Services"</a>" / "{summary.engine.clone()}" / "
        </nav>
        <h1>{summary.display_name.clone()}" "<StatusBadge status=status stale=summary.stale/></h1>
        {description.map(|d| view! { <p class="lead">{d}</p> })}
        {summary.removed_at.map(|at| view! {
            <p class="notice warn">"This service's container was removed "<TimeAgo at=at now=now/>"; what follows is its last known state."</p>
        })}
        {summary.stale.then(|| view! {
            <p class="notice warn">"Its engine has not answered recently: last seen "<TimeAgo at=summary.last_seen now=now/>"."
                {engine_down_since.map(|at| view! { " The engine has been unreachable since "<TimeAgo at=at now=now/>": the container's availability for that time is unknown, not counted as up." })}</p>
        })}
        <dl class="facts">
            <dt>"Engine"</dt><dd>{summary.engine.clone()}</dd>
            <dt>"Compose"</dt><dd>{match (compose_project, compose_service) {
                (Some(p), Some(s)) => format!("{p} / {s}"),
                _ => "not a compose service".into(),
            }}</dd>
            <dt>"Container"</dt><dd><code>{facts.container_name.clone()}</code>" "<small class="muted">{short_id(&facts.container_id)}</small></dd>
            <dt>"Image"</dt><dd><code>{facts.image_ref.clone()}</code>" "<small class="muted">{short_id(&facts.image_id)}</small>
                {facts.image_created.map(|at| view! { ", built "<TimeAgo at=at now=now/> })}</dd>
            <dt>"Owner"</dt><dd>{owner.unwrap_or_else(|| "not set (label audit.owner)".into())}</dd>
            <dt>"Tier"</dt><dd>{tier.unwrap_or_else(|| "not set (label audit.tier)".into())}</dd>
            <dt>"Availability, routes"</dt><dd>{if has_probes {
                format!("24 h {}, 7 d {}, 30 d {} (share of successful probes: what users get)", avail(route_availability.day), avail(route_availability.week), avail(route_availability.month))
            } else {
                "no probed route".to_string()
            }}</dd>
            <dt>"Availability, container"</dt><dd>{format!("24 h {}, 7 d {}, 30 d {} (share of refreshes that saw it running and not unhealthy)", avail(availability.day), avail(availability.week), avail(availability.month))}</dd>
            <dt>"Last 90 days"</dt><dd><StatusBar days=status_days/><br/>
                <small class="muted">{if has_probes { "from route probes" } else { "from the container" }}", one cell per day (UTC); hover for the share"</small></dd>
            <dt>"First seen"</dt><dd><TimeAgo at=first_seen now=now/></dd>
            <dt>"Last seen"</dt><dd><TimeAgo at=summary.last_seen now=now/></dd>
        </dl>
        <FindingsSection findings=summary.findings.clone()/>
        <ActionsSection actions=actions/>
        <section aria-labelledby="routes-h">
            <h2 id="routes-h">"Routes"</h2>
            {latency_svg.map(|svg| view! { <div inner_html=svg></div> })}
            <RouteDetails routes=routes now=now/>
        </section>
        <ResourcesSection resources=resources/>
        <DependenciesSection dependencies=dependencies/>
        <RuntimeSection facts=facts.clone()/>
        <NetworkSection facts=facts.clone()/>
        <LogsSection facts=facts.clone()/>
        <ConfigSection facts=facts/>
        <TimelineSection events=events now=now/>
    }
}

fn short_id(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// The open actions for this service's findings, with their owner and due date, linking to
/// the action plan.
#[component]
fn ActionsSection(actions: Vec<ServiceAction>) -> impl IntoView {
    (!actions.is_empty()).then(|| {
        let items = actions
            .into_iter()
            .map(|a| {
                let href = format!("/actions#action-{}", a.id);
                let line = format!("{}: {}", a.kind.title(), a.summary());
                view! { <li><a href=href>{line}</a></li> }
            })
            .collect_view();
        view! {
            <section aria-labelledby="actions-h">
                <h2 id="actions-h">"Actions"</h2>
                <ul class="plain">{items}</ul>
            </section>
        }
    })
}

#[component]
fn FindingsSection(findings: Vec<Finding>) -> impl IntoView {
    let empty = findings.is_empty();
    let items = findings
        .into_iter()
        .map(|f| {
            let class = format!("finding sev-{}", f.severity.as_str());
            view! {
                <li class=class>
                    <strong>{f.kind.title()}</strong>" "<span class=format!("badge sev-{}", f.severity.as_str())>{f.severity.as_str()}</span>
                    <p>{f.fact}</p>
                    <p class="fix"><span class="label">"Fix: "</span>{f.fix}</p>
                </li>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="findings-h">
            <h2 id="findings-h">"Findings"</h2>
            {empty.then(|| view! { <p class="ok-text">"No findings: this service meets every check."</p> })}
            <ul class="findings">{items}</ul>
        </section>
    }
}

#[component]
fn RuntimeSection(facts: ServiceFacts) -> impl IntoView {
    let mem = match (facts.memory_usage_bytes, facts.memory_limit_bytes) {
        (Some(u), Some(l)) => format!("{} of {} limit", format::bytes(u), format::bytes(l)),
        (Some(u), None) => format!("{} (no limit)", format::bytes(u)),
        (None, Some(l)) => format!("limit {}", format::bytes(l)),
        (None, None) => "no data, no limit".into(),
    };
    let cpu = match (facts.cpu_percent, facts.cpu_limit) {
        (Some(p), Some(l)) => format!("{p:.1}% (limit {l:.2} CPU)"),
        (Some(p), None) => format!("{p:.1}% (no limit)"),
        (None, Some(l)) => format!("limit {l:.2} CPU"),
        (None, None) => "no data, no limit".into(),
    };
    view! {
        <section aria-labelledby="runtime-h">
            <h2 id="runtime-h">"Health, restarts and resources"</h2>
            <dl class="facts">
                <dt>"State"</dt><dd>{facts.state.clone()}{facts.exit_code.filter(|_| facts.state != "running").map(|c| format!(" (exit code {c})"))}</dd>
                <dt>"Health check"</dt><dd>{match facts.healthcheck.clone() {
                    Some(cmd) => view! { <code>{cmd}</code>" "{facts.health.clone().map(|h| format!("({h}, failing streak {})", facts.health_failing_streak))} }.into_any(),
                    None => view! { <span class="muted">"none"</span> }.into_any(),
                }}</dd>
                <dt>"Restart policy"</dt><dd>{facts.restart_policy.clone()}</dd>
                <dt>"Restarts"</dt><dd>{facts.restart_count}</dd>
                <dt>"OOM-killed"</dt><dd>{if facts.oom_killed { "yes" } else { "no" }}</dd>
                <dt>"Memory"</dt><dd>{mem}</dd>
                <dt>"CPU"</dt><dd>{cpu}</dd>
                <dt>"Privileged"</dt><dd>{if facts.privileged { "yes" } else { "no" }}</dd>
            </dl>
        </section>
    }
}

#[component]
fn NetworkSection(facts: ServiceFacts) -> impl IntoView {
    let ports = facts
        .ports
        .iter()
        .map(|p| {
            let ip = if p.host_ip.is_empty() { "0.0.0.0".to_string() } else { p.host_ip.clone() };
            view! { <tr><td><code>{format!("{ip}:{}", p.host_port)}</code></td><td><code>{p.container_port.clone()}</code></td><td>{if p.is_public() { "all interfaces" } else { "restricted" }}</td></tr> }
        })
        .collect_view();
    let routes = facts
        .routes
        .iter()
        .map(|r| {
            view! {
                <tr>
                    <td><code>{r.router.clone()}</code></td>
                    <td><code>{r.rule.clone()}</code></td>
                    <td>{r.middlewares.join(", ")}</td>
                    <td>{if r.tls { "yes" } else { "no" }}</td>
                    <td>{if r.authenticated { "yes" } else { "no" }}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="network-h">
            <h2 id="network-h">"Ports and Traefik routes"</h2>
            {facts.ports.is_empty().then(|| view! { <p class="muted">"No published ports."</p> })}
            {(!facts.ports.is_empty()).then(|| view! {
                <table><caption>"Published ports"</caption>
                    <thead><tr><th scope="col">"Host"</th><th scope="col">"Container"</th><th scope="col">"Exposure"</th></tr></thead>
                    <tbody>{ports}</tbody></table>
            })}
            {facts.routes.is_empty().then(|| view! { <p class="muted">"No Traefik routers in its labels."</p> })}
            {(!facts.routes.is_empty()).then(|| view! {
                <table><caption>"Traefik routers"</caption>
                    <thead><tr><th scope="col">"Router"</th><th scope="col">"Rule"</th><th scope="col">"Middlewares"</th><th scope="col">"TLS"</th><th scope="col">"Authenticated"</th></tr></thead>
                    <tbody>{routes}</tbody></table>
            })}
        </section>
    }
}

#[component]
fn LogsSection(facts: ServiceFacts) -> impl IntoView {
    let samples = facts
        .log_samples
        .iter()
        .map(|l| view! { <li><code>{l.clone()}</code></li> })
        .collect_view();
    view! {
        <section aria-labelledby="logs-h">
            <h2 id="logs-h">"Logs since the previous refresh"</h2>
            <p>{format!("{} error, {} warning and {} fatal lines.", facts.log_errors, facts.log_warnings, facts.log_fatals)}</p>
            {(!facts.log_samples.is_empty()).then(|| view! { <ul class="log-samples">{samples}</ul> })}
        </section>
    }
}

#[component]
fn ConfigSection(facts: ServiceFacts) -> impl IntoView {
    let mounts = facts
        .mounts
        .iter()
        .map(|m| view! { <li><code>{m.source.clone()}</code>" → "<code>{m.destination.clone()}</code>{m.read_only.then_some(" (read-only)")}</li> })
        .collect_view();
    let labels = facts
        .labels
        .iter()
        .map(|(k, v)| view! { <tr><th scope="row"><code>{k.clone()}</code></th><td><code>{v.clone()}</code></td></tr> })
        .collect_view();
    view! {
        <section aria-labelledby="config-h">
            <h2 id="config-h">"Configuration"</h2>
            <h3>"Mounts"</h3>
            {facts.mounts.is_empty().then(|| view! { <p class="muted">"None."</p> })}
            <ul>{mounts}</ul>
            <h3>"Environment variables"</h3>
            <p class="muted">"Names only: values are never stored, since they carry secrets."</p>
            <p>{if facts.env_names.is_empty() { "None.".to_string() } else { facts.env_names.join(", ") }}</p>
            <details>
                <summary>{format!("Labels ({})", facts.labels.len())}</summary>
                <table><caption class="visually-hidden">"Labels"</caption>
                    <thead><tr><th scope="col">"Label"</th><th scope="col">"Value"</th></tr></thead>
                    <tbody>{labels}</tbody></table>
            </details>
        </section>
    }
}

#[component]
fn TimelineSection(events: Vec<ServiceEvent>, now: OffsetDateTime) -> impl IntoView {
    let empty = events.is_empty();
    let items = events
        .into_iter()
        .map(|e| view! { <li><TimeAgo at=e.at now=now/>" · "<strong>{e.kind}</strong>" "{e.detail}</li> })
        .collect_view();
    view! {
        <section aria-labelledby="timeline-h">
            <h2 id="timeline-h">"Timeline"</h2>
            {empty.then(|| view! { <p class="muted">"No state changes recorded yet."</p> })}
            <ol class="timeline" reversed=true>{items}</ol>
        </section>
    }
}
