//! The dashboard, the pages of sections not built yet, and the 404 page.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse};
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::Section;
use app::pages::dashboard::{DashboardPage, DashboardView};
use app::pages::errors::NotFoundPage;
use app::pages::not_built::NotBuiltPage;
use app::render_page;

use crate::auth::Page;
use crate::db;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn dashboard(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let stale_after = crate::worker::stale_after(&state.settings);
    let (counts, engines, findings) = tokio::try_join!(
        db::services::counts(&state.db, stale_after),
        db::engines::statuses(&state.db, stale_after),
        db::services::finding_totals(&state.db),
    )?;
    let docs = crate::docs::live::current_report(&state.db, &state.settings.docs)
        .await?
        .overall;
    let data = DashboardView {
        counts,
        engines,
        findings,
        docs,
        docs_target: state.settings.docs.target_share,
        now: OffsetDateTime::now_utc(),
    };
    Ok(Html(render_page(
        page.meta("Dashboard", Section::Dashboard),
        move || view! { <DashboardPage data=data/> },
    )))
}

fn not_built(
    page: Page,
    title: &'static str,
    section: Section,
    purpose: &'static str,
    status: &'static str,
) -> Html<String> {
    Html(render_page(page.meta(title, section), move || {
        view! { <NotBuiltPage heading=title purpose=purpose status=status/> }
    }))
}

pub async fn grades(page: Page) -> Html<String> {
    not_built(
        page,
        "Grades",
        Section::Grades,
        "The production-readiness grade: the weighted rubric scored from evidence, with its trend.",
        "The rubric, its scores and its history are not built yet. No grade is shown rather than one without evidence.",
    )
}

pub async fn phases(page: Page) -> Html<String> {
    not_built(
        page,
        "Phases",
        Section::Phases,
        "Phase plans, deliverables with evidence, reports and tamper-evident sign-offs.",
        "Phase import and sign-off are not built yet.",
    )
}

pub async fn rollouts(page: Page) -> Html<String> {
    not_built(
        page,
        "Rollouts",
        Section::Rollouts,
        "The accounting rollout: Odoo against ERPNext, then the deployment checklist proved by the live inventory.",
        "The evaluation matrix and the checklist are not built yet.",
    )
}

pub async fn not_found(page: Page, uri: Uri) -> impl IntoResponse {
    let path = uri.path().to_string();
    let html = render_page(
        page.meta("Page not found", Section::None),
        move || view! { <NotFoundPage path=path/> },
    );
    (StatusCode::NOT_FOUND, Html(html))
}
