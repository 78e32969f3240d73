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
use time::format_description::well_known::Rfc3339;

use app::model::evidence::FiringAlert;

use crate::config::{ApiAuth, HttpSource, Settings};

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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Targets {
    #[serde(default)]
    active_targets: Vec<Target>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    labels: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    health: String,
    #[serde(default)]
    last_error: String,
    #[serde(default)]
    last_scrape: String,
    #[serde(default)]
    scrape_interval: String,
}

#[derive(Deserialize)]
struct Rules {
    #[serde(default)]
    groups: Vec<RuleGroup>,
}

#[derive(Deserialize)]
struct RuleGroup {
    name: String,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    name: String,
    #[serde(default)]
    health: String,
    #[serde(default)]
    last_error: String,
}

/// "15s", "1m", "1h30m" (Prometheus durations) in seconds.
fn prometheus_duration(text: &str) -> Option<i64> {
    let mut total = 0;
    let mut number = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        total += match c {
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                0
            }
            's' => n,
            'm' => n * 60,
            'h' => n * 3600,
            'd' => n * 86_400,
            'w' => n * 604_800,
            'y' => n * 31_536_000,
            _ => return None,
        };
    }
    number.is_empty().then_some(total)
}

fn target_check(t: &Target, now: OffsetDateTime) -> Check {
    let job = t.labels.get("job").cloned().unwrap_or_default();
    let instance = t.labels.get("instance").cloned().unwrap_or_default();
    let interval = prometheus_duration(&t.scrape_interval).unwrap_or(60).max(1);
    let age = OffsetDateTime::parse(&t.last_scrape, &Rfc3339)
        .ok()
        .map(|at| (now - at).whole_seconds());
    let (ok, fact) = match (t.health.as_str(), age) {
        ("up", Some(a)) if a <= 3 * interval => (true, format!("up, scraped {a} s ago")),
        ("up", Some(a)) => (
            false,
            format!("stale: last scrape {a} s ago, over 3 × its {interval} s interval"),
        ),
        ("up", None) => (false, "up, but never scraped".into()),
        (health, _) => (
            false,
            format!(
                "{health}{}",
                if t.last_error.is_empty() {
                    String::new()
                } else {
                    format!(": {}", t.last_error)
                }
            ),
        ),
    };
    Check {
        key: format!("prometheus/target/{job}/{instance}"),
        source: "prometheus",
        ok,
        title: format!("Target {instance} (job {job})"),
        fact,
    }
}

async fn prometheus(
    client: &reqwest::Client,
    source: &HttpSource,
    now: OffsetDateTime,
    checks: &mut Vec<Check>,
) -> SourceResult {
    let mut result = SourceResult {
        source: "prometheus",
        reachable: true,
        error: None,
        alerts: vec![],
    };
    let reachable: Result<Envelope<serde_json::Value>, String> =
        get(client, source, "/api/v1/status/runtimeinfo").await;
    if let Err(e) = reachable {
        checks.push(Check {
            key: "prometheus/reachable".into(),
            source: "prometheus",
            ok: false,
            title: "Prometheus answers".into(),
            fact: e.clone(),
        });
        result.reachable = false;
        result.error = Some(e);
        return result;
    }
    checks.push(Check {
        key: "prometheus/reachable".into(),
        source: "prometheus",
        ok: true,
        title: "Prometheus answers".into(),
        fact: "runtime info read".into(),
    });
    match get::<Envelope<Targets>>(client, source, "/api/v1/targets?state=active").await {
        Ok(t) => checks.extend(t.data.active_targets.iter().map(|t| target_check(t, now))),
        Err(e) => result.error = Some(format!("targets: {e}")),
    }
    match get::<Envelope<Rules>>(client, source, "/api/v1/rules").await {
        Ok(r) => {
            for g in r.data.groups {
                let failing: Vec<String> = g
                    .rules
                    .iter()
                    .filter(|r| r.health == "err")
                    .map(|r| format!("{}: {}", r.name, r.last_error))
                    .collect();
                checks.push(Check {
                    key: format!("prometheus/rules/{}", g.name),
                    source: "prometheus",
                    ok: failing.is_empty(),
                    title: format!("Rule group {}", g.name),
                    fact: if failing.is_empty() {
                        format!("{} rule(s) evaluate without errors", g.rules.len())
                    } else {
                        failing.join("; ")
                    },
                });
            }
        }
        Err(e) => result.error = Some(format!("rules: {e}")),
    }
    result
}

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

async fn alertmanager(
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

#[derive(Deserialize)]
struct LokiData {
    #[serde(default)]
    result: Vec<LokiSample>,
}

#[derive(Deserialize)]
struct LokiSample {
    value: (serde_json::Value, String),
}

async fn loki(
    client: &reqwest::Client,
    source: &HttpSource,
    settings: &Settings,
    checks: &mut Vec<Check>,
) -> SourceResult {
    let mut result = SourceResult {
        source: "loki",
        reachable: true,
        error: None,
        alerts: vec![],
    };
    for engine in settings.engines.iter().map(|e| e.name.as_str()) {
        let query = settings
            .evidence
            .loki_queries
            .get(engine)
            .cloned()
            .unwrap_or_else(|| settings.evidence.loki_query.replace("{engine}", engine));
        let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let answer = get::<Envelope<LokiData>>(
            client,
            source,
            &format!("/loki/api/v1/query?query={encoded}"),
        )
        .await;
        let (ok, fact) = match answer {
            Ok(a) => {
                let lines: f64 = a
                    .data
                    .result
                    .iter()
                    .filter_map(|s| s.value.1.parse::<f64>().ok())
                    .sum();
                if lines > 0.0 {
                    (
                        true,
                        format!("{lines:.0} log lines in the window ({query})"),
                    )
                } else {
                    (false, format!("no log lines from {engine} ({query})"))
                }
            }
            Err(e) => {
                result.reachable = false;
                result.error = Some(e.clone());
                (false, e)
            }
        };
        // Once Loki does not answer, the other engines' queries would only wait the same deadline.
        let unreachable = !result.reachable;
        checks.push(Check {
            key: format!("loki/logs/{engine}"),
            source: "loki",
            ok,
            title: format!("Logs flow from {engine}"),
            fact,
        });
        if unreachable {
            let error = result.error.clone().unwrap_or_default();
            for rest in settings.engines.iter().map(|e| e.name.as_str()) {
                if !checks.iter().any(|c| c.key == format!("loki/logs/{rest}")) {
                    checks.push(Check {
                        key: format!("loki/logs/{rest}"),
                        source: "loki",
                        ok: false,
                        title: format!("Logs flow from {rest}"),
                        fact: error.clone(),
                    });
                }
            }
            break;
        }
    }
    result
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
                Some(p) => Some(prometheus(&client, p, now, &mut p_checks).await),
                None => None,
            }
        },
        async {
            match &e.alertmanager {
                Some(a) => Some(alertmanager(&client, a, &mut a_checks).await),
                None => None,
            }
        },
        async {
            match &e.loki {
                Some(l) => Some(loki(&client, l, settings, &mut l_checks).await),
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
    use super::*;

    #[test]
    fn prometheus_durations() {
        assert_eq!(prometheus_duration("15s"), Some(15));
        assert_eq!(prometheus_duration("1m30s"), Some(90));
        assert_eq!(prometheus_duration("2h"), Some(7200));
        assert_eq!(prometheus_duration("500ms"), Some(0));
        assert_eq!(prometheus_duration("abc"), None);
    }
}
