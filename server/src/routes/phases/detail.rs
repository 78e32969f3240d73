//! `/phases/{id}`: the phase page, and the editors' writes on it: deliverable status and
//! evidence, new deliverables, completion and verification reports.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;

use app::model::drafts::FormDraft;
use app::model::phases::{Claim, DeliverableChange, PhaseDetail, ReportView, SignoffDraft};
use app::model::{Role, Section};
use app::pages::phase_detail::{PhaseDetailData, PhaseDetailPage};
use app::render_page;

use super::parse_id;
use crate::audited::{self, Change, Recorded};
use crate::auth::{CurrentUser, Page, authorize};
use crate::db;
use crate::db::phases::NewDeliverable;
use crate::docs::markdown::analyse;
use crate::error::{AppError, AppResult};
use crate::phases::checks::DeliverableCheck;
use crate::phases::record::view_of;
use crate::routes::form::{ValidForm, draft_of, evidence_link};
use crate::state::AppState;

/// Session key of a sign-off form kept across a re-authentication.
pub(super) const DRAFT_KEY: &str = "signoff_draft";
/// Reports and attached evidence larger than this are refused.
const MAX_REPORT_BYTES: usize = 200 * 1024;

pub(super) async fn load(state: &AppState, id: i64) -> AppResult<PhaseDetail> {
    let (summary, plan, deliverables, changes, reports, signoffs) = tokio::try_join!(
        db::phases::summary(&state.db, id),
        db::phases::plan(&state.db, id),
        db::phases::deliverables(&state.db, id),
        db::phases::deliverable_changes(&state.db, id),
        db::phases::reports(&state.db, id),
        db::phases::signoffs_of(&state.db, id),
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
            d.into_view(html, changes)
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
    let data = PhaseDetailData {
        detail,
        can_edit: page.can(Role::Editor),
        can_sign: page.can(Role::Admin),
        draft: draft.or(kept),
        form_draft,
        notice,
        error,
        reauth_minutes: state.settings.auth.reauth_max_age.as_secs().div_ceil(60),
        measured_now: crate::grade::live::current(&state.db, &state.settings.docs)
            .await?
            .2
            .total
            .shown(),
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

async fn refuse(
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

#[derive(Deserialize, Serialize)]
pub struct DeliverableForm {
    status: String,
    note: Option<String>,
    link: Option<String>,
    report: Option<String>,
}

/// The phase and deliverable ids of a path, once the caller may edit (an editor: refusals are
/// audited as `action`) and the deliverable belongs to the phase.
async fn editable_deliverable(
    state: &AppState,
    user: &crate::auth::SessionUser,
    id: &str,
    deliverable: &str,
    action: &str,
) -> AppResult<(i64, i64)> {
    let id = parse_id(id)?;
    let deliverable = parse_id(deliverable)?;
    authorize(
        &state.db,
        user,
        Role::Editor,
        action,
        &deliverable.to_string(),
    )
    .await?;
    if db::phases::deliverable_phase(&state.db, deliverable).await? != Some(id) {
        return Err(AppError::NotFound(format!(
            "Deliverable {deliverable} of phase {id}"
        )));
    }
    Ok((id, deliverable))
}

pub async fn update_deliverable(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    session: Session,
    Path((id, deliverable)): Path<(String, String)>,
    ValidForm(form): ValidForm<DeliverableForm>,
) -> AppResult<Response> {
    let (id, deliverable) =
        editable_deliverable(&state, &user, &id, &deliverable, "phase.deliverable").await?;
    let draft = draft_of(&format!("deliverable-{deliverable}"), &form);
    let note = form.note.as_deref().unwrap_or_default().trim();
    let report = form
        .report
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let link = match evidence_link(form.link.as_deref()) {
        Ok(l) => l,
        Err(e) => return refuse(&state, &page, &session, id, e, &draft).await,
    };
    let problem = match form.status.as_str() {
        "open" | "done" | "waived" if note.chars().count() > 2000 => {
            Some("The note is limited to 2000 characters.".to_string())
        }
        _ if report.is_some_and(|r| r.len() > MAX_REPORT_BYTES) => {
            Some("The attached report is limited to 200 KB.".into())
        }
        "waived" if note.is_empty() => {
            Some("Waiving a deliverable needs a reason: write it in the note.".into())
        }
        "done" if note.is_empty() && link.is_none() && report.is_none() => {
            Some("Marking a deliverable done needs evidence: a note, a link or a report.".into())
        }
        "open" | "done" | "waived" => None,
        other => Some(format!("'{other}' is not a status (open, done, waived).")),
    };
    if let Some(problem) = problem {
        return refuse(&state, &page, &session, id, problem, &draft).await;
    }
    // A deliverable bound to a check is done when the check passes, not when someone says so.
    if form.status == "done"
        && let Some(bound) = db::phases::bound_deliverables(
            &state.db,
            db::phases::CheckScope::Deliverable(deliverable),
        )
        .await?
        .into_iter()
        .next()
        && let Ok(check) = DeliverableCheck::parse(&bound.check_spec)
    {
        let coverage = crate::docs::live::current_report(&state.db, &state.settings.docs)
            .await?
            .overall;
        let verdict =
            crate::phases::live::verdict(&state.db, &state.settings, &coverage, &check).await?;
        if !verdict.passing {
            let problem = format!(
                "This deliverable is checked by the portal ({}), and the check fails: {} It turns done by itself when the check passes; or waive it with a reason.",
                check.describe(),
                verdict.fact
            );
            return refuse(&state, &page, &session, id, problem, &draft).await;
        }
    }
    let change = Change::<(), _> {
        actor: &user,
        action: "phase.deliverable",
        target: &format!("phase {id} deliverable {deliverable}"),
        before: None,
        after: Some(
            serde_json::json!({ "status": form.status, "note": note, "link": link,
                "report_bytes": report.map(str::len) }),
        ),
    };
    audited::write(&state.db, change, async |tx| -> sqlx::Result<()> {
        db::phases::add_event(
            &mut *tx,
            deliverable,
            &form.status,
            note,
            link,
            report,
            &user,
        )
        .await?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("/phases/{id}#deliverable-{deliverable}")).into_response())
}

#[derive(Deserialize, Serialize)]
pub struct CheckForm {
    /// One of `phases::checks::KINDS`, or empty with `intent=unbind`.
    kind: Option<String>,
    parameter: Option<String>,
    intent: Option<String>,
}

/// Binds a deliverable to a live check (or unbinds it), audited, then evaluates it at once so
/// the page shows the verdict without waiting for the next refresh.
pub async fn bind_check(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    session: Session,
    Path((id, deliverable)): Path<(String, String)>,
    ValidForm(form): ValidForm<CheckForm>,
) -> AppResult<Response> {
    let (id, deliverable) =
        editable_deliverable(&state, &user, &id, &deliverable, "phase.deliverable_check").await?;
    let draft = draft_of(&format!("check-{deliverable}"), &form);
    let spec = if form.intent.as_deref() == Some("unbind") {
        None
    } else {
        let spec = format!(
            "{}:{}",
            form.kind.as_deref().unwrap_or_default().trim(),
            form.parameter.as_deref().unwrap_or_default().trim()
        );
        match DeliverableCheck::parse(&spec) {
            Ok(check) => Some(check.spec()),
            Err(e) => return refuse(&state, &page, &session, id, e, &draft).await,
        }
    };
    let change = Change::<(), _> {
        actor: &user,
        action: "phase.deliverable_check",
        target: &format!("phase {id} deliverable {deliverable}"),
        before: None,
        after: Some(serde_json::json!({ "check": spec })),
    };
    audited::write(&state.db, change, async |tx| -> sqlx::Result<()> {
        db::phases::set_check(&mut *tx, deliverable, spec.as_deref(), &user).await?;
        Ok(())
    })
    .await?;
    if spec.is_some() {
        let coverage = crate::docs::live::current_report(&state.db, &state.settings.docs)
            .await?
            .overall;
        crate::phases::live::check_deliverables(
            &state.db,
            &state.settings,
            &coverage,
            crate::db::phases::CheckScope::Deliverable(deliverable),
            None,
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/phases/{id}#deliverable-{deliverable}")).into_response())
}

#[derive(Deserialize, Serialize)]
pub struct NewDeliverableForm {
    text: String,
}

pub async fn add_deliverable(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    session: Session,
    Path(id): Path<String>,
    ValidForm(form): ValidForm<NewDeliverableForm>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    authorize(
        &state.db,
        &user,
        Role::Editor,
        "phase.add_deliverable",
        &id.to_string(),
    )
    .await?;
    if db::phases::summary(&state.db, id).await?.is_none() {
        return Err(AppError::NotFound(format!("Phase {id}")));
    }
    let draft = draft_of("new-deliverable", &form);
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > 1000 {
        return refuse(
            &state,
            &page,
            &session,
            id,
            "Describe the deliverable (up to 1000 characters).".into(),
            &draft,
        )
        .await;
    }
    let new = NewDeliverable {
        text,
        origin: "added",
        owner: None,
        due_on: None,
        signoff_id: None,
    };
    let did = audited::write_recording(
        &state.db,
        &user,
        "phase.add_deliverable",
        async |tx| -> sqlx::Result<_> {
            let did = db::phases::add_deliverable(tx, id, &new, &user).await?;
            let recorded = Recorded {
                target: format!("phase {id} deliverable {did}"),
                before: None::<()>,
                after: Some(serde_json::json!({ "text": text })),
            };
            Ok((did, recorded))
        },
    )
    .await?;
    Ok(Redirect::to(&format!("/phases/{id}#deliverable-{did}")).into_response())
}

/// Reports come as `kind`, `body` and one `verdict_<deliverable id>` per claim checked.
pub async fn add_report(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    session: Session,
    Path(id): Path<String>,
    ValidForm(fields): ValidForm<Vec<(String, String)>>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    authorize(
        &state.db,
        &user,
        Role::Editor,
        "phase.report",
        &id.to_string(),
    )
    .await?;
    // Only what this write needs: the phase exists, its deliverables (for the claims), its reports
    // (for the independence rule); the page itself is rendered only on a refusal.
    let (summary, deliverables, reports) = tokio::try_join!(
        db::phases::summary(&state.db, id),
        db::phases::deliverables(&state.db, id),
        db::phases::reports(&state.db, id),
    )?;
    if summary.is_none() {
        return Err(AppError::NotFound(format!("Phase {id}")));
    }
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .unwrap_or_default()
    };
    let kind = field("kind");
    let body = field("body");
    let draft = FormDraft {
        form: format!("report-{kind}"),
        fields: fields.clone(),
    };
    if !matches!(kind, "completion" | "verification") {
        return refuse(
            &state,
            &page,
            &session,
            id,
            "A report is a completion or a verification report.".into(),
            &draft,
        )
        .await;
    }
    if body.is_empty() || body.len() > MAX_REPORT_BYTES {
        return refuse(
            &state,
            &page,
            &session,
            id,
            "Write the report (Markdown, up to 200 KB).".into(),
            &draft,
        )
        .await;
    }
    let mut claims = Vec::new();
    for (key, verdict) in &fields {
        let Some(did) = key.strip_prefix("verdict_") else {
            continue;
        };
        if verdict.is_empty() {
            continue;
        }
        let deliverable = did
            .parse::<i64>()
            .ok()
            .and_then(|did| deliverables.iter().find(|d| d.id == did));
        match (deliverable, verdict.as_str()) {
            (Some(d), "confirmed" | "disputed") => claims.push(Claim {
                deliverable_id: d.id,
                text: d.text.clone(),
                verdict: verdict.clone(),
            }),
            _ => {
                return refuse(
                    &state,
                    &page,
                    &session,
                    id,
                    format!("'{verdict}' for deliverable {did} is not a verdict of this phase."),
                    &draft,
                )
                .await;
            }
        }
    }
    if kind == "completion" && !claims.is_empty() {
        return refuse(
            &state,
            &page,
            &session,
            id,
            "Only a verification report confirms or disputes claims.".into(),
            &draft,
        )
        .await;
    }
    if kind == "verification" {
        let latest_completion = reports.iter().find(|r| r.kind == "completion");
        match latest_completion {
            None => {
                return refuse(
                    &state,
                    &page,
                    &session,
                    id,
                    "There is no completion report to verify yet.".into(),
                    &draft,
                )
                .await;
            }
            Some(c) if c.actor_subject == user.subject => {
                return refuse(&state, &page, &session, id, "The verification must be independent: the author of the completion report cannot verify it.".into(), &draft).await;
            }
            Some(_) => {}
        }
    }
    audited::write_recording(
        &state.db,
        &user,
        "phase.report",
        async |tx| -> sqlx::Result<_> {
            let report_id = db::phases::add_report(&mut *tx, id, kind, body, &claims, &user).await?;
            let recorded = Recorded {
                target: format!("phase {id} {kind} report {report_id}"),
                before: None::<()>,
                after: Some(
                    serde_json::json!({ "kind": kind, "bytes": body.len(), "claims": claims.len() }),
                ),
            };
            Ok(((), recorded))
        },
    )
    .await?;
    // A completion report makes the phase due for Acceptance.
    crate::grade::live::snapshot(&state.db, &state.settings.docs).await?;
    Ok(Redirect::to(&format!("/phases/{id}#reports-h")).into_response())
}
