//! One scrape: the portal's figures as gauges, from the read model's current generation (the same
//! state of the data the pages show), plus this process's counters.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use time::OffsetDateTime;

use crate::config::Settings;
use crate::readmodel::figures::{Figures, Probe};

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabels {
    category: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LetterLabels {
    letter: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CapLabels {
    cap: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FindingLabels {
    kind: String,
    severity: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    engine: String,
    state: String,
    health: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineLabels {
    engine: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UrlLabels {
    url: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: String,
    kind: String,
}

/// A gauge family registered under `name`, one gauge per labelled value.
fn family<L>(
    registry: &mut Registry,
    name: &str,
    help: &str,
    values: impl IntoIterator<Item = (L, f64)>,
) where
    L: Clone + std::fmt::Debug + std::hash::Hash + Eq + EncodeLabelSet + Send + Sync + 'static,
{
    let f = Family::<L, FloatGauge>::default();
    for (labels, value) in values {
        f.get_or_create(&labels).set(value);
    }
    registry.register(name, help, f);
}

fn single(registry: &mut Registry, name: &str, help: &str, value: f64) {
    let g = FloatGauge::default();
    g.set(value);
    registry.register(name, help, g);
}

fn unix(t: OffsetDateTime) -> f64 {
    t.unix_timestamp_nanos() as f64 / 1e9
}

/// The OpenMetrics text of one scrape: the generation's `figures`, this process's counters.
pub fn render(figures: &Figures, settings: &Settings) -> anyhow::Result<String> {
    let Figures {
        coverage,
        grade,
        engines,
        findings,
        service_states: states,
        probes,
        backups,
        ..
    } = figures;
    let now = OffsetDateTime::now_utc();
    let mut registry = Registry::default();

    single(
        &mut registry,
        "audit_grade_points",
        "The production-readiness grade, in points out of 100",
        grade.total.hundredths_truncated() as f64 / 100.0,
    );
    family(
        &mut registry,
        "audit_grade_category_points",
        "Each rubric category's effective score, out of 100",
        grade.categories.iter().map(|c| {
            let labels = CategoryLabels {
                category: c.name.clone(),
            };
            (labels, f64::from(c.effective.hundredths()) / 100.0)
        }),
    );
    family(
        &mut registry,
        "audit_grade_letter",
        "The grade's letter, caps applied: 1 for the current letter",
        [(
            LetterLabels {
                letter: grade.letter.clone(),
            },
            1.0,
        )],
    );
    family(
        &mut registry,
        "audit_grade_cap_in_force",
        "Caps whose condition holds: 1 when it holds the letter down, 0 when it does not bind",
        grade.caps_in_force.iter().map(|cap| {
            let binding = grade.cap.as_deref() == Some(cap.as_str());
            (
                CapLabels { cap: cap.clone() },
                if binding { 1.0 } else { 0.0 },
            )
        }),
    );
    family(
        &mut registry,
        "audit_findings",
        "Open findings on current services, by kind and severity",
        findings.iter().map(|(kind, severity, n)| {
            let labels = FindingLabels {
                kind: kind.slug().to_string(),
                severity: severity.as_str().to_string(),
            };
            (labels, *n as f64)
        }),
    );
    family(
        &mut registry,
        "audit_services",
        "Current services by engine, state and health",
        states.iter().map(|(engine, state, health, n)| {
            let labels = ServiceLabels {
                engine: engine.clone(),
                state: state.clone(),
                health: health.clone(),
            };
            (labels, *n as f64)
        }),
    );
    single(
        &mut registry,
        "audit_docs_coverage_ratio",
        "Running services with a service document, 0 to 1",
        coverage.documented_share(),
    );
    single(
        &mut registry,
        "audit_docs_coverage_target_ratio",
        "The documentation coverage the team aims for, 0 to 1",
        settings.docs.target_share,
    );
    let per_engine = |value: fn(&app::model::EngineStatus) -> Option<f64>| {
        engines
            .iter()
            .filter_map(move |e| {
                value(e).map(|v| {
                    (
                        EngineLabels {
                            engine: e.name.clone(),
                        },
                        v,
                    )
                })
            })
            .collect::<Vec<_>>()
    };
    family(
        &mut registry,
        "audit_engine_up",
        "1 when the engine answered its latest refresh",
        per_engine(|e| Some(if e.reachable { 1.0 } else { 0.0 })),
    );
    let since_success = engines
        .iter()
        .filter_map(|e| {
            let at = e.last_success_at?;
            let labels = EngineLabels {
                engine: e.name.clone(),
            };
            Some((labels, (now - at).as_seconds_f64().max(0.0)))
        })
        .collect::<Vec<_>>();
    family(
        &mut registry,
        "audit_engine_last_success_age_seconds",
        "Seconds since the engine's latest successful refresh (absent before the first)",
        since_success,
    );
    family(
        &mut registry,
        "audit_engine_last_refresh_duration_seconds",
        "How long the engine's latest refresh took, whichever replica ran it",
        per_engine(|e| e.last_duration_ms.map(|ms| ms as f64 / 1000.0)),
    );
    let per_url = |value: fn(&Probe) -> Option<f64>| {
        probes
            .iter()
            .filter_map(move |p| value(p).map(|v| (UrlLabels { url: p.0.clone() }, v)))
            .collect::<Vec<_>>()
    };
    family(
        &mut registry,
        "audit_route_up",
        "1 when the route's latest probe from the outside succeeded",
        per_url(|p| Some(if p.1 { 1.0 } else { 0.0 })),
    );
    family(
        &mut registry,
        "audit_route_latency_seconds",
        "The route's latest probe latency",
        per_url(|p| p.2.map(|ms| f64::from(ms) / 1000.0)),
    );
    family(
        &mut registry,
        "audit_route_certificate_expiry_timestamp_seconds",
        "When the certificate the route presented expires (Unix time)",
        per_url(|p| p.3.map(unix)),
    );
    family(
        &mut registry,
        "audit_backup_last_success_timestamp_seconds",
        "When each backup job's latest successful run of each kind finished (Unix time)",
        backups.iter().map(|(job, kind, at)| {
            let labels = JobLabels {
                job: job.clone(),
                kind: kind.clone(),
            };
            (labels, unix(*at))
        }),
    );
    super::register_process(&mut registry);

    let mut text = String::new();
    encode(&mut text, &registry)?;
    Ok(text)
}
