//! Postgres: the connection pool, migrations and readiness. Each feature keeps its own queries
//! (`phases::queries`, `inventory::services`, ...).

use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::redact_url;

mod parsed;
pub use parsed::Parsed;

pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Connects, failing within a few seconds with a message that names the (redacted) URL.
pub async fn connect(url: &str) -> anyhow::Result<PgPool> {
    let options: PgConnectOptions = url.parse().with_context(|| {
        format!(
            "DATABASE_URL {} is not a valid Postgres URL",
            redact_url(url)
        )
    })?;
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact_url(url)))
}

pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("applying database migrations failed")
}

/// Why the portal is not ready, or None when the database answers and every migration is applied.
pub async fn not_ready_reason(pool: &PgPool) -> Option<String> {
    let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    // The one query not checked at compile time: `_sqlx_migrations` belongs to sqlx's migrator,
    // not to the schema the migrations create, so the database the checks run against lacks it.
    let applied: Result<Option<i64>, sqlx::Error> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await;
    match applied {
        Err(e) => Some(format!("database not reachable or not migrated: {e}")),
        Ok(Some(v)) if v >= latest => None,
        Ok(v) => Some(format!(
            "database migrations pending: applied {}, latest {latest}",
            v.unwrap_or(0)
        )),
    }
}
