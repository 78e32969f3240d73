//! Loki: logs arriving from every engine (a count over the last interval per engine label).

use serde::Deserialize;

use super::{Check, Envelope, SourceResult, get};
use crate::config::{HttpSource, Settings};

#[derive(Deserialize)]
struct LokiData {
    #[serde(default)]
    result: Vec<LokiSample>,
}

#[derive(Deserialize)]
struct LokiSample {
    value: (serde_json::Value, String),
}

pub(super) async fn loki(
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
