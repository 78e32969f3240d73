//! `GET /metrics` for Prometheus: open without a token only to a scraper connecting directly from
//! one of `AUDIT_METRICS_ALLOW`'s networks; anything else, and anything relayed by a proxy (whose
//! own address says nothing about who asked), needs a token with the `read` scope.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, authenticate, require};
use crate::auth::tokens::Scope;
use crate::state::AppState;

/// What OpenMetrics text is served as; Prometheus negotiates it.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Headers a reverse proxy adds: their presence means the peer address is the proxy's.
const RELAY_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

fn scraper_is_allowed(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> bool {
    let relayed = RELAY_HEADERS.iter().any(|h| headers.contains_key(*h));
    !relayed
        && state
            .settings
            .metrics_allow
            .iter()
            .any(|network| network.contains(&peer.ip()))
}

pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !scraper_is_allowed(&state, peer, &headers) {
        let caller = authenticate(&state, &headers).await?;
        require(&caller, Scope::Read)?;
    }
    match crate::readmodel::figures::current(&state)
        .await
        .map_err(anyhow::Error::from)
        .and_then(|figures| crate::metrics::render(&figures, &state.settings))
    {
        Ok(text) => Ok(([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response()),
        Err(e) => {
            tracing::error!(error = %e, "a metrics scrape failed");
            Err(ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "the figures could not be read from the database".into(),
            ))
        }
    }
}
