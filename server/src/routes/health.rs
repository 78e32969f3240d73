//! Liveness and readiness for Docker health checks and Traefik.

use axum::extract::State;
use axum::http::StatusCode;
use sqlx::PgPool;

/// Alive: the process answers. Never touches the database, so a database outage does not restart us.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers and every migration is applied; otherwise 503 with the reason.
pub async fn readyz(State(db): State<PgPool>) -> (StatusCode, String) {
    match crate::db::not_ready_reason(&db).await {
        None => (StatusCode::OK, "ready\n".into()),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}
