//! Prometheus: reachable, every active target scraped recently and up, every rule evaluating.

use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Check, Envelope, SourceResult, get};
use crate::config::HttpSource;

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
pub(super) fn prometheus_duration(text: &str) -> Option<i64> {
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

pub(super) async fn prometheus(
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
