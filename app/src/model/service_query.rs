//! The services table's filter, search and sort, carried in the query string so they work without JavaScript.

use serde::{Deserialize, Serialize};

use super::findings::FindingKind;
use super::inventory::ServiceSummary;

/// Column the table is sorted by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Name,
    Engine,
    Status,
    Findings,
    Cpu,
    Memory,
    Availability,
}

impl SortKey {
    pub const ALL: [(SortKey, &'static str); 7] = [
        (SortKey::Name, "name"),
        (SortKey::Engine, "engine"),
        (SortKey::Status, "status"),
        (SortKey::Findings, "findings"),
        (SortKey::Cpu, "cpu"),
        (SortKey::Memory, "memory"),
        (SortKey::Availability, "availability"),
    ];

    pub fn slug(self) -> &'static str {
        SortKey::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map(|(_, s)| *s)
            .unwrap_or("name")
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL
            .iter()
            .find(|(_, slug)| *slug == s)
            .map(|(k, _)| *k)
    }
}

/// A parsed, valid query: unknown values were dropped at the edge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceQuery {
    pub engine: Option<String>,
    /// running, healthy, unhealthy, stopped, stale, removed
    pub state: Option<String>,
    pub finding: Option<FindingKind>,
    /// with, failing, without: services with routes, with a failing route, without routes.
    pub routes: Option<String>,
    pub text: Option<String>,
    pub sort: SortKey,
    pub descending: bool,
}

pub const STATE_FILTERS: [&str; 6] = [
    "running",
    "healthy",
    "unhealthy",
    "stopped",
    "stale",
    "removed",
];

pub const ROUTE_FILTERS: [(&str, &str); 3] = [
    ("with", "with routes"),
    ("failing", "with a failing route"),
    ("without", "without routes"),
];

/// The query string as it arrives; every field optional and untrusted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct RawServiceQuery {
    pub engine: Option<String>,
    pub state: Option<String>,
    pub finding: Option<String>,
    pub routes: Option<String>,
    pub q: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
}

impl ServiceQuery {
    pub fn parse(raw: RawServiceQuery) -> Self {
        let non_empty =
            |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        ServiceQuery {
            engine: non_empty(raw.engine),
            state: non_empty(raw.state).filter(|s| STATE_FILTERS.contains(&s.as_str())),
            finding: non_empty(raw.finding).and_then(|s| FindingKind::from_slug(&s)),
            routes: non_empty(raw.routes)
                .filter(|r| ROUTE_FILTERS.iter().any(|(slug, _)| slug == r)),
            text: non_empty(raw.q).map(|s| s.chars().take(200).collect()),
            sort: raw
                .sort
                .as_deref()
                .and_then(SortKey::parse)
                .unwrap_or_default(),
            descending: raw.dir.as_deref() == Some("desc"),
        }
    }

    /// The query string for this query with another sort, for the column header links.
    pub fn href_sorted_by(&self, key: SortKey) -> String {
        let descending = if self.sort == key {
            !self.descending
        } else {
            key != SortKey::Name && key != SortKey::Engine
        };
        let mut pairs: Vec<(&str, String)> = vec![];
        if let Some(e) = &self.engine {
            pairs.push(("engine", e.clone()));
        }
        if let Some(s) = &self.state {
            pairs.push(("state", s.clone()));
        }
        if let Some(f) = self.finding {
            pairs.push(("finding", f.slug().to_string()));
        }
        if let Some(r) = &self.routes {
            pairs.push(("routes", r.clone()));
        }
        if let Some(q) = &self.text {
            pairs.push(("q", q.clone()));
        }
        pairs.push(("sort", key.slug().to_string()));
        pairs.push(("dir", if descending { "desc" } else { "asc" }.to_string()));
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", url_encode(v)))
            .collect();
        format!("/services?{}", query.join("&"))
    }

    pub fn matches(&self, s: &ServiceSummary) -> bool {
        if self.engine.as_ref().is_some_and(|e| *e != s.engine) {
            return false;
        }
        let routes_ok = match self.routes.as_deref() {
            Some("with") => s.routes > 0,
            Some("failing") => s.routes_failing > 0,
            Some("without") => s.routes == 0,
            _ => true,
        };
        if !routes_ok {
            return false;
        }
        if let Some(state) = &self.state {
            let ok = match state.as_str() {
                "removed" => s.removed_at.is_some(),
                "stale" => s.stale && s.removed_at.is_none(),
                "running" => s.removed_at.is_none() && s.state == "running",
                "stopped" => s.removed_at.is_none() && s.state != "running",
                health => s.removed_at.is_none() && s.health.as_deref() == Some(health),
            };
            if !ok {
                return false;
            }
        } else if s.removed_at.is_some() {
            // Removed services are history: shown only when asked for.
            return false;
        }
        if let Some(kind) = self.finding
            && !s.findings.iter().any(|f| f.kind == kind)
        {
            return false;
        }
        if let Some(text) = &self.text {
            let needle = text.to_lowercase();
            let hay = [
                Some(&s.display_name),
                Some(&s.key),
                Some(&s.image_ref),
                Some(&s.engine),
                s.group.as_ref(),
            ];
            if !hay
                .iter()
                .flatten()
                .any(|h| h.to_lowercase().contains(&needle))
            {
                return false;
            }
        }
        true
    }

    /// Filters and sorts in place.
    pub fn apply(&self, rows: &mut Vec<ServiceSummary>) {
        rows.retain(|s| self.matches(s));
        let weight = |s: &ServiceSummary| -> i64 {
            s.findings
                .iter()
                .map(|f| match f.severity {
                    super::Severity::High => 100,
                    super::Severity::Medium => 10,
                    super::Severity::Low => 1,
                })
                .sum()
        };
        rows.sort_by(|a, b| {
            let ord = match self.sort {
                SortKey::Name => a
                    .display_name
                    .to_lowercase()
                    .cmp(&b.display_name.to_lowercase()),
                SortKey::Engine => a.engine.cmp(&b.engine),
                SortKey::Status => a.status_label().cmp(b.status_label()),
                SortKey::Findings => weight(a).cmp(&weight(b)),
                SortKey::Cpu => a
                    .cpu_percent
                    .unwrap_or(-1.0)
                    .total_cmp(&b.cpu_percent.unwrap_or(-1.0)),
                SortKey::Memory => a.memory_usage_bytes.cmp(&b.memory_usage_bytes),
                SortKey::Availability => a
                    .availability_24h
                    .unwrap_or(-1.0)
                    .total_cmp(&b.availability_24h.unwrap_or(-1.0)),
            };
            let ord = ord
                .then_with(|| a.engine.cmp(&b.engine))
                .then_with(|| a.key.cmp(&b.key));
            if self.descending { ord.reverse() } else { ord }
        });
    }
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters pass through).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Finding, Severity};

    #[test]
    fn the_routes_filter_keeps_services_by_their_routes() {
        let mut with_failing = row("a", "m", "running", None);
        with_failing.routes = 2;
        with_failing.routes_failing = 1;
        let mut with_ok = row("b", "m", "running", None);
        with_ok.routes = 1;
        let without = row("c", "m", "running", None);
        let query = |r: &str| {
            ServiceQuery::parse(RawServiceQuery {
                routes: Some(r.into()),
                ..Default::default()
            })
        };
        let names = |q: ServiceQuery| -> Vec<String> {
            [&with_failing, &with_ok, &without]
                .into_iter()
                .filter(|s| q.matches(s))
                .map(|s| s.key.clone())
                .collect()
        };
        assert_eq!(names(query("failing")), ["a"]);
        assert_eq!(names(query("with")), ["a", "b"]);
        assert_eq!(names(query("without")), ["c"]);
        assert_eq!(names(query("nonsense")), ["a", "b", "c"]);
        assert!(
            query("failing")
                .href_sorted_by(SortKey::Name)
                .contains("routes=failing")
        );
    }

    fn row(name: &str, engine: &str, state: &str, health: Option<&str>) -> ServiceSummary {
        ServiceSummary {
            engine: engine.into(),
            key: name.into(),
            display_name: name.into(),
            group: None,
            image_ref: format!("{name}:1"),
            state: state.into(),
            health: health.map(Into::into),
            stale: false,
            last_seen: time::OffsetDateTime::UNIX_EPOCH,
            removed_at: None,
            availability_24h: None,
            availability_from_routes: false,
            routes: 0,
            routes_failing: 0,
            cpu_percent: None,
            cpu_limit: None,
            memory_usage_bytes: None,
            memory_limit_bytes: None,
            findings: vec![],
            doc: None,
        }
    }

    #[test]
    fn unknown_values_are_dropped_at_the_edge() {
        let q = ServiceQuery::parse(RawServiceQuery {
            state: Some("exploded".into()),
            finding: Some("nope".into()),
            sort: Some("DROP TABLE".into()),
            q: Some("  ".into()),
            ..Default::default()
        });
        assert_eq!(q, ServiceQuery::default());
    }

    #[test]
    fn filters_combine() {
        let mut with_finding = row("grafana", "master", "running", Some("healthy"));
        with_finding.findings.push(Finding {
            kind: FindingKind::NoCpuLimit,
            severity: Severity::Low,
            fact: String::new(),
            fix: String::new(),
        });
        let mut rows = vec![
            with_finding,
            row("loki", "master", "running", Some("unhealthy")),
            row("redis", "lady", "exited", None),
        ];
        let q = ServiceQuery {
            finding: Some(FindingKind::NoCpuLimit),
            ..Default::default()
        };
        let mut only = rows.clone();
        q.apply(&mut only);
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].key, "grafana");

        let q = ServiceQuery {
            state: Some("stopped".into()),
            ..Default::default()
        };
        let mut stopped = rows.clone();
        q.apply(&mut stopped);
        assert_eq!(
            stopped.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["redis"]
        );

        let q = ServiceQuery {
            text: Some("LOK".into()),
            engine: Some("master".into()),
            ..Default::default()
        };
        q.apply(&mut rows);
        assert_eq!(
            rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
            ["loki"]
        );
    }

    #[test]
    fn sort_links_toggle_direction_and_keep_filters() {
        let q = ServiceQuery {
            text: Some("a b&c".into()),
            ..Default::default()
        };
        assert_eq!(
            q.href_sorted_by(SortKey::Name),
            "/services?q=a%20b%26c&sort=name&dir=desc"
        );
        assert_eq!(
            q.href_sorted_by(SortKey::Findings),
            "/services?q=a%20b%26c&sort=findings&dir=desc"
        );
    }
}
