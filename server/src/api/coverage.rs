//! `GET /api/v1/coverage`: documentation coverage overall and per engine, the ranked list of
//! undocumented services and every doc with its checks.

use axum::Json;
use axum::extract::State;

use app::model::docs::CoverageFigures as PageFigures;

use super::wire::{
    self, Coverage, CoverageFigures, Doc, DocCheck, EngineCoverage, ServiceRef, Undocumented,
};
use super::{ApiError, Reader};
use crate::state::AppState;

fn figures(f: &PageFigures) -> CoverageFigures {
    CoverageFigures {
        services: f.services,
        documented: f.documented,
        passing: f.passing,
        fresh: f.fresh,
        documented_percent: wire::percent(f.documented_share()),
    }
}

/// Documentation coverage of the running services.
#[utoipa::path(get, path = "/api/v1/coverage", tag = "docs",
    responses((status = 200, body = Coverage), (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn coverage(
    State(state): State<AppState>,
    _: Reader,
) -> Result<Json<Coverage>, ApiError> {
    let report = crate::docs::live::current_report(&state.db, &state.settings.docs).await?;
    Ok(Json(Coverage {
        overall: figures(&report.overall),
        target_percent: wire::percent(report.target_share),
        freshness_days: report.freshness_days,
        per_engine: report
            .per_engine
            .iter()
            .map(|(engine, f)| EngineCoverage {
                engine: engine.clone(),
                figures: figures(f),
            })
            .collect(),
        undocumented: report
            .undocumented
            .into_iter()
            .map(|u| Undocumented {
                claimed_by: u.claim.as_ref().map(|c| c.by.clone()),
                claim_due: u.claim.as_ref().and_then(|c| c.due),
                service: ServiceRef {
                    engine: u.engine,
                    key: u.key,
                    name: u.name,
                },
                rank: u.rank,
                reason: u.reason,
            })
            .collect(),
        docs: report
            .docs
            .into_iter()
            .chain(report.orphans)
            .map(|d| Doc {
                covers: d.covers.iter().map(|(e, k)| format!("{e}/{k}")).collect(),
                path: d.path,
                title: d.title,
                owner: d.owner,
                last_verified: d.last_verified,
                fresh: d.fresh,
                passing: d.passing,
                checks: d
                    .checks
                    .into_iter()
                    .map(|c| DocCheck {
                        name: c.name,
                        passed: c.passed,
                        reason: c.reason,
                    })
                    .collect(),
            })
            .collect(),
    }))
}
