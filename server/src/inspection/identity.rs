//! A service's identity and its people-facing labels.
//!
//! A service is a compose project plus service, else the container name, on one engine, so it
//! keeps its identity when its container is re-created.

use std::collections::BTreeMap;

use crate::docker::ContainerObservation;

const PROJECT: &str = "com.docker.compose.project";
const SERVICE: &str = "com.docker.compose.service";
const NUMBER: &str = "com.docker.compose.container-number";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIdentity {
    /// "project/service", "project/service#2" for a further replica, or the container name.
    pub key: String,
    pub compose_project: Option<String>,
    pub compose_service: Option<String>,
    pub display_name: String,
    pub group: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub tier: Option<String>,
    pub doc_path: Option<String>,
}

fn label(labels: &BTreeMap<String, String>, key: &str) -> Option<String> {
    labels
        .get(key)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl ServiceIdentity {
    pub fn of(c: &ContainerObservation) -> Self {
        let project = label(&c.labels, PROJECT);
        let service = label(&c.labels, SERVICE);
        let key = match (&project, &service) {
            (Some(p), Some(s)) => match label(&c.labels, NUMBER).filter(|n| n != "1") {
                Some(n) => format!("{p}/{s}#{n}"),
                None => format!("{p}/{s}"),
            },
            _ => c.name.clone(),
        };
        let fallback_name = service.clone().unwrap_or_else(|| c.name.clone());
        ServiceIdentity {
            key,
            display_name: label(&c.labels, "homepage.name").unwrap_or(fallback_name),
            group: label(&c.labels, "homepage.group"),
            description: label(&c.labels, "homepage.description"),
            owner: label(&c.labels, "audit.owner"),
            tier: label(&c.labels, "audit.tier"),
            doc_path: label(&c.labels, "audit.docs"),
            compose_project: project,
            compose_service: service,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(name: &str, labels: &[(&str, &str)]) -> ContainerObservation {
        ContainerObservation {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn compose_labels_make_the_key_and_survive_a_new_container_name() {
        let a = ServiceIdentity::of(&container(
            "monitoring-grafana-1",
            &[(PROJECT, "monitoring"), (SERVICE, "grafana")],
        ));
        let b = ServiceIdentity::of(&container(
            "3f2a_monitoring-grafana-1",
            &[(PROJECT, "monitoring"), (SERVICE, "grafana")],
        ));
        assert_eq!(a.key, "monitoring/grafana");
        assert_eq!(a.key, b.key);
        assert_eq!(a.display_name, "grafana");
    }

    #[test]
    fn replicas_and_plain_containers() {
        let r2 = ServiceIdentity::of(&container(
            "x",
            &[(PROJECT, "p"), (SERVICE, "s"), (NUMBER, "2")],
        ));
        assert_eq!(r2.key, "p/s#2");
        let plain = ServiceIdentity::of(&container(
            "traefik",
            &[("homepage.name", "Traefik"), ("homepage.group", "Edge")],
        ));
        assert_eq!(plain.key, "traefik");
        assert_eq!(plain.display_name, "Traefik");
        assert_eq!(plain.group.as_deref(), Some("Edge"));
    }
}
