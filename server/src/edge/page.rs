//! `/routes`: every route of the fleet with its latest probe, certificate and authentication.

use axum::extract::{Query, State};
use axum::response::Html;
use leptos::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;

use app::model::Section;
use app::model::routes::{RouteSort, RoutesPage};
use app::pages::routes::RoutesListPage;
use app::render_page;

use crate::auth::Page;
use crate::error::AppResult;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListParams {
    sort: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<ListParams>,
) -> AppResult<Html<String>> {
    let sort = params
        .sort
        .as_deref()
        .and_then(RouteSort::parse)
        .unwrap_or_default();
    let (routes, traefik) = tokio::try_join!(
        crate::edge::queries::list(&state.db, None),
        crate::edge::queries::traefik_read(&state.db),
    )?;
    let data = RoutesPage {
        routes,
        traefik,
        traefik_configured: state.settings.edge.traefik_api.is_some(),
    };
    let now = OffsetDateTime::now_utc();
    Ok(Html(render_page(
        page.meta("Routes", Section::Routes),
        move || view! { <RoutesListPage data=data sort=sort now=now/> },
    )))
}
