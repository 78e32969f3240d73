//! The container inspection, on plain data: who a container is, its Traefik routes, its
//! findings. (The audit *trail*, who changed what, is `crate::audited::trail` and `audited`.) Nothing here
//! touches Docker or the database, so all of it is unit-tested directly.

pub mod findings;
pub mod identity;
pub mod traefik;

pub use findings::{FindingInput, findings_for};
pub use identity::ServiceIdentity;

use app::model::ServiceFacts;

use crate::config::AuditSettings;
use crate::docker::ContainerObservation;
use crate::docker::observation::{ContainerEventKind, StatsSample};

/// CPU use between two one-shot samples of the same container, in percent of one CPU
/// (so 200% is two CPUs busy), the way `docker stats` reports it.
pub fn cpu_percent(previous: Option<StatsSample>, current: Option<StatsSample>) -> Option<f64> {
    let (prev, cur) = (previous?, current?);
    let cpu = cur.cpu_total.checked_sub(prev.cpu_total)? as f64;
    let system = cur.system_cpu.checked_sub(prev.system_cpu)? as f64;
    (system > 0.0).then(|| cpu / system * f64::from(cur.online_cpus.max(1)) * 100.0)
}

/// The facts kept for a service, from one observation of its container.
pub fn facts_from(
    c: &ContainerObservation,
    cpu_percent: Option<f64>,
    settings: &AuditSettings,
    entrypoints: &crate::config::EntrypointDefaults,
) -> ServiceFacts {
    ServiceFacts {
        container_id: c.id.clone(),
        container_name: c.name.clone(),
        state: c.state.clone(),
        health: c.health.clone(),
        health_failing_streak: c.failing_streak,
        healthcheck: c.healthcheck.clone(),
        restart_policy: c.restart_policy.clone(),
        restart_count: c.restart_count,
        oom_killed: c.oom_killed,
        last_oom_kill: c
            .events
            .iter()
            .filter(|e| e.kind == ContainerEventKind::OomKill)
            .map(|e| e.at)
            .max(),
        exit_code: c.exit_code,
        started_at: c.started_at,
        image_ref: c.image_ref.clone(),
        image_id: c.image_id.clone(),
        image_created: c.image_created,
        privileged: c.privileged,
        memory_limit_bytes: c.memory_limit,
        cpu_limit: c.cpu_limit,
        memory_usage_bytes: c.stats.and_then(|s| s.memory_usage),
        cpu_percent,
        ports: c.ports.clone(),
        mounts: c.mounts.clone(),
        labels: c.labels.clone(),
        env_names: c.env_names.clone(),
        networks: c.networks.clone(),
        routes: traefik::routes(&c.labels, &settings.auth_middlewares, entrypoints),
        log_errors: c.logs.errors,
        log_warnings: c.logs.warnings,
        log_fatals: c.logs.fatals,
        log_samples: c.logs.samples.clone(),
    }
}

/// Whether a refresh that saw these facts counts the service as up (for availability).
pub fn is_up(facts: &ServiceFacts) -> bool {
    facts.state == "running" && facts.health.as_deref() != Some("unhealthy")
}
