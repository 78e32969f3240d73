//! The evidence pages: `/backups` (jobs and their heartbeats) and `/monitoring` (the
//! monitoring stack's own checks).

use axum::extract::State;
use axum::response::Html;
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::Section;
use app::pages::backups::BackupsListPage;
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
