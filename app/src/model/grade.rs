//! The production-readiness grade as the pages show it.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// Where a category's score comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreSource {
    /// Computed from the inventory, docs or sign-offs.
    Evidence,
    /// Recorded by an admin with evidence that has not expired.
    Assessment,
    /// Assessed, but the evidence expired or was never recorded: counts as 0.
    Missing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssessmentView {
    pub score: String,
    pub note: String,
    pub link: Option<String>,
    pub evidence_date: Date,
    pub expires_on: Date,
    pub expired: bool,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideView {
    pub score: String,
    pub justification: String,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryView {
    pub name: String,
    pub weight: String,
    /// What the evidence or assessment gives, before any override.
    pub computed: String,
    /// What counts.
    pub score: String,
    pub points: String,
    pub source: ScoreSource,
    pub formula: String,
    pub evidence: Vec<String>,
    /// Where the evidence can be inspected.
    pub evidence_link: Option<String>,
    pub assessment: Option<AssessmentView>,
    pub override_: Option<OverrideView>,
    pub assessed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GapView {
    pub category: String,
    pub current: String,
    pub target: String,
    pub weight: String,
    pub gain: String,
    pub why: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GradeView {
    pub total: String,
    pub uncapped_letter: String,
    pub letter: String,
    pub cap: Option<String>,
    pub caps_in_force: Vec<String>,
    pub categories: Vec<CategoryView>,
    pub target: String,
    pub gaps: Vec<GapView>,
    pub rubric_version: i32,
    /// The rubric in force, for the edit form: (category, weight), (letter, minimum), failing letter.
    pub weights: Vec<(String, String)>,
    pub thresholds: Vec<(String, String)>,
    pub failing: String,
    /// The caps, one per line as admins write them.
    pub caps: String,
}

/// One point of the grade's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradeSnapshot {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub rubric_version: i32,
    /// Hundredths of a point.
    pub total: i32,
    pub letter: String,
    pub capped_by: Option<String>,
    pub categories: Vec<(String, i32)>,
}
