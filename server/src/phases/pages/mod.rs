//! `/phases`: the list, importing a plan (preview, then import), creating a phase by hand, the
//! plan as imported, and `/phases/verify`. The phase page and sign-off live in submodules.

mod deliverables;
mod detail;
mod reports;
mod signoff;

pub use deliverables::{add_deliverable, bind_check, update_deliverable};
pub use detail::show;
pub use reports::add_report;
pub use signoff::{record, record_markdown, sign};

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;

use app::model::phases::{ChainStatus, PlanPreview, PreviewItem};
use app::model::{Role, Section};
use app::pages::acceptance::ChainPage;
use app::pages::phases::{PhasesPage, PhasesView};
use app::render_page;

use crate::auth::{CurrentUser, Page, SessionUser, authorize};
use crate::error::{AppError, AppResult};
use crate::grade::rubric::Score;
use crate::phases::chain::{self, ChainCheck};
use crate::phases::import::{PlanDraft, normalise_number, parse_plan};
use crate::phases::queries::points;
use crate::phases::write::{Imported, import_plan};
use crate::routes::form::{ValidForm, parse_date};
use crate::state::AppState;

/// A phase id from the path; anything else is a missing page, not a server error.
pub(super) fn parse_id(text: &str) -> AppResult<i64> {
    text.parse()
        .map_err(|_| AppError::NotFound(format!("Phase {text}")))
}

#[derive(Default)]
struct ListExtras {
    plan_text: String,
    number_override: String,
    preview: Option<PlanPreview>,
    error: Option<String>,
}

async fn render_list(state: &AppState, page: &Page, extras: ListExtras) -> AppResult<String> {
    let phases = crate::phases::queries::summaries(&state.db).await?;
    let data = PhasesView {
        phases,
        can_edit: page.can(Role::Editor),
        plan_text: extras.plan_text,
        number_override: extras.number_override,
        preview: extras.preview,
        error: extras.error,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta("Phases", Section::Phases),
        move || {
            view! { <PhasesPage data=data/> }
        },
    ))
}

pub async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    Ok(Html(
        render_list(&state, &page, ListExtras::default()).await?,
    ))
}

fn preview_of(draft: &PlanDraft, number: Option<String>) -> PlanPreview {
    PlanPreview {
        title: draft.title.clone(),
        number,
        starts_on: draft.starts_on,
        due_on: draft.due_on,
        target_grade: draft.target_grade.map(|g| points(g as i32)),
        claimed_grade: draft.claimed_grade.map(|g| points(g as i32)),
        objectives: draft.objectives.clone(),
        items: draft
            .items
            .iter()
            .map(|i| PreviewItem {
                headings: i.headings.clone(),
                text: i.text.clone(),
                checked: i.checked,
                depth: i.depth,
                check: crate::phases::checks::suggest(&i.text).map(|c| c.describe()),
            })
            .collect(),
        criteria: draft.criteria.clone(),
        notes: draft.notes.clone(),
    }
}

#[derive(Deserialize)]
pub struct ImportForm {
    plan: String,
    number: Option<String>,
    intent: Option<String>,
}

pub async fn import(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<ImportForm>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Editor, "phase.import", "phases").await?;
    let plan = PlanInput {
        bytes: form.plan.as_bytes(),
        text: form.plan.clone(),
        number_override: form.number.clone().unwrap_or_default(),
    };
    let write = form.intent.as_deref() == Some("import");
    respond_to_plan(&state, &page, &user, plan, write).await
}

/// A plan as sent: the bytes to parse, the text to put back in the form, the number field.
struct PlanInput<'a> {
    bytes: &'a [u8],
    text: String,
    number_override: String,
}

/// Parses a plan and shows the preview, or (`write`) imports it; every refusal re-renders the
/// list with the plan still in the form.
async fn respond_to_plan(
    state: &AppState,
    page: &Page,
    user: &SessionUser,
    plan: PlanInput<'_>,
    write: bool,
) -> AppResult<Response> {
    let refuse = async |error: String, preview: Option<PlanPreview>| -> AppResult<Response> {
        let extras = ListExtras {
            plan_text: plan.text.clone(),
            number_override: plan.number_override.clone(),
            preview,
            error: Some(error),
        };
        let html = render_list(state, page, extras).await?;
        Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
    };
    let draft = match parse_plan(plan.bytes) {
        Ok(d) => d,
        Err(e) => return refuse(e.to_string(), None).await,
    };
    let number_override = plan.number_override.trim();
    let number = if number_override.is_empty() {
        draft.number.clone()
    } else {
        match normalise_number(number_override) {
            Some(n) => Some(n),
            None => {
                let error = format!("'{number_override}' is not a phase number (e.g. PHASE-03).");
                let preview = preview_of(&draft, draft.number.clone());
                return refuse(error, Some(preview)).await;
            }
        }
    };
    let preview = preview_of(&draft, number.clone());
    if !write {
        let extras = ListExtras {
            plan_text: plan.text.clone(),
            number_override: plan.number_override.clone(),
            preview: Some(preview),
            error: None,
        };
        return Ok(Html(render_list(state, page, extras).await?).into_response());
    }
    match import_plan(&state.db, &state.settings, &draft, number, &plan.text, user).await? {
        Imported::Created { id, .. } => Ok(Redirect::to(&format!("/phases/{id}")).into_response()),
        Imported::Refused(error) => refuse(error, Some(preview)).await,
    }
}

/// A plan uploaded as a file: read, then previewed like a pasted one (the text lands in the
/// form, ready for "Import this plan").
pub async fn upload(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    multipart: Result<Multipart, MultipartRejection>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Editor, "phase.import", "phases").await?;
    let unreadable =
        |detail: String| AppError::BadRequest(format!("The upload could not be read ({detail})."));
    let mut multipart = multipart.map_err(|e| unreadable(e.body_text()))?;
    let (mut file, mut number_override) = (None, String::new());
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| unreadable(e.body_text()))?
    {
        match field.name() {
            Some("plan_file") => {
                file = Some(field.bytes().await.map_err(|e| unreadable(e.body_text()))?)
            }
            Some("number") => number_override = field.text().await.unwrap_or_default(),
            _ => {}
        }
    }
    let bytes = file.unwrap_or_default();
    if bytes.is_empty() {
        let extras = ListExtras {
            error: Some("Choose a Markdown file to upload (or paste the plan).".into()),
            ..ListExtras::default()
        };
        let html = render_list(&state, &page, extras).await?;
        return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
    }
    let plan = PlanInput {
        bytes: &bytes,
        text: crate::phases::mojibake::decode(&bytes).0,
        number_override,
    };
    respond_to_plan(&state, &page, &user, plan, false).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    number: String,
    title: String,
    due_on: Option<String>,
    target_grade: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<CreateForm>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Editor, "phase.create", &form.number).await?;
    let refuse = |error: String| ListExtras {
        error: Some(error),
        ..ListExtras::default()
    };
    let validated = (|| {
        let number = normalise_number(&form.number).ok_or_else(|| {
            format!(
                "'{}' is not a phase number (e.g. PHASE-03).",
                form.number.trim()
            )
        })?;
        let title = form.title.trim();
        if title.is_empty() || title.chars().count() > 300 {
            return Err("Give the phase a title (up to 300 characters).".to_string());
        }
        let due_on = match form
            .due_on
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            None => None,
            Some(d) => Some(parse_date(d)?),
        };
        let target_grade = match form
            .target_grade
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            None => None,
            Some(g) => Some(
                Score::parse(g)
                    .map_err(|e| format!("Target grade: {e}."))?
                    .hundredths(),
            ),
        };
        Ok((number, title.to_string(), due_on, target_grade))
    })();
    let (number, title, due_on, target_grade) = match validated {
        Ok(v) => v,
        Err(e) => {
            let html = render_list(&state, &page, refuse(e)).await?;
            return Ok((StatusCode::BAD_REQUEST, Html(html)).into_response());
        }
    };
    let draft = PlanDraft {
        title,
        number: Some(number.clone()),
        due_on,
        target_grade,
        ..PlanDraft::default()
    };
    let source = format!("# {number}: {}\n", draft.title);
    match import_plan(
        &state.db,
        &state.settings,
        &draft,
        Some(number),
        &source,
        &user,
    )
    .await?
    {
        Imported::Created { id, .. } => Ok(Redirect::to(&format!("/phases/{id}")).into_response()),
        Imported::Refused(error) => {
            let html = render_list(&state, &page, refuse(error)).await?;
            Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
        }
    }
}

/// The plan exactly as it was imported.
pub async fn plan_markdown(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = parse_id(&id)?;
    let (number, source) = crate::phases::queries::source(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("The plan of phase {id}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{number}.md\""),
            ),
        ],
        source,
    )
        .into_response())
}

pub async fn verify(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let (records, recorded) = tokio::try_join!(
        crate::phases::signoff_queries::chain(&state.db),
        crate::phases::signoff_queries::recorded_signoffs(&state.db),
    )?;
    let check = chain::verify_against(&records, &recorded);
    let status = match check {
        ChainCheck::Intact { records } => ChainStatus::Intact { records },
        ChainCheck::Broken { seq, id, reason } => {
            let record = records.iter().find(|r| r.id == id);
            tracing::error!(seq, reason = %reason, "the sign-off chain does not verify");
            ChainStatus::Broken {
                seq,
                phase_number: record.map(|r| r.phase_number.clone()),
                signed_at: record.map(|r| crate::phases::queries::from_micros(r.signed_at_micros)),
                reason,
            }
        }
    };
    Ok(Html(render_page(
        page.meta("Sign-off chain", Section::Phases),
        move || view! { <ChainPage status=status/> },
    )))
}
