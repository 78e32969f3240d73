//! `GET /dependencies`: each engine's dependency map, drawn on the server, with its edges listed.

use axum::extract::State;
use axum::response::Html;
use leptos::prelude::*;

use app::model::Section;
use app::model::capacity::EngineDependencies;
use app::pages::capacity::DependenciesPage;
use app::render_page;

use super::{graph, queries, service};
use crate::auth::Page;
use crate::error::AppResult;
use crate::state::AppState;

pub async fn show(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let mut maps = vec![];
    for engine in crate::db::engines::names(&state.db).await? {
        let edges = queries::engine_edges(&state.db, &engine).await?;
        let (nodes, arrows) = service::graph_of(&edges);
        let services = queries::current_services(&state.db, &engine).await?;
        maps.push(EngineDependencies {
            svg: graph::draw(&format!("Dependency map of {engine}"), &nodes, &arrows),
            isolated: services - nodes.len() as i64,
            edges: edges.into_iter().map(|e| (e.from, e.to)).collect(),
            engine,
        });
    }
    Ok(Html(render_page(
        page.meta("Dependencies", Section::Capacity),
        move || view! { <DependenciesPage maps=maps/> },
    )))
}
