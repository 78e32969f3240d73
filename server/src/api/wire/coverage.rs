//! Documentation coverage as the API answers it.

use super::*;

/// Documentation coverage of one engine or of all.
#[derive(Serialize, ToSchema)]
pub struct CoverageFigures {
    /// Running services.
    pub services: i64,
    pub documented: i64,
    pub passing: i64,
    pub fresh: i64,
    pub documented_percent: f64,
}

#[derive(Serialize, ToSchema)]
pub struct EngineCoverage {
    pub engine: String,
    #[serde(flatten)]
    pub figures: CoverageFigures,
}

/// A running service without a doc, ranked for the editors.
#[derive(Serialize, ToSchema)]
pub struct Undocumented {
    pub service: ServiceRef,
    pub rank: usize,
    pub reason: String,
    /// Who claimed writing its doc, if someone did.
    pub claimed_by: Option<String>,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub claim_due: Option<Date>,
}

#[derive(Serialize, ToSchema)]
pub struct DocCheck {
    pub name: String,
    pub passed: bool,
    pub reason: String,
}

/// One doc of the docs folder.
#[derive(Serialize, ToSchema)]
pub struct Doc {
    pub path: String,
    pub title: Option<String>,
    /// The inventory services it documents as engine/key; empty for an orphan.
    pub covers: Vec<String>,
    pub owner: Option<String>,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub last_verified: Option<Date>,
    pub fresh: bool,
    pub passing: bool,
    pub checks: Vec<DocCheck>,
}

#[derive(Serialize, ToSchema)]
pub struct Coverage {
    pub overall: CoverageFigures,
    pub target_percent: f64,
    pub freshness_days: i64,
    pub per_engine: Vec<EngineCoverage>,
    pub undocumented: Vec<Undocumented>,
    pub docs: Vec<Doc>,
}
