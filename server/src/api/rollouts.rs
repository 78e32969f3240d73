//! `GET /api/v1/rollouts` and `GET /api/v1/rollouts/{id}`: the rollouts with their readiness,
//! and one rollout's checklist with the portal's checks.

use axum::Json;
use axum::extract::{Path, State};

use app::model::rollouts::RolloutSummary;

use super::wire::{self, Rollout, RolloutDetail, RolloutItem};
use super::{ApiError, Reader};
use crate::state::AppState;

fn rollout(r: RolloutSummary) -> Rollout {
    Rollout {
        readiness_percent: wire::percent(r.readiness()),
        ready: r.ready(),
        page: format!("/rollouts/{}", r.id),
        id: r.id,
        slug: r.slug,
        name: r.name,
        goal: r.goal,
        host: r.host,
        chosen: r.chosen,
        items: r.items,
        verified: r.verified,
        checked_at: r.checked_at,
    }
}

/// Every rollout.
#[utoipa::path(get, path = "/api/v1/rollouts", tag = "rollouts",
    responses((status = 200, body = Vec<Rollout>), (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn rollouts(
    State(state): State<AppState>,
    _: Reader,
) -> Result<Json<Vec<Rollout>>, ApiError> {
    let all = crate::rollouts::queries::summaries(&state.db).await?;
    Ok(Json(all.into_iter().map(rollout).collect()))
}

/// One rollout with its checklist.
#[utoipa::path(get, path = "/api/v1/rollouts/{id}", tag = "rollouts",
    params(("id" = i64, Path, description = "The rollout's id")),
    responses((status = 200, body = RolloutDetail), (status = 401, body = wire::Problem),
        (status = 404, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn rollout_detail(
    State(state): State<AppState>,
    _: Reader,
    Path(id): Path<String>,
) -> Result<Json<RolloutDetail>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad(format!("'{id}' is not a rollout id (a number)")))?;
    let summary = crate::rollouts::queries::summary(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no rollout has id {id}")))?;
    let checklist = crate::rollouts::item_queries::items(&state.db, id)
        .await?
        .into_iter()
        .map(|i| RolloutItem {
            id: i.id,
            title: i.title,
            status: i.status.as_str().to_string(),
            auto_check: i.auto_check,
            owner: i.owner,
            due_on: i.due_on,
            note: i.note,
            link: i.link,
            portal_status: i.portal_status,
            portal_fact: i.portal_fact,
            changed_at: i.at,
        })
        .collect();
    Ok(Json(RolloutDetail {
        rollout: rollout(summary),
        checklist,
    }))
}
