//! The editors' writes on a phase's deliverables: status and evidence, a bound check, a new
//! deliverable. Each is audited; a refusal shows the phase page again with the form as sent.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use app::model::Role;
use app::model::phases::DeliverableStatus;

use super::parse_id;
use crate::audited::{self, Change, Recorded};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::phases::checks::DeliverableCheck;
use crate::phases::queries::NewDeliverable;
use crate::routes::form::{ValidForm, draft_of, evidence_link};
use crate::state::AppState;

use super::detail::{MAX_REPORT_BYTES, refuse};

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
    if crate::phases::queries::deliverable_phase(&state.db, deliverable).await? != Some(id) {
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
    // The status is parsed here, at the edge: past this point it is one of the three.
    let Some(status) = DeliverableStatus::parse(&form.status) else {
        let problem = format!("'{}' is not a status (open, done, waived).", form.status);
        return refuse(&state, &page, &session, id, problem, &draft).await;
    };
    let problem = match status {
        _ if note.chars().count() > 2000 => {
            Some("The note is limited to 2000 characters.".to_string())
        }
        _ if report.is_some_and(|r| r.len() > MAX_REPORT_BYTES) => {
            Some("The attached report is limited to 200 KB.".into())
        }
        DeliverableStatus::Waived if note.is_empty() => {
            Some("Waiving a deliverable needs a reason: write it in the note.".into())
        }
        DeliverableStatus::Done if note.is_empty() && link.is_none() && report.is_none() => {
            Some("Marking a deliverable done needs evidence: a note, a link or a report.".into())
        }
        _ => None,
    };
    if let Some(problem) = problem {
        return refuse(&state, &page, &session, id, problem, &draft).await;
    }
    // A deliverable bound to a check is done when the check passes, not when someone says so.
    if status == DeliverableStatus::Done
        && let Some(bound) = crate::phases::signoff_queries::bound_deliverables(
            &state.db,
            crate::phases::signoff_queries::CheckScope::Deliverable(deliverable),
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
            serde_json::json!({ "status": status.as_str(), "note": note, "link": link,
                "report_bytes": report.map(str::len) }),
        ),
    };
    audited::write(&state.db, change, async |tx| -> sqlx::Result<()> {
        crate::phases::queries::add_event(&mut *tx, deliverable, status, note, link, report, &user)
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
        crate::phases::signoff_queries::set_check(&mut *tx, deliverable, spec.as_deref(), &user)
            .await?;
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
            crate::phases::signoff_queries::CheckScope::Deliverable(deliverable),
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
    if crate::phases::queries::summary(&state.db, id)
        .await?
        .is_none()
    {
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
            let did = crate::phases::queries::add_deliverable(tx, id, &new, &user).await?;
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
