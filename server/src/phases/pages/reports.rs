//! Completion and verification reports on a phase: a verdict per claim, and a verification only
//! by someone other than the completion's author.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use app::model::Role;
use app::model::drafts::FormDraft;
use app::model::phases::ReportClaim;

use super::parse_id;
use crate::audited::{self, Recorded};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::routes::form::ValidForm;
use crate::state::AppState;

use super::detail::{MAX_REPORT_BYTES, refuse};

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
        crate::phases::queries::summary(&state.db, id),
        crate::phases::queries::deliverables(&state.db, id),
        crate::phases::signoff_queries::reports(&state.db, id),
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
            (Some(d), "confirmed" | "disputed") => claims.push(ReportClaim {
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
            let report_id = crate::phases::signoff_queries::add_report(&mut *tx, id, kind, body, &claims, &user).await?;
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
