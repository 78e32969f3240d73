//! Prometheus metrics: what this process counts as it works (HTTP requests by route template,
//! refresh durations) and, at each scrape, the portal's figures read from Postgres
//! (`scrape.rs`), in the OpenMetrics text format.

mod scrape;
pub mod stalls;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use scrape::render;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    /// The route template (`/services/{engine}/{key}`), never the raw path: a label per
    /// container name would grow without bound.
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLatencyLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabels {
    engine: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GenerationLabels {
    /// `change` (the data changed) or `age` (the clock-driven figures were due).
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StallLabels {
    /// `process` (no CPU for the process) or `runtime` (its worker threads held by a task).
    kind: String,
}

/// The counters and histograms of this process, shared by the HTTP layer and the worker.
struct ProcessMetrics {
    http_requests: Family<HttpLabels, Counter>,
    generations: Family<GenerationLabels, Counter>,
    kept_page_renders: Counter,
    http_latency: Family<HttpLatencyLabels, Histogram>,
    refresh_duration: Family<EngineLabels, Histogram>,
    stalls: Family<StallLabels, Counter>,
}

static PROCESS: LazyLock<ProcessMetrics> = LazyLock::new(|| ProcessMetrics {
    stalls: Family::default(),
    http_requests: Family::default(),
    generations: Family::default(),
    kept_page_renders: Counter::default(),
    // 1 ms to ~16 s: a page from memory up to one that waited on a slow database.
    http_latency: Family::new_with_constructor(|| {
        Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
            0.001, 2.0, 15,
        ))
    }),
    // 50 ms to ~100 s: a refresh of a few containers up to a thousand on a slow engine.
    refresh_duration: Family::new_with_constructor(|| {
        Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
            0.05, 2.0, 12,
        ))
    }),
});

/// Registers this process's metrics in a scrape's registry (the families are shared handles).
fn register_process(registry: &mut Registry) {
    registry.register(
        "audit_http_requests",
        "HTTP requests answered, by method, route template and status",
        PROCESS.http_requests.clone(),
    );
    registry.register(
        "audit_http_request_duration_seconds",
        "Time to answer an HTTP request, by method and route template",
        PROCESS.http_latency.clone(),
    );
    registry.register(
        "audit_read_model_generations",
        "Generations of the read model started in this process, by reason (change, age)",
        PROCESS.generations.clone(),
    );
    registry.register(
        "audit_kept_page_renders",
        "Pages rendered to be kept whole for later views, in this process",
        PROCESS.kept_page_renders.clone(),
    );
    registry.register(
        "audit_stalls",
        "Stalls of 25 ms or more, by kind: process (no CPU) or runtime (worker threads held)",
        PROCESS.stalls.clone(),
    );
    registry.register(
        "audit_engine_refresh_duration_seconds",
        "Duration of the worker's refreshes of each engine, in this process",
        PROCESS.refresh_duration.clone(),
    );
}

/// Counts a new generation of the read model; `changed` is false when only its age replaced it.
pub fn count_generation(changed: bool) {
    let reason = if changed { "change" } else { "age" };
    PROCESS
        .generations
        .get_or_create(&GenerationLabels {
            reason: reason.to_string(),
        })
        .inc();
}

/// Counts a page rendered to be kept (`readmodel::pages`).
pub fn count_kept_page_render() {
    PROCESS.kept_page_renders.inc();
}

/// Records a finished refresh of `engine` (called by the worker).
pub fn observe_refresh(engine: &str, took: Duration) {
    PROCESS
        .refresh_duration
        .get_or_create(&EngineLabels {
            engine: engine.to_string(),
        })
        .observe(took.as_secs_f64());
}

/// A request that took this long inside the portal is logged (at info, with its route).
const SLOW_REQUEST: Duration = stalls::REPORTED;

/// Middleware on every matched route: names the route in the request's log span and counts the
/// request by its template, with its status and latency.
pub async fn track_route(matched: Option<MatchedPath>, request: Request, next: Next) -> Response {
    let route = matched
        .as_ref()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    tracing::Span::current().record("route", route.as_str());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    // Pages answer in about a millisecond; one that took this long waited on something (the
    // database, a lock, the machine), and the log line says when, for which route.
    if elapsed >= SLOW_REQUEST {
        tracing::info!(route = %route, took_ms = elapsed.as_millis() as u64, "slow request");
    }
    let took = elapsed.as_secs_f64();
    PROCESS
        .http_requests
        .get_or_create(&HttpLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    PROCESS
        .http_latency
        .get_or_create(&HttpLatencyLabels { method, route })
        .observe(took);
    response
}
