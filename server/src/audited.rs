//! The one write path for people's changes: the change and its audit record are written in one
//! transaction, so the trail never shows a change that did not happen, nor misses one that did.
//! A write that fails (the database refuses it, or the work returns a refusal) rolls back both.

use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::auth::SessionUser;
use crate::db::audit::{self, Outcome, Record};

/// What the audit trail says about a change: who, what, on what, and the state it replaced and
/// wrote.
pub struct Change<'a, B: Serialize, A: Serialize> {
    pub actor: &'a SessionUser,
    pub action: &'a str,
    pub target: &'a str,
    pub before: Option<B>,
    pub after: Option<A>,
}

/// Runs `work` in a transaction, appends the change's audit record in the same transaction and
/// commits. Nothing is written when `work` returns an error.
pub async fn write<T, E, B, A, F>(db: &PgPool, change: Change<'_, B, A>, work: F) -> Result<T, E>
where
    E: From<sqlx::Error>,
    B: Serialize,
    A: Serialize,
    F: AsyncFnOnce(&mut PgConnection) -> Result<T, E>,
{
    let mut tx = db.begin().await?;
    let value = work(&mut tx).await?;
    audit::append(
        &mut *tx,
        Record {
            actor: change.actor,
            action: change.action,
            target: change.target,
            outcome: Outcome::Done,
            before: change.before,
            after: change.after,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(value)
}
