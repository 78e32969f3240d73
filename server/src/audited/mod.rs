//! The one write path for people's changes: the change and its audit record are written in one
//! transaction, so the trail never shows a change that did not happen, nor misses one that did.
//! A write that fails (the database refuses it, or the work returns a refusal) rolls back both.

pub(crate) mod page;
pub mod trail;

use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::auth::SessionUser;
use trail::{Outcome, Record};

/// Why a unit of work stopped without writing anything: a refusal to show the person, a thing
/// that is not there, or the database.
#[derive(Debug)]
pub enum Stopped {
    Refused(String),
    Missing,
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Stopped {
    fn from(e: sqlx::Error) -> Self {
        Stopped::Database(e)
    }
}

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
    let Change {
        actor,
        action,
        target,
        before,
        after,
    } = change;
    write_recording(db, actor, action, async |conn| {
        let value = work(conn).await?;
        let recorded = Recorded {
            target: target.to_string(),
            before,
            after,
        };
        Ok((value, recorded))
    })
    .await
}

/// The part of the record only the write knows: its target (named by a new row's id) and the
/// state it replaced and wrote.
pub struct Recorded<B: Serialize, A: Serialize> {
    pub target: String,
    pub before: Option<B>,
    pub after: Option<A>,
}

/// [`write`] for a change whose record depends on what the write did (a release records the
/// claim it ended, a new deliverable is named by its id): `work` returns its value and the
/// record's target, before and after.
pub async fn write_recording<T, E, B, A, F>(
    db: &PgPool,
    actor: &SessionUser,
    action: &str,
    work: F,
) -> Result<T, E>
where
    E: From<sqlx::Error>,
    B: Serialize,
    A: Serialize,
    F: AsyncFnOnce(&mut PgConnection) -> Result<(T, Recorded<B, A>), E>,
{
    let mut tx = db.begin().await?;
    let (value, recorded) = work(&mut tx).await?;
    trail::append(
        &mut *tx,
        Record {
            actor,
            action,
            target: &recorded.target,
            outcome: Outcome::Done,
            before: recorded.before,
            after: recorded.after,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(value)
}
