//! `GET /api/v1/summary`: the headline figures in one small object, for a dashboard widget
//! (gethomepage's `customapi`).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ApiError, Reader};
use crate::state::AppState;

/// The portal's headline figures, for a dashboard widget (Homepage's `customapi`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// Points out of 100, caps applied to the letter only.
    grade: f64,
    letter: String,
    /// The cap holding the letter down, if one does.
    cap: Option<String>,
    high_findings: i64,
    findings: i64,
    /// Running services with a service document, in percent.
    coverage_percent: f64,
    coverage_target_percent: f64,
    services: i64,
    running: i64,
    unhealthy: i64,
    engines: i64,
    engines_up: i64,
}

/// The grade, its letter, open findings and documentation coverage.
#[utoipa::path(get, path = "/api/v1/summary", tag = "summary",
    responses((status = 200, body = Summary), (status = 401, body = super::wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn summary(
    State(state): State<AppState>,
    _: Reader,
) -> Result<Json<Summary>, ApiError> {
    let figures = crate::readmodel::figures::current(&state).await?;
    let crate::readmodel::figures::Figures {
        coverage,
        grade,
        counts,
        engines,
        findings,
        ..
    } = &*figures;
    let percent = |share: f64| (share * 1000.0).round() / 10.0;
    Ok(Json(Summary {
        grade: grade.total.hundredths_truncated() as f64 / 100.0,
        letter: grade.letter.clone(),
        cap: grade.cap.clone(),
        high_findings: findings
            .iter()
            .filter(|(_, severity, _)| *severity == app::model::findings::Severity::High)
            .map(|(_, _, n)| n)
            .sum(),
        findings: findings.iter().map(|(_, _, n)| n).sum(),
        coverage_percent: percent(coverage.documented_share()),
        coverage_target_percent: percent(state.settings.docs.target_share),
        services: counts.containers,
        running: counts.running,
        unhealthy: counts.unhealthy,
        engines: engines.len() as i64,
        engines_up: engines.iter().filter(|e| e.reachable && !e.stale).count() as i64,
    }))
}
