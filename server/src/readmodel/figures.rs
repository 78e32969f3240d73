//! The headline figures, read once per generation like the pages' parts: what machines poll
//! (`/metrics` for Prometheus, `/api/v1/summary` and `/api/v1/grade`) and the grade the pages
//! show. Scoring the grade and documentation coverage afresh costs tens of milliseconds at 1,000
//! services: a scrape every 15 seconds per scraper, and every view of a phase page, paid it.

use std::sync::Arc;

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::docs::CoverageFigures;
use app::model::findings::Severity;
use app::model::{EngineStatus, FindingKind, InventoryCounts};

use crate::config::Settings;
use crate::grade::evidence::GradeResult;
use crate::grade::rubric::Rubric;

/// The latest probe of a route URL: the URL, whether it succeeded, its latency in ms and the
/// certificate's expiry.
pub type Probe = (String, bool, Option<i32>, Option<OffsetDateTime>);

/// One state of the data, as the machine-read endpoints report it.
#[derive(Debug)]
pub struct Figures {
    pub coverage: CoverageFigures,
    pub grade: GradeResult,
    /// The rubric the grade was scored with, and its version.
    pub rubric: Rubric,
    pub rubric_version: i32,
    pub counts: InventoryCounts,
    pub engines: Vec<EngineStatus>,
    /// Open findings on current services: (kind, severity, services).
    pub findings: Vec<(FindingKind, Severity, i64)>,
    /// Current services: (engine, state, health, services).
    pub service_states: Vec<(String, String, String, i64)>,
    pub probes: Vec<Probe>,
    /// The latest successful run of each backup job and kind: (job, kind, finished).
    pub backups: Vec<(String, String, OffsetDateTime)>,
}

/// The figures of `generation`, read by the first caller in it (callers meanwhile wait for it).
pub async fn of(
    generation: &super::Generation,
    pool: &PgPool,
    settings: &Settings,
) -> sqlx::Result<Arc<Figures>> {
    generation
        .figures
        .get_or_try_init(|| async { load(pool, settings).await.map(Arc::new) })
        .await
        .cloned()
}

/// The figures of the current generation.
pub async fn current(state: &crate::state::AppState) -> sqlx::Result<Arc<Figures>> {
    let generation = state.read_model.current(&state.db).await?;
    of(&generation, &state.db, &state.settings).await
}

/// Reads every figure (the grade scored from the coverage it depends on).
async fn load(pool: &PgPool, settings: &Settings) -> sqlx::Result<Figures> {
    let stale_after = crate::worker::stale_after(settings);
    let coverage = crate::docs::live::current_report(pool, &settings.docs)
        .await?
        .overall;
    let (
        (rubric_version, rubric, grade),
        counts,
        engines,
        findings,
        service_states,
        probes,
        backups,
    ) = tokio::try_join!(
        crate::grade::live::current_with(pool, &coverage),
        crate::inventory::services::counts(pool, stale_after),
        crate::inventory::engines::statuses(pool, stale_after),
        crate::inventory::services::finding_totals(pool),
        service_states(pool),
        probes(pool),
        backups(pool),
    )?;
    Ok(Figures {
        coverage,
        grade,
        rubric,
        rubric_version,
        counts,
        engines,
        findings,
        service_states,
        probes,
        backups,
    })
}

/// Services by engine, state and health (removed ones left out).
async fn service_states(pool: &PgPool) -> sqlx::Result<Vec<(String, String, String, i64)>> {
    let rows = sqlx::query!(
        r#"SELECT e.name, s.state, coalesce(s.health, 'none') AS "health!", count(*) AS "services!"
         FROM services s JOIN engines e ON e.id = s.engine_id
         WHERE s.removed_at IS NULL AND e.configured
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"#,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.name, r.state, r.health, r.services))
        .collect())
}

async fn probes(pool: &PgPool) -> sqlx::Result<Vec<Probe>> {
    let rows = sqlx::query!(
        "SELECT url, ok, latency_ms, cert_not_after FROM probe_results
         WHERE url IN (SELECT url FROM routes) ORDER BY url",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.url, r.ok, r.latency_ms, r.cert_not_after))
        .collect())
}

async fn backups(pool: &PgPool) -> sqlx::Result<Vec<(String, String, OffsetDateTime)>> {
    let rows = sqlx::query!(
        r#"SELECT job, kind, max(finished_at) AS "finished_at!" FROM backup_runs WHERE ok
         GROUP BY 1, 2 ORDER BY 1, 2"#,
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.job, r.kind, r.finished_at))
        .collect())
}
