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

struct SummaryRow {
    id: i64,
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

/// Every service, or the one named: its summary, with its id. `stale_after` says when a
/// service is stale: its engine unreachable, unrefreshed for that long, or the service unseen
/// by the latest refresh.
async fn summary_rows(
    db: &PgPool,
    stale_after: Duration,
    only: Option<(&str, &str)>,
) -> sqlx::Result<Vec<SummaryRow>> {
    let (engine, key) = only.unzip();
    sqlx::query_as!(
        SummaryRow,
        r#"SELECT s.id, e.name AS engine, s.key, s.display_name, s.group_name, s.image_ref, s.state,
                  s.health,
                  (s.removed_at IS NULL AND (NOT e.reachable OR NOT e.configured
                       OR e.last_success_at IS NULL
                       OR e.last_success_at < now() - make_interval(secs => $1)
                       OR s.last_seen < e.last_success_at)) AS "stale!",
                  s.last_seen, s.removed_at,
                  (SELECT sum(h.up_samples)::float8 / nullif(sum(h.samples), 0) FROM service_hourly h
                    WHERE h.service_id = s.id AND h.hour > now() - interval '24 hours')
                    AS availability_24h,
                  (SELECT sum(ph.successes)::float8 / nullif(sum(ph.samples), 0) FROM probe_hourly ph
                    WHERE ph.url IN (SELECT r.url FROM routes r WHERE r.service_id = s.id)
                      AND ph.hour > now() - interval '24 hours') AS route_availability_24h,
                  (SELECT count(*) FROM routes r WHERE r.service_id = s.id) AS "routes!",
                  (SELECT count(*) FROM routes r JOIN probe_results p ON p.url = r.url
                    WHERE r.service_id = s.id AND NOT p.ok) AS "routes_failing!",
                  (s.facts->>'cpu_percent')::float8 AS cpu_percent,
                  (s.facts->>'cpu_limit')::float8 AS cpu_limit,
                  (s.facts->>'memory_usage_bytes')::int8 AS memory_usage_bytes,
                  (s.facts->>'memory_limit_bytes')::int8 AS memory_limit_bytes,
                  s.findings AS "findings: _", s.doc_path
           FROM services s JOIN engines e ON e.id = s.engine_id
           WHERE $2::text IS NULL OR (e.name = $2 AND s.key = $3)"#,
        stale_after.as_secs_f64(),
        engine,
        key,
    )
    .fetch_all(db)
    .await
}

/// Every service, removed ones included (the query filter hides them unless asked).
pub async fn summaries(db: &PgPool, stale_after: Duration) -> sqlx::Result<Vec<ServiceSummary>> {
    let rows = summary_rows(db, stale_after, None).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

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
    let r: CountsRow = sqlx::query_as!(
        CountsRow,
        r#"WITH cur AS (
            SELECT s.*, (NOT e.reachable OR NOT e.configured OR e.last_success_at IS NULL
                         OR e.last_success_at < now() - make_interval(secs => $1)
                         OR s.last_seen < e.last_success_at) AS is_stale
            FROM services s JOIN engines e ON e.id = s.engine_id)
         SELECT count(*) FILTER (WHERE removed_at IS NULL) AS "containers!",
                (SELECT count(*) FROM engines WHERE configured) AS "engines!",
                count(*) FILTER (WHERE removed_at IS NULL AND state = 'running') AS "running!",
                count(*) FILTER (WHERE removed_at IS NULL AND state = 'running' AND health = 'healthy') AS "healthy!",
                count(*) FILTER (WHERE removed_at IS NULL AND state = 'running' AND health = 'unhealthy') AS "unhealthy!",
                count(*) FILTER (WHERE removed_at IS NULL AND state <> 'running') AS "stopped!",
                count(*) FILTER (WHERE removed_at IS NULL AND is_stale) AS "stale!",
                count(*) FILTER (WHERE removed_at IS NOT NULL) AS "removed!"
         FROM cur"#,
        stale_after.as_secs_f64(),
    )
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
    let rows = sqlx::query!(
        r#"SELECT f->'kind' AS "kind!: Json<FindingKind>", f->'severity' AS "severity!: Json<Severity>",
                  count(*) AS "services!"
           FROM services s CROSS JOIN LATERAL jsonb_array_elements(s.findings) f
           WHERE s.removed_at IS NULL
           GROUP BY 1, 2"#,
    )
    .fetch_all(db)
    .await?;
    let mut totals: Vec<(FindingKind, Severity, i64)> = rows
        .into_iter()
        .map(|r| (r.kind.0, r.severity.0, r.services))
        .collect();
    totals.sort_by_key(|(kind, severity, n)| (*severity, -n, *kind));
    Ok(totals)
}

pub async fn detail(
    db: &PgPool,
    engine: &str,
    key: &str,
    stale_after: Duration,
) -> sqlx::Result<Option<ServiceDetail>> {
    let Some(summary) = summary_rows(db, stale_after, Some((engine, key)))
        .await?
        .pop()
    else {
        return Ok(None);
    };
    let row = sqlx::query!(
        r#"SELECT compose_project, compose_service, description, owner, tier, first_seen,
                  facts AS "facts: Json<ServiceFacts>"
           FROM services WHERE id = $1"#,
        summary.id,
    )
    .fetch_one(db)
    .await?;
    let id = summary.id;
    let (availability, events, route_availability, routes, status_days, latency, down_since) = tokio::try_join!(
        availability(db, id),
        events(db, id, 200),
        crate::edge::probe_queries::service_availability(db, id),
        crate::edge::queries::list(db, Some(id)),
        crate::edge::probe_queries::status_days(db, id, 90),
        crate::edge::probe_queries::service_latency(db, id),
        engine_down_since(db, engine),
    )?;
    Ok(Some(ServiceDetail {
        summary: summary.into(),
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
    let row = sqlx::query!(
        "SELECT last_success_at, created_at FROM engines WHERE name = $1 AND NOT reachable",
        engine,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.last_success_at.unwrap_or(r.created_at)))
}

async fn availability(db: &PgPool, service_id: i64) -> sqlx::Result<Availability> {
    sqlx::query_as!(
        Availability,
        r#"SELECT sum(up_samples) FILTER (WHERE hour > now() - interval '24 hours')::float8
                  / nullif(sum(samples) FILTER (WHERE hour > now() - interval '24 hours'), 0) AS "day?",
                sum(up_samples) FILTER (WHERE hour > now() - interval '7 days')::float8
                  / nullif(sum(samples) FILTER (WHERE hour > now() - interval '7 days'), 0) AS "week?",
                sum(up_samples)::float8 / nullif(sum(samples), 0) AS "month?"
         FROM service_hourly WHERE service_id = $1 AND hour > now() - interval '30 days'"#,
        service_id,
    )
    .fetch_one(db)
    .await
}

async fn events(db: &PgPool, service_id: i64, limit: i64) -> sqlx::Result<Vec<ServiceEvent>> {
    sqlx::query_as!(
        ServiceEvent,
        "SELECT at, kind, detail FROM service_events WHERE service_id = $1
         ORDER BY at DESC, id DESC LIMIT $2",
        service_id,
        limit,
    )
    .fetch_all(db)
    .await
}
