//! `GET /dependencies`: each engine's dependency map, drawn on the server, with its edges listed.

use axum::extract::State;
use axum::response::Html;
use leptos::prelude::*;

use app::model::Section;
use app::model::capacity::EngineDependencies;
use app::pages::dependencies::DependenciesPage;
use app::render_page;

use super::{edge_queries, graph, queries, service};
use crate::auth::Page;
use crate::error::AppResult;
use crate::state::AppState;

/// Every engine's map, from the edges stored at its latest refresh.
async fn maps(db: &sqlx::PgPool) -> sqlx::Result<Vec<EngineDependencies>> {
    let mut maps = vec![];
    for engine in crate::inventory::engines::names(db).await? {
        let edges = edge_queries::engine_edges(db, &engine).await?;
        let (nodes, arrows) = service::graph_of(&edges);
        let services = queries::current_services(db, &engine).await?;
        maps.push(EngineDependencies {
            svg: graph::draw(&format!("Dependency map of {engine}"), &nodes, &arrows),
            isolated: services - nodes.len() as i64,
            edges: edges.into_iter().map(|e| (e.from, e.to)).collect(),
            engine,
        });
    }
    Ok(maps)
}

pub async fn show(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let generation = state.read_model.current(&state.db).await?;
    let kept = generation
        .dependencies
        .get_or_try_init(|| async { maps(&state.db).await.map(std::sync::Arc::new) })
        .await?;
    let maps = (**kept).clone();
    Ok(Html(render_page(
        page.meta("Dependencies", Section::Capacity),
        move || view! { <DependenciesPage maps=maps/> },
    )))
}
