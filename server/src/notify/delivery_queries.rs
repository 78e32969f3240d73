//! Queries for the delivery queue: messages queued per channel, the ones due, their attempts, digests, and the deliveries page.

use app::model::notify::DeliveryView;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

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
    sqlx::query_scalar!(
        "INSERT INTO notify_deliveries (channel, kind, condition_id, title, body, severity, link, state, requested_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        d.channel,
        d.kind,
        d.condition_id,
        d.title,
        d.body,
        d.severity,
        d.link,
        d.state,
        d.requested_by,
    )
    .fetch_one(conn)
    .await
}

/// A queued message with what its channel needs to send it.
#[derive(Debug)]
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

/// Pending messages whose next attempt is due (oldest first), or the one asked for.
async fn due_rows(
    db: &PgPool,
    only: Option<i64>,
    now: OffsetDateTime,
    limit: i64,
) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as!(
        Due,
        r#"SELECT d.id, d.channel, d.kind, c.rule AS "rule?", c.key AS "key?", d.title, d.body,
                  d.severity, d.link AS "link?", d.attempts, d.created_at
           FROM notify_deliveries d
           LEFT JOIN notify_conditions c ON c.id = d.condition_id
           WHERE CASE WHEN $1::int8 IS NULL THEN d.state = 'pending' AND d.next_attempt_at <= $2
                      ELSE d.id = $1 END
           ORDER BY d.next_attempt_at, d.id LIMIT $3"#,
        only,
        now,
        limit,
    )
    .fetch_all(db)
    .await
}

/// Pending messages whose next attempt is due, oldest first.
pub async fn due(db: &PgPool, now: OffsetDateTime, limit: i64) -> sqlx::Result<Vec<Due>> {
    due_rows(db, None, now, limit).await
}

pub async fn one(db: &PgPool, id: i64) -> sqlx::Result<Option<Due>> {
    Ok(due_rows(db, Some(id), OffsetDateTime::now_utc(), 1)
        .await?
        .pop())
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
    sqlx::query!(
        "INSERT INTO notify_attempts (delivery_id, ok, status, error) VALUES ($1, $2, $3, $4)",
        id,
        ok,
        status,
        error,
    )
    .execute(&mut *tx)
    .await?;
    let state = match (ok, retry_at) {
        (true, _) => "sent",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    sqlx::query!(
        "UPDATE notify_deliveries
         SET attempts = attempts + 1, state = $2,
             next_attempt_at = coalesce($3, next_attempt_at),
             finished_at = CASE WHEN $2 IN ('sent', 'failed') THEN now() END
         WHERE id = $1",
        id,
        state,
        retry_at,
    )
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
    let rows = sqlx::query!(
        "SELECT id, title, link FROM notify_deliveries WHERE channel = $1 AND state = 'held' ORDER BY id",
        channel,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.title, r.link)).collect())
}

/// When the channel's latest digest was made.
pub async fn last_digest_at(db: &PgPool, channel: &str) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        "SELECT max(created_at) FROM notify_deliveries WHERE channel = $1 AND kind = 'digest'",
        channel,
    )
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
    sqlx::query!(
        "UPDATE notify_deliveries SET state = 'digested', digest_id = $2, finished_at = now()
         WHERE id = ANY($1) AND state = 'held'",
        held,
        id,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

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

/// The latest deliveries (or the one asked for) with their latest attempt's error.
async fn delivery_rows(
    db: &PgPool,
    only: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<DeliveryRow>> {
    sqlx::query_as!(
        DeliveryRow,
        r#"SELECT d.id, d.channel, d.kind, d.title, d.state, d.attempts, a.error AS "last_error?",
                  d.created_at, d.next_attempt_at, d.finished_at AS "finished_at?"
           FROM notify_deliveries d
           LEFT JOIN LATERAL (SELECT error FROM notify_attempts WHERE delivery_id = d.id
                              ORDER BY id DESC LIMIT 1) a ON true
           WHERE $1::int8 IS NULL OR d.id = $1
           ORDER BY d.id DESC LIMIT $2"#,
        only,
        limit,
    )
    .fetch_all(db)
    .await
}

/// The latest deliveries with their latest attempt's error.
pub async fn recent(db: &PgPool, limit: i64) -> sqlx::Result<Vec<DeliveryView>> {
    let rows = delivery_rows(db, None, limit).await?;
    Ok(rows.into_iter().map(view).collect())
}

/// One delivery as the page shows it.
pub async fn delivery(db: &PgPool, id: i64) -> sqlx::Result<Option<DeliveryView>> {
    let row = delivery_rows(db, Some(id), 1).await?.pop();
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
