//! The background worker: the only part of the portal that talks to Docker.
//!
//! Several replicas may run; a Postgres advisory lock makes exactly one of them the refresher,
//! and the others stand by until it goes away. A refresh is [`Worker::refresh_once`], which tests
//! call directly; [`run`] calls it on a timer and whenever someone presses "Refresh now".

mod refresh;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;

pub use refresh::{RefreshReport, Worker};

/// Arbitrary, fixed key of the advisory lock that elects the refresher ("audit" in ASCII).
const LEADER_LOCK_KEY: i64 = 0x0061_7564_6974;

/// Data older than about three intervals counts as stale.
pub fn stale_after(settings: &Settings) -> Duration {
    settings.refresh.interval * 3 + Duration::from_secs(5)
}

/// Runs until `shutdown` is cancelled. Errors are logged and retried, never fatal.
pub async fn run(pool: PgPool, settings: Arc<Settings>, shutdown: CancellationToken) {
    let mut worker = Worker::new(pool.clone(), settings.clone());
    loop {
        let outcome = tokio::select! {
            _ = shutdown.cancelled() => return,
            outcome = lead(&pool, &settings, &mut worker, &shutdown) => outcome,
        };
        match outcome {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "worker lost its footing; retrying"
                );
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(settings.refresh.interval.min(Duration::from_secs(10))) => {}
                }
            }
        }
    }
}

/// Waits to become the refresher, then refreshes until shutdown or until the lock connection fails.
async fn lead(
    pool: &PgPool,
    settings: &Arc<Settings>,
    worker: &mut Worker,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    // The lock lives as long as this connection, which is kept out of the pool for that reason.
    let mut lock_conn = pool
        .acquire()
        .await
        .context("connecting for the worker lock")?
        .detach();
    let mut announced = false;
    loop {
        let leader: bool = sqlx::query_scalar!(
            r#"SELECT pg_try_advisory_lock($1) AS "locked!""#,
            LEADER_LOCK_KEY,
        )
        .fetch_one(&mut lock_conn)
        .await
        .context("taking the worker lock")?;
        if leader {
            break;
        }
        if !announced {
            tracing::info!("another replica is refreshing; this worker stands by");
            announced = true;
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(settings.refresh.interval) => {}
        }
    }
    tracing::info!(
        engines = settings.engines.len(),
        interval_s = settings.refresh.interval.as_secs(),
        "worker is the refresher"
    );
    // The probes run beside the refreshes, on their own interval, as long as this worker leads.
    let probes = CancellationToken::new();
    let _stop_probes = probes.clone().drop_guard();
    tokio::spawn(crate::edge::run(
        pool.clone(),
        settings.clone(),
        probes.clone(),
    ));
    // So does the notification sender.
    tokio::spawn(crate::notify::run(pool.clone(), settings.clone(), probes));
    let mut listener = PgListener::connect_with(pool)
        .await
        .context("listening for refresh requests")?;
    listener
        .listen(crate::inventory::engines::REFRESH_CHANNEL)
        .await
        .context("listening for refresh requests")?;
    loop {
        match worker.refresh_once().await {
            Ok(report) => tracing::info!(
                engines = report.engines,
                failed = report.failed_engines,
                containers = report.containers,
                ms = report.duration.as_millis() as u64,
                "refresh done"
            ),
            Err(e) => tracing::error!(
                error = format!("{e:#}"),
                "refresh failed; history is untouched"
            ),
        }
        // Check that we still hold the lock's connection; if it died another replica may lead now.
        sqlx::query_scalar!("SELECT 1 AS alive")
            .fetch_one(&mut lock_conn)
            .await
            .context("worker lock connection lost")?;
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(settings.refresh.interval) => {}
            note = listener.recv() => {
                note.context("refresh request channel failed")?;
                tracing::info!("refresh requested");
            }
        }
    }
}
