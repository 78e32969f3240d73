//! Building and running the portal: database, worker, HTTP server and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::bundled_pg::BundledPostgres;
use crate::config::Settings;
use crate::state::AppState;
use crate::{db, routes, worker};

/// The database the portal uses, and the bundled server behind it when there is one.
pub struct Database {
    pub pool: PgPool,
    bundled: Option<BundledPostgres>,
}

impl Database {
    /// Connects to `DATABASE_URL`, or starts the bundled Postgres; then applies migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Database> {
        let (url, bundled) = match &settings.database_url {
            Some(url) => (url.expose().to_string(), None),
            None => {
                let (pg, url) = BundledPostgres::start(&settings.data_dir)
                    .await
                    .context("bundled Postgres")?;
                (url, Some(pg))
            }
        };
        let pool = match db::connect(&url).await {
            Ok(pool) => pool,
            Err(e) => {
                if let Some(pg) = &bundled {
                    pg.stop().await.ok();
                }
                return Err(e);
            }
        };
        let database = Database { pool, bundled };
        if let Err(e) = db::migrate(&database.pool).await {
            database.close().await;
            return Err(e);
        }
        Ok(database)
    }

    /// Closes the pool, then stops the bundled Postgres if we started it.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(pg) = self.bundled
            && let Err(e) = pg.stop().await
        {
            tracing::error!(
                error = format!("{e:#}"),
                "stopping the bundled Postgres failed"
            );
        }
    }
}

/// Serves HTTP on `listener` until `shutdown` is cancelled, then lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // The accounting rollout exists from the first start, and follows the configured host.
    crate::rollouts::queries::ensure_accounting(&state.db, &state.settings.rollouts)
        .await
        .context("seeding the accounting rollout")?;
    crate::metrics::stalls::watch(shutdown.child_token());
    tokio::spawn(purge_expired_sessions(
        state.db.clone(),
        SESSION_PURGE_INTERVAL,
        shutdown.child_token(),
    ));
    tokio::spawn(crate::readmodel::version::follow(
        state.db.clone(),
        state.read_model.changes.clone(),
        shutdown.child_token(),
    ));
    let app = routes::router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .context("HTTP server failed")
}

/// How often expired sessions (ended, idle or abandoned sign-ins) are deleted from the store.
const SESSION_PURGE_INTERVAL: Duration = Duration::from_secs(300);

/// Deletes expired sessions every `every` until `stop`: the store only ignores them on load,
/// so without this every abandoned sign-in would stay in the table for good.
pub async fn purge_expired_sessions(db: PgPool, every: Duration, stop: CancellationToken) {
    use tower_sessions::ExpiredDeletion;
    let store = tower_sessions_sqlx_store::PostgresStore::new(db);
    let mut timer = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = timer.tick() => {}
        }
        if let Err(e) = store.delete_expired().await {
            tracing::warn!(error = %e, "deleting expired sessions failed; trying again later");
        }
    }
}

/// `audit-portal serve`: everything, until SIGTERM or Ctrl-C.
pub async fn run_serve(settings: Settings) -> anyhow::Result<()> {
    settings.check_can_serve()?;
    let settings = Arc::new(settings);
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {} (AUDIT_LISTEN)", settings.listen))?;
    let database = Database::open(&settings).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));

    let worker = settings.worker_in_serve.then(|| {
        tokio::spawn(worker::run(
            database.pool.clone(),
            settings.clone(),
            shutdown.child_token(),
        ))
    });
    let state = AppState::new(database.pool.clone(), settings.clone())?;
    tracing::info!(address = %settings.listen, public_url = %settings.public_url, "serving the portal");
    let served = serve(listener, state, shutdown.clone()).await;
    shutdown.cancel();
    if let Some(worker) = worker
        && tokio::time::timeout(Duration::from_secs(3), worker)
            .await
            .is_err()
    {
        tracing::warn!("the worker did not stop within 3 s; leaving it");
    }
    database.close().await;
    tracing::info!("stopped");
    served
}

/// `audit-portal worker`: the refresher alone, for a deployment that runs it apart from the pages.
pub async fn run_worker(settings: Settings) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    let database = Database::open(&settings).await?;
    crate::rollouts::queries::ensure_accounting(&database.pool, &settings.rollouts)
        .await
        .context("seeding the accounting rollout")?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    worker::run(database.pool.clone(), settings, shutdown).await;
    database.close().await;
    Ok(())
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM");
            let _ = ctrl_c.await;
            shutdown.cancel();
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!("Ctrl-C received; shutting down"),
        _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
    }
    shutdown.cancel();
}
