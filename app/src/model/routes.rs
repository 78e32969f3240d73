//! Routes as users reach them: each route of the fleet with its latest probe and certificate.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::findings::Finding;

/// The latest probe of one URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeView {
    #[serde(with = "time::serde::rfc3339")]
    pub probed_at: OffsetDateTime,
    pub ok: bool,
    /// unreachable, protocol, status, redirect_loop, certificate; None when ok.
    pub failure: Option<String>,
    pub status: Option<i32>,
    pub latency_ms: Option<i32>,
    pub redirect_to: Option<String>,
    pub error: Option<String>,
    pub cert: Option<CertView>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CertView {
    #[serde(with = "time::serde::rfc3339::option")]
    pub not_after: Option<OffsetDateTime>,
    pub issuer: String,
    pub names: Vec<String>,
    /// Why the chain or the name does not verify.
    pub chain_error: Option<String>,
}

impl CertView {
    pub fn days_left(&self, now: OffsetDateTime) -> Option<i64> {
        self.not_after.map(|t| (t - now).whole_days())
    }
}

/// One route of the fleet: a router's URL, where it leads, and how it answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RouteRow {
    pub id: i64,
    pub router: String,
    pub url: String,
    pub host: String,
    /// labels, traefik or configured.
    pub source: String,
    /// The service it reaches: (engine, key, display name).
    pub service: Option<(String, String, String)>,
    pub entrypoints: Vec<String>,
    pub middlewares: Vec<String>,
    pub tls: bool,
    pub auth_expected: bool,
    /// What the latest probe showed: the sign-in wall (true), content (false), neither (None).
    pub auth_verdict: Option<bool>,
    pub traefik_status: Option<String>,
    pub traefik_errors: Vec<String>,
    pub findings: Vec<Finding>,
    pub probe: Option<ProbeView>,
    pub availability_24h: Option<f64>,
    pub p95_24h_ms: Option<f64>,
}

impl RouteRow {
    /// One word for the status column: ok, failing, or not probed yet.
    pub fn status_label(&self) -> &'static str {
        match &self.probe {
            None => "not probed",
            Some(p) if p.ok => "ok",
            Some(_) => "failing",
        }
    }
}

/// Share of successful probes for one day, for the 90-day status bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayShare {
    pub day: time::Date,
    /// None: no data that day.
    pub share: Option<f64>,
}

/// Traefik's API at its latest read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraefikReadStatus {
    #[serde(with = "time::serde::rfc3339")]
    pub read_at: OffsetDateTime,
    pub ok: bool,
    pub error: Option<String>,
    pub routers: i32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
}

/// Everything the routes page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoutesPage {
    pub routes: Vec<RouteRow>,
    pub traefik: Option<TraefikReadStatus>,
    /// Whether Traefik's API is configured (else routes come from labels).
    pub traefik_configured: bool,
}

/// How to order the routes page.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteSort {
    /// Failing first, then by host.
    #[default]
    Status,
    Host,
    /// Soonest certificate expiry first.
    CertExpiry,
    /// Slowest first.
    Latency,
    Service,
}

impl RouteSort {
    pub const ALL: [(RouteSort, &'static str, &'static str); 5] = [
        (RouteSort::Status, "status", "Status"),
        (RouteSort::Host, "host", "Host"),
        (RouteSort::CertExpiry, "cert", "Certificate expiry"),
        (RouteSort::Latency, "latency", "Latency"),
        (RouteSort::Service, "service", "Service"),
    ];

    pub fn parse(s: &str) -> Option<RouteSort> {
        Self::ALL
            .iter()
            .find(|(_, slug, _)| *slug == s)
            .map(|(k, _, _)| *k)
    }

    /// Sorts in place; ties keep host order.
    pub fn apply(self, rows: &mut [RouteRow]) {
        rows.sort_by(|a, b| a.host.cmp(&b.host).then(a.url.cmp(&b.url)));
        match self {
            RouteSort::Host => {}
            RouteSort::Status => rows.sort_by_key(|r| match r.status_label() {
                "failing" => 0,
                "not probed" => 1,
                _ => 2,
            }),
            RouteSort::CertExpiry => rows.sort_by_key(|r| {
                r.probe
                    .as_ref()
                    .and_then(|p| p.cert.as_ref())
                    .and_then(|c| c.not_after)
                    .map(|t| (0, t.unix_timestamp()))
                    .unwrap_or((1, 0))
            }),
            RouteSort::Latency => rows.sort_by_key(|r| {
                std::cmp::Reverse(r.probe.as_ref().and_then(|p| p.latency_ms).unwrap_or(-1))
            }),
            RouteSort::Service => rows.sort_by_key(|r| {
                r.service
                    .as_ref()
                    .map(|(e, k, _)| (0, e.clone(), k.clone()))
                    .unwrap_or((1, String::new(), String::new()))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(host: &str, expiry_days: Option<i64>, ok: Option<bool>) -> RouteRow {
        let now = OffsetDateTime::now_utc();
        RouteRow {
            id: 0,
            router: host.into(),
            url: format!("https://{host}/"),
            host: host.into(),
            source: "labels".into(),
            service: None,
            entrypoints: vec![],
            middlewares: vec![],
            tls: true,
            auth_expected: false,
            auth_verdict: None,
            traefik_status: None,
            traefik_errors: vec![],
            findings: vec![],
            probe: ok.map(|ok| ProbeView {
                probed_at: now,
                ok,
                failure: None,
                status: Some(200),
                latency_ms: Some(3),
                redirect_to: None,
                error: None,
                cert: expiry_days.map(|d| CertView {
                    not_after: Some(now + time::Duration::days(d)),
                    ..Default::default()
                }),
            }),
            availability_24h: None,
            p95_24h_ms: None,
        }
    }

    #[test]
    fn certificate_expiry_sorts_soonest_first_and_unknown_last() {
        let mut rows = vec![
            row("a", Some(80), Some(true)),
            row("b", None, None),
            row("c", Some(-2), Some(false)),
            row("d", Some(5), Some(true)),
        ];
        RouteSort::CertExpiry.apply(&mut rows);
        let hosts: Vec<&str> = rows.iter().map(|r| r.host.as_str()).collect();
        assert_eq!(hosts, ["c", "d", "a", "b"]);
        RouteSort::Status.apply(&mut rows);
        assert_eq!(rows[0].host, "c");
        assert_eq!(rows[1].host, "b");
    }
}
