//! `GET /api/v1/routes`: every route users reach, with its latest probe, certificate and
//! findings; sorted as the routes page sorts.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::IntoParams;

use app::model::routes::{RouteRow, RouteSort};

use super::paging::{Paging, RoutePage, given};
use super::wire::{self, Certificate, Probe, Route, ServiceRef};
use super::{ApiError, Reader};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RouteFilter {
    /// ok, failing or not_probed.
    status: Option<String>,
    /// Only routes to this host name.
    host: Option<String>,
    /// status (failing first, the default), host, cert (soonest expiry first), latency
    /// (slowest first) or service.
    sort: Option<String>,
}

const STATUSES: [(&str, &str); 3] = [
    ("ok", "ok"),
    ("failing", "failing"),
    ("not_probed", "not probed"),
];

fn route(r: RouteRow, now: OffsetDateTime) -> Route {
    let status = STATUSES
        .iter()
        .find(|(_, label)| *label == r.status_label())
        .map(|(slug, _)| slug.to_string())
        .unwrap_or_default();
    Route {
        id: r.id,
        router: r.router,
        url: r.url,
        host: r.host,
        source: r.source,
        service: r
            .service
            .map(|(engine, key, name)| ServiceRef { engine, key, name }),
        entrypoints: r.entrypoints,
        middlewares: r.middlewares,
        tls: r.tls,
        auth_expected: r.auth_expected,
        auth_seen: r.auth_verdict,
        status,
        traefik_status: r.traefik_status,
        traefik_errors: r.traefik_errors,
        findings: r.findings.iter().map(wire::Finding::from).collect(),
        probe: r.probe.map(|p| Probe {
            probed_at: p.probed_at,
            ok: p.ok,
            failure: p.failure,
            status: p.status,
            latency_ms: p.latency_ms,
            redirect_to: p.redirect_to,
            error: p.error,
            certificate: p.cert.map(|c| Certificate {
                days_left: c.days_left(now),
                not_after: c.not_after,
                issuer: c.issuer,
                names: c.names,
                chain_error: c.chain_error,
            }),
        }),
        availability_24h_percent: r.availability_24h.map(wire::percent),
        p95_24h_ms: r.p95_24h_ms,
    }
}

/// Routes through Traefik as users reach them.
#[utoipa::path(get, path = "/api/v1/routes", tag = "routes",
    params(RouteFilter, Paging),
    responses((status = 200, body = RoutePage), (status = 400, body = wire::Problem),
        (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn routes(
    State(state): State<AppState>,
    _: Reader,
    Query(filter): Query<RouteFilter>,
    Query(paging): Query<Paging>,
) -> Result<Json<RoutePage>, ApiError> {
    paging.parse()?;
    let sort = match given(&filter.sort) {
        None => RouteSort::default(),
        Some(s) => RouteSort::parse(s).ok_or_else(|| {
            ApiError::bad(format!(
                "sort '{s}' is not one of status, host, cert, latency, service"
            ))
        })?,
    };
    let status = match given(&filter.status) {
        None => None,
        Some(s) => Some(
            STATUSES
                .iter()
                .find(|(slug, _)| *slug == s)
                .map(|(_, label)| *label)
                .ok_or_else(|| {
                    ApiError::bad(format!(
                        "status '{s}' is not one of ok, failing, not_probed"
                    ))
                })?,
        ),
    };
    let host = given(&filter.host).map(str::to_ascii_lowercase);
    let mut rows = crate::edge::queries::list(&state.db, None).await?;
    rows.retain(|r| status.is_none_or(|s| r.status_label() == s));
    rows.retain(|r| host.as_ref().is_none_or(|h| r.host.eq_ignore_ascii_case(h)));
    sort.apply(&mut rows);
    let now = OffsetDateTime::now_utc();
    let window = paging.cut(rows.into_iter().map(|r| route(r, now)).collect())?;
    Ok(Json(window.into()))
}
