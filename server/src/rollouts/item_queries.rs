//! Queries for a rollout's checklist: items (with their latest event), the items live checks
//! decide, the events appended to them, and the rollout's timeline.

use sqlx::{PgExecutor, PgPool};
use time::{Date, OffsetDateTime};

use app::model::rollouts::ItemStatus;

use crate::db::Parsed;

#[derive(Clone, Debug)]
pub struct ItemRow {
    pub id: i64,
    pub rollout_id: i64,
    pub title: String,
    pub auto_check: Option<String>,
    pub status: ItemStatus,
    pub source: String,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub note: String,
    pub link: Option<String>,
    pub actor_name: String,
    pub at: OffsetDateTime,
    /// The portal's latest event: its status and fact, and when.
    pub portal_status: Option<String>,
    pub portal_fact: Option<String>,
    pub portal_at: Option<OffsetDateTime>,
}

/// Which items to read: one rollout's, every automatic one, or one.
#[derive(Clone, Copy)]
enum ItemScope {
    Rollout(i64),
    Automatic,
    Item(i64),
}

/// Items in plan order, each with its current state and the portal's latest finding.
async fn item_rows(db: &PgPool, scope: ItemScope) -> sqlx::Result<Vec<ItemRow>> {
    let (rollout, automatic, item) = match scope {
        ItemScope::Rollout(id) => (Some(id), false, None),
        ItemScope::Automatic => (None, true, None),
        ItemScope::Item(id) => (None, false, Some(id)),
    };
    sqlx::query_as!(
        ItemRow,
        r#"SELECT it.id, it.rollout_id, it.title, it.auto_check AS "auto_check?",
                  e.status AS "status!: Parsed<ItemStatus>", e.source, e.owner AS "owner?", e.due_on AS "due_on?",
                  e.note, e.link AS "link?", e.actor_name, e.at,
                  p.status AS "portal_status?", p.note AS "portal_fact?", p.at AS "portal_at?"
           FROM rollout_items it
           JOIN LATERAL (SELECT * FROM rollout_item_events WHERE item_id = it.id
                         ORDER BY id DESC LIMIT 1) e ON true
           LEFT JOIN LATERAL (SELECT status, note, at FROM rollout_item_events
                              WHERE item_id = it.id AND source = 'portal'
                              ORDER BY id DESC LIMIT 1) p ON true
           WHERE ($1::int8 IS NULL OR it.rollout_id = $1)
             AND (NOT $2 OR it.auto_check IS NOT NULL)
             AND ($3::int8 IS NULL OR it.id = $3)
           ORDER BY it.rollout_id, it.position"#,
        rollout,
        automatic,
        item,
    )
    .fetch_all(db)
    .await
}

/// A rollout's items in order, each with its current state and the portal's latest finding.
pub async fn items(db: &PgPool, rollout: i64) -> sqlx::Result<Vec<ItemRow>> {
    item_rows(db, ItemScope::Rollout(rollout)).await
}

/// Every automatic item of every rollout, for the worker's checks.
pub async fn auto_items(db: &PgPool) -> sqlx::Result<Vec<ItemRow>> {
    item_rows(db, ItemScope::Automatic).await
}

pub async fn item(db: &PgPool, id: i64) -> sqlx::Result<Option<ItemRow>> {
    Ok(item_rows(db, ItemScope::Item(id)).await?.pop())
}

/// One change of an item's state.
pub struct ItemEvent<'a> {
    pub item: i64,
    pub status: ItemStatus,
    pub source: &'a str,
    pub owner: Option<&'a str>,
    pub due_on: Option<Date>,
    pub note: &'a str,
    pub link: Option<&'a str>,
    pub actor: &'a str,
}

pub async fn add_item_event(db: impl PgExecutor<'_>, e: &ItemEvent<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO rollout_item_events (item_id, status, source, owner, due_on, note, link, actor_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        e.item,
        e.status.as_str(),
        e.source,
        e.owner,
        e.due_on,
        e.note,
        e.link,
        e.actor,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct TimelineRow {
    pub title: String,
    pub status: ItemStatus,
    pub source: String,
    pub note: String,
    pub actor_name: String,
    pub at: OffsetDateTime,
}

/// The latest status changes of a rollout's items, newest first.
pub async fn timeline(db: &PgPool, rollout: i64, limit: i64) -> sqlx::Result<Vec<TimelineRow>> {
    sqlx::query_as!(
        TimelineRow,
        r#"SELECT it.title, e.status AS "status: Parsed<ItemStatus>", e.source, e.note, e.actor_name, e.at
         FROM rollout_item_events e JOIN rollout_items it ON it.id = e.item_id
         -- An item's creation (the portal, no note) says nothing a reader needs.
         WHERE it.rollout_id = $1 AND NOT (e.source = 'portal' AND e.note = '')
         ORDER BY e.id DESC LIMIT $2"#,
        rollout,
        limit,
    )
    .fetch_all(db)
    .await
}

pub async fn mark_checked(db: &PgPool) -> sqlx::Result<()> {
    sqlx::query!("UPDATE rollouts SET checked_at = now()",)
        .execute(db)
        .await?;
    Ok(())
}

/// Every item's current status, by id, for the phase deliverables bound to a rollout item.
pub async fn statuses(db: &PgPool) -> sqlx::Result<Vec<(i64, ItemStatus)>> {
    struct Row {
        id: i64,
        status: ItemStatus,
    }
    let rows: Vec<Row> = sqlx::query_as!(
        Row,
        r#"SELECT i.id, e.status AS "status!: Parsed<ItemStatus>" FROM rollout_items i
         JOIN LATERAL (SELECT status FROM rollout_item_events WHERE item_id = i.id
                       ORDER BY id DESC LIMIT 1) e ON true"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.status)).collect())
}
