//! The worker's step after every refresh: the stored actions follow the findings. New findings
//! open actions; an action whose findings are gone is done (verified by the portal, with the
//! fact); one whose findings return is reopened; an accepted risk past its expiry is open again.

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::actions::ActionState;

use super::queries::{self, NewState};
use super::rollup::{self, Step};
use crate::auth::SessionUser;

/// Done actions are listed this long after they closed.
pub const DONE_SHOWN_DAYS: i64 = 30;

/// Applies one refresh's steps in one transaction; returns how many actions changed.
pub async fn run(pool: &PgPool, now: OffsetDateTime) -> sqlx::Result<usize> {
    let services = queries::current_services(pool).await?;
    let current = rollup::current(&services);
    let mut tx = pool.begin().await?;
    // Serialises replicas and people: an action is changed by one of them at a time.
    sqlx::query!("SELECT pg_advisory_xact_lock(hashtext('audit-portal actions'))",)
        .execute(&mut *tx)
        .await?;
    let stored = queries::stored(&mut *tx, None).await?;
    let present: Vec<i64> = services.iter().map(|s| s.id).collect();
    let gone: Vec<i64> = stored
        .iter()
        .filter_map(|s| s.key.service_id)
        .filter(|id| !present.contains(id))
        .collect();
    let steps = rollup::steps(&stored, &current, &gone, now.date());
    let portal = SessionUser::portal();
    let latest_of = |id: i64| {
        stored
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.latest.as_ref())
    };
    for step in &steps {
        match step {
            Step::Open(key) => queries::open(&mut tx, *key).await?,
            Step::Close { id, note } => {
                queries::set_closed(&mut tx, *id, true).await?;
                let change = NewState::carried(latest_of(*id), ActionState::Done, note.clone());
                queries::append(&mut tx, *id, &change, &portal).await?;
            }
            Step::Reopen { id, note } => {
                queries::set_closed(&mut tx, *id, false).await?;
                let change = NewState::carried(latest_of(*id), ActionState::Open, note.clone());
                queries::append(&mut tx, *id, &change, &portal).await?;
            }
            Step::Expire { id, note } => {
                let change = NewState::carried(latest_of(*id), ActionState::Open, note.clone());
                queries::append(&mut tx, *id, &change, &portal).await?;
            }
        }
        if !matches!(step, Step::Open(_)) {
            tracing::info!(?step, "action changed");
        }
    }
    tx.commit().await?;
    Ok(steps.len())
}
