//! Signing off a phase (admins, with a fresh sign-in) and the acceptance record of a sign-off,
//! printable and as Markdown.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;
use tower_sessions::Session;

use app::model::phases::{SignoffDraft, SignoffView};
use app::model::{Role, Section};
use app::pages::acceptance::AcceptanceRecordPage;
use app::render_page;

use super::detail::{DRAFT_KEY, render};
use super::parse_id;
use crate::auth::sign_in::session_error;
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::phases::record::{markdown, view_of};
use crate::phases::signoff::{Decision, Refusal};
use crate::routes::form::ValidForm;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SignoffForm {
    decision: Option<String>,
    comment: Option<String>,
    reasons: Option<String>,
    remediation: Option<String>,
}

pub async fn sign(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<SignoffForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    authorize(
        &state.db,
        &user,
        Role::Admin,
        "phase.sign_off",
        &id.to_string(),
    )
    .await?;
    let phase = crate::phases::queries::summary(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Phase {id}")))?;
    let draft = SignoffDraft {
        phase_id: id,
        decision: form.decision.clone().unwrap_or_default(),
        comment: form.comment.clone().unwrap_or_default(),
        reasons: form.reasons.clone().unwrap_or_default(),
        remediation: form.remediation.clone().unwrap_or_default(),
    };
    // A decision needs a recent authentication: otherwise keep what was written and send the
    // person through the provider again (max_age, prompt=login; the callback checks auth_time).
    let age = OffsetDateTime::now_utc().unix_timestamp() - user.auth_time;
    if age > state.settings.auth.reauth_max_age.as_secs() as i64 {
        session
            .insert(DRAFT_KEY, &draft)
            .await
            .map_err(session_error)?;
        tracing::info!(subject = %user.subject, age, "sign-off needs a fresh sign-in");
        return Ok(Redirect::to(&format!("/auth/login?fresh=1&next=/phases/{id}")).into_response());
    }
    let decision = match Decision::parse(
        &draft.decision,
        &draft.comment,
        &draft.reasons,
        &draft.remediation,
    ) {
        Ok(d) => d,
        Err(message) => return refuse(&state, &page, &session, message, draft).await,
    };
    match crate::phases::signoff::sign(&state.db, &state.settings.docs, &phase, &decision, &user)
        .await
    {
        Ok(record) => {
            session
                .remove::<SignoffDraft>(DRAFT_KEY)
                .await
                .map_err(session_error)?;
            tracing::info!(phase = %phase.number, decision = %record.decision, seq = record.seq, "phase signed off");
            crate::grade::live::snapshot(&state.db, &state.settings.docs).await?;
            Ok(Redirect::to(&format!("/phases/{id}/signoffs/{}", record.id)).into_response())
        }
        Err(Refusal::Blocked(open)) => {
            let message = format!(
                "Approval refused: {} deliverable(s) are still open: {}. Mark them done or waive them with a reason, or sign off as conditional.",
                open.len(),
                open.join("; ")
            );
            refuse(&state, &page, &session, message, draft).await
        }
        Err(Refusal::Database(e)) => Err(e.into()),
    }
}

async fn refuse(
    state: &AppState,
    page: &Page,
    session: &Session,
    message: String,
    draft: SignoffDraft,
) -> AppResult<Response> {
    let id = draft.phase_id;
    let html = render(state, page, session, id, Some(message), Some(draft), None).await?;
    Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
}

async fn find(state: &AppState, id: &str, signoff: &str) -> AppResult<SignoffView> {
    let id = parse_id(id)?;
    let signoff = parse_id(signoff)?;
    let (summary, records) = tokio::try_join!(
        crate::phases::queries::summary(&state.db, id),
        crate::phases::signoff_queries::signoffs_of(&state.db, id),
    )?;
    let missing = || AppError::NotFound(format!("Sign-off {signoff} of phase {id}"));
    let summary = summary.ok_or_else(missing)?;
    let newest = records.first().map(|r| r.id);
    let seq_of = |rid: i64| records.iter().find(|r| r.id == rid).map(|r| r.seq);
    let record = records
        .iter()
        .find(|r| r.id == signoff)
        .cloned()
        .ok_or_else(missing)?;
    let supersedes_seq = record.supersedes.and_then(seq_of);
    let superseded = newest != Some(record.id);
    Ok(view_of(
        record,
        summary.short_title(),
        superseded,
        supersedes_seq,
    ))
}

pub async fn record(
    State(state): State<AppState>,
    page: Page,
    Path((id, signoff)): Path<(String, String)>,
) -> AppResult<Html<String>> {
    let s = find(&state, &id, &signoff).await?;
    let title = format!("Acceptance record {} #{}", s.phase_number, s.seq);
    Ok(Html(render_page(
        page.meta(title, Section::Phases),
        move || {
            view! { <AcceptanceRecordPage s=s/> }
        },
    )))
}

pub async fn record_markdown(
    State(state): State<AppState>,
    Path((id, signoff)): Path<(String, String)>,
) -> AppResult<Response> {
    let s = find(&state, &id, &signoff).await?;
    let filename = format!("{}-signoff-{}.md", s.phase_number, s.seq);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        markdown(&s),
    )
        .into_response())
}
