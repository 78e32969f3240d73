//! How a process knows that the data changed, without asking Postgres on every view.
//!
//! Every table announces its committed changes on [`CHANNEL`] (a statement trigger, migration
//! `20261202000010_data_changes.sql`), whoever wrote: a person, the worker, another replica, a
//! script. Each serving process follows the channel on a connection of its own and counts what it
//! hears; the count is the data's version. A person's own write is counted as soon as the request
//! that made it is answered (`note_writes`), so the page after a form shows the form's effect
//! without waiting for the announcement. While the channel is not followed (before the first
//! `LISTEN`, after a lost connection), each view asks Postgres for its committed-transaction
//! snapshot instead, as the read model did before: correct, one round trip dearer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// The channel the data-change triggers notify.
pub const CHANNEL: &str = "audit_data_changed";

/// What a generation was built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Version {
    /// The count of changes heard on the channel (and made here) since this process started.
    Counted(u64),
    /// Postgres's `pg_current_snapshot()` as text, when the channel is not followed.
    Snapshot(String),
}

/// The change count, and whether it can be trusted (the channel is followed).
#[derive(Debug, Default)]
pub struct ChangeCount {
    changes: AtomicU64,
    following: AtomicBool,
    /// The highest mark heard back (see [`ChangeCount::caught_up`]).
    marks_heard: AtomicU64,
}

impl ChangeCount {
    /// One more change: a notification, or a write this process just answered.
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// The data's version now: the count while the channel is followed, else Postgres's snapshot.
    pub async fn now(&self, db: &PgPool) -> sqlx::Result<Version> {
        if self.following.load(Ordering::Acquire) {
            return Ok(Version::Counted(self.changes.load(Ordering::Acquire)));
        }
        Ok(Version::Snapshot(snapshot(db).await?))
    }

    /// Whether the channel is followed (views need no query).
    pub fn following(&self) -> bool {
        self.following.load(Ordering::Acquire)
    }

    /// Waits until every change committed before this call has been counted: a mark sent
    /// through the channel comes back after them, since notifications arrive in commit order. For
    /// a caller that wrote through another connection and reads here next (the integration tests
    /// drive the worker and plain SQL beside the portal). Returns at once when the channel is not
    /// followed, since views then ask Postgres; gives up after 5 s.
    pub async fn caught_up(&self, db: &PgPool) -> sqlx::Result<()> {
        static NEXT_MARK: AtomicU64 = AtomicU64::new(1);
        if !self.following() {
            return Ok(());
        }
        let mark = NEXT_MARK.fetch_add(1, Ordering::Relaxed);
        sqlx::query!("SELECT pg_notify($1, $2)", CHANNEL, mark.to_string(),)
            .execute(db)
            .await?;
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.marks_heard.load(Ordering::Acquire) < mark
            && self.following()
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        Ok(())
    }

    /// One notification: the triggers' (no payload) count as a change, a mark as heard.
    fn heard(&self, payload: &str) {
        match payload.parse::<u64>() {
            Ok(mark) => {
                self.marks_heard.fetch_max(mark, Ordering::AcqRel);
            }
            Err(_) => self.changed(),
        }
    }

    pub(crate) fn follow_from_now(&self) {
        // Anything may have changed while nobody listened: the next view builds afresh.
        self.changed();
        self.following.store(true, Ordering::Release);
    }

    fn stop_following(&self) {
        self.following.store(false, Ordering::Release);
    }
}

/// Which transactions have committed, as text: equal texts, equal data.
pub async fn snapshot(db: &PgPool) -> sqlx::Result<String> {
    sqlx::query_scalar!(r#"SELECT pg_current_snapshot()::text AS "snapshot!""#,)
        .fetch_one(db)
        .await
}

/// Follows [`CHANNEL`] until `stop`, counting each announcement into `count`; a lost connection
/// falls back to per-view snapshots and is retried every second.
pub async fn follow(db: PgPool, count: Arc<ChangeCount>, stop: CancellationToken) {
    loop {
        let listener = async {
            let mut listener = PgListener::connect_with(&db).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            _ = stop.cancelled() => return,
            l = listener => l,
        };
        match listener.as_mut() {
            Ok(listener) => {
                count.follow_from_now();
                loop {
                    let heard = tokio::select! {
                        _ = stop.cancelled() => return,
                        heard = listener.try_recv() => heard,
                    };
                    match heard {
                        Ok(Some(note)) => count.heard(note.payload()),
                        // The connection went: whatever was announced meanwhile is unheard.
                        Ok(None) | Err(_) => break,
                    }
                }
                count.stop_following();
                tracing::warn!("lost the data-change channel; views ask Postgres until it is back");
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot follow the data-change channel; retrying");
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// Counts every answered request that may have written (anything but GET, HEAD and OPTIONS), so
/// that the page its redirect leads to is built from data that includes the write.
pub async fn note_writes(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let may_write = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(req).await;
    if may_write {
        state.read_model.changes.changed();
    }
    response
}
