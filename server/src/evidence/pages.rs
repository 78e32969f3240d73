//! The evidence pages: `/backups` (jobs and their heartbeats) and `/monitoring` (the
//! monitoring stack's own checks).

use axum::extract::State;
use axum::response::Html;
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::Section;
use app::model::evidence::MonitoringPage;
use app::pages::backups::BackupsListPage;
use app::pages::monitoring::MonitoringStackPage;
use app::render_page;

use crate::auth::Page;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn backups(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let (data, _) = crate::evidence::backups_page(&state.db, &state.settings).await?;
    let now = OffsetDateTime::now_utc();
    Ok(Html(render_page(
        page.meta("Backups", Section::Grades),
        move || view! { <BackupsListPage data=data now=now/> },
    )))
}

pub async fn monitoring(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let ((sources, checks), change) = tokio::try_join!(
        crate::evidence::queries::monitoring(&state.db),
        crate::evidence::queries::repo(&state.db),
    )?;
    let e = &state.settings.evidence;
    let configured: Vec<String> = [
        ("Prometheus", e.prometheus.is_some()),
        ("Alertmanager", e.alertmanager.is_some()),
        ("Loki", e.loki.is_some()),
    ]
    .into_iter()
    .filter(|(_, on)| *on)
    .map(|(n, _)| n.to_string())
    .collect();
    let data = MonitoringPage {
        sources,
        checks,
        configured,
    };
    let change = change.filter(|_| e.infra_repo.is_some());
    let now = OffsetDateTime::now_utc();
    Ok(Html(render_page(
        page.meta("Monitoring", Section::Grades),
        move || view! { <MonitoringStackPage data=data change=change now=now/> },
    )))
}
