//! Audit findings: what is wrong with a service, how bad it is, the fact behind it and the fix.

use serde::{Deserialize, Serialize};

/// How much a finding matters; ordered from most to least severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::High, Severity::Medium, Severity::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// Every kind of finding the audit can raise. The slug is stable: it is stored and used in URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    NoHealthcheck,
    Unhealthy,
    NoRestartPolicy,
    RestartLoop,
    OomKilled,
    NoMemoryLimit,
    NoCpuLimit,
    PublicPort,
    Privileged,
    DockerSocket,
    ImageLatest,
    ImageUntagged,
    ImageOld,
    RouteWithoutAuth,
    RouteWithoutTls,
    LogErrors,
    MemoryNearLimit,
    MemoryOversized,
    RouterError,
    RouteError,
    RouteUnreachable,
    RouteSlow,
    CertInvalid,
    CertExpiring,
    CertNotRenewing,
    AuthNotEnforced,
    BackupMissing,
    BackupLate,
    BackupFailing,
    RestoreUntested,
    PerformanceRegression,
}

impl FindingKind {
    pub const ALL: [FindingKind; 31] = [
        FindingKind::NoHealthcheck,
        FindingKind::Unhealthy,
        FindingKind::NoRestartPolicy,
        FindingKind::RestartLoop,
        FindingKind::OomKilled,
        FindingKind::NoMemoryLimit,
        FindingKind::NoCpuLimit,
        FindingKind::PublicPort,
        FindingKind::Privileged,
        FindingKind::DockerSocket,
        FindingKind::ImageLatest,
        FindingKind::ImageUntagged,
        FindingKind::ImageOld,
        FindingKind::RouteWithoutAuth,
        FindingKind::RouteWithoutTls,
        FindingKind::LogErrors,
        FindingKind::MemoryNearLimit,
        FindingKind::MemoryOversized,
        FindingKind::RouterError,
        FindingKind::RouteError,
        FindingKind::RouteUnreachable,
        FindingKind::RouteSlow,
        FindingKind::CertInvalid,
        FindingKind::CertExpiring,
        FindingKind::CertNotRenewing,
        FindingKind::AuthNotEnforced,
        FindingKind::BackupMissing,
        FindingKind::BackupLate,
        FindingKind::BackupFailing,
        FindingKind::RestoreUntested,
        FindingKind::PerformanceRegression,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            FindingKind::NoHealthcheck => "no_healthcheck",
            FindingKind::Unhealthy => "unhealthy",
            FindingKind::NoRestartPolicy => "no_restart_policy",
            FindingKind::RestartLoop => "restart_loop",
            FindingKind::OomKilled => "oom_killed",
            FindingKind::NoMemoryLimit => "no_memory_limit",
            FindingKind::NoCpuLimit => "no_cpu_limit",
            FindingKind::PublicPort => "public_port",
            FindingKind::Privileged => "privileged",
            FindingKind::DockerSocket => "docker_socket",
            FindingKind::ImageLatest => "image_latest",
            FindingKind::ImageUntagged => "image_untagged",
            FindingKind::ImageOld => "image_old",
            FindingKind::RouteWithoutAuth => "route_without_auth",
            FindingKind::RouteWithoutTls => "route_without_tls",
            FindingKind::LogErrors => "log_errors",
            FindingKind::MemoryNearLimit => "memory_near_limit",
            FindingKind::MemoryOversized => "memory_oversized",
            FindingKind::RouterError => "router_error",
            FindingKind::RouteError => "route_error",
            FindingKind::RouteUnreachable => "route_unreachable",
            FindingKind::RouteSlow => "route_slow",
            FindingKind::CertInvalid => "cert_invalid",
            FindingKind::CertExpiring => "cert_expiring",
            FindingKind::CertNotRenewing => "cert_not_renewing",
            FindingKind::AuthNotEnforced => "auth_not_enforced",
            FindingKind::BackupMissing => "backup_missing",
            FindingKind::BackupLate => "backup_late",
            FindingKind::BackupFailing => "backup_failing",
            FindingKind::RestoreUntested => "restore_untested",
            FindingKind::PerformanceRegression => "performance_regression",
        }
    }

    /// A short human title, used in filters and tables.
    pub fn title(self) -> &'static str {
        match self {
            FindingKind::NoHealthcheck => "No health check",
            FindingKind::Unhealthy => "Unhealthy",
            FindingKind::NoRestartPolicy => "No restart policy",
            FindingKind::RestartLoop => "Restart count climbing",
            FindingKind::OomKilled => "OOM-killed",
            FindingKind::NoMemoryLimit => "No memory limit",
            FindingKind::NoCpuLimit => "No CPU limit",
            FindingKind::PublicPort => "Port published on all interfaces",
            FindingKind::Privileged => "Privileged container",
            FindingKind::DockerSocket => "Docker socket mounted",
            FindingKind::ImageLatest => "Image tagged latest",
            FindingKind::ImageUntagged => "Image untagged",
            FindingKind::ImageOld => "Image too old",
            FindingKind::RouteWithoutAuth => "Traefik route without authentication",
            FindingKind::RouteWithoutTls => "Traefik route without TLS",
            FindingKind::LogErrors => "Error lines in logs",
            FindingKind::MemoryNearLimit => "Memory near its limit",
            FindingKind::MemoryOversized => "Memory limit far above use",
            FindingKind::RouterError => "Traefik router disabled or in error",
            FindingKind::RouteError => "Route answers with an error",
            FindingKind::RouteUnreachable => "Route unreachable",
            FindingKind::RouteSlow => "Route slow",
            FindingKind::CertInvalid => "Certificate invalid",
            FindingKind::CertExpiring => "Certificate expiring",
            FindingKind::CertNotRenewing => "Certificate not renewing",
            FindingKind::AuthNotEnforced => "Authentication not enforced",
            FindingKind::BackupMissing => "No backup job",
            FindingKind::BackupLate => "Backup late",
            FindingKind::BackupFailing => "Backup failing",
            FindingKind::RestoreUntested => "Restore not tested",
            FindingKind::PerformanceRegression => "Worse than its baseline",
        }
    }

    pub fn from_slug(slug: &str) -> Option<FindingKind> {
        FindingKind::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// One finding on one service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// The observed fact, e.g. "port 8080/tcp is published on 0.0.0.0".
    pub fact: String,
    /// What to change to make the finding go away.
    pub fix: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in FindingKind::ALL {
            assert!(seen.insert(kind.slug()), "duplicate slug {}", kind.slug());
            assert_eq!(FindingKind::from_slug(kind.slug()), Some(kind));
        }
        assert_eq!(FindingKind::from_slug("nonsense"), None);
    }

    #[test]
    fn serde_uses_the_slug() {
        // Both are stored (JSON snapshots and the findings table), so they must agree.
        for kind in FindingKind::ALL {
            let json = serde_json::to_string(&kind).expect("serialize");
            assert_eq!(json, format!("\"{}\"", kind.slug()));
        }
    }
}
