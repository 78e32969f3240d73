//! Phases, sign-offs and rollouts as the API answers them.

use super::*;

/// A phase of the plan and its progress.
#[derive(Serialize, ToSchema)]
pub struct Phase {
    pub id: i64,
    pub number: String,
    pub title: String,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub target_grade: Option<f64>,
    /// The grade the plan claimed at its start.
    pub claimed_grade: Option<f64>,
    /// The grade the portal had measured when the plan was imported.
    pub grade_at_import: Option<f64>,
    pub deliverables: i64,
    pub done: i64,
    pub waived: i64,
    pub open: i64,
    /// approved, conditional or rejected: the latest sign-off's decision.
    pub last_decision: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_decision_at: Option<OffsetDateTime>,
    pub last_decision_grade: Option<f64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub page: String,
}

/// One sign-off of the tamper-evident chain.
#[derive(Serialize, ToSchema)]
pub struct Signoff {
    pub id: i64,
    pub seq: i64,
    pub phase_id: i64,
    pub phase_number: String,
    /// approved, conditional or rejected.
    pub decision: String,
    pub comment: String,
    /// The grade measured when it was signed.
    pub grade: f64,
    pub letter: String,
    pub rubric_version: i32,
    pub signer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub signed_at: OffsetDateTime,
    /// The sequence number of the sign-off this one replaces.
    pub supersedes: Option<i64>,
    pub hash: String,
    pub prev_hash: String,
    pub record: String,
}

/// A rollout and how far it is.
#[derive(Serialize, ToSchema)]
pub struct Rollout {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub goal: String,
    pub host: String,
    /// The candidate decided on, if any.
    pub chosen: Option<String>,
    pub items: i64,
    pub verified: i64,
    pub readiness_percent: f64,
    /// Every item verified.
    pub ready: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub checked_at: Option<OffsetDateTime>,
    pub page: String,
}

/// One item of a rollout's checklist.
#[derive(Serialize, ToSchema)]
pub struct RolloutItem {
    pub id: i64,
    pub title: String,
    /// todo, in_progress, done or verified.
    pub status: String,
    /// What the portal checks for it, if it checks something.
    pub auto_check: Option<String>,
    pub owner: Option<String>,
    #[serde(serialize_with = "day_opt")]
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<Date>,
    pub note: String,
    pub link: Option<String>,
    /// The portal's latest check of it: its status and the fact.
    pub portal_status: Option<String>,
    pub portal_fact: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

#[derive(Serialize, ToSchema)]
pub struct RolloutDetail {
    #[serde(flatten)]
    pub rollout: Rollout,
    pub checklist: Vec<RolloutItem>,
}
