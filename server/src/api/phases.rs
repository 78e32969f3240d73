//! `GET /api/v1/phases` and `GET /api/v1/signoffs`: the plan's phases with their progress, and
//! the sign-off chain with whether it verifies.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::wire::{self, Phase, Signoff};
use super::{ApiError, Reader};
use crate::phases::chain::{self, ChainCheck};
use crate::state::AppState;

/// Every phase, in plan order.
#[utoipa::path(get, path = "/api/v1/phases", tag = "phases",
    responses((status = 200, body = Vec<Phase>), (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn phases(
    State(state): State<AppState>,
    _: Reader,
) -> Result<Json<Vec<Phase>>, ApiError> {
    let grade = |g: &Option<String>| g.as_deref().map(wire::points);
    let phases = crate::phases::queries::summaries(&state.db)
        .await?
        .into_iter()
        .map(|p| Phase {
            id: p.id,
            page: format!("/phases/{}", p.id),
            open: p.open(),
            number: p.number,
            title: p.title,
            due_on: p.due_on,
            target_grade: grade(&p.target_grade),
            claimed_grade: grade(&p.claimed_grade),
            grade_at_import: grade(&p.grade_at_import),
            deliverables: p.total,
            done: p.done,
            waived: p.waived,
            last_decision: p.last_decision,
            last_decision_at: p.last_decision_at,
            last_decision_grade: grade(&p.last_decision_grade),
            created_at: p.created_at,
        })
        .collect();
    Ok(Json(phases))
}

/// The chain of sign-offs and the result of checking it.
#[derive(Serialize, ToSchema)]
pub struct SignoffChain {
    /// Every record's hash recomputes, links to the one before, and matches the audit trail.
    pub intact: bool,
    /// Why it does not verify, naming the first record that fails.
    pub problem: Option<String>,
    pub signoffs: Vec<Signoff>,
}

/// Every sign-off, oldest first, and whether the chain verifies.
#[utoipa::path(get, path = "/api/v1/signoffs", tag = "phases",
    responses((status = 200, body = SignoffChain), (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn signoffs(
    State(state): State<AppState>,
    _: Reader,
) -> Result<Json<SignoffChain>, ApiError> {
    let (records, recorded) = tokio::try_join!(
        crate::phases::signoff_queries::chain(&state.db),
        crate::phases::signoff_queries::recorded_signoffs(&state.db),
    )?;
    let check = chain::verify_against(&records, &recorded);
    let problem = match check {
        ChainCheck::Intact { .. } => None,
        ChainCheck::Broken { seq, reason, .. } => Some(format!("sign-off #{seq}: {reason}")),
    };
    let signoffs = records
        .into_iter()
        .map(|r| Signoff {
            record: format!("/phases/{}/signoffs/{}", r.phase_id, r.id),
            signed_at: crate::phases::queries::from_micros(r.signed_at_micros),
            id: r.id,
            seq: r.seq,
            phase_id: r.phase_id,
            phase_number: r.phase_number,
            decision: r.decision,
            comment: r.comment,
            grade: f64::from(r.grade_total) / 100.0,
            letter: r.grade_letter,
            rubric_version: r.rubric_version,
            signer: r.signer_name,
            supersedes: r.supersedes,
            hash: r.hash,
            prev_hash: r.prev_hash,
        })
        .collect();
    Ok(Json(SignoffChain {
        intact: problem.is_none(),
        problem,
        signoffs,
    }))
}
