//! Queries on `engines`: their status for the pages, and the worker's bookkeeping.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;

use app::model::EngineStatus;

/// The channel the worker listens on for "Refresh now", from any replica.
pub const REFRESH_CHANNEL: &str = "audit_refresh";

struct EngineRow {
    name: String,
    endpoint: String,
    reachable: bool,
    stale: bool,
    docker_version: Option<String>,
    api_version: Option<String>,
    last_refresh_at: Option<OffsetDateTime>,
    last_success_at: Option<OffsetDateTime>,
    last_duration_ms: Option<i64>,
    last_error: Option<String>,
    containers: i64,
}

pub async fn statuses(db: &PgPool, stale_after: Duration) -> sqlx::Result<Vec<EngineStatus>> {
    let rows: Vec<EngineRow> = sqlx::query_as!(
        EngineRow,
        r#"SELECT e.name, e.endpoint, e.reachable,
                (NOT e.reachable OR e.last_success_at IS NULL
                 OR e.last_success_at < now() - make_interval(secs => $1)) AS "stale!",
                e.docker_version AS "docker_version?", e.api_version AS "api_version?", e.last_refresh_at AS "last_refresh_at?", e.last_success_at AS "last_success_at?", e.last_duration_ms AS "last_duration_ms?",
                e.last_error AS "last_error?",
                (SELECT count(*) FROM services s WHERE s.engine_id = e.id AND s.removed_at IS NULL) AS "containers!"
         FROM engines e WHERE e.configured ORDER BY e.name"#,
        stale_after.as_secs_f64(),
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| EngineStatus {
            name: r.name,
            endpoint: r.endpoint,
            reachable: r.reachable,
            stale: r.stale,
            docker_version: r.docker_version,
            api_version: r.api_version,
            last_refresh_at: r.last_refresh_at,
            last_success_at: r.last_success_at,
            last_duration_ms: r.last_duration_ms,
            last_error: r.last_error,
            containers: r.containers,
        })
        .collect())
}

pub async fn names(db: &PgPool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT name FROM engines WHERE configured ORDER BY name",)
        .fetch_all(db)
        .await
}

/// Wakes the worker, wherever it runs; inside a transaction, only once it commits.
pub async fn request_refresh<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<()> {
    sqlx::query!("SELECT pg_notify($1, '')", REFRESH_CHANNEL,)
        .execute(db)
        .await?;
    Ok(())
}

/// Makes the configured engines exist, and marks the others as no longer configured.
pub async fn sync_configured<'e>(
    db: impl PgExecutor<'e>,
    engines: &[(String, String)],
) -> sqlx::Result<Vec<(i64, String)>> {
    let names: Vec<&str> = engines.iter().map(|(n, _)| n.as_str()).collect();
    let endpoints: Vec<&str> = engines.iter().map(|(_, e)| e.as_str()).collect();
    let rows = sqlx::query!(
        r#"WITH wanted AS (SELECT * FROM unnest($1::text[], $2::text[]) AS w(name, endpoint)),
              upserted AS (
                INSERT INTO engines (name, endpoint, configured)
                SELECT name, endpoint, true FROM wanted
                ON CONFLICT (name) DO UPDATE SET endpoint = EXCLUDED.endpoint, configured = true
                RETURNING id, name),
              retired AS (UPDATE engines SET configured = false WHERE name <> ALL($1::text[]) AND configured)
         SELECT id, name FROM upserted"#,
        &names as _,
        &endpoints as _,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.name)).collect())
}

/// What one refresh of one engine found out about the engine itself.
pub struct EngineRefresh<'a> {
    pub engine_id: i64,
    pub started_at: OffsetDateTime,
    pub duration_ms: i64,
    pub result: Result<EngineVersion, &'a str>,
    pub containers: i32,
    pub running: i32,
    pub unhealthy: i32,
    pub findings: i32,
}

pub struct EngineVersion {
    pub docker_version: Option<String>,
    pub api_version: Option<String>,
}

/// Records a refresh: the engine's status and one `refresh_runs` row. A failed refresh keeps the
/// last success time, which is what makes its services stale.
pub async fn record_refresh<'e>(
    db: impl PgExecutor<'e>,
    r: &EngineRefresh<'_>,
) -> sqlx::Result<()> {
    let (ok, version, api, error) = match &r.result {
        Ok(v) => (true, v.docker_version.clone(), v.api_version.clone(), None),
        Err(e) => (false, None, None, Some(e.to_string())),
    };
    sqlx::query!(
        "WITH upd AS (
            UPDATE engines SET
                reachable = $2,
                docker_version = COALESCE($3, docker_version),
                api_version = COALESCE($4, api_version),
                last_refresh_at = $5,
                last_success_at = CASE WHEN $2 THEN $5 ELSE last_success_at END,
                last_duration_ms = $6,
                last_error = $7
            WHERE id = $1)
         INSERT INTO refresh_runs (engine_id, started_at, duration_ms, ok, error, containers, running, unhealthy, findings)
         VALUES ($1, $5, $6, $2, $7, $8, $9, $10, $11)",
        r.engine_id,
        ok,
        version,
        api,
        r.started_at,
        r.duration_ms,
        error,
        r.containers,
        r.running,
        r.unhealthy,
        r.findings,
    )
    .execute(db)
    .await?;
    Ok(())
}
