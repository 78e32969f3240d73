//! Admins' assessments of the categories still typed in, and overrides of a category's score.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use app::model::Role;

use super::show::refuse;
use crate::audited::{self, Change};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::AppResult;
use crate::grade::evidence::{ASSESSED, evidence_lifetime_days};
use crate::grade::live;
use crate::grade::queries::NewAssessment;
use crate::grade::rubric::Score;
use crate::routes::form::{ValidForm, draft_of, evidence_link, parse_date};
use crate::state::AppState;

#[derive(Deserialize, Serialize)]
pub struct AssessForm {
    category: String,
    score: String,
    note: String,
    link: Option<String>,
    evidence_date: String,
}

pub async fn assess(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<AssessForm>,
) -> AppResult<Response> {
    authorize(
        &state.db,
        &user,
        Role::Admin,
        "grade.assess",
        &form.category,
    )
    .await?;
    let draft = draft_of("assess", &form);
    let measured = crate::evidence::queries::measured(&state.db)
        .await?
        .iter()
        .any(|m| m.category == form.category);
    if !ASSESSED.contains(&form.category.as_str()) || measured {
        return refuse(
            &state,
            &page,
            format!(
                "{} is computed from evidence, not assessed; use an override instead.",
                form.category
            ),
            &draft,
        )
        .await;
    }
    let score = match Score::parse(&form.score) {
        Ok(s) => s,
        Err(e) => return refuse(&state, &page, format!("Score: {e}."), &draft).await,
    };
    let today = OffsetDateTime::now_utc().date();
    let evidence_date = match parse_date(&form.evidence_date) {
        Ok(d) if d > today => {
            return refuse(
                &state,
                &page,
                "The evidence date is in the future.".into(),
                &draft,
            )
            .await;
        }
        Ok(d) => d,
        Err(e) => return refuse(&state, &page, e, &draft).await,
    };
    let note = form.note.trim();
    if note.is_empty() || note.chars().count() > 1000 {
        return refuse(
            &state,
            &page,
            "Say what was checked (up to 1000 characters).".into(),
            &draft,
        )
        .await;
    }
    let link = match evidence_link(form.link.as_deref()) {
        Ok(link) => link,
        Err(e) => return refuse(&state, &page, e, &draft).await,
    };
    let expires_on = evidence_date + Duration::days(evidence_lifetime_days(&form.category));
    let assessment = NewAssessment {
        category: &form.category,
        score,
        note,
        link,
        evidence_date,
        expires_on,
    };
    let after = serde_json::json!({ "score": score.to_string(), "note": note, "link": link,
        "evidence_date": evidence_date.to_string(), "expires_on": expires_on.to_string() });
    let change = Change::<(), _> {
        actor: &user,
        action: "grade.assess",
        target: &form.category,
        before: None,
        after: Some(after),
    };
    audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        crate::grade::queries::add_assessment(conn, &user, &assessment).await
    })
    .await?;
    live::snapshot(&state.db, &state.settings.docs).await?;
    Ok(Redirect::to("/grades").into_response())
}

#[derive(Deserialize, Serialize)]
pub struct OverrideForm {
    category: String,
    score: Option<String>,
    justification: String,
}

pub async fn override_score(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<OverrideForm>,
) -> AppResult<Response> {
    authorize(
        &state.db,
        &user,
        Role::Admin,
        "grade.override",
        &form.category,
    )
    .await?;
    let draft = draft_of("override", &form);
    if !live::rubric(&state.db)
        .await?
        .1
        .categories
        .iter()
        .any(|c| c.name == form.category)
    {
        return refuse(
            &state,
            &page,
            format!("{} is not a category of the rubric.", form.category),
            &draft,
        )
        .await;
    }
    let score = match form
        .score
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match Score::parse(text) {
            Ok(s) => Some(s),
            Err(e) => return refuse(&state, &page, format!("Score: {e}."), &draft).await,
        },
    };
    let justification = form.justification.trim();
    if justification.is_empty() || justification.chars().count() > 1000 {
        return refuse(
            &state,
            &page,
            "An override needs a written justification (up to 1000 characters).".into(),
            &draft,
        )
        .await;
    }
    let before = crate::grade::queries::active_overrides(&state.db)
        .await?
        .into_iter()
        .find(|o| o.category == form.category)
        .map(|o| serde_json::json!({ "score": o.score.to_string(), "justification": o.justification }));
    let after = serde_json::json!({ "score": score.map(|s| s.to_string()), "justification": justification });
    let change = Change {
        actor: &user,
        action: "grade.override",
        target: &form.category,
        before,
        after: Some(after),
    };
    audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        crate::grade::queries::add_override(conn, &user, &form.category, score, justification).await
    })
    .await?;
    live::snapshot(&state.db, &state.settings.docs).await?;
    Ok(Redirect::to("/grades").into_response())
}
