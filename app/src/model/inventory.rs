//! The service inventory as the pages see it: engines, services, their audited facts and history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::findings::{Finding, Severity};

/// What the audit keeps of one container: everything shown on the service page.
/// Environment variable values are never part of it (only their names), since they carry secrets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceFacts {
    pub container_id: String,
    pub container_name: String,
    /// Docker's state: running, exited, restarting, paused, created, dead.
    pub state: String,
    /// Health check status when the container has one: healthy, unhealthy, starting.
    pub health: Option<String>,
    pub health_failing_streak: i64,
    pub healthcheck: Option<String>,
    pub restart_policy: String,
    pub restart_count: i64,
    pub oom_killed: bool,
    /// The latest OOM kill the engine's event stream reported, kept across refreshes: Docker
    /// clears `oom_killed` when a restart policy starts the container again.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_oom_kill: Option<OffsetDateTime>,
    pub exit_code: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    pub image_ref: String,
    pub image_id: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub image_created: Option<OffsetDateTime>,
    pub privileged: bool,
    pub memory_limit_bytes: Option<i64>,
    /// CPU limit in CPUs (NanoCpus / 1e9, or quota / period).
    pub cpu_limit: Option<f64>,
    pub memory_usage_bytes: Option<i64>,
    pub cpu_percent: Option<f64>,
    pub ports: Vec<PublishedPort>,
    pub mounts: Vec<MountInfo>,
    pub labels: BTreeMap<String, String>,
    pub env_names: Vec<String>,
    /// User-defined networks it is attached to.
    #[serde(default)]
    pub networks: Vec<String>,
    pub routes: Vec<TraefikRoute>,
    pub log_errors: i64,
    pub log_warnings: i64,
    pub log_fatals: i64,
    pub log_samples: Vec<String>,
}

/// A published port as recorded in the container's host configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPort {
    pub host_ip: String,
    pub host_port: String,
    /// e.g. "80/tcp"
    pub container_port: String,
}

impl PublishedPort {
    /// Bound on every interface: an empty host IP means the same as 0.0.0.0 to Docker.
    pub fn is_public(&self) -> bool {
        matches!(self.host_ip.as_str(), "" | "0.0.0.0" | "::" | "[::]")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountInfo {
    pub source: String,
    pub destination: String,
    pub read_only: bool,
}

/// A Traefik HTTP router declared in the container's labels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraefikRoute {
    pub router: String,
    pub rule: String,
    pub hosts: Vec<String>,
    pub middlewares: Vec<String>,
    pub entrypoints: Vec<String>,
    pub tls: bool,
    pub authenticated: bool,
    /// The path of the first `PathPrefix`/`Path` matcher, probed below each host ("" for the root).
    #[serde(default)]
    pub path: String,
    /// Where the router was read: "labels" (this container's) or "traefik" (Traefik's API).
    #[serde(default)]
    pub source: String,
    /// Traefik's status of the router ("enabled", "disabled", "warning"), when read from its API.
    #[serde(default)]
    pub status: Option<String>,
    /// The errors Traefik reports for the router.
    #[serde(default)]
    pub errors: Vec<String>,
}

impl TraefikRoute {
    /// The URLs a user of this router opens: one per host, https when the router serves TLS.
    pub fn urls(&self) -> Vec<String> {
        let scheme = if self.tls { "https" } else { "http" };
        self.hosts
            .iter()
            .map(|h| {
                format!(
                    "{scheme}://{h}{}",
                    if self.path.is_empty() {
                        "/"
                    } else {
                        &self.path
                    }
                )
            })
            .collect()
    }
}

/// One row of the services table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub engine: String,
    pub key: String,
    pub display_name: String,
    pub group: Option<String>,
    pub image_ref: String,
    pub state: String,
    pub health: Option<String>,
    pub stale: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub removed_at: Option<OffsetDateTime>,
    /// What users got over 24 h: the share of successful probes of its routes when it has
    /// probed routes, else the share of refreshes that saw its container up.
    pub availability_24h: Option<f64>,
    /// Whether `availability_24h` comes from route probes.
    #[serde(default)]
    pub availability_from_routes: bool,
    /// Its routes, and how many of them failed their latest probe.
    #[serde(default)]
    pub routes: i64,
    #[serde(default)]
    pub routes_failing: i64,
    pub cpu_percent: Option<f64>,
    pub cpu_limit: Option<f64>,
    pub memory_usage_bytes: Option<i64>,
    pub memory_limit_bytes: Option<i64>,
    pub findings: Vec<Finding>,
    /// Path of the service's doc, once documentation coverage is built; the `audit.docs` label until then.
    pub doc: Option<String>,
}

impl ServiceSummary {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// A one-word status for the table: removed, stale, or Docker's state refined by health.
    pub fn status_label(&self) -> &str {
        if self.removed_at.is_some() {
            "removed"
        } else if self.state == "running" {
            self.health.as_deref().unwrap_or("running")
        } else {
            &self.state
        }
    }
}

/// Availability over the standard windows, as a share between 0 and 1 (None when there is no data).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    pub day: Option<f64>,
    pub week: Option<f64>,
    pub month: Option<f64>,
}

/// A change of state recorded for a service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: String,
    pub detail: String,
}

/// Everything the service page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub summary: ServiceSummary,
    pub compose_project: Option<String>,
    pub compose_service: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub tier: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    pub facts: ServiceFacts,
    /// The container's running share.
    pub availability: Availability,
    /// The share of successful probes of its routes (all None without routes).
    pub route_availability: Availability,
    /// Its routes with their latest probes.
    pub routes: Vec<super::routes::RouteRow>,
    /// One cell per day for 90 days: routes' probes when it has routes, else the container.
    pub status_days: Vec<super::routes::DayShare>,
    /// The routes' hourly p50/p95 latency over 7 days, drawn on the server.
    pub latency_svg: Option<String>,
    /// Since when its engine has not answered, while it does not: its availability is unknown then.
    #[serde(with = "time::serde::rfc3339::option")]
    pub engine_down_since: Option<OffsetDateTime>,
    pub events: Vec<ServiceEvent>,
}

/// A Docker engine's reachability and its last refresh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineStatus {
    pub name: String,
    pub endpoint: String,
    pub reachable: bool,
    pub stale: bool,
    pub docker_version: Option<String>,
    pub api_version: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_refresh_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    pub last_duration_ms: Option<i64>,
    pub last_error: Option<String>,
    pub containers: i64,
}

/// Counts for the summary line above the services table and the dashboard.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryCounts {
    pub containers: i64,
    pub engines: i64,
    pub running: i64,
    pub healthy: i64,
    pub unhealthy: i64,
    pub stopped: i64,
    pub stale: i64,
    pub removed: i64,
}

impl InventoryCounts {
    /// e.g. "62 containers on 2 engines: 58 healthy, 3 unhealthy, 1 stopped".
    pub fn sentence(&self) -> String {
        let mut parts = vec![];
        if self.healthy > 0 {
            parts.push(format!("{} healthy", self.healthy));
        }
        let no_check = self.running - self.healthy - self.unhealthy;
        if no_check > 0 {
            parts.push(format!("{no_check} running without a health check"));
        }
        if self.unhealthy > 0 {
            parts.push(format!("{} unhealthy", self.unhealthy));
        }
        if self.stopped > 0 {
            parts.push(format!("{} stopped", self.stopped));
        }
        if self.stale > 0 {
            parts.push(format!("{} stale", self.stale));
        }
        let head = format!(
            "{} container{} on {} engine{}",
            self.containers,
            plural(self.containers),
            self.engines,
            plural(self.engines)
        );
        if parts.is_empty() {
            head
        } else {
            format!("{head}: {}", parts.join(", "))
        }
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_sentence_reads_like_the_team_writes_it() {
        let counts = InventoryCounts {
            containers: 62,
            engines: 2,
            running: 61,
            healthy: 58,
            unhealthy: 3,
            stopped: 1,
            ..Default::default()
        };
        assert_eq!(
            counts.sentence(),
            "62 containers on 2 engines: 58 healthy, 3 unhealthy, 1 stopped"
        );
        let one = InventoryCounts {
            containers: 1,
            engines: 1,
            running: 1,
            ..Default::default()
        };
        assert_eq!(
            one.sentence(),
            "1 container on 1 engine: 1 running without a health check"
        );
    }

    #[test]
    fn empty_host_ip_counts_as_public() {
        let port = |ip: &str| PublishedPort {
            host_ip: ip.into(),
            host_port: "8080".into(),
            container_port: "80/tcp".into(),
        };
        assert!(port("").is_public());
        assert!(port("0.0.0.0").is_public());
        assert!(port("::").is_public());
        assert!(!port("127.0.0.1").is_public());
    }
}
