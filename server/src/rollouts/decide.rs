//! Admins' candidates and the decision between them.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::show::refuse;
use super::write::{admin_write, audited, recheck};
use crate::auth::{CurrentUser, Page};
use crate::error::AppResult;
use crate::routes::form::{ValidForm, draft_of};
use crate::state::AppState;

#[derive(Deserialize, Serialize)]
pub struct CandidateForm {
    name: String,
    service_match: String,
}

pub async fn add_candidate(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<CandidateForm>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.candidate").await?;
    let draft = draft_of("candidate", &form);
    let name = form.name.trim();
    let needle = form.service_match.trim().to_lowercase();
    if name.is_empty()
        || name.chars().count() > 100
        || needle.is_empty()
        || needle.chars().count() > 100
    {
        return refuse(
            &state,
            &page,
            id,
            "Give the candidate a name and what its service or image is called.".into(),
            &draft,
        )
        .await;
    }
    if detail
        .candidates
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(name))
    {
        return refuse(
            &state,
            &page,
            id,
            format!("{name} is a candidate already."),
            &draft,
        )
        .await;
    }
    let position = detail.candidates.len() as i32;
    let after = serde_json::json!({ "name": name, "service_match": needle });
    audited(
        &state,
        &user,
        "rollout.candidate",
        &detail.summary.name,
        after,
        async |tx| {
            crate::rollouts::queries::add_candidate(tx, id, name, &needle, position)
                .await
                .map(|_| ())
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#matrix-h")).into_response())
}

#[derive(Deserialize, Serialize)]
pub struct DecisionForm {
    candidate: String,
    rationale: String,
}

pub async fn decide(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<DecisionForm>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.decide").await?;
    let draft = draft_of("decision", &form);
    let Some(candidate) = detail
        .candidates
        .iter()
        .find(|c| c.id.to_string() == form.candidate)
    else {
        return refuse(
            &state,
            &page,
            id,
            "Choose one of this rollout's candidates.".into(),
            &draft,
        )
        .await;
    };
    let rationale = form.rationale.trim();
    if rationale.is_empty() || rationale.chars().count() > 4000 {
        return refuse(
            &state,
            &page,
            id,
            "A decision states its rationale (up to 4000 characters).".into(),
            &draft,
        )
        .await;
    }
    let (cid, name) = (candidate.id, user.display_name().to_string());
    let after = serde_json::json!({ "candidate": candidate.name, "total": candidate.total, "rationale": rationale });
    audited(
        &state,
        &user,
        "rollout.decide",
        &detail.summary.name,
        after,
        async |tx| crate::rollouts::queries::add_decision(tx, id, cid, rationale, &name).await,
    )
    .await?;
    recheck(&state).await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#decision-h")).into_response())
}
