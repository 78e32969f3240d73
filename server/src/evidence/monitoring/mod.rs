//! The monitoring stack's own health, from its HTTP APIs: Prometheus targets and rules,
//! Alertmanager's cluster and firing alerts, and Loki proving that logs flow from each engine.
//!
//! Shapes, from the projects' API documentation: Prometheus `GET /api/v1/targets` answers
//! `{"status":"success","data":{"activeTargets":[{"labels":{"job","instance"},"health":"up",
//! "lastError":"","lastScrape":"<RFC 3339>","scrapeInterval":"15s"}]}}`, `GET /api/v1/rules`
//! answers `data.groups[].rules[]` with `name`, `health` ("ok", "err") and `lastError`, and
//! `GET /api/v1/status/runtimeinfo` answers `data`; Alertmanager `GET /api/v2/status` answers
//! `{"cluster":{"status":"ready"}}` and `GET /api/v2/alerts` a list with `labels`,
//! `annotations`, `startsAt`; Loki `GET /loki/api/v1/query` answers `data.result[].value`
//! as `[<time>, "<number>"]`.

use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use app::model::evidence::FiringAlert;

use crate::config::{ApiAuth, HttpSource, Settings};

mod alertmanager;
mod loki;
mod prometheus;

/// One check's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub key: String,
    pub source: &'static str,
    pub ok: bool,
    pub title: String,
    pub fact: String,
}

/// What one source answered.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceResult {
    pub source: &'static str,
    pub reachable: bool,
    pub error: Option<String>,
    pub alerts: Vec<FiringAlert>,
}

/// Answers larger than this are refused: a Prometheus with thousands of targets stays far below.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

async fn get<T: DeserializeOwned>(
    client: &reqwest::Client,
    source: &HttpSource,
    path_and_query: &str,
) -> Result<T, String> {
    let mut request = client.get(format!("{}{path_and_query}", source.url));
    request = match &source.auth {
        Some(ApiAuth::Basic { user, password }) => {
            request.basic_auth(user, Some(password.expose()))
        }
        Some(ApiAuth::Bearer(t)) => request.bearer_auth(t.expose()),
        None => request,
    };
    let mut response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            "no answer in time".to_string()
        } else if e.is_connect() {
            "cannot connect".to_string()
        } else {
            e.to_string()
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "{} answered {status}",
            path_and_query.split('?').next().unwrap_or_default()
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return Err("the answer is too large".into());
        }
    }
    serde_json::from_slice(&body).map_err(|e| format!("unexpected answer: {e}"))
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

/// Runs every configured source's checks; an unreachable source is a failing check, never an error.
pub async fn check_all(
    settings: &Settings,
    now: OffsetDateTime,
) -> (Vec<SourceResult>, Vec<Check>) {
    let timeout = settings.refresh.call_timeout.max(Duration::from_secs(1));
    let Ok(client) = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
    else {
        return (vec![], vec![]);
    };
    let e = &settings.evidence;
    // The sources are asked at the same time, so a silent one costs one deadline, not three.
    let (mut p_checks, mut a_checks, mut l_checks) = (vec![], vec![], vec![]);
    let (p, a, l) = tokio::join!(
        async {
            match &e.prometheus {
                Some(p) => Some(prometheus::prometheus(&client, p, now, &mut p_checks).await),
                None => None,
            }
        },
        async {
            match &e.alertmanager {
                Some(a) => Some(alertmanager::alertmanager(&client, a, &mut a_checks).await),
                None => None,
            }
        },
        async {
            match &e.loki {
                Some(l) => Some(loki::loki(&client, l, settings, &mut l_checks).await),
                None => None,
            }
        },
    );
    let sources = [p, a, l].into_iter().flatten().collect();
    let checks = [p_checks, a_checks, l_checks]
        .into_iter()
        .flatten()
        .collect();
    (sources, checks)
}

#[cfg(test)]
mod tests {
    use super::prometheus::prometheus_duration;

    #[test]
    fn prometheus_durations() {
        assert_eq!(prometheus_duration("15s"), Some(15));
        assert_eq!(prometheus_duration("1m30s"), Some(90));
        assert_eq!(prometheus_duration("2h"), Some(7200));
        assert_eq!(prometheus_duration("500ms"), Some(0));
        assert_eq!(prometheus_duration("abc"), None);
    }
}
