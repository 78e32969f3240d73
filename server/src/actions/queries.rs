//! The action plan's queries: current services with their findings, stored actions with their
//! latest change, and the appends.

use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};

use app::model::actions::{ActionCounts, ActionState, Effort, ServiceAction};
use app::model::{Finding, FindingKind};

use super::rollup::{ActionKey, CurrentService, Latest, Stored};
use crate::auth::SessionUser;

pub async fn current_services(db: &PgPool) -> sqlx::Result<Vec<CurrentService>> {
    let rows = sqlx::query!(
        r#"SELECT s.id, e.name AS engine, s.key, s.display_name AS name,
                  s.findings AS "findings: Json<Vec<Finding>>"
           FROM services s JOIN engines e ON e.id = s.engine_id
           WHERE s.removed_at IS NULL AND e.configured
           ORDER BY e.name, s.key"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CurrentService {
            id: r.id,
            engine: r.engine,
            key: r.key,
            name: r.name,
            findings: r.findings.0,
        })
        .collect())
}

/// Services an action names that are no longer current (removed, or their engine left the
/// configuration): (id, engine, key, name).
pub async fn services_by_id(
    db: &PgPool,
    ids: &[i64],
) -> sqlx::Result<Vec<(i64, String, String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT s.id, e.name, s.key, s.display_name
         FROM services s JOIN engines e ON e.id = s.engine_id WHERE s.id = ANY($1)"#,
        ids,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, r.name, r.key, r.display_name))
        .collect())
}

struct StoredRow {
    id: i64,
    kind: String,
    service_id: Option<i64>,
    opened_at: OffsetDateTime,
    closed_at: Option<OffsetDateTime>,
    state: Option<String>,
    owner: Option<String>,
    due_on: Option<Date>,
    effort: Option<String>,
    reason: Option<String>,
    risk_expires_on: Option<Date>,
    note: Option<String>,
    actor_name: Option<String>,
    at: Option<OffsetDateTime>,
}

/// Every action still open, and those closed within `done_days` (None: all of them, as the
/// worker needs to reopen an old one), each with its latest change.
pub async fn stored(db: impl PgExecutor<'_>, done_days: Option<i64>) -> sqlx::Result<Vec<Stored>> {
    let rows: Vec<StoredRow> = sqlx::query_as!(
        StoredRow,
        r#"SELECT id AS "id!", kind AS "kind!", service_id AS "service_id?", opened_at AS "opened_at!", closed_at AS "closed_at?", state AS "state?",
                owner AS "owner?", due_on AS "due_on?", effort AS "effort?", reason AS "reason?", risk_expires_on AS "risk_expires_on?", note AS "note?", actor_name AS "actor_name?", at AS "at?"
         FROM actions_now
         WHERE closed_at IS NULL OR $1::int IS NULL
            OR closed_at > now() - make_interval(days => $1::int)
         ORDER BY id"#,
        done_days.map(|d| d as i32),
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().filter_map(stored_of).collect())
}

/// One action with its latest change, locked for an update by a person.
pub async fn one_for_update(conn: &mut PgConnection, id: i64) -> sqlx::Result<Option<Stored>> {
    // The action's row is locked first, so the latest change read next stays the latest.
    sqlx::query_scalar!("SELECT id FROM actions WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *conn)
        .await?;
    let row: Option<StoredRow> = sqlx::query_as!(
        StoredRow,
        r#"SELECT id AS "id!", kind AS "kind!", service_id AS "service_id?", opened_at AS "opened_at!", closed_at AS "closed_at?", state AS "state?",
                owner AS "owner?", due_on AS "due_on?", effort AS "effort?", reason AS "reason?", risk_expires_on AS "risk_expires_on?", note AS "note?", actor_name AS "actor_name?", at AS "at?"
         FROM actions_now WHERE id = $1"#,
        id,
    )
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.and_then(stored_of))
}

fn stored_of(r: StoredRow) -> Option<Stored> {
    // A kind this version no longer raises (a row from a newer or older release) is skipped
    // rather than failing the whole page.
    let kind = FindingKind::from_slug(&r.kind)?;
    let latest = match (r.state.as_deref().and_then(ActionState::parse), r.at) {
        (Some(state), Some(at)) => Some(Latest {
            state,
            owner: r.owner,
            due_on: r.due_on,
            effort: r.effort.as_deref().and_then(Effort::parse),
            reason: r.reason,
            risk_expires_on: r.risk_expires_on,
            note: r.note.unwrap_or_default(),
            by: r.actor_name.unwrap_or_default(),
            at,
        }),
        _ => None,
    };
    Some(Stored {
        id: r.id,
        key: ActionKey {
            kind,
            service_id: r.service_id,
        },
        opened_at: r.opened_at,
        closed_at: r.closed_at,
        latest,
    })
}

/// Registers a new action; an action already there (another replica's refresh) is left alone.
pub async fn open(conn: &mut PgConnection, key: ActionKey) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO actions (kind, service_id) VALUES ($1, $2)
         ON CONFLICT (kind, coalesce(service_id, 0)) DO NOTHING",
        key.kind.slug(),
        key.service_id,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_closed(conn: &mut PgConnection, id: i64, closed: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE actions SET closed_at = CASE WHEN $2 THEN now() END,
                opened_at = CASE WHEN $2 THEN opened_at ELSE now() END
         WHERE id = $1",
        id,
        closed,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// What a change sets: the whole state of the action after it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NewState {
    pub state: ActionState,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub effort: Option<Effort>,
    pub reason: Option<String>,
    pub risk_expires_on: Option<Date>,
    pub note: String,
}

impl NewState {
    /// The state in force, carried forward by a change that only moves the state.
    pub fn carried(latest: Option<&Latest>, state: ActionState, note: String) -> NewState {
        NewState {
            state,
            owner: latest.and_then(|l| l.owner.clone()),
            due_on: latest.and_then(|l| l.due_on),
            effort: latest.and_then(|l| l.effort),
            reason: None,
            risk_expires_on: None,
            note,
        }
    }
}

pub async fn append(
    conn: &mut PgConnection,
    action_id: i64,
    change: &NewState,
    actor: &SessionUser,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO action_changes (action_id, state, owner, due_on, effort, reason,
                                     risk_expires_on, note, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        action_id,
        change.state.as_str(),
        change.owner.as_deref(),
        change.due_on,
        change.effort.map(Effort::as_str),
        change.reason.as_deref(),
        change.risk_expires_on,
        &change.note,
        &actor.subject,
        actor.display_name(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The open actions concerning one service: its own, and those across services for a kind it
/// has. Each with the state in force today.
pub async fn for_service(
    db: &PgPool,
    engine: &str,
    key: &str,
    kinds: &[&str],
    today: Date,
) -> sqlx::Result<Vec<ServiceAction>> {
    let rows: Vec<StoredRow> = sqlx::query_as!(
        StoredRow,
        r#"SELECT id AS "id!", kind AS "kind!", service_id AS "service_id?", opened_at AS "opened_at!", closed_at AS "closed_at?", state AS "state?",
                owner AS "owner?", due_on AS "due_on?", effort AS "effort?", reason AS "reason?", risk_expires_on AS "risk_expires_on?", note AS "note?", actor_name AS "actor_name?", at AS "at?"
         FROM actions_now
         WHERE closed_at IS NULL
           AND (service_id = (SELECT s.id FROM services s JOIN engines e ON e.id = s.engine_id
                              WHERE e.name = $1 AND s.key = $2)
                OR (service_id IS NULL AND kind = ANY($3)))
         ORDER BY id"#,
        engine,
        key,
        kinds as _,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(stored_of)
        .map(|s| {
            let state = super::rollup::state_now(false, s.latest.as_ref(), today);
            let latest = s.latest.as_ref();
            ServiceAction {
                id: s.id,
                kind: s.key.kind,
                state,
                owner: latest.and_then(|l| l.owner.clone()),
                due_on: latest.and_then(|l| l.due_on),
                risk_expires_on: latest
                    .filter(|_| state == ActionState::Accepted)
                    .and_then(|l| l.risk_expires_on),
                fleet_wide: s.key.service_id.is_none(),
            }
        })
        .collect())
}

/// How many actions are open (and of those overdue) and accepted as risks, as of `today`: the
/// open actions' states by the same rule the plan shows them with.
pub async fn counts(db: &PgPool, today: Date) -> sqlx::Result<ActionCounts> {
    let mut counts = ActionCounts::default();
    let open = stored(db, Some(0)).await?;
    for action in open.iter().filter(|a| a.closed_at.is_none()) {
        match super::rollup::state_now(false, action.latest.as_ref(), today) {
            ActionState::Accepted => counts.accepted += 1,
            _ => {
                counts.open += 1;
                let due = action.latest.as_ref().and_then(|l| l.due_on);
                if due.is_some_and(|d| d < today) {
                    counts.overdue += 1;
                }
            }
        }
    }
    Ok(counts)
}
