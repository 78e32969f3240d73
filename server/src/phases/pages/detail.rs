//! `/phases/{id}`: the phase page, and the refusal that shows it again with the form as sent.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;
use time::OffsetDateTime;
use tower_sessions::Session;

use app::model::drafts::FormDraft;
use app::model::phases::{
    DeliverableChange, DeliverableView, PhaseDetail, ReportView, SignoffDraft,
};
use app::model::{Role, Section};
use app::pages::phase_detail::{PhaseDetailPage, PhaseDetailView};
use app::render_page;

use super::parse_id;
use crate::auth::Page;
use crate::docs::markdown::analyse;
use crate::error::{AppError, AppResult};
use crate::phases::queries::DeliverableRow;
use crate::phases::record::view_of;
use crate::state::AppState;

/// Session key of a sign-off form kept across a re-authentication.
pub(super) const DRAFT_KEY: &str = "signoff_draft";
/// Reports and attached evidence larger than this are refused.
pub(super) const MAX_REPORT_BYTES: usize = 200 * 1024;

pub(super) async fn load(state: &AppState, id: i64) -> AppResult<PhaseDetail> {
    let (summary, plan, deliverables, changes, reports, signoffs) = tokio::try_join!(
        crate::phases::queries::summary(&state.db, id),
        crate::phases::queries::plan(&state.db, id),
        crate::phases::queries::deliverables(&state.db, id),
        crate::phases::queries::deliverable_changes(&state.db, id),
        crate::phases::signoff_queries::reports(&state.db, id),
        crate::phases::signoff_queries::signoffs_of(&state.db, id),
    )?;
    let mut history: HashMap<i64, Vec<DeliverableChange>> = HashMap::new();
    for c in changes {
        history
            .entry(c.deliverable_id)
            .or_default()
            .push(DeliverableChange {
                status: c.status,
                note: c.note,
                link: c.link,
                by: c.actor_name,
                at: c.at,
            });
    }
    let (Some(summary), Some(plan)) = (summary, plan) else {
        return Err(AppError::NotFound(format!("Phase {id}")));
    };
    let deliverables = deliverables
        .into_iter()
        .map(|d| {
            let html = d.report.as_deref().map(|r| analyse(r).html);
            let changes = history.remove(&d.id).unwrap_or_default();
            deliverable_view(d, html, changes)
        })
        .collect();
    let mut seen_kinds = Vec::new();
    let reports = reports
        .into_iter()
        .map(|r| {
            let superseded = seen_kinds.contains(&r.kind);
            seen_kinds.push(r.kind.clone());
            ReportView {
                id: r.id,
                html: analyse(&r.body).html,
                kind: r.kind,
                author: r.actor_name,
                at: r.at,
                claims: r.claims.0,
                superseded,
            }
        })
        .collect();
    let seq_of: HashMap<i64, i64> = signoffs.iter().map(|s| (s.id, s.seq)).collect();
    let signoffs = signoffs
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let supersedes_seq = s.supersedes.and_then(|id| seq_of.get(&id).copied());
            view_of(s, summary.short_title(), i > 0, supersedes_seq)
        })
        .collect();
    Ok(PhaseDetail {
        summary,
        starts_on: plan.starts_on,
        objectives: plan.objectives.0,
        criteria: plan.criteria.0,
        import_notes: plan.import_notes.0,
        created_by: plan.created_by,
        created_at: plan.created_at,
        has_source: plan.has_source,
        deliverables,
        reports,
        signoffs,
    })
}

/// Renders the phase page; `draft` refills the sign-off form after a refusal.
pub(super) async fn render(
    state: &AppState,
    page: &Page,
    session: &Session,
    id: i64,
    error: Option<String>,
    draft: Option<SignoffDraft>,
    form_draft: Option<FormDraft>,
) -> AppResult<String> {
    let detail = load(state, id).await?;
    let kept: Option<SignoffDraft> = session
        .get(DRAFT_KEY)
        .await
        .ok()
        .flatten()
        .filter(|d: &SignoffDraft| d.phase_id == id);
    let notice = (draft.is_none() && kept.is_some()).then(|| {
        "You signed in again. Your decision is filled in below as you wrote it: check it and sign."
            .to_string()
    });
    // The grade as the read model holds it: scoring it afresh took about 45 ms of every view.
    let figures = crate::readmodel::figures::current(state).await?;
    let data = PhaseDetailView {
        detail,
        can_edit: page.can(Role::Editor),
        can_sign: page.can(Role::Admin),
        draft: draft.or(kept),
        form_draft,
        notice,
        error,
        reauth_minutes: state.settings.auth.reauth_max_age.as_secs().div_ceil(60),
        measured_now: figures.grade.total.shown(),
        now: OffsetDateTime::now_utc(),
    };
    let summary = &data.detail.summary;
    let title = format!("{} · {}", summary.number, summary.short_title());
    Ok(render_page(page.meta(title, Section::Phases), move || {
        view! { <PhaseDetailPage data=data/> }
    }))
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    session: Session,
    Path(id): Path<String>,
) -> AppResult<Html<String>> {
    let id = parse_id(&id)?;
    Ok(Html(
        render(&state, &page, &session, id, None, None, None).await?,
    ))
}

pub(super) async fn refuse(
    state: &AppState,
    page: &Page,
    session: &Session,
    id: i64,
    message: String,
    draft: &FormDraft,
) -> AppResult<Response> {
    let html = render(
        state,
        page,
        session,
        id,
        Some(message),
        None,
        Some(draft.clone()),
    )
    .await?;
    Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
}

/// A deliverable as the phase page shows it: its row, its rendered report and its changes.
fn deliverable_view(
    d: DeliverableRow,
    report_html: Option<String>,
    history: Vec<DeliverableChange>,
) -> DeliverableView {
    DeliverableView {
        id: d.id,
        headings: d.headings.0,
        text: d.text,
        depth: d.depth,
        origin: d.origin,
        owner: d.owner,
        due_on: d.due_on,
        status: d.status,
        note: d.note,
        link: d.link,
        report_html,
        by: d.actor_name,
        at: d.at,
        changes: d.changes,
        history,
        check: d.check_spec.map(|spec| {
            let described = crate::phases::checks::DeliverableCheck::parse(&spec)
                .map(|c| c.describe())
                .unwrap_or_else(|e| format!("an unreadable check ({e})"));
            (spec, described)
        }),
    }
}
