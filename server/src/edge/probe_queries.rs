//! Probes of the routes: the latest probe per URL, raw samples for two days and hourly aggregates
//! for the long run, and the availability and latency figures computed from them.

use std::collections::HashMap;

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::Availability;
use app::model::routes::DayShare;

use crate::edge::findings::ProbeState;

/// Raw samples older than this are dropped; the hourly rows keep the history.
const SAMPLES_KEPT_HOURS: i32 = 48;

struct ProbeRow {
    url: String,
    probed_at: OffsetDateTime,
    ok: bool,
    failure: Option<String>,
    status: Option<i32>,
    latency_ms: Option<i32>,
    redirect_to: Option<String>,
    error: Option<String>,
    chain_error: Option<String>,
    cert_not_after: Option<OffsetDateTime>,
    cert_issuer: Option<String>,
    cert_names: Vec<String>,
    cert_not_after_since: Option<OffsetDateTime>,
    last_answer_at: Option<OffsetDateTime>,
    p95_24h_ms: Option<f64>,
    samples_24h: i64,
}

impl From<ProbeRow> for ProbeState {
    fn from(r: ProbeRow) -> Self {
        ProbeState {
            url: r.url,
            probed_at: Some(r.probed_at),
            ok: r.ok,
            failure: r.failure,
            status: r.status,
            latency_ms: r.latency_ms,
            redirect_to: r.redirect_to,
            error: r.error,
            chain_error: r.chain_error,
            cert_not_after: r.cert_not_after,
            cert_issuer: r.cert_issuer,
            cert_names: r.cert_names,
            cert_not_after_since: r.cert_not_after_since,
            last_answer_at: r.last_answer_at,
            p95_24h_ms: r.p95_24h_ms,
            samples_24h: r.samples_24h,
        }
    }
}

/// The latest probe of every URL, with its 24-hour p95 latency.
pub async fn probe_states(db: &PgPool) -> sqlx::Result<HashMap<String, ProbeState>> {
    let rows: Vec<ProbeRow> = sqlx::query_as!(
        ProbeRow,
        r#"SELECT p.url, p.probed_at, p.ok, p.failure AS "failure?", p.status AS "status?", p.latency_ms AS "latency_ms?", p.redirect_to AS "redirect_to?", p.error AS "error?",
                p.chain_error AS "chain_error?", p.cert_not_after AS "cert_not_after?", p.cert_issuer AS "cert_issuer?", p.cert_names, p.cert_not_after_since AS "cert_not_after_since?",
                p.last_answer_at AS "last_answer_at?", d.p95 AS "p95_24h_ms?", coalesce(d.n, 0) AS "samples_24h!"
         FROM probe_results p
         LEFT JOIN LATERAL (
             SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY s.latency_ms) AS p95, count(*) AS n
             FROM probe_samples s
             WHERE s.url = p.url AND s.at > now() - interval '24 hours' AND s.latency_ms IS NOT NULL
         ) d ON true"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.url.clone(), ProbeState::from(r)))
        .collect())
}

/// The URLs to probe: every current route's.
pub async fn route_urls(db: &PgPool) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!("SELECT DISTINCT url FROM routes ORDER BY url",)
        .fetch_all(db)
        .await
}

/// Stores one round of probes: the latest state per URL, the raw samples, this hour's
/// aggregate, in one transaction; then drops samples past their keep.
pub async fn record_probes(db: &PgPool, states: &[ProbeState]) -> sqlx::Result<()> {
    let Some(earliest) = states.iter().filter_map(|s| s.probed_at).min() else {
        return Ok(());
    };
    let mut tx = db.begin().await?;
    for s in states {
        sqlx::query!(
            "INSERT INTO probe_results (url, probed_at, ok, failure, status, latency_ms, redirect_to,
                 error, chain_error, cert_not_after, cert_issuer, cert_names, cert_not_after_since,
                 last_answer_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (url) DO UPDATE SET probed_at = $2, ok = $3, failure = $4, status = $5,
                 latency_ms = $6, redirect_to = $7, error = $8, chain_error = $9,
                 cert_not_after = $10, cert_issuer = $11, cert_names = $12,
                 cert_not_after_since = $13, last_answer_at = $14",
            &s.url,
            s.probed_at,
            s.ok,
            s.failure.as_deref(),
            s.status,
            s.latency_ms,
            s.redirect_to.as_deref(),
            s.error.as_deref(),
            s.chain_error.as_deref(),
            s.cert_not_after,
            s.cert_issuer.as_deref(),
            &s.cert_names,
            s.cert_not_after_since,
            s.last_answer_at,
        )
        .execute(&mut *tx)
        .await?;
    }
    let urls: Vec<&str> = states.iter().map(|s| s.url.as_str()).collect();
    let ats: Vec<OffsetDateTime> = states.iter().filter_map(|s| s.probed_at).collect();
    let oks: Vec<bool> = states.iter().map(|s| s.ok).collect();
    let latencies: Vec<Option<i32>> = states.iter().map(|s| s.latency_ms).collect();
    sqlx::query!(
        "INSERT INTO probe_samples (url, at, ok, latency_ms)
         SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::bool[], $4::int4[])",
        &urls as _,
        &ats,
        &oks,
        &latencies as _,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO probe_hourly (url, hour, samples, successes, p50_ms, p95_ms)
         SELECT url, date_trunc('hour', at), count(*), count(*) FILTER (WHERE ok),
                percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)::int4,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)::int4
         FROM probe_samples
         WHERE url = ANY($1) AND at >= date_trunc('hour', $2::timestamptz)
         GROUP BY 1, 2
         ON CONFLICT (url, hour) DO UPDATE SET samples = EXCLUDED.samples,
             successes = EXCLUDED.successes, p50_ms = EXCLUDED.p50_ms, p95_ms = EXCLUDED.p95_ms",
        &urls as _,
        earliest,
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "DELETE FROM probe_samples WHERE at < now() - make_interval(hours => $1)",
        SAMPLES_KEPT_HOURS,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Availability of a service's routes over 24 h, 7 d and 30 d.
pub async fn service_availability(db: &PgPool, service_id: i64) -> sqlx::Result<Availability> {
    sqlx::query_as!(
        Availability,
        r#"SELECT sum(successes) FILTER (WHERE hour > now() - interval '24 hours')::float8
                  / nullif(sum(samples) FILTER (WHERE hour > now() - interval '24 hours'), 0) AS "day?",
                sum(successes) FILTER (WHERE hour > now() - interval '7 days')::float8
                  / nullif(sum(samples) FILTER (WHERE hour > now() - interval '7 days'), 0) AS "week?",
                sum(successes)::float8 / nullif(sum(samples), 0) AS "month?"
         FROM probe_hourly
         WHERE url IN (SELECT url FROM routes WHERE service_id = $1)
           AND hour > now() - interval '30 days'"#,
        service_id,
    )
    .fetch_one(db)
    .await
}

/// One share per day for the last `days` days (oldest first): from the routes' probes when the
/// service has probed routes, else from its container's refreshes.
pub async fn status_days(db: &PgPool, service_id: i64, days: i32) -> sqlx::Result<Vec<DayShare>> {
    let rows = sqlx::query!(
        r#"WITH probes AS (
             SELECT date_trunc('day', hour AT TIME ZONE 'UTC')::date AS day,
                    sum(successes)::float8 / nullif(sum(samples), 0) AS share
             FROM probe_hourly
             WHERE url IN (SELECT url FROM routes WHERE service_id = $1)
               AND hour > now() - make_interval(days => $2)
             GROUP BY 1),
         container AS (
             SELECT date_trunc('day', hour AT TIME ZONE 'UTC')::date AS day,
                    sum(up_samples)::float8 / nullif(sum(samples), 0) AS share
             FROM service_hourly
             WHERE service_id = $1 AND hour > now() - make_interval(days => $2)
             GROUP BY 1),
         days AS (
             SELECT generate_series((now() AT TIME ZONE 'UTC')::date - ($2 - 1),
                                    (now() AT TIME ZONE 'UTC')::date, interval '1 day')::date AS day)
         SELECT d.day AS "day!", CASE WHEN EXISTS (SELECT 1 FROM probes) THEN p.share ELSE c.share END AS share
         FROM days d LEFT JOIN probes p ON p.day = d.day LEFT JOIN container c ON c.day = d.day
         ORDER BY d.day"#,
        service_id,
        days,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DayShare {
            day: r.day,
            share: r.share,
        })
        .collect())
}

/// Hourly p50 and p95 latency of a service's routes (the slowest route each hour), 7 days.
pub async fn service_latency(
    db: &PgPool,
    service_id: i64,
) -> sqlx::Result<Vec<crate::charts::LatencyHour>> {
    let rows = sqlx::query!(
        "SELECT hour, max(p50_ms) AS p50_ms, max(p95_ms) AS p95_ms FROM probe_hourly
         WHERE url IN (SELECT url FROM routes WHERE service_id = $1)
           AND hour > now() - interval '7 days'
         GROUP BY hour ORDER BY hour",
        service_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.hour, r.p50_ms, r.p95_ms))
        .collect())
}
