//! Admins' matrix writes: one score, and the criteria's weights.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use app::model::drafts::FormDraft;

use super::show::refuse;
use super::write::{admin_write, audited};
use crate::auth::{CurrentUser, Page};
use crate::error::AppResult;
use crate::rollouts::matrix;
use crate::routes::form::{ValidForm, draft_of};
use crate::state::AppState;

#[derive(Deserialize, Serialize)]
pub struct ScoreForm {
    candidate: String,
    criterion: String,
    score: String,
    note: Option<String>,
}

pub async fn score(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<ScoreForm>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.score").await?;
    let draft = draft_of("score", &form);
    let candidate = detail
        .candidates
        .iter()
        .find(|c| c.id.to_string() == form.candidate);
    let criterion = detail
        .criteria
        .iter()
        .find(|c| c.id.to_string() == form.criterion);
    let (Some(candidate), Some(criterion)) = (candidate, criterion) else {
        return refuse(
            &state,
            &page,
            id,
            "Choose a candidate and a criterion of this rollout.".into(),
            &draft,
        )
        .await;
    };
    let score = match matrix::parse_score(&form.score) {
        Ok(s) => s,
        Err(e) => return refuse(&state, &page, id, e, &draft).await,
    };
    let note = form.note.as_deref().unwrap_or_default().trim();
    if note.chars().count() > 1000 {
        return refuse(
            &state,
            &page,
            id,
            "The note is limited to 1000 characters.".into(),
            &draft,
        )
        .await;
    }
    let (cid, kid, name) = (candidate.id, criterion.id, user.display_name().to_string());
    let target = format!(
        "{} / {} / {}",
        detail.summary.name, candidate.name, criterion.name
    );
    let after = serde_json::json!({ "score": score, "note": note });
    audited(&state, &user, "rollout.score", &target, after, async |tx| {
        crate::rollouts::queries::add_score(tx, cid, kid, score, note, &name).await
    })
    .await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#matrix-h")).into_response())
}

pub async fn weights(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Path(id): Path<String>,
    ValidForm(fields): ValidForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (id, detail) = admin_write(&state, &user, &id, "rollout.weights").await?;
    let draft = FormDraft {
        form: "weights".into(),
        fields: fields.clone(),
    };
    let mut named = Vec::new();
    for c in &detail.criteria {
        let Some((_, value)) = fields
            .iter()
            .find(|(k, _)| *k == format!("weight_{}", c.id))
        else {
            return refuse(
                &state,
                &page,
                id,
                format!("The weight of '{}' is missing.", c.name),
                &draft,
            )
            .await;
        };
        named.push((c.name.as_str(), value.as_str()));
    }
    let parsed = match matrix::parse_weights(&named) {
        Ok(w) => w,
        Err(e) => return refuse(&state, &page, id, e, &draft).await,
    };
    let pairs: Vec<(i64, u8)> = detail
        .criteria
        .iter()
        .map(|c| c.id)
        .zip(parsed.iter().copied())
        .collect();
    let name = user.display_name().to_string();
    let after = serde_json::json!(
        named
            .iter()
            .zip(&parsed)
            .map(|((n, _), w)| (n.to_string(), *w))
            .collect::<Vec<_>>()
    );
    audited(
        &state,
        &user,
        "rollout.weights",
        &detail.summary.name,
        after,
        async |tx| crate::rollouts::queries::save_weights(tx, id, &pairs, &name).await,
    )
    .await?;
    Ok(Redirect::to(&format!("/rollouts/{id}#matrix-h")).into_response())
}
