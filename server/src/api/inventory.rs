//! `GET /api/v1/services` and `GET /api/v1/findings`: the inventory and its findings, with the
//! services page's filters (the same query string) and pagination.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;

use app::model::ServiceSummary;
use app::model::findings::{FindingKind, Severity as PageSeverity};
use app::model::service_query::{
    ROUTE_FILTERS, RawServiceQuery, STATE_FILTERS, ServiceQuery, SortKey, url_encode,
};

use super::paging::{FindingPage, Paging, ServicePage, given};
use super::wire::{self, AvailabilitySource, Service, ServiceFinding, ServiceRef};
use super::{ApiError, Reader};
use crate::state::AppState;

/// The services page's filters. Unlike the page, which drops what it does not know, the API
/// refuses an unknown value so that a typo does not silently widen a script's query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceFilter {
    /// Only this engine's services.
    engine: Option<String>,
    /// running, healthy, unhealthy, stopped, stale or removed (removed services are left out
    /// unless asked for).
    state: Option<String>,
    /// Only services with a finding of this kind (its slug).
    finding: Option<String>,
    /// with, failing or without: services with routes, with a failing route, without routes.
    routes: Option<String>,
    /// Text in the name, key, image, engine or group.
    q: Option<String>,
    /// name, engine, status, findings, cpu, memory or availability.
    sort: Option<String>,
    /// asc or desc.
    dir: Option<String>,
}

impl ServiceFilter {
    fn parse(self) -> Result<ServiceQuery, ApiError> {
        let refuse = |name: &str, value: &str, allowed: &str| {
            ApiError::bad(format!("{name} '{value}' is not one of {allowed}"))
        };
        if let Some(s) = given(&self.state)
            && !STATE_FILTERS.contains(&s)
        {
            return Err(refuse("state", s, &STATE_FILTERS.join(", ")));
        }
        if let Some(f) = given(&self.finding)
            && FindingKind::from_slug(f).is_none()
        {
            return Err(ApiError::bad(format!(
                "finding '{f}' is not a finding kind; see the findings' slugs, e.g. no_healthcheck"
            )));
        }
        if let Some(r) = given(&self.routes)
            && !ROUTE_FILTERS.iter().any(|(slug, _)| *slug == r)
        {
            return Err(refuse("routes", r, "with, failing, without"));
        }
        if let Some(s) = given(&self.sort)
            && SortKey::parse(s).is_none()
        {
            let keys: Vec<&str> = SortKey::ALL.iter().map(|(_, slug)| *slug).collect();
            return Err(refuse("sort", s, &keys.join(", ")));
        }
        if let Some(d) = given(&self.dir)
            && !matches!(d, "asc" | "desc")
        {
            return Err(refuse("dir", d, "asc, desc"));
        }
        Ok(ServiceQuery::parse(RawServiceQuery {
            engine: self.engine,
            state: self.state,
            finding: self.finding,
            routes: self.routes,
            q: self.q,
            sort: self.sort,
            dir: self.dir,
        }))
    }
}

/// The services that match, filtered and sorted as the services page does.
async fn matching(
    state: &AppState,
    filter: ServiceFilter,
) -> Result<Vec<ServiceSummary>, ApiError> {
    let query = filter.parse()?;
    let table = async {
        let generation = state.read_model.current(&state.db).await?;
        crate::inventory::pages::services_data(state, &generation).await
    }
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "reading the services for the API failed");
        ApiError(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "internal error".into(),
        )
    })?;
    Ok(table.matching(&query))
}

fn service_ref(s: &ServiceSummary) -> ServiceRef {
    ServiceRef {
        engine: s.engine.clone(),
        key: s.key.clone(),
        name: s.display_name.clone(),
    }
}

fn service(s: ServiceSummary) -> Service {
    let page = format!("/services/{}/{}", url_encode(&s.engine), url_encode(&s.key));
    let status = s.status_label().to_string();
    Service {
        findings: s.findings.iter().map(wire::Finding::from).collect(),
        availability_24h_percent: s.availability_24h.map(wire::percent),
        availability_source: if s.availability_from_routes {
            AvailabilitySource::Routes
        } else {
            AvailabilitySource::Container
        },
        engine: s.engine,
        key: s.key,
        name: s.display_name,
        group: s.group,
        image: s.image_ref,
        state: s.state,
        health: s.health,
        status,
        stale: s.stale,
        last_seen: s.last_seen,
        removed_at: s.removed_at,
        routes: s.routes,
        routes_failing: s.routes_failing,
        cpu_percent: s.cpu_percent,
        cpu_limit: s.cpu_limit,
        memory_usage_bytes: s.memory_usage_bytes,
        memory_limit_bytes: s.memory_limit_bytes,
        doc: s.doc,
        page,
    }
}

/// The inventory: every service the engines report, removed ones on request.
#[utoipa::path(get, path = "/api/v1/services", tag = "inventory",
    params(ServiceFilter, Paging),
    responses((status = 200, body = ServicePage), (status = 400, body = wire::Problem),
        (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn services(
    State(state): State<AppState>,
    _: Reader,
    Query(filter): Query<ServiceFilter>,
    Query(paging): Query<Paging>,
) -> Result<Json<ServicePage>, ApiError> {
    paging.parse()?;
    let rows = matching(&state, filter).await?;
    let window = paging.cut(rows.into_iter().map(service).collect())?;
    Ok(Json(window.into()))
}

/// Narrows the findings list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingFilter {
    /// high, medium or low.
    severity: Option<String>,
    /// A finding kind's slug, e.g. no_healthcheck.
    kind: Option<String>,
    /// Only this engine's services.
    engine: Option<String>,
}

/// Every open finding of the current services, most severe first.
#[utoipa::path(get, path = "/api/v1/findings", tag = "inventory",
    params(FindingFilter, Paging),
    responses((status = 200, body = FindingPage), (status = 400, body = wire::Problem),
        (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn findings(
    State(state): State<AppState>,
    _: Reader,
    Query(filter): Query<FindingFilter>,
    Query(paging): Query<Paging>,
) -> Result<Json<FindingPage>, ApiError> {
    paging.parse()?;
    let owned = |v: &Option<String>| given(v).map(str::to_string);
    let severity = match given(&filter.severity) {
        None => None,
        Some(s) => Some(
            PageSeverity::ALL
                .into_iter()
                .find(|x| x.as_str() == s)
                .ok_or_else(|| {
                    ApiError::bad(format!("severity '{s}' is not one of high, medium, low"))
                })?,
        ),
    };
    let service_filter = ServiceFilter {
        engine: owned(&filter.engine),
        finding: owned(&filter.kind),
        ..ServiceFilter::default()
    };
    let rows = matching(&state, service_filter).await?;
    let kind = given(&filter.kind).and_then(FindingKind::from_slug);
    let mut all: Vec<(PageSeverity, ServiceFinding)> = rows
        .iter()
        .flat_map(|s| {
            s.findings
                .iter()
                .filter(|f| severity.is_none_or(|x| f.severity == x))
                .filter(|f| kind.is_none_or(|k| f.kind == k))
                .map(|f| {
                    (
                        f.severity,
                        ServiceFinding {
                            service: service_ref(s),
                            finding: f.into(),
                        },
                    )
                })
        })
        .collect();
    // Stable: within a severity, the services page's order (by name).
    all.sort_by_key(|(severity, _)| *severity);
    let window = paging.cut(all.into_iter().map(|(_, f)| f).collect())?;
    Ok(Json(window.into()))
}
