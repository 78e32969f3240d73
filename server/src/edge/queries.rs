//! The route list: each service's routes as the refresh derived them, the list with its latest
//! probes for the pages, and how the latest read of Traefik's API went.

use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;

use app::model::routes::{CertView, ProbeView, RouteRow, TraefikReadStatus};
use app::model::{Finding, TraefikRoute};

/// A current service's routes as the last refresh stored them.
pub struct ServiceRoutes {
    pub service_id: i64,
    pub routes: Vec<TraefikRoute>,
    pub signs_in_itself: bool,
}

pub async fn service_routes(db: &PgPool) -> sqlx::Result<Vec<ServiceRoutes>> {
    let rows = sqlx::query!(
        r#"SELECT s.id,
                  coalesce(s.facts->'routes', '[]'::jsonb) AS "routes!: Json<Vec<TraefikRoute>>",
                  coalesce(lower(s.facts->'labels'->>'audit.auth') = 'oidc', false)
                    AS "signs_in_itself!"
           FROM services s JOIN engines e ON e.id = s.engine_id
           WHERE s.removed_at IS NULL AND e.configured"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ServiceRoutes {
            service_id: r.id,
            routes: r.routes.0,
            signs_in_itself: r.signs_in_itself,
        })
        .collect())
}

/// One row of `routes`. Serialized, the list is the one parameter of its replacement.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RouteRecord {
    pub router: String,
    pub url: String,
    pub host: String,
    pub source: String,
    pub service_id: Option<i64>,
    pub rule: String,
    pub entrypoints: Vec<String>,
    pub middlewares: Vec<String>,
    pub tls: bool,
    pub auth_expected: bool,
    /// What the latest probe showed of the sign-in wall (see `edge::findings::auth_enforced`).
    pub auth_verdict: Option<bool>,
    pub traefik_status: Option<String>,
    pub traefik_errors: Vec<String>,
    pub findings: Vec<Finding>,
}

/// Replaces the route list in one transaction: readers see the old list or the new, never half.
pub async fn replace_routes(
    db: &PgPool,
    records: &[RouteRecord],
    at: OffsetDateTime,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query!("DELETE FROM routes",)
        .execute(&mut *tx)
        .await?;
    // The whole list travels as one JSON parameter: a route's arrays (entrypoints,
    // middlewares, errors) differ in length, which rules out one Postgres array per column.
    sqlx::query!(
        "INSERT INTO routes (router, url, host, source, service_id, rule, entrypoints,
                             middlewares, tls, auth_expected, auth_verdict, traefik_status,
                             traefik_errors, findings, updated_at)
         SELECT r.router, r.url, r.host, r.source, r.service_id, r.rule,
                ARRAY(SELECT jsonb_array_elements_text(r.entrypoints)),
                ARRAY(SELECT jsonb_array_elements_text(r.middlewares)),
                r.tls, r.auth_expected, r.auth_verdict, r.traefik_status,
                ARRAY(SELECT jsonb_array_elements_text(r.traefik_errors)), r.findings, $2
         FROM jsonb_to_recordset($1) AS r(router text, url text, host text, source text,
              service_id int8, rule text, entrypoints jsonb, middlewares jsonb, tls bool,
              auth_expected bool, auth_verdict bool, traefik_status text, traefik_errors jsonb,
              findings jsonb)",
        Json(records) as _,
        at,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Records how the latest read of Traefik's API went.
pub async fn record_traefik_read(
    db: &PgPool,
    at: OffsetDateTime,
    result: Result<usize, &str>,
) -> sqlx::Result<()> {
    let (ok, error, routers) = match result {
        Ok(n) => (true, None, n as i32),
        Err(e) => (false, Some(e), 0),
    };
    sqlx::query!(
        "INSERT INTO traefik_reads (id, read_at, ok, error, routers, failing_since)
         VALUES (1, $1::timestamptz, $2::bool, $3, $4, CASE WHEN $2 THEN NULL ELSE $1 END)
         ON CONFLICT (id) DO UPDATE SET read_at = $1, ok = $2, error = $3, routers = $4,
             failing_since = CASE WHEN $2 THEN NULL
                                  ELSE coalesce(traefik_reads.failing_since, $1) END",
        at,
        ok,
        error,
        routers,
    )
    .execute(db)
    .await?;
    Ok(())
}

struct RouteListRow {
    id: i64,
    router: String,
    url: String,
    host: String,
    source: String,
    engine: Option<String>,
    service_key: Option<String>,
    service_name: Option<String>,
    entrypoints: Vec<String>,
    middlewares: Vec<String>,
    tls: bool,
    auth_expected: bool,
    auth_verdict: Option<bool>,
    traefik_status: Option<String>,
    traefik_errors: Vec<String>,
    findings: Json<Vec<Finding>>,
    probed_at: Option<OffsetDateTime>,
    ok: Option<bool>,
    failure: Option<String>,
    status: Option<i32>,
    latency_ms: Option<i32>,
    redirect_to: Option<String>,
    error: Option<String>,
    chain_error: Option<String>,
    cert_not_after: Option<OffsetDateTime>,
    cert_issuer: Option<String>,
    cert_names: Option<Vec<String>>,
    availability_24h: Option<f64>,
    p95_24h_ms: Option<f64>,
}

impl From<RouteListRow> for RouteRow {
    fn from(r: RouteListRow) -> Self {
        let probe = match (r.probed_at, r.ok) {
            (Some(probed_at), Some(ok)) => Some(ProbeView {
                probed_at,
                ok,
                failure: r.failure,
                status: r.status,
                latency_ms: r.latency_ms,
                redirect_to: r.redirect_to,
                error: r.error,
                cert: r.cert_issuer.map(|issuer| CertView {
                    not_after: r.cert_not_after,
                    issuer,
                    names: r.cert_names.unwrap_or_default(),
                    chain_error: r.chain_error,
                }),
            }),
            _ => None,
        };
        RouteRow {
            id: r.id,
            router: r.router,
            url: r.url,
            host: r.host,
            source: r.source,
            service: match (r.engine, r.service_key, r.service_name) {
                (Some(e), Some(k), Some(n)) => Some((e, k, n)),
                _ => None,
            },
            entrypoints: r.entrypoints,
            middlewares: r.middlewares,
            tls: r.tls,
            auth_expected: r.auth_expected,
            auth_verdict: r.auth_verdict,
            traefik_status: r.traefik_status,
            traefik_errors: r.traefik_errors,
            findings: r.findings.0,
            probe,
            availability_24h: r.availability_24h,
            p95_24h_ms: r.p95_24h_ms,
        }
    }
}

/// Routes with their latest probe and 24-hour figures: all of them, or one service's.
pub async fn list(db: &PgPool, service_id: Option<i64>) -> sqlx::Result<Vec<RouteRow>> {
    let rows: Vec<RouteListRow> = sqlx::query_as!(
        RouteListRow,
        r#"SELECT r.id, r.router, r.url, r.host, r.source, e.name AS "engine?", s.key AS "service_key?",
                s.display_name AS "service_name?", r.entrypoints, r.middlewares, r.tls, r.auth_expected, r.auth_verdict AS "auth_verdict?",
                r.traefik_status AS "traefik_status?", r.traefik_errors, r.findings AS "findings: _",
                p.probed_at AS "probed_at?", p.ok AS "ok?", p.failure AS "failure?", p.status AS "status?", p.latency_ms AS "latency_ms?", p.redirect_to AS "redirect_to?", p.error AS "error?",
                p.chain_error AS "chain_error?", p.cert_not_after AS "cert_not_after?", p.cert_issuer AS "cert_issuer?", p.cert_names AS "cert_names?",
                h.share AS "availability_24h?", d.p95 AS "p95_24h_ms?"
         FROM routes r
         LEFT JOIN services s ON s.id = r.service_id
         LEFT JOIN engines e ON e.id = s.engine_id
         LEFT JOIN probe_results p ON p.url = r.url
         LEFT JOIN LATERAL (
             SELECT sum(successes)::float8 / nullif(sum(samples), 0) AS share
             FROM probe_hourly WHERE url = r.url AND hour > now() - interval '24 hours'
         ) h ON true
         LEFT JOIN LATERAL (
             SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
             FROM probe_samples WHERE url = r.url AND at > now() - interval '24 hours'
         ) d ON true
         WHERE $1::int8 IS NULL OR r.service_id = $1
         ORDER BY r.host, r.url"#,
        service_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

struct TraefikReadRow {
    read_at: OffsetDateTime,
    ok: bool,
    error: Option<String>,
    routers: i32,
    failing_since: Option<OffsetDateTime>,
}

pub async fn traefik_read(db: &PgPool) -> sqlx::Result<Option<TraefikReadStatus>> {
    let row: Option<TraefikReadRow> = sqlx::query_as!(
        TraefikReadRow,
        r#"SELECT read_at, ok, error AS "error?", routers, failing_since AS "failing_since?" FROM traefik_reads WHERE id = 1"#,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| TraefikReadStatus {
        read_at: r.read_at,
        ok: r.ok,
        error: r.error,
        routers: r.routers,
        failing_since: r.failing_since,
    }))
}
