//! The grade, its categories and gaps as the API answers them.

use super::*;

/// Where a category's score comes from.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScoreSource {
    /// Computed from the inventory, routes, docs, heartbeats or sign-offs.
    Evidence,
    /// Recorded by an admin with evidence that has not expired.
    Assessment,
    /// Assessed, but the evidence expired or was never recorded: counts as 0.
    Missing,
}

#[derive(Serialize, ToSchema)]
pub struct Assessment {
    pub score: f64,
    pub note: String,
    pub link: Option<String>,
    #[serde(serialize_with = "day")]
    #[schema(value_type = String, format = Date)]
    pub evidence_date: Date,
    #[serde(serialize_with = "day")]
    #[schema(value_type = String, format = Date)]
    pub expires_on: Date,
    pub expired: bool,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

#[derive(Serialize, ToSchema)]
pub struct Override {
    pub score: f64,
    pub justification: String,
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// One category of the rubric with the evidence behind its score.
#[derive(Serialize, ToSchema)]
pub struct Category {
    pub name: String,
    /// Percent of the total.
    pub weight: f64,
    /// What the evidence or assessment gives, before any override.
    pub computed: f64,
    /// What counts, out of 100.
    pub score: f64,
    /// Its contribution to the total.
    pub points: f64,
    pub source: ScoreSource,
    pub formula: String,
    pub evidence: Vec<String>,
    pub evidence_page: Option<String>,
    pub assessment: Option<Assessment>,
    #[serde(rename = "override")]
    pub override_: Option<Override>,
}

/// Where points are to be won, largest first.
#[derive(Serialize, ToSchema)]
pub struct Gap {
    pub category: String,
    pub current: f64,
    pub target: f64,
    pub weight: f64,
    pub gain: f64,
    pub why: String,
}

/// The production-readiness grade as measured now.
#[derive(Serialize, ToSchema)]
pub struct Grade {
    /// Points out of 100.
    pub total: f64,
    pub letter: String,
    /// The letter the points alone would give.
    pub uncapped_letter: String,
    /// The cap holding the letter down, if one does.
    pub cap: Option<String>,
    pub caps_in_force: Vec<String>,
    pub rubric_version: i32,
    pub target: f64,
    pub categories: Vec<Category>,
    pub gaps: Vec<Gap>,
}
