//! What the capacity pages read: a service's hourly history and its neighbours in the map, each
//! engine's host and memory trend, the right-sizing inputs, baselines and the image versions.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use app::model::capacity::{BaselineSummary, EngineCapacity};

use super::history::HourUse;

/// A service's hourly rows from `since` on, oldest first.
pub async fn service_hours(
    db: &PgPool,
    engine: &str,
    key: &str,
    since: OffsetDateTime,
) -> sqlx::Result<Vec<HourUse>> {
    let rows: Vec<HourRow> = sqlx::query_as!(
        HourRow,
        r#"SELECT h.hour, h.cpu_percent_sum AS "cpu_sum!", h.cpu_samples, h.cpu_percent_max AS "cpu_max?",
                h.memory_sum,
                CASE WHEN h.memory_samples > 0 THEN h.memory_samples
                     WHEN h.memory_max IS NOT NULL THEN h.samples ELSE 0 END AS "memory_samples!",
                h.memory_max AS "memory_max?", h.block_io_bytes AS "block_io!", h.net_io_bytes AS "net_io!"
         FROM service_hourly h
         JOIN services s ON s.id = h.service_id JOIN engines e ON e.id = s.engine_id
         WHERE e.name = $1 AND s.key = $2 AND h.hour >= date_trunc('hour', $3::timestamptz)
         ORDER BY h.hour"#,
        engine,
        key,
        since,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HourUse {
            hour: r.hour,
            cpu_sum: r.cpu_sum,
            cpu_samples: i64::from(r.cpu_samples),
            cpu_max: r.cpu_max,
            // Hours from before the memory average existed have a peak but no sum: their peak
            // stands in for the average.
            memory_sum: if r.memory_sum == 0.0 {
                r.memory_max.unwrap_or(0) as f64 * f64::from(r.memory_samples)
            } else {
                r.memory_sum
            },
            memory_samples: i64::from(r.memory_samples),
            memory_max: r.memory_max,
            block_io: r.block_io,
            net_io: r.net_io,
        })
        .collect())
}

struct HourRow {
    hour: OffsetDateTime,
    cpu_sum: f64,
    cpu_samples: i32,
    cpu_max: Option<f64>,
    memory_sum: f64,
    memory_samples: i32,
    memory_max: Option<i64>,
    block_io: i64,
    net_io: i64,
}

/// Services of one engine that are current: (count).
pub async fn current_services(db: &PgPool, engine: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM services s JOIN engines e ON e.id = s.engine_id
         WHERE e.name = $1 AND s.removed_at IS NULL"#,
        engine,
    )
    .fetch_one(db)
    .await
}

struct EngineRow {
    id: i64,
    name: String,
    host_cpus: Option<i32>,
    host_memory_bytes: Option<i64>,
    kernel_version: Option<String>,
    operating_system: Option<String>,
    storage_driver: Option<String>,
    docker_version: Option<String>,
    running: i64,
    memory_used: i64,
    limits_sum: i64,
    unlimited: i64,
    unlimited_used: i64,
}

/// Each configured engine's host and its running containers' memory now.
pub async fn engines(db: &PgPool) -> sqlx::Result<Vec<(i64, EngineCapacity)>> {
    let rows: Vec<EngineRow> = sqlx::query_as!(
        EngineRow,
        r#"SELECT e.id, e.name, e.host_cpus, e.host_memory_bytes, e.kernel_version, e.operating_system,
                e.storage_driver, e.docker_version AS "docker_version?",
                count(s.id) AS "running!",
                coalesce(sum((s.facts->>'memory_usage_bytes')::int8), 0)::int8 AS "memory_used!",
                coalesce(sum((s.facts->>'memory_limit_bytes')::int8), 0)::int8 AS "limits_sum!",
                count(s.id) FILTER (WHERE s.facts->>'memory_limit_bytes' IS NULL) AS "unlimited!",
                coalesce(sum((s.facts->>'memory_usage_bytes')::int8)
                         FILTER (WHERE s.facts->>'memory_limit_bytes' IS NULL), 0)::int8 AS "unlimited_used!"
         FROM engines e
         LEFT JOIN services s ON s.engine_id = e.id AND s.removed_at IS NULL AND s.state = 'running'
         WHERE e.configured
         GROUP BY e.id ORDER BY e.name"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                EngineCapacity {
                    name: r.name,
                    cpus: r.host_cpus,
                    memory_bytes: r.host_memory_bytes,
                    kernel_version: r.kernel_version,
                    operating_system: r.operating_system,
                    storage_driver: r.storage_driver,
                    docker_version: r.docker_version,
                    running: r.running,
                    memory_used: r.memory_used,
                    limits_sum: r.limits_sum,
                    unlimited: r.unlimited,
                    unlimited_used: r.unlimited_used,
                    ..Default::default()
                },
            )
        })
        .collect())
}

/// One hour of an engine's memory: (hour, average used, limits, host memory).
pub type EngineHour = (OffsetDateTime, f64, i64, Option<i64>);

pub async fn engine_trend(db: &PgPool, engine_id: i64, days: i64) -> sqlx::Result<Vec<EngineHour>> {
    let rows = sqlx::query!(
        r#"SELECT hour, memory_used_sum / samples AS "memory_used_avg!", limits_sum_max,
                  host_memory_bytes
           FROM engine_hourly WHERE engine_id = $1 AND hour > now() - make_interval(days => $2)
           ORDER BY hour"#,
        engine_id,
        days as i32,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.hour,
                r.memory_used_avg,
                r.limits_sum_max,
                r.host_memory_bytes,
            )
        })
        .collect())
}

/// What right-sizing needs of each running service with a limit.
pub struct SizingRow {
    pub engine: String,
    pub key: String,
    pub name: String,
    pub limit: i64,
    pub peak: Option<i64>,
    pub samples: Option<i64>,
    pub near: bool,
    pub oversized: bool,
}

pub async fn sizing_inputs(db: &PgPool) -> sqlx::Result<Vec<SizingRow>> {
    sqlx::query_as!(
        SizingRow,
        r#"SELECT e.name AS "engine!", s.key, s.display_name AS "name!",
                (s.facts->>'memory_limit_bytes')::int8 AS "limit!",
                h.peak AS "peak?", h.samples AS "samples?",
                s.findings @> '[{"kind": "memory_near_limit"}]' AS "near!",
                s.findings @> '[{"kind": "memory_oversized"}]' AS "oversized!"
         FROM services s JOIN engines e ON e.id = s.engine_id
         LEFT JOIN LATERAL (
             SELECT max(memory_max) AS peak,
                    sum(CASE WHEN memory_samples > 0 THEN memory_samples
                             WHEN memory_max IS NOT NULL THEN samples ELSE 0 END)::int8 AS samples
             FROM service_hourly WHERE service_id = s.id AND hour > now() - interval '7 days') h ON true
         WHERE s.removed_at IS NULL AND e.configured AND s.state = 'running'
           AND s.facts->>'memory_limit_bytes' IS NOT NULL
         ORDER BY e.name, s.display_name"#,
    )
    .fetch_all(db)
    .await
}

struct BaselineRowDb {
    id: i64,
    label: String,
    taken_at: OffsetDateTime,
    taken_by: String,
    window_days: i32,
    services: i64,
}

pub async fn baselines(db: &PgPool) -> sqlx::Result<Vec<BaselineSummary>> {
    let rows: Vec<BaselineRowDb> = sqlx::query_as!(
        BaselineRowDb,
        r#"SELECT b.id, b.label, b.taken_at, b.taken_by, b.window_days,
                (SELECT count(*) FROM capacity_baseline_services x WHERE x.baseline_id = b.id) AS "services!"
         FROM capacity_baselines b ORDER BY b.taken_at DESC, b.id DESC"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| BaselineSummary {
            id: r.id,
            label: r.label,
            taken_at: r.taken_at,
            taken_by: r.taken_by,
            window_days: r.window_days,
            services: r.services,
        })
        .collect())
}

/// A baseline's figures per service beside the last day's.
pub struct ComparedRow {
    pub engine: String,
    pub key: String,
    pub name: String,
    pub cpu_then: Option<f64>,
    pub memory_then: Option<i64>,
    pub latency_then: Option<f64>,
    pub cpu_now: Option<Vec<f64>>,
    pub memory_now: Option<Vec<f64>>,
    pub latency_now: Option<Vec<f64>>,
    pub samples_now: Option<i64>,
}

pub async fn compared(db: &PgPool, baseline_id: i64) -> sqlx::Result<Vec<ComparedRow>> {
    sqlx::query_as!(
        ComparedRow,
        r#"SELECT e.name AS engine, s.key, s.display_name AS name,
                b.cpu_p95 AS "cpu_then?", b.memory_p95 AS "memory_then?", b.latency_p95_ms AS "latency_then?",
                h.cpu_now AS "cpu_now?", h.memory_now AS "memory_now?", h.samples_now AS "samples_now?", l.latency_now AS "latency_now?"
         FROM capacity_baseline_services b
         JOIN services s ON s.id = b.service_id JOIN engines e ON e.id = s.engine_id
         LEFT JOIN LATERAL (
             SELECT array_agg(cpu_percent_sum / cpu_samples) FILTER (WHERE cpu_samples > 0) AS cpu_now,
                    array_agg(memory_max::float8) FILTER (WHERE memory_max IS NOT NULL) AS memory_now,
                    sum(samples)::int8 AS samples_now
             FROM service_hourly WHERE service_id = s.id AND hour > now() - interval '24 hours') h ON true
         LEFT JOIN LATERAL (
             SELECT array_agg(ph.p95_ms::float8) AS latency_now FROM probe_hourly ph
             WHERE ph.url IN (SELECT r.url FROM routes r WHERE r.service_id = s.id)
               AND ph.hour > now() - interval '24 hours' AND ph.p95_ms IS NOT NULL) l ON true
         WHERE b.baseline_id = $1
         ORDER BY e.name, s.display_name"#,
        baseline_id,
    )
    .fetch_all(db)
    .await
}

/// Saves a baseline: per current service, the p95 of its hourly CPU averages, of its hourly
/// memory peaks and of its routes' hourly latency p95 over the window. `percentile_disc(0.95)`
/// is the nearest-rank p95, the same definition as `history::p95`. Returns the id and how many
/// services it holds.
pub async fn save_baseline(
    conn: &mut PgConnection,
    label: &str,
    window_days: i32,
    taken_by: &str,
) -> sqlx::Result<(i64, i64)> {
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO capacity_baselines (label, taken_by, window_days) VALUES ($1, $2, $3) RETURNING id",
        label,
        taken_by,
        window_days,
    )
    .fetch_one(&mut *conn)
    .await?;
    let services = sqlx::query!(
        "INSERT INTO capacity_baseline_services (baseline_id, service_id, samples, cpu_p95, memory_p95, latency_p95_ms)
         SELECT $1, s.id, h.samples, h.cpu_p95, h.memory_p95, l.latency_p95
         FROM services s
         JOIN LATERAL (
             SELECT sum(samples)::int4 AS samples,
                    percentile_disc(0.95) WITHIN GROUP (ORDER BY cpu_percent_sum / nullif(cpu_samples, 0)) AS cpu_p95,
                    percentile_disc(0.95) WITHIN GROUP (ORDER BY memory_max) AS memory_p95
             FROM service_hourly WHERE service_id = s.id AND hour > now() - make_interval(days => $2)) h
           ON h.samples IS NOT NULL
         LEFT JOIN LATERAL (
             SELECT percentile_disc(0.95) WITHIN GROUP (ORDER BY ph.p95_ms::float8) AS latency_p95
             FROM probe_hourly ph
             WHERE ph.url IN (SELECT r.url FROM routes r WHERE r.service_id = s.id)
               AND ph.hour > now() - make_interval(days => $2)) l ON true
         WHERE s.removed_at IS NULL",
        id,
        window_days,
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok((id, services as i64))
}

pub struct VersionDb {
    pub engine: String,
    pub image_ref: String,
    pub image_id: String,
    pub image_created: Option<OffsetDateTime>,
    pub first_seen: OffsetDateTime,
    pub ref_first_seen: OffsetDateTime,
    pub previous_id: Option<String>,
    pub services: Vec<String>,
}

/// Per engine and image reference: the image it points at now (the latest seen), the one before
/// if it changed, and the current services running it.
pub async fn versions(db: &PgPool) -> sqlx::Result<Vec<VersionDb>> {
    sqlx::query_as!(
        VersionDb,
        r#"SELECT DISTINCT ON (e.name, v.image_ref)
                e.name AS "engine!", v.image_ref, v.image_id, v.image_created AS "image_created?", v.first_seen,
                min(v.first_seen) OVER (PARTITION BY v.engine_id, v.image_ref) AS "ref_first_seen!",
                lag(v.image_id) OVER (PARTITION BY v.engine_id, v.image_ref ORDER BY v.first_seen) AS "previous_id?",
                coalesce((SELECT array_agg(s.display_name ORDER BY s.display_name) FROM services s
                          WHERE s.engine_id = v.engine_id AND s.removed_at IS NULL AND s.image_ref = v.image_ref),
                         '{}') AS "services!"
         FROM image_versions v JOIN engines e ON e.id = v.engine_id
         WHERE e.configured
         ORDER BY e.name, v.image_ref, v.last_seen DESC, v.first_seen DESC"#,
    )
    .fetch_all(db)
    .await
}
