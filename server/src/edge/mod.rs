//! Routes from the outside: what users reach through Traefik. The worker reads Traefik's view
//! (or the labels), publishes the route list, and probes every route on its own interval; the
//! container refresh turns the latest probes into findings on the services they reach.

pub mod cert;
pub mod findings;
pub(crate) mod page;
pub mod probe;
pub mod probe_queries;
pub mod queries;
pub mod traefik_api;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use sqlx::PgPool;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use app::model::TraefikRoute;

use crate::config::Settings;
use crate::edge::queries::RouteRecord;
use findings::ProbeState;
pub use probe::Prober;
use traefik_api::TraefikView;

/// What a container refresh takes from the edge: Traefik's view (when its API is configured and
/// answered) and the latest probe of every URL.
#[derive(Default)]
pub struct EdgeInputs {
    pub view: Option<TraefikView>,
    pub probes: HashMap<String, ProbeState>,
}

/// Reads Traefik's API (recording how that went) and the latest probes. Never fails: without
/// them, routes come from labels and carry no probe findings.
pub async fn gather(pool: &PgPool, settings: &Settings) -> EdgeInputs {
    let now = OffsetDateTime::now_utc();
    let view = match &settings.edge.traefik_api {
        None => None,
        Some(api) => match traefik_api::read(api, settings.refresh.call_timeout).await {
            Ok(view) => {
                let routers = view.public_routers().count();
                if let Err(e) =
                    crate::edge::queries::record_traefik_read(pool, now, Ok(routers)).await
                {
                    tracing::warn!(error = %e, "could not record the Traefik API read");
                }
                Some(view)
            }
            Err(e) => {
                let error = format!("{e:#}");
                tracing::warn!(error = %error, "Traefik API unreadable; routes come from labels");
                if let Err(e) =
                    crate::edge::queries::record_traefik_read(pool, now, Err(&error)).await
                {
                    tracing::warn!(error = %e, "could not record the Traefik API read");
                }
                None
            }
        },
    };
    let probes = crate::edge::probe_queries::probe_states(pool)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "latest probes unreadable; no route findings this refresh");
            HashMap::new()
        });
    EdgeInputs { view, probes }
}

/// A route's record per URL, with the findings of that URL alone.
fn records_of(
    route: &TraefikRoute,
    service_id: Option<i64>,
    signs_in_itself: bool,
    inputs: &EdgeInputs,
    settings: &Settings,
    now: OffsetDateTime,
) -> Vec<RouteRecord> {
    route
        .hosts
        .iter()
        .zip(route.urls())
        .map(|(host, url)| {
            let auth_verdict = inputs
                .probes
                .get(&url)
                .and_then(|p| findings::auth_enforced(p, settings.edge.authelia_host.as_deref()));
            let single = TraefikRoute {
                hosts: vec![host.clone()],
                ..route.clone()
            };
            RouteRecord {
                router: route.router.clone(),
                url,
                host: host.clone(),
                source: route.source.clone(),
                service_id,
                rule: route.rule.clone(),
                entrypoints: route.entrypoints.clone(),
                middlewares: route.middlewares.clone(),
                tls: route.tls,
                auth_expected: route.authenticated,
                auth_verdict,
                traefik_status: route.status.clone(),
                traefik_errors: route.errors.clone(),
                findings: findings::route_findings(
                    std::slice::from_ref(&single),
                    &inputs.probes,
                    &settings.edge,
                    signs_in_itself,
                    now,
                ),
            }
        })
        .collect()
}

/// Publishes the fleet's route list: every current service's routes (as its last successful
/// refresh stored them, so an unreachable engine keeps its routes), Traefik's routers that
/// reach no container, and the configured extra URLs.
pub async fn publish_routes(
    pool: &PgPool,
    settings: &Settings,
    inputs: &EdgeInputs,
) -> anyhow::Result<usize> {
    let now = OffsetDateTime::now_utc();
    let services = crate::edge::queries::service_routes(pool)
        .await
        .context("reading the services' routes")?;
    let mut attached: BTreeSet<&str> = BTreeSet::new();
    let mut records = vec![];
    for s in &services {
        for r in &s.routes {
            attached.insert(&r.router);
            records.extend(records_of(
                r,
                Some(s.service_id),
                s.signs_in_itself,
                inputs,
                settings,
                now,
            ));
        }
    }
    if let Some(view) = &inputs.view {
        for r in view.public_routers() {
            if !attached.contains(r.name.as_str()) {
                let route = view.route(r, &settings.audit.auth_middlewares);
                records.extend(records_of(&route, None, false, inputs, settings, now));
            }
        }
    }
    for url in &settings.edge.probe.extra_urls {
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(String::from))
            .unwrap_or_default();
        records.push(RouteRecord {
            router: String::new(),
            url: url.clone(),
            host,
            source: "configured".into(),
            service_id: None,
            rule: String::new(),
            entrypoints: vec![],
            middlewares: vec![],
            tls: url.starts_with("https://"),
            auth_expected: false,
            auth_verdict: None,
            traefik_status: None,
            traefik_errors: vec![],
            findings: inputs
                .probes
                .get(url)
                .map(|p| findings::url_findings(p, &settings.edge, now))
                .unwrap_or_default(),
        });
    }
    crate::edge::queries::replace_routes(pool, &records, now)
        .await
        .context("storing the route list")?;
    Ok(records.len())
}

/// What one probe round did.
#[derive(Debug, Default, Clone)]
pub struct ProbeReport {
    pub urls: usize,
    pub failed: usize,
    pub duration: Duration,
}

/// Probes every route URL and every configured extra URL once, a bounded number at a time, and
/// stores the results. Each probe has its own deadline, so the round ends within about
/// `ceil(urls / concurrency) × timeout`.
pub async fn probe_once(
    pool: &PgPool,
    settings: &Settings,
    prober: &Prober,
) -> anyhow::Result<ProbeReport> {
    let started = std::time::Instant::now();
    let mut urls = crate::edge::probe_queries::route_urls(pool)
        .await
        .context("reading the routes to probe")?;
    for extra in &settings.edge.probe.extra_urls {
        if !urls.contains(extra) {
            urls.push(extra.clone());
        }
    }
    let previous = crate::edge::probe_queries::probe_states(pool)
        .await
        .context("reading the previous probes")?;
    let outcomes: Vec<probe::ProbeOutcome> = futures::stream::iter(urls)
        .map(|url| async move { prober.probe(&url).await })
        .buffer_unordered(settings.edge.probe.concurrency)
        .collect()
        .await;
    let states: Vec<ProbeState> = outcomes
        .iter()
        .map(|o| findings::judge(o, previous.get(&o.url)))
        .collect();
    crate::edge::probe_queries::record_probes(pool, &states)
        .await
        .context("storing the probes")?;
    Ok(ProbeReport {
        urls: states.len(),
        failed: states.iter().filter(|s| !s.ok).count(),
        duration: started.elapsed(),
    })
}

/// Probes on the probe interval until `stop`; run by the worker that holds the refresh lock, so
/// one replica probes. A prober that cannot be built (a bad CA file) is reported and retried.
pub async fn run(pool: PgPool, settings: Arc<Settings>, stop: CancellationToken) {
    let interval = settings.edge.probe.interval;
    loop {
        match Prober::new(&settings.edge.probe) {
            Ok(prober) => match probe_once(&pool, &settings, &prober).await {
                Ok(report) => tracing::info!(
                    urls = report.urls,
                    failed = report.failed,
                    ms = report.duration.as_millis() as u64,
                    "probe round done"
                ),
                Err(e) => tracing::warn!(error = format!("{e:#}"), "probe round failed"),
            },
            Err(e) => tracing::error!(error = format!("{e:#}"), "probes cannot start"),
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}
