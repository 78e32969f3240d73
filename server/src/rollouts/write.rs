//! What every write on a rollout shares: the audited unit of work and the re-check after it.

use app::model::Role;
use app::model::rollouts::RolloutDetail;

use super::show::{load, parse_id};
use crate::audited::Change;
use crate::auth::{SessionUser, authorize};
use crate::error::AppResult;
use crate::state::AppState;

pub(super) async fn audited<F>(
    state: &AppState,
    user: &SessionUser,
    action: &str,
    target: &str,
    after: serde_json::Value,
    write: F,
) -> AppResult<()>
where
    F: AsyncFnOnce(&mut sqlx::PgConnection) -> sqlx::Result<()>,
{
    let change = Change::<(), _> {
        actor: user,
        action,
        target,
        before: None,
        after: Some(after),
    };
    crate::audited::write(&state.db, change, write).await?;
    Ok(())
}

/// Re-runs the automatic checks from what Postgres holds (no Docker call), so a decision shows
/// its effect at once instead of after the next refresh.
pub(super) async fn recheck(state: &AppState) -> AppResult<()> {
    let report = crate::docs::live::current_report(&state.db, &state.settings.docs).await?;
    let stale_after = crate::worker::stale_after(&state.settings);
    let backups = crate::evidence::gather_backups(&state.db, &state.settings).await?;
    crate::rollouts::live::check_all(&state.db, &report.docs, stale_after, &backups.jobs).await?;
    Ok(())
}

/// The start of every admin write on a rollout: the id, the role check (refusals recorded), and
/// the rollout as it stands.
pub(super) async fn admin_write(
    state: &AppState,
    user: &SessionUser,
    id: &str,
    action: &str,
) -> AppResult<(i64, RolloutDetail)> {
    let id = parse_id(id)?;
    authorize(&state.db, user, Role::Admin, action, &id.to_string()).await?;
    Ok((id, load(state, id).await?))
}
