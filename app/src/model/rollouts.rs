//! Rollouts as the pages show them: the evaluation matrix, the decision, the checklist with its
//! automatic checks, and the timeline of status changes.

use time::{Date, OffsetDateTime};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub goal: String,
    pub host: String,
    pub chosen: Option<String>,
    pub items: i64,
    pub verified: i64,
    pub checked_at: Option<OffsetDateTime>,
}

impl RolloutSummary {
    /// Verified items as a share of all items, 0.0 when there are none.
    pub fn readiness(&self) -> f64 {
        if self.items == 0 {
            0.0
        } else {
            self.verified as f64 / self.items as f64
        }
    }

    /// "Ready for business use" only when every item is verified.
    pub fn ready(&self) -> bool {
        self.items > 0 && self.verified == self.items
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CriterionView {
    pub id: i64,
    pub name: String,
    pub weight: u8,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoreCell {
    pub score: u8,
    pub note: String,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CandidateView {
    pub id: i64,
    pub name: String,
    pub service_match: String,
    /// Weighted total out of 100, e.g. "72.5".
    pub total: String,
    pub scored: usize,
    /// One per criterion, in criterion order.
    pub cells: Vec<Option<ScoreCell>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionView {
    pub candidate: String,
    pub rationale: String,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemView {
    pub id: i64,
    pub title: String,
    /// What the portal checks, in words, for items it verifies itself.
    pub check: Option<String>,
    /// todo, in_progress, done or verified.
    pub status: String,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub note: String,
    pub link: Option<String>,
    pub by: String,
    pub at: OffsetDateTime,
    /// The portal's latest finding for an automatic item, and when it was made.
    pub fact: Option<String>,
    pub fact_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemEventView {
    pub item: String,
    pub status: String,
    /// person or portal.
    pub source: String,
    pub note: String,
    pub by: String,
    pub at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RolloutDetail {
    pub summary: RolloutSummary,
    pub allowlist_middleware: Option<String>,
    pub criteria: Vec<CriterionView>,
    pub candidates: Vec<CandidateView>,
    pub weights_by: Option<(String, OffsetDateTime)>,
    pub decision: Option<DecisionView>,
    pub items: Vec<ItemView>,
    pub timeline: Vec<ItemEventView>,
}
