//! Docker's inspect answer as plain data: where secrets stop. Environment values are dropped,
//! labels and the health check pass through the redactor.

use bollard::models::ContainerInspectResponse;
use time::OffsetDateTime;

use app::model::{MountInfo, PublishedPort};

use super::env_hosts;
use super::observation::{ContainerObservation, LogSummary};
use super::redact::Redactor;

/// Converts Docker's inspect answer to plain data. Secrets stop here, at the edge: environment
/// values are dropped (only the variable names go further), and labels and the health check pass
/// through the redactor.
pub fn from_inspect(i: ContainerInspectResponse, redactor: &Redactor) -> ContainerObservation {
    let state = i.state.unwrap_or_default();
    let config = i.config.unwrap_or_default();
    let host = i.host_config.unwrap_or_default();
    let health = state
        .health
        .as_ref()
        .and_then(|h| h.status)
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty() && s != "none");
    let failing_streak = state
        .health
        .as_ref()
        .and_then(|h| h.failing_streak)
        .unwrap_or(0);
    let healthcheck = config
        .healthcheck
        .as_ref()
        .and_then(|h| h.test.as_ref())
        .and_then(|test| healthcheck_text(test))
        .map(|text| redactor.text(&text));
    let env = config.env.unwrap_or_default();
    let env_names = env
        .iter()
        .map(|kv| kv.split_once('=').map(|(k, _)| k).unwrap_or(kv).to_string())
        .collect();
    let mut env_hosts: Vec<String> = env.iter().flat_map(|kv| env_hosts::hosts_in(kv)).collect();
    env_hosts.sort();
    env_hosts.dedup();
    let mut networks: Vec<String> = i
        .network_settings
        .and_then(|n| n.networks)
        .unwrap_or_default()
        .into_keys()
        .filter(|n| !matches!(n.as_str(), "bridge" | "host" | "none" | "default"))
        .collect();
    networks.sort();
    let mut ports: Vec<PublishedPort> = host
        .port_bindings
        .unwrap_or_default()
        .into_iter()
        .flat_map(|(container_port, bindings)| {
            bindings
                .unwrap_or_default()
                .into_iter()
                .map(move |b| PublishedPort {
                    host_ip: b.host_ip.unwrap_or_default(),
                    host_port: b.host_port.unwrap_or_default(),
                    container_port: container_port.clone(),
                })
        })
        .collect();
    ports.sort_by(|a, b| (&a.container_port, &a.host_port).cmp(&(&b.container_port, &b.host_port)));
    let mounts = i
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| MountInfo {
            source: m.source.unwrap_or_default(),
            destination: m.destination.unwrap_or_default(),
            read_only: !m.rw.unwrap_or(true),
        })
        .collect();
    let cpu_limit = match (host.nano_cpus, host.cpu_quota, host.cpu_period) {
        (Some(n), _, _) if n > 0 => Some(n as f64 / 1e9),
        (_, Some(q), Some(p)) if q > 0 && p > 0 => Some(q as f64 / p as f64),
        _ => None,
    };
    ContainerObservation {
        id: i.id.unwrap_or_default(),
        name: i
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        labels: redactor.labels(config.labels.unwrap_or_default()),
        state: state
            .status
            .map(|s| s.to_string())
            .unwrap_or_else(|| "unknown".into()),
        health,
        failing_streak,
        healthcheck,
        restart_policy: host
            .restart_policy
            .and_then(|p| p.name)
            .map(|n| n.to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "no".into()),
        restart_count: i.restart_count.unwrap_or(0),
        oom_killed: state.oom_killed.unwrap_or(false),
        exit_code: state.exit_code,
        started_at: state
            .started_at
            .and_then(|s| {
                OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339).ok()
            })
            .filter(|t| t.year() > 1),
        image_ref: config.image.unwrap_or_default(),
        image_id: i.image.unwrap_or_default(),
        image_created: None,
        privileged: host.privileged.unwrap_or(false),
        memory_limit: host.memory.filter(|m| *m > 0),
        cpu_limit,
        ports,
        mounts,
        env_names,
        env_hosts,
        networks,
        stats: None,
        logs: LogSummary::default(),
        events: vec![],
    }
}

/// `["CMD-SHELL", "curl -f localhost"]` → `curl -f localhost`; `["NONE"]` → no health check.
fn healthcheck_text(test: &[String]) -> Option<String> {
    match test.first().map(String::as_str) {
        None | Some("NONE") => None,
        Some("CMD-SHELL") => Some(test[1..].join(" ")),
        Some("CMD") => Some(test[1..].join(" ")),
        Some(_) => Some(test.join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerConfig, HealthConfig, HostConfig, PortBinding};
    use std::collections::HashMap;

    #[test]
    fn environment_values_never_leave_the_inspect() {
        let inspect = ContainerInspectResponse {
            config: Some(ContainerConfig {
                env: Some(vec![
                    "POSTGRES_PASSWORD=hunter2".into(),
                    "PATH=/bin".into(),
                    "EMPTY".into(),
                ]),
                healthcheck: Some(HealthConfig {
                    test: Some(vec!["CMD-SHELL".into(), "true".into()]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            host_config: Some(HostConfig {
                nano_cpus: Some(500_000_000),
                port_bindings: Some(HashMap::from([(
                    "80/tcp".to_string(),
                    Some(vec![PortBinding {
                        host_ip: Some("".into()),
                        host_port: Some("8080".into()),
                    }]),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        };
        let obs = from_inspect(inspect, &Redactor::default());
        assert_eq!(obs.env_names, ["POSTGRES_PASSWORD", "PATH", "EMPTY"]);
        assert!(!format!("{obs:?}").contains("hunter2"));
        assert_eq!(obs.healthcheck.as_deref(), Some("true"));
        assert_eq!(obs.cpu_limit, Some(0.5));
        assert_eq!(obs.restart_policy, "no");
        assert!(obs.ports[0].is_public());
    }

    #[test]
    fn secret_labels_and_health_check_credentials_never_leave_the_inspect() {
        let inspect = ContainerInspectResponse {
            config: Some(ContainerConfig {
                labels: Some(HashMap::from([
                    ("homepage.widget.key".to_string(), "wk-5551".to_string()),
                    (
                        "traefik.http.middlewares.b.basicauth.users".to_string(),
                        "admin:$apr1$abc$hashhash".to_string(),
                    ),
                    ("homepage.name".to_string(), "Vault".to_string()),
                ])),
                healthcheck: Some(HealthConfig {
                    test: Some(vec![
                        "CMD-SHELL".into(),
                        "curl -fsu probe:hc-pass-42 http://localhost".into(),
                    ]),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let obs = from_inspect(inspect, &Redactor::default());
        let all = format!("{obs:?}");
        for secret in ["wk-5551", "$apr1$", "hc-pass-42"] {
            assert!(!all.contains(secret), "{secret} leaked: {all}");
        }
        assert_eq!(obs.labels["homepage.widget.key"], "•••");
        assert_eq!(obs.labels["homepage.name"], "Vault");
        assert_eq!(
            obs.healthcheck.as_deref(),
            Some("curl -fsu probe:••• http://localhost")
        );
    }
}
