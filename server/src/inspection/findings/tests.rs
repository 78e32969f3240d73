//! Each check on plain facts: the finding appears exactly when the criterion is broken.

use app::model::{MountInfo, PublishedPort, TraefikRoute};
use time::macros::datetime;

use super::*;

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);
const RULES: SizingRules = SizingRules {
    headroom: 1.5,
    min_samples: 1,
};

/// The memory history of a service seen once: its current use.
fn one_sample(facts: &ServiceFacts) -> Option<MemoryHistory> {
    facts
        .memory_usage_bytes
        .map(|peak| MemoryHistory { peak, samples: 1 })
}

/// A service that passes every check.
fn clean() -> ServiceFacts {
    ServiceFacts {
        state: "running".into(),
        health: Some("healthy".into()),
        healthcheck: Some("true".into()),
        restart_policy: "unless-stopped".into(),
        image_ref: "grafana/grafana:11.3.0".into(),
        image_created: Some(datetime!(2026-10-01 0:00 UTC)),
        memory_limit_bytes: Some(256 * 1024 * 1024),
        memory_usage_bytes: Some(64 * 1024 * 1024),
        cpu_limit: Some(1.0),
        ports: vec![PublishedPort {
            host_ip: "0.0.0.0".into(),
            host_port: "443".into(),
            container_port: "443/tcp".into(),
        }],
        routes: vec![TraefikRoute {
            router: "g".into(),
            rule: "Host(`g.x`)".into(),
            hosts: vec!["g.x".into()],
            tls: true,
            authenticated: true,
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn kinds(facts: &ServiceFacts, previous_restart_count: Option<i64>) -> Vec<FindingKind> {
    let input = FindingInput {
        facts,
        previous_restart_count,
        now: NOW,
        memory: one_sample(facts),
        was: WasFlagged::default(),
        sizing: RULES,
    };
    findings_for(&input, &AuditSettings::default())
        .into_iter()
        .map(|f| f.kind)
        .collect()
}

#[test]
fn a_clean_service_has_no_findings() {
    assert_eq!(kinds(&clean(), Some(0)), vec![]);
}

#[test]
fn each_criterion_raises_its_own_finding() {
    type Change = fn(&mut ServiceFacts);
    let cases: Vec<(Change, FindingKind)> = vec![
        (|f| f.healthcheck = None, FindingKind::NoHealthcheck),
        (
            |f| f.health = Some("unhealthy".into()),
            FindingKind::Unhealthy,
        ),
        (|f| f.health_failing_streak = 2, FindingKind::Unhealthy),
        (
            |f| f.restart_policy = "no".into(),
            FindingKind::NoRestartPolicy,
        ),
        (|f| f.state = "restarting".into(), FindingKind::RestartLoop),
        (|f| f.oom_killed = true, FindingKind::OomKilled),
        (
            |f| {
                f.memory_limit_bytes = None;
            },
            FindingKind::NoMemoryLimit,
        ),
        (|f| f.cpu_limit = None, FindingKind::NoCpuLimit),
        (
            |f| f.ports[0].host_port = "8080".into(),
            FindingKind::PublicPort,
        ),
        (|f| f.privileged = true, FindingKind::Privileged),
        (
            |f| {
                f.mounts.push(MountInfo {
                    source: "/var/run/docker.sock".into(),
                    destination: "/var/run/docker.sock".into(),
                    read_only: true,
                })
            },
            FindingKind::DockerSocket,
        ),
        (
            |f| f.image_ref = "grafana/grafana:latest".into(),
            FindingKind::ImageLatest,
        ),
        (
            |f| f.image_ref = "grafana/grafana".into(),
            FindingKind::ImageLatest,
        ),
        (
            |f| f.image_ref = "sha256:0123456789abcdef0123".into(),
            FindingKind::ImageUntagged,
        ),
        (
            |f| f.image_created = Some(datetime!(2025-01-01 0:00 UTC)),
            FindingKind::ImageOld,
        ),
        (
            |f| f.routes[0].authenticated = false,
            FindingKind::RouteWithoutAuth,
        ),
        (|f| f.routes[0].tls = false, FindingKind::RouteWithoutTls),
        (|f| f.log_errors = 11, FindingKind::LogErrors),
        (
            |f| f.memory_usage_bytes = Some(250 * 1024 * 1024),
            FindingKind::MemoryNearLimit,
        ),
        (
            |f| {
                f.memory_limit_bytes = Some(2048 * 1024 * 1024);
                f.memory_usage_bytes = Some(10 * 1024 * 1024);
            },
            FindingKind::MemoryOversized,
        ),
    ];
    for (change, expected) in cases {
        let mut facts = clean();
        change(&mut facts);
        assert_eq!(
            kinds(&facts, Some(0)),
            vec![expected],
            "after the change expected only {expected:?}"
        );
    }
}

#[test]
fn restart_counts_climbing_versus_settled() {
    let mut facts = clean();
    facts.restart_count = 5;
    assert_eq!(
        kinds(&facts, None),
        vec![FindingKind::RestartLoop],
        "first sight with many restarts"
    );
    assert_eq!(
        kinds(&facts, Some(4)),
        vec![FindingKind::RestartLoop],
        "still climbing"
    );
    assert_eq!(
        kinds(&facts, Some(5)),
        vec![],
        "settled: no new restarts since the previous refresh"
    );
    facts.restart_count = 2;
    assert_eq!(kinds(&facts, Some(1)), vec![], "below the threshold");
}

#[test]
fn allowed_ports_and_loopback_bindings_pass() {
    let mut facts = clean();
    facts.ports = vec![
        PublishedPort {
            host_ip: "127.0.0.1".into(),
            host_port: "5432".into(),
            container_port: "5432/tcp".into(),
        },
        PublishedPort {
            host_ip: "".into(),
            host_port: "25".into(),
            container_port: "25/tcp".into(),
        },
    ];
    assert_eq!(kinds(&facts, Some(0)), vec![]);
    facts.ports.push(PublishedPort {
        host_ip: "::".into(),
        host_port: "9000".into(),
        container_port: "9000/tcp".into(),
    });
    assert_eq!(kinds(&facts, Some(0)), vec![FindingKind::PublicPort]);
}

#[test]
fn image_references() {
    assert_eq!(
        image_tag("registry.local:5000/app"),
        ImageTag::Latest,
        "a registry port is not a tag"
    );
    assert_eq!(
        image_tag("registry.local:5000/app:1.2"),
        ImageTag::Versioned
    );
    assert_eq!(image_tag("app@sha256:abcd"), ImageTag::Versioned);
    assert_eq!(image_tag("5c7cc7395bfc"), ImageTag::Untagged);
}

#[test]
fn findings_are_sorted_most_severe_first() {
    let mut facts = clean();
    facts.cpu_limit = None;
    facts.privileged = true;
    facts.healthcheck = None;
    let input = FindingInput {
        facts: &facts,
        previous_restart_count: Some(0),
        now: NOW,
        memory: one_sample(&facts),
        was: WasFlagged::default(),
        sizing: RULES,
    };
    let severities: Vec<Severity> = findings_for(&input, &AuditSettings::default())
        .iter()
        .map(|f| f.severity)
        .collect();
    assert_eq!(
        severities,
        vec![Severity::High, Severity::Medium, Severity::Low]
    );
}
