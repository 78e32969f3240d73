//! Alertmanager: its cluster ready, and the alerts firing now.

use serde::Deserialize;

use app::model::evidence::FiringAlert;

use super::{Check, SourceResult, get};
use crate::config::HttpSource;

#[derive(Deserialize)]
struct AmStatus {
    #[serde(default)]
    cluster: Option<AmCluster>,
}

#[derive(Deserialize)]
struct AmCluster {
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    starts_at: String,
}

pub(super) async fn alertmanager(
    client: &reqwest::Client,
    source: &HttpSource,
    checks: &mut Vec<Check>,
) -> SourceResult {
    let mut result = SourceResult {
        source: "alertmanager",
        reachable: true,
        error: None,
        alerts: vec![],
    };
    match get::<AmStatus>(client, source, "/api/v2/status").await {
        Err(e) => {
            checks.push(Check {
                key: "alertmanager/cluster".into(),
                source: "alertmanager",
                ok: false,
                title: "Alertmanager answers and its cluster is ready".into(),
                fact: e.clone(),
            });
            result.reachable = false;
            result.error = Some(e);
            return result;
        }
        Ok(status) => {
            let cluster = status.cluster.map(|c| c.status).unwrap_or_default();
            // A single Alertmanager reports its cluster as disabled, which is fine.
            let ok = matches!(cluster.as_str(), "ready" | "disabled");
            checks.push(Check {
                key: "alertmanager/cluster".into(),
                source: "alertmanager",
                ok,
                title: "Alertmanager answers and its cluster is ready".into(),
                fact: format!(
                    "cluster status: {}",
                    if cluster.is_empty() {
                        "unknown"
                    } else {
                        &cluster
                    }
                ),
            });
        }
    }
    match get::<Vec<AmAlert>>(
        client,
        source,
        "/api/v2/alerts?active=true&silenced=false&inhibited=false",
    )
    .await
    {
        Ok(alerts) => {
            result.alerts = alerts
                .into_iter()
                .map(|a| FiringAlert {
                    name: a.labels.get("alertname").cloned().unwrap_or_default(),
                    severity: a.labels.get("severity").cloned().unwrap_or_default(),
                    summary: a
                        .annotations
                        .get("summary")
                        .or(a.annotations.get("description"))
                        .cloned()
                        .unwrap_or_default(),
                    starts_at: a.starts_at,
                })
                .collect()
        }
        Err(e) => result.error = Some(format!("alerts: {e}")),
    }
    result
}
