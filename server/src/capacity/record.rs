//! The worker's capacity step: what it reads before judging an engine's services (memory history,
//! the latest baseline against the last day), and what it writes after storing them (the host's
//! facts and memory per hour, the dependency edges, the image versions), in one transaction.

use std::collections::HashMap;

use sqlx::PgPool;
use time::{Date, OffsetDateTime};

use super::deps::Edge;
use super::regression::{Comparison, Figures};
use super::sizing::MemoryHistory;
use crate::docker::observation::HostInfo;
use crate::inventory::queries::ObservedService;

/// What the stored history says of one service before this refresh's sample.
#[derive(Clone, Debug, Default)]
pub struct ServiceInputs {
    /// Memory over 7 days (peak and samples), without the current sample.
    pub memory: Option<MemoryHistory>,
    /// Against the latest baseline, when one covers the service.
    pub comparison: Option<Comparison>,
}

impl ServiceInputs {
    /// The 7-day history with the current sample added.
    pub fn memory_with(&self, current: Option<i64>) -> Option<MemoryHistory> {
        match (self.memory, current) {
            (Some(h), Some(now)) => Some(MemoryHistory {
                peak: h.peak.max(now),
                samples: h.samples + 1,
            }),
            (Some(h), None) => Some(h),
            (None, Some(now)) => Some(MemoryHistory {
                peak: now,
                samples: 1,
            }),
            (None, None) => None,
        }
    }
}

struct InputRow {
    key: String,
    peak_7d: Option<i64>,
    samples_7d: Option<i64>,
    cpu_24h: Option<Vec<f64>>,
    memory_24h: Option<Vec<f64>>,
    latency_24h: Option<Vec<f64>>,
    samples_24h: Option<i64>,
    baseline_label: Option<String>,
    baseline_taken_at: Option<OffsetDateTime>,
    cpu_p95: Option<f64>,
    memory_p95: Option<i64>,
    latency_p95_ms: Option<f64>,
}

/// Per service key of one engine: its inputs. One query for the whole engine.
pub async fn inputs(
    db: &PgPool,
    engine_id: i64,
    at: OffsetDateTime,
) -> sqlx::Result<HashMap<String, ServiceInputs>> {
    // Rows written before memory_samples existed count their refreshes when they hold a peak.
    let rows: Vec<InputRow> = sqlx::query_as!(
        InputRow,
        r#"WITH latest AS (
             SELECT id, label, taken_at FROM capacity_baselines ORDER BY taken_at DESC, id DESC LIMIT 1)
         SELECT s.key, h.peak_7d AS "peak_7d?", h.samples_7d AS "samples_7d?", h.cpu_24h AS "cpu_24h?", h.memory_24h AS "memory_24h?", h.samples_24h AS "samples_24h?", l.latency_24h AS "latency_24h?",
                latest.label AS "baseline_label?", latest.taken_at AS "baseline_taken_at?",
                b.cpu_p95 AS "cpu_p95?", b.memory_p95 AS "memory_p95?", b.latency_p95_ms AS "latency_p95_ms?"
         FROM services s
         LEFT JOIN LATERAL (
             SELECT max(memory_max) AS peak_7d,
                    sum(CASE WHEN memory_samples > 0 THEN memory_samples
                             WHEN memory_max IS NOT NULL THEN samples ELSE 0 END)::int8 AS samples_7d,
                    array_agg(cpu_percent_sum / cpu_samples)
                        FILTER (WHERE hour > $2::timestamptz - interval '24 hours' AND cpu_samples > 0) AS cpu_24h,
                    array_agg(memory_max::float8)
                        FILTER (WHERE hour > $2::timestamptz - interval '24 hours' AND memory_max IS NOT NULL) AS memory_24h,
                    (sum(samples) FILTER (WHERE hour > $2::timestamptz - interval '24 hours'))::int8 AS samples_24h
             FROM service_hourly WHERE service_id = s.id AND hour > $2::timestamptz - interval '7 days') h ON true
         LEFT JOIN LATERAL (
             SELECT array_agg(ph.p95_ms::float8) AS latency_24h
             FROM probe_hourly ph
             WHERE ph.url IN (SELECT r.url FROM routes r WHERE r.service_id = s.id)
               AND ph.hour > $2::timestamptz - interval '24 hours' AND ph.p95_ms IS NOT NULL) l ON true
         LEFT JOIN latest ON true
         LEFT JOIN capacity_baseline_services b ON b.baseline_id = latest.id AND b.service_id = s.id
         WHERE s.engine_id = $1"#,
        engine_id,
        at,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let memory = r.peak_7d.map(|peak| MemoryHistory {
                peak,
                samples: r.samples_7d.unwrap_or(0),
            });
            let comparison = r.baseline_label.map(|label| Comparison {
                baseline_label: label,
                baseline_day: r
                    .baseline_taken_at
                    .map(|t| day(t.date()))
                    .unwrap_or_default(),
                then: Figures {
                    cpu_p95: r.cpu_p95,
                    memory_p95: r.memory_p95,
                    latency_p95_ms: r.latency_p95_ms,
                },
                now: Figures {
                    cpu_p95: super::history::p95(&r.cpu_24h.unwrap_or_default()),
                    memory_p95: super::history::p95(&r.memory_24h.unwrap_or_default())
                        .map(|v| v as i64),
                    latency_p95_ms: super::history::p95(&r.latency_24h.unwrap_or_default()),
                },
                now_samples: r.samples_24h.unwrap_or(0),
            });
            (r.key, ServiceInputs { memory, comparison })
        })
        .collect())
}

fn day(d: Date) -> String {
    format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// After an engine's services are stored: its host facts and memory this hour, the dependency
/// edges as of now (replacing the previous ones), and the image versions seen.
pub async fn after_refresh(
    db: &PgPool,
    engine_id: i64,
    at: OffsetDateTime,
    host: Option<&HostInfo>,
    seen: &[ObservedService],
    edges: &[Edge],
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    if let Some(h) = host {
        sqlx::query!(
            "UPDATE engines SET host_cpus = $2, host_memory_bytes = $3, kernel_version = $4,
                    operating_system = $5, storage_driver = $6
             WHERE id = $1",
            engine_id,
            h.cpus.map(|c| c as i32),
            h.memory_bytes,
            h.kernel_version.as_deref(),
            h.operating_system.as_deref(),
            h.storage_driver.as_deref(),
        )
        .execute(&mut *tx)
        .await?;
    }
    let running: Vec<&ObservedService> =
        seen.iter().filter(|s| s.facts.state == "running").collect();
    let used: i64 = running
        .iter()
        .filter_map(|s| s.facts.memory_usage_bytes)
        .sum();
    let limits: i64 = running
        .iter()
        .filter_map(|s| s.facts.memory_limit_bytes)
        .sum();
    let unlimited = running
        .iter()
        .filter(|s| s.facts.memory_limit_bytes.is_none())
        .count() as i32;
    sqlx::query!(
        "INSERT INTO engine_hourly (engine_id, hour, samples, memory_used_max, memory_used_sum, limits_sum_max,
                                   unlimited_max, host_memory_bytes)
         VALUES ($1, date_trunc('hour', $2::timestamptz), 1, $3::int8, $3::int8, $4, $5, $6)
         ON CONFLICT (engine_id, hour) DO UPDATE SET
             samples = engine_hourly.samples + 1,
             memory_used_max = greatest(engine_hourly.memory_used_max, EXCLUDED.memory_used_max),
             memory_used_sum = engine_hourly.memory_used_sum + EXCLUDED.memory_used_sum,
             limits_sum_max = greatest(engine_hourly.limits_sum_max, EXCLUDED.limits_sum_max),
             unlimited_max = greatest(engine_hourly.unlimited_max, EXCLUDED.unlimited_max),
             host_memory_bytes = coalesce(EXCLUDED.host_memory_bytes, engine_hourly.host_memory_bytes)",
        engine_id,
        at,
        used,
        limits,
        unlimited,
        host.and_then(|h| h.memory_bytes),
    )
    .execute(&mut *tx)
    .await?;

    sqlx::query!(
        "DELETE FROM service_dependencies WHERE engine_id = $1",
        engine_id,
    )
    .execute(&mut *tx)
    .await?;
    let from: Vec<&str> = edges.iter().map(|e| e.from.as_str()).collect();
    let to: Vec<&str> = edges.iter().map(|e| e.to.as_str()).collect();
    // text[][] cannot be bound ragged, so each edge's reasons travel as one comma-joined string.
    let via: Vec<String> = edges.iter().map(|e| e.via.join(",")).collect();
    sqlx::query!(
        "INSERT INTO service_dependencies (engine_id, from_service, to_service, via)
         SELECT $1, f.id, t.id, string_to_array(u.via, ',')
         FROM unnest($2::text[], $3::text[], $4::text[]) AS u(from_key, to_key, via)
         JOIN services f ON f.engine_id = $1 AND f.key = u.from_key
         JOIN services t ON t.engine_id = $1 AND t.key = u.to_key",
        engine_id,
        from as _,
        to as _,
        via as _,
    )
    .execute(&mut *tx)
    .await?;

    let refs: Vec<&str> = seen.iter().map(|s| s.facts.image_ref.as_str()).collect();
    let ids: Vec<&str> = seen.iter().map(|s| s.facts.image_id.as_str()).collect();
    let created: Vec<Option<OffsetDateTime>> = seen.iter().map(|s| s.facts.image_created).collect();
    sqlx::query!(
        "INSERT INTO image_versions (engine_id, image_ref, image_id, image_created, first_seen, last_seen)
         SELECT DISTINCT ON (u.ref, u.id) $1, u.ref, u.id, u.created, $2, $2
         FROM unnest($3::text[], $4::text[], $5::timestamptz[]) AS u(ref, id, created)
         WHERE u.ref <> '' AND u.id <> ''
         ON CONFLICT (engine_id, image_ref, image_id) DO UPDATE SET
             last_seen = EXCLUDED.last_seen,
             image_created = coalesce(EXCLUDED.image_created, image_versions.image_created)",
        engine_id,
        at,
        refs as _,
        ids as _,
        created as _,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}
