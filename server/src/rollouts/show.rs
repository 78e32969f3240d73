//! `/rollouts` and `/rollouts/{id}`: the list and one rollout's page (matrix, decision,
//! checklist), and the page again with a refused form's message and draft.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::drafts::FormDraft;
use app::model::rollouts::{
    CandidateView, CriterionView, DecisionView, ItemEventView, ItemView, RolloutDetail, ScoreCell,
};
use app::model::{Role, Section};
use app::pages::rollout_detail::{RolloutPage, RolloutView};
use app::pages::rollouts::{RolloutsPage, RolloutsView};
use app::render_page;

use crate::auth::Page;
use crate::error::{AppError, AppResult};
use crate::rollouts::checks::Check;
use crate::rollouts::matrix;
use crate::state::AppState;

pub(super) fn parse_id(text: &str) -> AppResult<i64> {
    text.parse()
        .map_err(|_| AppError::NotFound(format!("Rollout {text}")))
}

/// What an automatic item's check proves, in words.
pub(super) fn describe(check: Check, host: &str) -> String {
    match check {
        Check::Decision => "a decision is recorded".into(),
        Check::Container => "a container of the chosen system runs and is healthy".into(),
        Check::Router => format!("a Traefik router's rule matches {host}"),
        Check::Authelia => "that router uses the Authelia middleware".into(),
        Check::Tls => "that router has TLS".into(),
        Check::Allowlist => "that router uses an IP allow-list middleware".into(),
        Check::RestartHealth => "the container has a restart policy and a health check".into(),
        Check::Doc => "a doc for the service passes the documentation checklist".into(),
        Check::Backup => {
            "a backup job covers it, on time, passing and with a fresh restore test".into()
        }
        Check::Monitoring => {
            "it passes its health check and its route answers the portal's probes".into()
        }
    }
}

pub(super) async fn load(state: &AppState, id: i64) -> AppResult<RolloutDetail> {
    let (summary, allowlist, criteria, candidates, scores, weights_by, decision, items, timeline) =
        tokio::try_join!(
            crate::rollouts::queries::summary(&state.db, id),
            crate::rollouts::queries::allowlist_middleware(&state.db, id),
            crate::rollouts::queries::criteria(&state.db, id),
            crate::rollouts::queries::candidates(&state.db, id),
            crate::rollouts::queries::scores(&state.db, id),
            crate::rollouts::queries::weights_by(&state.db, id),
            crate::rollouts::queries::decision(&state.db, id),
            crate::rollouts::item_queries::items(&state.db, id),
            crate::rollouts::item_queries::timeline(&state.db, id, 100),
        )
        .map_err(|e| match e {
            sqlx::Error::RowNotFound => AppError::NotFound(format!("Rollout {id}")),
            e => e.into(),
        })?;
    let summary = summary.ok_or_else(|| AppError::NotFound(format!("Rollout {id}")))?;
    let weights: Vec<u8> = criteria.iter().map(|c| c.weight).collect();
    let candidates = candidates
        .into_iter()
        .map(|c| {
            let cells: Vec<Option<ScoreCell>> = criteria
                .iter()
                .map(|k| {
                    scores
                        .iter()
                        .find(|s| s.candidate_id == c.id && s.criterion_id == k.id)
                        .map(|s| ScoreCell {
                            score: s.score as u8,
                            note: s.note.clone(),
                            by: s.actor_name.clone(),
                            at: s.at,
                        })
                })
                .collect();
            let marks: Vec<Option<u8>> =
                cells.iter().map(|c| c.as_ref().map(|c| c.score)).collect();
            CandidateView {
                id: c.id,
                total: matrix::total(&weights, &marks).to_string(),
                scored: marks.iter().flatten().count(),
                name: c.name,
                service_match: c.service_match,
                cells,
            }
        })
        .collect();
    let items = items
        .into_iter()
        .map(|i| {
            let check = i.auto_check.as_deref().and_then(Check::parse);
            ItemView {
                id: i.id,
                title: i.title,
                check: check.map(|c| describe(c, &summary.host)),
                status: i.status,
                owner: i.owner,
                due_on: i.due_on,
                note: i.note,
                link: i.link,
                by: i.actor_name,
                at: i.at,
                fact: check.and(i.portal_fact).filter(|f| !f.is_empty()),
                fact_at: check.and(i.portal_at),
            }
        })
        .collect();
    Ok(RolloutDetail {
        allowlist_middleware: allowlist,
        criteria: criteria
            .into_iter()
            .map(|c| CriterionView {
                id: c.id,
                name: c.name,
                weight: c.weight,
            })
            .collect(),
        candidates,
        weights_by,
        decision: decision.map(|d| DecisionView {
            candidate: d.candidate,
            rationale: d.rationale,
            by: d.actor_name,
            at: d.at,
        }),
        items,
        timeline: timeline
            .into_iter()
            .map(|t| ItemEventView {
                item: t.title,
                status: t.status,
                source: t.source,
                note: t.note,
                by: t.actor_name,
                at: t.at,
            })
            .collect(),
        summary,
    })
}

pub(super) async fn render_list(
    state: &AppState,
    page: &Page,
    error: Option<String>,
) -> AppResult<String> {
    let data = RolloutsView {
        rollouts: crate::rollouts::queries::summaries(&state.db).await?,
        can_admin: page.can(Role::Admin),
        error,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta("Rollouts", Section::Rollouts),
        move || {
            view! { <RolloutsPage data=data/> }
        },
    ))
}

pub(super) async fn render(
    state: &AppState,
    page: &Page,
    id: i64,
    error: Option<String>,
    draft: Option<FormDraft>,
) -> AppResult<String> {
    let detail = load(state, id).await?;
    let title = detail.summary.name.clone();
    let data = RolloutView {
        detail,
        can_admin: page.can(Role::Admin),
        can_edit: page.can(Role::Editor),
        error,
        draft,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta(title, Section::Rollouts),
        move || {
            view! { <RolloutPage data=data/> }
        },
    ))
}

pub(super) async fn refuse(
    state: &AppState,
    page: &Page,
    id: i64,
    message: String,
    draft: &FormDraft,
) -> AppResult<Response> {
    let html = render(state, page, id, Some(message), Some(draft.clone())).await?;
    Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
}

pub async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    Ok(Html(render_list(&state, &page, None).await?))
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    let id = parse_id(&id)?;
    Ok(Html(render(&state, &page, id, None, None).await?))
}
