//! Documentation coverage as the pages show it.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// One item of the quality checklist for one doc.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocCheck {
    pub name: String,
    pub passed: bool,
    pub reason: String,
}

/// A service the inventory has, as coverage needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRef {
    pub engine: String,
    pub key: String,
    pub display_name: String,
    pub container_name: String,
    pub compose_service: Option<String>,
    pub doc_label: Option<String>,
    pub running: bool,
    pub findings: usize,
    pub high_findings: usize,
    pub exposures: usize,
    pub restarts: i64,
    pub log_errors: i64,
}

/// A doc with its checks, freshness and the services it covers.
#[derive(Clone, Debug, PartialEq)]
pub struct DocStatus {
    pub path: String,
    pub title: Option<String>,
    pub services: Vec<String>,
    pub engine: Option<String>,
    pub owner: Option<String>,
    pub last_verified: Option<Date>,
    /// The latest "verification commands run" attestation, if any.
    pub attested: Option<Attestation>,
    pub fresh: bool,
    /// Every check passed, freshness included.
    pub passing: bool,
    pub checks: Vec<DocCheck>,
    /// (engine, key) of the inventory services it documents; empty for an orphan.
    pub covers: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attestation {
    pub by: String,
    pub at: OffsetDateTime,
    pub note: String,
}

/// Coverage figures for one engine or overall.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageFigures {
    pub services: i64,
    pub documented: i64,
    pub passing: i64,
    pub fresh: i64,
}

impl CoverageFigures {
    pub fn share(part: i64, whole: i64) -> f64 {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    }

    pub fn documented_share(&self) -> f64 {
        Self::share(self.documented, self.services)
    }
}

/// A running service without a doc, ranked for the editors.
#[derive(Clone, Debug, PartialEq)]
pub struct Undocumented {
    pub engine: String,
    pub key: String,
    pub name: String,
    pub rank: usize,
    /// Why it is ranked where it is, in words.
    pub reason: String,
    pub claim: Option<DocClaim>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocClaim {
    pub engine: String,
    pub key: String,
    pub by: String,
    pub by_subject: String,
    pub due: Option<Date>,
    pub note: String,
    pub at: OffsetDateTime,
}

/// One point of the coverage trend.
#[derive(Clone, Debug, PartialEq)]
pub struct CoveragePoint {
    pub at: OffsetDateTime,
    pub documented_share: f64,
    pub passing_share: f64,
}

/// Everything `/docs` shows.
#[derive(Clone, Debug, PartialEq)]
pub struct CoverageReport {
    pub overall: CoverageFigures,
    pub per_engine: Vec<(String, CoverageFigures)>,
    pub target_share: f64,
    pub undocumented: Vec<Undocumented>,
    pub docs: Vec<DocStatus>,
    pub orphans: Vec<DocStatus>,
    pub problems: Vec<(String, String)>,
    pub claims: Vec<DocClaim>,
    pub freshness_days: i64,
    pub docs_dir_configured: bool,
}
