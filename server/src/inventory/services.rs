//! Queries on `services` for the pages: summaries, counts, one service in full.
//! The worker's writes are in [`crate::inventory::queries`].

use std::time::Duration;

use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;

use app::model::{
    Availability, Finding, FindingKind, InventoryCounts, ServiceDetail, ServiceEvent, ServiceFacts,
    ServiceSummary, Severity,
};

#[derive(sqlx::FromRow)]
struct SummaryRow {
    engine: String,
    key: String,
    display_name: String,
    group_name: Option<String>,
    image_ref: String,
    state: String,
    health: Option<String>,
    stale: bool,
    last_seen: OffsetDateTime,
    removed_at: Option<OffsetDateTime>,
    availability_24h: Option<f64>,
    route_availability_24h: Option<f64>,
    routes: i64,
    routes_failing: i64,
    cpu_percent: Option<f64>,
    cpu_limit: Option<f64>,
    memory_usage_bytes: Option<i64>,
    memory_limit_bytes: Option<i64>,
    findings: Json<Vec<Finding>>,
    doc_path: Option<String>,
}

impl From<SummaryRow> for ServiceSummary {
    fn from(r: SummaryRow) -> Self {
        ServiceSummary {
            engine: r.engine,
            key: r.key,
            display_name: r.display_name,
            group: r.group_name,
            image_ref: r.image_ref,
            state: r.state,
            health: r.health,
            stale: r.stale,
            last_seen: r.last_seen,
            removed_at: r.removed_at,
            availability_24h: r.route_availability_24h.or(r.availability_24h),
            availability_from_routes: r.route_availability_24h.is_some(),
            routes: r.routes,
            routes_failing: r.routes_failing,
            cpu_percent: r.cpu_percent,
            cpu_limit: r.cpu_limit,
            memory_usage_bytes: r.memory_usage_bytes,
            memory_limit_bytes: r.memory_limit_bytes,
            findings: r.findings.0,
            doc: r.doc_path,
        }
    }
}

/// The columns of a summary; `$1` is the staleness threshold in seconds.
const SUMMARY_COLUMNS: &str = "
    e.name AS engine, s.key, s.display_name, s.group_name, s.image_ref, s.state, s.health,
           (s.removed_at IS NULL AND (NOT e.reachable OR NOT e.configured OR e.last_success_at IS NULL
                OR e.last_success_at < now() - make_interval(secs => $1)
                OR s.last_seen < e.last_success_at)) AS stale,
           s.last_seen, s.removed_at,
           (SELECT sum(h.up_samples)::float8 / nullif(sum(h.samples), 0) FROM service_hourly h
             WHERE h.service_id = s.id AND h.hour > now() - interval '24 hours') AS availability_24h,
           (SELECT sum(ph.successes)::float8 / nullif(sum(ph.samples), 0) FROM probe_hourly ph
             WHERE ph.url IN (SELECT r.url FROM routes r WHERE r.service_id = s.id)
               AND ph.hour > now() - interval '24 hours') AS route_availability_24h,
           (SELECT count(*) FROM routes r WHERE r.service_id = s.id) AS routes,
           (SELECT count(*) FROM routes r JOIN probe_results p ON p.url = r.url
             WHERE r.service_id = s.id AND NOT p.ok) AS routes_failing,
           (s.facts->>'cpu_percent')::float8 AS cpu_percent,
           (s.facts->>'cpu_limit')::float8 AS cpu_limit,
           (s.facts->>'memory_usage_bytes')::int8 AS memory_usage_bytes,
           (s.facts->>'memory_limit_bytes')::int8 AS memory_limit_bytes,
           s.findings, s.doc_path";

const SUMMARY_FROM: &str = " FROM services s JOIN engines e ON e.id = s.engine_id";

/// Every service, removed ones included (the query filter hides them unless asked).
pub async fn summaries(db: &PgPool, stale_after: Duration) -> sqlx::Result<Vec<ServiceSummary>> {
    let sql = format!("SELECT {SUMMARY_COLUMNS} {SUMMARY_FROM}");
    let rows: Vec<SummaryRow> = sqlx::query_as(&sql)
        .bind(stale_after.as_secs_f64())
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

#[derive(sqlx::FromRow)]
struct CountsRow {
    containers: i64,
    engines: i64,
    running: i64,
    healthy: i64,
    unhealthy: i64,
    stopped: i64,
    stale: i64,
    removed: i64,
}

pub async fn counts(db: &PgPool, stale_after: Duration) -> sqlx::Result<InventoryCounts> {
    let r: CountsRow = sqlx::query_as(
        "WITH cur AS (
            SELECT s.*, (NOT e.reachable OR NOT e.configured OR e.last_success_at IS NULL
                         OR e.last_success_at < now() - make_interval(secs => $1)
                         OR s.last_seen < e.last_success_at) AS is_stale
            FROM services s JOIN engines e ON e.id = s.engine_id)
         SELECT count(*) FILTER (WHERE removed_at IS NULL) AS containers,
                (SELECT count(*) FROM engines WHERE configured) AS engines,
                count(*) FILTER (WHERE removed_at IS NULL AND state = 'running') AS running,
                count(*) FILTER (WHERE removed_at IS NULL AND state = 'running' AND health = 'healthy') AS healthy,
                count(*) FILTER (WHERE removed_at IS NULL AND state = 'running' AND health = 'unhealthy') AS unhealthy,
                count(*) FILTER (WHERE removed_at IS NULL AND state <> 'running') AS stopped,
                count(*) FILTER (WHERE removed_at IS NULL AND is_stale) AS stale,
                count(*) FILTER (WHERE removed_at IS NOT NULL) AS removed
         FROM cur",
    )
    .bind(stale_after.as_secs_f64())
    .fetch_one(db)
    .await?;
    Ok(InventoryCounts {
        containers: r.containers,
        engines: r.engines,
        running: r.running,
        healthy: r.healthy,
        unhealthy: r.unhealthy,
        stopped: r.stopped,
        stale: r.stale,
        removed: r.removed,
    })
}

/// Open findings of current services, counted by kind: most severe first, then most frequent.
pub async fn finding_totals(db: &PgPool) -> sqlx::Result<Vec<(FindingKind, Severity, i64)>> {
    let rows: Vec<(Json<FindingKind>, Json<Severity>, i64)> = sqlx::query_as(
        "SELECT f->'kind', f->'severity', count(*)
         FROM services s CROSS JOIN LATERAL jsonb_array_elements(s.findings) f
         WHERE s.removed_at IS NULL
         GROUP BY 1, 2 ORDER BY 3 DESC, 1",
    )
    .fetch_all(db)
    .await?;
    let mut totals: Vec<(FindingKind, Severity, i64)> =
        rows.into_iter().map(|(k, s, n)| (k.0, s.0, n)).collect();
    totals.sort_by_key(|(kind, severity, n)| (*severity, -n, *kind));
    Ok(totals)
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    #[sqlx(flatten)]
    summary: SummaryRow,
    id: i64,
    compose_project: Option<String>,
    compose_service: Option<String>,
    description: Option<String>,
    owner: Option<String>,
    tier: Option<String>,
    first_seen: OffsetDateTime,
    facts: Json<ServiceFacts>,
}

pub async fn detail(
    db: &PgPool,
    engine: &str,
    key: &str,
    stale_after: Duration,
) -> sqlx::Result<Option<ServiceDetail>> {
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, s.id, s.compose_project, s.compose_service, s.description, s.owner, s.tier,
                s.first_seen, s.facts
         {SUMMARY_FROM} WHERE e.name = $2 AND s.key = $3"
    );
    let Some(row): Option<DetailRow> = sqlx::query_as(&sql)
        .bind(stale_after.as_secs_f64())
        .bind(engine)
        .bind(key)
        .fetch_optional(db)
        .await?
    else {
        return Ok(None);
    };
    let (availability, events, route_availability, routes, status_days, latency, down_since) = tokio::try_join!(
        availability(db, row.id),
        events(db, row.id, 200),
        crate::edge::probe_queries::service_availability(db, row.id),
        crate::edge::queries::list(db, Some(row.id)),
        crate::edge::probe_queries::status_days(db, row.id, 90),
        crate::edge::probe_queries::service_latency(db, row.id),
        engine_down_since(db, engine),
    )?;
    Ok(Some(ServiceDetail {
        summary: row.summary.into(),
        compose_project: row.compose_project,
        compose_service: row.compose_service,
        description: row.description,
        owner: row.owner,
        tier: row.tier,
        first_seen: row.first_seen,
        facts: row.facts.0,
        availability,
        route_availability,
        routes,
        status_days,
        latency_svg: crate::charts::latency_chart(&latency),
        engine_down_since: down_since,
        events,
    }))
}

/// When the engine last answered, if it does not answer now.
async fn engine_down_since(db: &PgPool, engine: &str) -> sqlx::Result<Option<OffsetDateTime>> {
    let row: Option<(Option<OffsetDateTime>, OffsetDateTime)> = sqlx::query_as(
        "SELECT last_success_at, created_at FROM engines WHERE name = $1 AND NOT reachable",
    )
    .bind(engine)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(success, created)| success.unwrap_or(created)))
}

async fn availability(db: &PgPool, service_id: i64) -> sqlx::Result<Availability> {
    let (day, week, month): (Option<f64>, Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT sum(up_samples) FILTER (WHERE hour > now() - interval '24 hours')::float8
                  / nullif(sum(samples) FILTER (WHERE hour > now() - interval '24 hours'), 0),
                sum(up_samples) FILTER (WHERE hour > now() - interval '7 days')::float8
                  / nullif(sum(samples) FILTER (WHERE hour > now() - interval '7 days'), 0),
                sum(up_samples)::float8 / nullif(sum(samples), 0)
         FROM service_hourly WHERE service_id = $1 AND hour > now() - interval '30 days'",
    )
    .bind(service_id)
    .fetch_one(db)
    .await?;
    Ok(Availability { day, week, month })
}

async fn events(db: &PgPool, service_id: i64, limit: i64) -> sqlx::Result<Vec<ServiceEvent>> {
    let rows: Vec<(OffsetDateTime, String, String)> = sqlx::query_as(
        "SELECT at, kind, detail FROM service_events WHERE service_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(service_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, kind, detail)| ServiceEvent { at, kind, detail })
        .collect())
}
