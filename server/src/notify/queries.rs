//! Every SQL statement of the notifications, nothing else.

use std::collections::HashMap;

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use app::model::FindingKind;
use app::model::notify::{Mode, Rule, RuleSetting};

use super::conditions::{Condition, FallenItem, OpenAction};

/// Every rule with its setting; a rule nobody has set yet has its default.
pub async fn rules(db: &PgPool) -> sqlx::Result<Vec<RuleSetting>> {
    let stored = sqlx::query!("SELECT rule, enabled, days FROM notify_rules")
        .fetch_all(db)
        .await?;
    Ok(Rule::ALL
        .into_iter()
        .map(|rule| {
            let row = stored.iter().find(|r| r.rule == rule.slug());
            RuleSetting {
                rule,
                enabled: row.map_or(rule.on_by_default(), |r| r.enabled),
                days: row.and_then(|r| r.days).unwrap_or(Rule::DEFAULT_DAYS),
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
        sqlx::query!(
            "INSERT INTO notify_rules (rule, enabled, days, changed_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (rule) DO UPDATE SET enabled = $2, days = $3, changed_by = $4, changed_at = now()",
            r.rule.slug(),
            r.enabled,
            r.rule.takes_days().then_some(r.days),
            by,
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Each channel's mode; a channel not set is immediate.
pub async fn modes(db: &PgPool) -> sqlx::Result<HashMap<String, Mode>> {
    let rows = sqlx::query!("SELECT channel, mode FROM notify_channel_modes")
        .fetch_all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.channel, Mode::parse(&r.mode)?)))
        .collect())
}

pub async fn set_mode(
    conn: &mut PgConnection,
    channel: &str,
    mode: Mode,
    by: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO notify_channel_modes (channel, mode, changed_by) VALUES ($1, $2, $3)
         ON CONFLICT (channel) DO UPDATE SET mode = $2, changed_by = $3, changed_at = now()",
        channel,
        mode.slug(),
        by,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The open conditions: (id, rule, key).
pub async fn open_conditions(conn: &mut PgConnection) -> sqlx::Result<Vec<(i64, String, String)>> {
    let rows = sqlx::query!("SELECT id, rule, key FROM notify_conditions WHERE closed_at IS NULL")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.rule, r.key)).collect())
}

/// Whether the rule has ever seen a condition (the letter's first sighting is no change).
pub async fn rule_seen_before(conn: &mut PgConnection, rule: Rule) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM notify_conditions WHERE rule = $1) AS "present!""#,
        rule.slug(),
    )
    .fetch_one(conn)
    .await
}

pub async fn open_condition(conn: &mut PgConnection, c: &Condition) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO notify_conditions (rule, key, title, body, severity, link)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        c.rule.slug(),
        &c.key,
        &c.title,
        &c.body,
        c.level.as_str(),
        c.link.as_deref(),
    )
    .fetch_one(conn)
    .await
}

pub async fn close_conditions(conn: &mut PgConnection, ids: &[i64]) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE notify_conditions SET closed_at = now() WHERE id = ANY($1)",
        ids,
    )
    .execute(conn)
    .await?;
    Ok(())
}

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
    let rows: Vec<ActionRow> = sqlx::query_as!(
        ActionRow,
        r#"SELECT a.id AS "id!", a.kind AS "kind!", e.name AS "engine?", s.key AS "key?", s.display_name AS "name?", a.opened_at AS "opened_at!"
         FROM actions_now a
         LEFT JOIN services s ON s.id = a.service_id
         LEFT JOIN engines e ON e.id = s.engine_id
         WHERE a.closed_at IS NULL
           AND NOT (coalesce(a.state, 'open') = 'accepted' AND a.risk_expires_on >= current_date)"#,
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
    let rows = sqlx::query!(
        r#"SELECT it.id AS item_id, r.id AS rollout_id, r.name AS rollout, it.title,
                  latest.status
           FROM rollout_items it
           JOIN rollouts r ON r.id = it.rollout_id
           JOIN LATERAL (SELECT id, status FROM rollout_item_events WHERE item_id = it.id
                         ORDER BY id DESC LIMIT 1) latest ON true
           WHERE latest.status <> 'verified'
             AND EXISTS (SELECT 1 FROM rollout_item_events e
                         WHERE e.item_id = it.id AND e.status = 'verified' AND e.id < latest.id)
           ORDER BY r.id, it.id"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| FallenItem {
            item_id: r.item_id,
            rollout_id: r.rollout_id,
            rollout: r.rollout,
            title: r.title,
            status: r.status,
        })
        .collect())
}
