//! The JSON API under `/api/v1` (and `/metrics`): stable, documented types of their own, never
//! the page models; read with a `read`-scoped bearer token or a signed-in browser session;
//! heartbeats only with a token. Errors are JSON too. The OpenAPI document is generated from the
//! types and handlers in [`openapi`].

mod caller;
mod coverage;
mod edge;
mod error;
mod grade;
mod heartbeats;
mod inventory;
mod metrics;
pub mod openapi;
mod paging;
mod phases;
mod rollouts;
mod summary;
mod wire;

use axum::response::Redirect;
use axum::routing::{get, post};

pub use caller::{Reader, authenticate, require};
pub use error::ApiError;
pub use heartbeats::MAX_HEARTBEAT_BYTES;

use crate::state::AppState;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/heartbeats", post(heartbeats::heartbeat))
        .route("/api/v1/summary", get(summary::summary))
        .route("/api/v1/services", get(inventory::services))
        .route("/api/v1/findings", get(inventory::findings))
        .route("/api/v1/routes", get(edge::routes))
        .route("/api/v1/coverage", get(coverage::coverage))
        .route("/api/v1/grade", get(grade::grade))
        .route("/api/v1/phases", get(phases::phases))
        .route("/api/v1/signoffs", get(phases::signoffs))
        .route("/api/v1/rollouts", get(rollouts::rollouts))
        .route("/api/v1/rollouts/{id}", get(rollouts::rollout_detail))
        .route("/api/v1/openapi.json", get(openapi::document))
        // The list the first version served unversioned; its callers move to the typed one,
        // which accepts the same query string.
        .route("/api/services", get(moved_services))
        .route("/metrics", get(metrics::metrics))
}

async fn moved_services(uri: axum::http::Uri) -> Redirect {
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    Redirect::permanent(&format!("/api/v1/services{query}"))
}
