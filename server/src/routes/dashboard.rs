//! The dashboard and the 404 page.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse};
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::Section;
use app::pages::dashboard::{DashboardGrade, DashboardPage, DashboardView};
use app::pages::errors::NotFoundPage;
use app::render_page;

use crate::auth::Page;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn dashboard(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let generation = state.read_model.current(&state.db).await?;
    let built = generation
        .dashboard
        .get_or_try_init(|| async { dashboard_data(&state).await.map(Arc::new) })
        .await?;
    let data = DashboardView {
        now: OffsetDateTime::now_utc(),
        ..DashboardView::clone(built)
    };
    Ok(Html(render_page(
        page.meta("Dashboard", Section::Dashboard),
        move || view! { <DashboardPage data=data/> },
    )))
}

/// What the dashboard shows, read once per change of the data (see `readmodel`).
async fn dashboard_data(state: &AppState) -> AppResult<DashboardView> {
    let stale_after = crate::worker::stale_after(&state.settings);
    let (counts, engines, findings) = tokio::try_join!(
        crate::inventory::services::counts(&state.db, stale_after),
        crate::inventory::engines::statuses(&state.db, stale_after),
        crate::inventory::services::finding_totals(&state.db),
    )?;
    let docs = crate::docs::live::current_report(&state.db, &state.settings.docs)
        .await?
        .overall;
    let grade = dashboard_grade(state, &docs).await?;
    let today = OffsetDateTime::now_utc().date();
    let (phases, rollouts, actions) = tokio::try_join!(
        crate::phases::queries::summaries(&state.db),
        crate::rollouts::queries::summaries(&state.db),
        crate::actions::queries::counts(&state.db, today),
    )?;
    Ok(DashboardView {
        counts,
        engines,
        findings,
        docs,
        docs_target: state.settings.docs.target_share,
        grade,
        phases,
        rollouts,
        actions,
        now: OffsetDateTime::now_utc(),
    })
}

/// The grade with its change over 7 and 30 days, from the snapshots.
async fn dashboard_grade(
    state: &AppState,
    coverage: &app::model::docs::CoverageFigures,
) -> AppResult<DashboardGrade> {
    let (_, _, result) = crate::grade::live::current_with(&state.db, coverage).await?;
    let history = crate::grade::queries::history(&state.db, 31).await?;
    let now_total = result.total.hundredths_truncated() as i64;
    let change = |days: i64| {
        let cutoff = OffsetDateTime::now_utc() - time::Duration::days(days);
        history.iter().rev().find(|s| s.at <= cutoff).map(|s| {
            let d = now_total - i64::from(s.total);
            format!(
                "{}{}.{:02} in {days} days",
                if d < 0 { "−" } else { "+" },
                d.abs() / 100,
                d.abs() % 100
            )
        })
    };
    Ok(DashboardGrade {
        total: result.total.shown(),
        letter: result.letter.clone(),
        cap: result.cap.clone(),
        change_7d: change(7),
        change_30d: change(30),
        chart_svg: crate::grade::trend_chart(state, 30, 360, 180).await?,
    })
}

pub async fn not_found(page: Page, uri: Uri) -> impl IntoResponse {
    let path = uri.path().to_string();
    let html = render_page(
        page.meta("Page not found", Section::None),
        move || view! { <NotFoundPage path=path/> },
    );
    (StatusCode::NOT_FOUND, Html(html))
}
