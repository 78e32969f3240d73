//! `/docs`: coverage, a doc's page, and the editors' writes (claim, release, verify, rescan).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use plotters::style::RGBColor;
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use app::model::{Role, Section};
use app::pages::doc_detail::{DocPage, DocView};
use app::pages::docs::{DocsPage, DocsView};
use app::render_page;

use crate::audited::{self, Change, Recorded, Stopped};
use crate::auth::{CurrentUser, Page, authorize};
use crate::charts::{Overlays, Series, Threshold, YAxis, share_over_time};
use crate::docs::live::current_report;
use crate::error::{AppError, AppResult};
use crate::routes::form::ValidForm;
use crate::state::AppState;

async fn render(state: &AppState, page: &Page, error: Option<String>) -> AppResult<String> {
    let generation = state.read_model.current(&state.db).await?;
    let built = generation.docs.get_or_try_init(|| docs_data(state)).await?;
    let data = DocsView {
        report: built.report.clone(),
        chart_svg: built.chart_svg.clone(),
        can_edit: page.can(Role::Editor),
        error,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta("Documentation", Section::Documentation),
        move || view! { <DocsPage data=data/> },
    ))
}

/// The coverage report and its chart, once per change of the data (see `readmodel`).
async fn docs_data(state: &AppState) -> AppResult<std::sync::Arc<crate::readmodel::DocsData>> {
    let (report, trend) = tokio::try_join!(
        current_report(&state.db, &state.settings.docs),
        crate::docs::queries::trend(&state.db, 90)
    )?;
    let documented = trend.iter().map(|p| (p.at, p.documented_share)).collect();
    let passing = trend.iter().map(|p| (p.at, p.passing_share)).collect();
    let chart_svg = share_over_time(
        "Documentation coverage",
        &YAxis {
            description: "% of running services",
            unit: "%",
            full_scale: 100.0,
        },
        &[
            Series {
                label: "documented",
                points: documented,
                color: RGBColor(0x2b, 0x7b, 0xb9),
            },
            Series {
                label: "passing the checklist",
                points: passing,
                color: RGBColor(0xd9, 0x7a, 0x00),
            },
        ],
        &Overlays {
            thresholds: &[Threshold {
                label: "target",
                value: state.settings.docs.target_share,
            }],
            ..Overlays::default()
        },
        760,
        300,
    );
    Ok(std::sync::Arc::new(crate::readmodel::DocsData {
        report,
        chart_svg,
    }))
}

pub async fn coverage(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    Ok(Html(render(&state, &page, None).await?))
}

/// A bad form comes back as the page with the message, status 400, nothing written.
async fn refuse(state: &AppState, page: &Page, message: String) -> AppResult<Response> {
    Ok((
        StatusCode::BAD_REQUEST,
        Html(render(state, page, Some(message)).await?),
    )
        .into_response())
}

/// One doc, found by any service name it covers, or by its path.
pub async fn doc(
    State(state): State<AppState>,
    page: Page,
    Path(name): Path<String>,
) -> AppResult<Html<String>> {
    let report = current_report(&state.db, &state.settings.docs).await?;
    let wanted = name.to_lowercase();
    let status = report
        .docs
        .iter()
        .chain(report.orphans.iter())
        .find(|d| {
            d.path == name
                || d.services.iter().any(|s| s.to_lowercase() == wanted)
                || d.covers.iter().any(|(_, k)| k.to_lowercase() == wanted)
        })
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("A doc for '{name}'")))?;
    let html = crate::docs::queries::html_of(&state.db, &status.path).await?;
    let (attestations, history) = tokio::try_join!(
        crate::docs::queries::attestations(&state.db, &status.path),
        crate::docs::queries::doc_history(&state.db, &status.path)
    )?;
    let title = status.title.clone().unwrap_or_else(|| status.path.clone());
    let data = DocView {
        status,
        html,
        attestations,
        history,
        can_edit: page.can(Role::Editor),
        now: OffsetDateTime::now_utc(),
    };
    Ok(Html(render_page(
        page.meta(title, Section::Documentation),
        move || view! { <DocPage data=data/> },
    )))
}

#[derive(Deserialize)]
pub struct ClaimForm {
    engine: String,
    key: String,
    due: Option<String>,
    note: Option<String>,
}

fn parse_due(text: Option<&str>, today: Date) -> Result<Option<Date>, String> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let due = crate::routes::form::parse_date(text)?;
    if due < today {
        return Err(format!("The due date {due} is in the past."));
    }
    Ok(Some(due))
}

fn parse_note(note: Option<&str>, required: bool) -> Result<String, String> {
    let note = note.unwrap_or_default().trim().to_string();
    if required && note.is_empty() {
        return Err("Say what you ran and what you saw.".into());
    }
    if note.chars().count() > 500 {
        return Err("The note is longer than 500 characters.".into());
    }
    Ok(note)
}

pub async fn claim(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<ClaimForm>,
) -> AppResult<Response> {
    let target = format!("{}/{}", form.engine, form.key);
    authorize(&state.db, &user, Role::Editor, "docs.claim", &target).await?;
    let today = OffsetDateTime::now_utc().date();
    let (due, note) = match (
        parse_due(form.due.as_deref(), today),
        parse_note(form.note.as_deref(), false),
    ) {
        (Ok(due), Ok(note)) => (due, note),
        (Err(e), _) | (_, Err(e)) => return refuse(&state, &page, e).await,
    };
    if !crate::docs::claim_queries::service_exists(&state.db, &form.engine, &form.key).await? {
        return refuse(
            &state,
            &page,
            format!(
                "There is no service {} on engine {}.",
                form.key, form.engine
            ),
        )
        .await;
    }
    let after = serde_json::json!({ "due": due.map(|d| d.to_string()), "note": note, "by": user.display_name() });
    let change = Change::<(), _> {
        actor: &user,
        action: "docs.claim",
        target: &target,
        before: None,
        after: Some(after),
    };
    let claimed = audited::write(&state.db, change, async |conn| -> Result<(), Stopped> {
        let new = crate::docs::claim_queries::NewClaim {
            engine: &form.engine,
            key: &form.key,
            due,
            note: &note,
        };
        if crate::docs::claim_queries::claim(conn, &new, &user).await? {
            Ok(())
        } else {
            Err(Stopped::Refused(format!(
                "{} is already claimed; release that claim first.",
                form.key
            )))
        }
    })
    .await;
    if let Err(refusal) = claimed {
        return answer(refusal, &state, &page).await;
    }
    Ok(Redirect::to("/docs").into_response())
}

#[derive(Deserialize)]
pub struct ReleaseForm {
    engine: String,
    key: String,
}

pub async fn release(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<ReleaseForm>,
) -> AppResult<Response> {
    let target = format!("{}/{}", form.engine, form.key);
    authorize(&state.db, &user, Role::Editor, "docs.release", &target).await?;
    let released = audited::write_recording(
        &state.db,
        &user,
        "docs.release",
        async |conn| -> Result<_, Stopped> {
            match crate::docs::claim_queries::release(conn, &form.engine, &form.key, &user).await? {
                // The record keeps whose claim was released: only the release itself knows.
                Some(claim) => {
                    let recorded = Recorded {
                        target: target.clone(),
                        before: Some(claim),
                        after: None::<()>,
                    };
                    Ok(((), recorded))
                }
                None => Err(Stopped::Refused(format!("{} has no open claim.", form.key))),
            }
        },
    )
    .await;
    if let Err(refusal) = released {
        return answer(refusal, &state, &page).await;
    }
    Ok(Redirect::to("/docs").into_response())
}

#[derive(Deserialize)]
pub struct VerifyForm {
    path: String,
    note: Option<String>,
}

pub async fn verify(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<VerifyForm>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Editor, "docs.verify", &form.path).await?;
    let note = match parse_note(form.note.as_deref(), true) {
        Ok(note) => note,
        Err(e) => return refuse(&state, &page, e).await,
    };
    if !crate::docs::claim_queries::doc_exists(&state.db, &form.path).await? {
        return refuse(&state, &page, format!("There is no doc {}.", form.path)).await;
    }
    let change = Change::<(), _> {
        actor: &user,
        action: "docs.verify",
        target: &form.path,
        before: None,
        after: Some(serde_json::json!({ "note": note })),
    };
    audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        crate::docs::claim_queries::attest(conn, &form.path, &note, &user).await
    })
    .await?;
    snapshot_coverage(&state, OffsetDateTime::now_utc()).await?;
    Ok(Redirect::to("/docs").into_response())
}

/// A write may have moved the figures: snapshot them now rather than at the next refresh.
async fn snapshot_coverage(state: &AppState, now: OffsetDateTime) -> AppResult<()> {
    let report = current_report(&state.db, &state.settings.docs).await?;
    crate::docs::queries::snapshot_if_changed(
        &state.db,
        &report.overall,
        state.settings.docs.target_share,
        now,
    )
    .await?;
    Ok(())
}

pub async fn rescan(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Editor, "docs.rescan", "docs folder").await?;
    let scan = crate::docs::live::read_folder(&state.settings.docs)
        .await
        .map_err(AppError::Internal)?;
    let scanned = scan.as_ref().map_or(0, |s| s.docs.len());
    let now = OffsetDateTime::now_utc();
    // What the scan found and the audit record of the rescan are written together.
    let change = Change::<(), _> {
        actor: &user,
        action: "docs.rescan",
        target: "docs folder",
        before: None,
        after: Some(serde_json::json!({ "docs": scanned })),
    };
    audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        if let Some(scan) = &scan {
            crate::docs::queries::apply_scan(conn, scan, now).await?;
        }
        Ok(())
    })
    .await?;
    snapshot_coverage(&state, now).await?;
    Ok(Redirect::to("/docs").into_response())
}

/// The answer to a write that stopped: the refusal shown on the page, or the error.
async fn answer(stopped: Stopped, state: &AppState, page: &Page) -> AppResult<Response> {
    match stopped {
        Stopped::Refused(message) => refuse(state, page, message).await,
        Stopped::Missing => Err(AppError::NotFound("That claim".into())),
        Stopped::Database(e) => Err(e.into()),
    }
}
