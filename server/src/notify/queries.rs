//! Every SQL statement of the notifications, nothing else.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use app::model::FindingKind;
use app::model::notify::{DeliveryView, Mode, Rule, RuleSetting};

use super::conditions::{Condition, FallenItem, OpenAction};

/// Every rule with its setting; a rule nobody has set yet has its default.
pub async fn rules(db: &PgPool) -> sqlx::Result<Vec<RuleSetting>> {
    let stored: Vec<(String, bool, Option<i32>)> =
        sqlx::query_as("SELECT rule, enabled, days FROM notify_rules")
            .fetch_all(db)
            .await?;
    Ok(Rule::ALL
        .into_iter()
        .map(|rule| {
            let row = stored.iter().find(|(r, _, _)| r == rule.slug());
            RuleSetting {
                rule,
                enabled: row.map_or(rule.on_by_default(), |(_, e, _)| *e),
                days: row.and_then(|(_, _, d)| *d).unwrap_or(Rule::DEFAULT_DAYS),
            }
        })
        .collect())
}

pub async fn save_rules(
    conn: &mut PgConnection,
    rules: &[RuleSetting],
    by: &str,
) -> sqlx::Result<()> {
    for r in rules {
        sqlx::query(
            "INSERT INTO notify_rules (rule, enabled, days, changed_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (rule) DO UPDATE SET enabled = $2, days = $3, changed_by = $4, changed_at = now()",
        )
        .bind(r.rule.slug())
        .bind(r.enabled)
        .bind(r.rule.takes_days().then_some(r.days))
        .bind(by)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Each channel's mode; a channel not set is immediate.
pub async fn modes(db: &PgPool) -> sqlx::Result<HashMap<String, Mode>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT channel, mode FROM notify_channel_modes")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, m)| Some((c, Mode::parse(&m)?)))
        .collect())
}

pub async fn set_mode(
    conn: &mut PgConnection,
    channel: &str,
    mode: Mode,
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO notify_channel_modes (channel, mode, changed_by) VALUES ($1, $2, $3)
         ON CONFLICT (channel) DO UPDATE SET mode = $2, changed_by = $3, changed_at = now()",
    )
    .bind(channel)
    .bind(mode.slug())
    .bind(by)
    .execute(conn)
    .await?;
    Ok(())
}

/// The open conditions: (id, rule, key).
pub async fn open_conditions(conn: &mut PgConnection) -> sqlx::Result<Vec<(i64, String, String)>> {
    sqlx::query_as("SELECT id, rule, key FROM notify_conditions WHERE closed_at IS NULL")
        .fetch_all(conn)
        .await
}

/// Whether the rule has ever seen a condition (the letter's first sighting is no change).
pub async fn rule_seen_before(conn: &mut PgConnection, rule: Rule) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM notify_conditions WHERE rule = $1)")
        .bind(rule.slug())
        .fetch_one(conn)
        .await
}

pub async fn open_condition(conn: &mut PgConnection, c: &Condition) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO notify_conditions (rule, key, title, body, severity, link)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(c.rule.slug())
    .bind(&c.key)
    .bind(&c.title)
    .bind(&c.body)
    .bind(c.level.as_str())
    .bind(&c.link)
    .fetch_one(conn)
    .await
}

pub async fn close_conditions(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query("UPDATE notify_conditions SET closed_at = now() WHERE id = ANY($1)")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// A message to queue for one channel.
pub struct NewDelivery<'a> {
    pub channel: &'a str,
    pub kind: &'a str,
    pub condition_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub severity: &'a str,
    pub link: Option<&'a str>,
    /// held (for a digest) or pending.
    pub state: &'a str,
    pub requested_by: Option<&'a str>,
}

pub async fn queue(conn: &mut PgConnection, d: &NewDelivery<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO notify_deliveries (channel, kind, condition_id, title, body, severity, link, state, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(d.channel)
    .bind(d.kind)
    .bind(d.condition_id)
    .bind(d.title)
    .bind(d.body)
    .bind(d.severity)
    .bind(d.link)
    .bind(d.state)
    .bind(d.requested_by)
    .fetch_one(conn)
    .await
}

/// A queued message with what its channel needs to send it.
#[derive(Debug, sqlx::FromRow)]
pub struct Due {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub rule: Option<String>,
    pub key: Option<String>,
    pub title: String,
    pub body: String,
    pub severity: String,
    pub link: Option<String>,
    pub attempts: i32,
    pub created_at: OffsetDateTime,
}

const DUE_COLUMNS: &str =
    "d.id, d.channel, d.kind, c.rule, c.key, d.title, d.body, d.severity, d.link,
                           d.attempts, d.created_at";

/// Pending messages whose next attempt is due, oldest first.
pub async fn due(db: &PgPool, now: OffsetDateTime, limit: i64) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(&format!(
        "SELECT {DUE_COLUMNS} FROM notify_deliveries d
         LEFT JOIN notify_conditions c ON c.id = d.condition_id
         WHERE d.state = 'pending' AND d.next_attempt_at <= $1
         ORDER BY d.next_attempt_at, d.id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn one(db: &PgPool, id: i64) -> sqlx::Result<Option<Due>> {
    sqlx::query_as(&format!(
        "SELECT {DUE_COLUMNS} FROM notify_deliveries d
         LEFT JOIN notify_conditions c ON c.id = d.condition_id WHERE d.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Records one attempt and moves the delivery on: sent, failed for good, or due again at `retry_at`.
pub async fn record_attempt(
    db: &PgPool,
    id: i64,
    outcome: Result<u16, (Option<u16>, String)>,
    retry_at: Option<OffsetDateTime>,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let (ok, status, error) = match &outcome {
        Ok(status) => (true, Some(i32::from(*status)), None),
        Err((status, why)) => (false, status.map(i32::from), Some(why.as_str())),
    };
    sqlx::query(
        "INSERT INTO notify_attempts (delivery_id, ok, status, error) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(ok)
    .bind(status)
    .bind(error)
    .execute(&mut *tx)
    .await?;
    let state = match (ok, retry_at) {
        (true, _) => "sent",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    sqlx::query(
        "UPDATE notify_deliveries
         SET attempts = attempts + 1, state = $2,
             next_attempt_at = coalesce($3, next_attempt_at),
             finished_at = CASE WHEN $2 IN ('sent', 'failed') THEN now() END
         WHERE id = $1",
    )
    .bind(id)
    .bind(state)
    .bind(retry_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A delivery whose channel left the configuration: failed, with the reason as its attempt.
pub async fn abandon(db: &PgPool, id: i64, why: &str) -> sqlx::Result<()> {
    record_attempt(db, id, Err((None, why.to_string())), None).await
}

/// Held messages of a channel, oldest first: (id, title, link).
pub async fn held(db: &PgPool, channel: &str) -> sqlx::Result<Vec<(i64, String, Option<String>)>> {
    sqlx::query_as(
        "SELECT id, title, link FROM notify_deliveries WHERE channel = $1 AND state = 'held' ORDER BY id",
    )
    .bind(channel)
    .fetch_all(db)
    .await
}

/// When the channel's latest digest was made.
pub async fn last_digest_at(db: &PgPool, channel: &str) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar(
        "SELECT max(created_at) FROM notify_deliveries WHERE channel = $1 AND kind = 'digest'",
    )
    .bind(channel)
    .fetch_one(db)
    .await
}

/// One digest message for `held`, which it takes over.
pub async fn make_digest(
    db: &PgPool,
    channel: &str,
    held: &[i64],
    title: &str,
    body: &str,
) -> sqlx::Result<i64> {
    let mut tx = db.begin().await?;
    let id = queue(
        &mut tx,
        &NewDelivery {
            channel,
            kind: "digest",
            condition_id: None,
            title,
            body,
            severity: "info",
            link: Some("/settings/notifications"),
            state: "pending",
            requested_by: None,
        },
    )
    .await?;
    sqlx::query(
        "UPDATE notify_deliveries SET state = 'digested', digest_id = $2, finished_at = now()
         WHERE id = ANY($1) AND state = 'held'",
    )
    .bind(held)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    channel: String,
    kind: String,
    title: String,
    state: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: OffsetDateTime,
    next_attempt_at: OffsetDateTime,
    finished_at: Option<OffsetDateTime>,
}

const DELIVERY_VIEW: &str = "
    SELECT d.id, d.channel, d.kind, d.title, d.state, d.attempts, a.error AS last_error,
           d.created_at, d.next_attempt_at, d.finished_at
    FROM notify_deliveries d
    LEFT JOIN LATERAL (SELECT error FROM notify_attempts WHERE delivery_id = d.id
                       ORDER BY id DESC LIMIT 1) a ON true";

/// The latest deliveries with their latest attempt's error.
pub async fn recent(db: &PgPool, limit: i64) -> sqlx::Result<Vec<DeliveryView>> {
    let rows: Vec<DeliveryRow> =
        sqlx::query_as(&format!("{DELIVERY_VIEW} ORDER BY d.id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(view).collect())
}

/// One delivery as the page shows it.
pub async fn delivery(db: &PgPool, id: i64) -> sqlx::Result<Option<DeliveryView>> {
    let row: Option<DeliveryRow> = sqlx::query_as(&format!("{DELIVERY_VIEW} WHERE d.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(view))
}

fn view(r: DeliveryRow) -> DeliveryView {
    DeliveryView {
        id: r.id,
        channel: r.channel,
        kind: r.kind,
        title: r.title,
        state: r.state,
        attempts: r.attempts,
        last_error: r.last_error,
        created_at: r.created_at,
        next_attempt_at: r.next_attempt_at,
        finished_at: r.finished_at,
    }
}

#[derive(sqlx::FromRow)]
struct ActionRow {
    id: i64,
    kind: String,
    engine: Option<String>,
    key: Option<String>,
    name: Option<String>,
    opened_at: OffsetDateTime,
}

/// Open actions that are not an accepted risk in force, with their service.
pub async fn open_actions(db: &PgPool) -> sqlx::Result<Vec<OpenAction>> {
    let rows: Vec<ActionRow> = sqlx::query_as(
        "SELECT a.id, a.kind, e.name AS engine, s.key, s.display_name AS name, a.opened_at
         FROM actions_now a
         LEFT JOIN services s ON s.id = a.service_id
         LEFT JOIN engines e ON e.id = s.engine_id
         WHERE a.closed_at IS NULL
           AND NOT (coalesce(a.state, 'open') = 'accepted' AND a.risk_expires_on >= current_date)",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(OpenAction {
                id: r.id,
                kind: FindingKind::from_slug(&r.kind)?,
                service: match (r.engine, r.key, r.name) {
                    (Some(e), Some(k), Some(n)) => Some((e, k, n)),
                    _ => None,
                },
                opened_at: r.opened_at,
            })
        })
        .collect())
}

/// Rollout items whose latest status is below verified although an earlier one was verified.
pub async fn fallen_items(db: &PgPool) -> sqlx::Result<Vec<FallenItem>> {
    let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
        "SELECT it.id, r.id, r.name, it.title, latest.status
         FROM rollout_items it
         JOIN rollouts r ON r.id = it.rollout_id
         JOIN LATERAL (SELECT id, status FROM rollout_item_events WHERE item_id = it.id
                       ORDER BY id DESC LIMIT 1) latest ON true
         WHERE latest.status <> 'verified'
           AND EXISTS (SELECT 1 FROM rollout_item_events e
                       WHERE e.item_id = it.id AND e.status = 'verified' AND e.id < latest.id)
         ORDER BY r.id, it.id",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(item_id, rollout_id, rollout, title, status)| FallenItem {
            item_id,
            rollout_id,
            rollout,
            title,
            status,
        })
        .collect())
}
