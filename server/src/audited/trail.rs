//! The audit trail: every write by a person, and every refused attempt, appended in the same
//! transaction as the change it describes.

use serde::Serialize;
use sqlx::PgExecutor;
use sqlx::PgPool;
use sqlx::types::Json;

use app::model::audit_log::{AuditEntry, AuditFilter};

use crate::auth::SessionUser;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Refused,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Refused => "refused",
        }
    }
}

/// One entry of the trail; `before` and `after` are whatever the change replaced and wrote.
pub struct Record<'a, B: Serialize, A: Serialize> {
    pub actor: &'a SessionUser,
    pub action: &'a str,
    pub target: &'a str,
    pub outcome: Outcome,
    pub before: Option<B>,
    pub after: Option<A>,
}

pub async fn append<'e, B: Serialize, A: Serialize>(
    db: impl PgExecutor<'e>,
    r: Record<'_, B, A>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO audit_log (actor_issuer, actor_subject, actor_name, actor_role, action, target, outcome, before, after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &r.actor.issuer,
        &r.actor.subject,
        r.actor.display_name(),
        r.actor.role.map(|x| x.as_str()),
        r.action,
        r.target,
        r.outcome.as_str(),
        r.before.map(Json) as _,
        r.after.map(Json) as _,
    )
    .execute(db)
    .await?;
    Ok(())
}

struct Row {
    id: i64,
    at: time::OffsetDateTime,
    actor_name: String,
    actor_subject: String,
    actor_role: Option<String>,
    action: String,
    target: String,
    outcome: String,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
}

/// The newest entries matching the filter (person by name or subject, action by prefix).
pub async fn list(db: &PgPool, filter: &AuditFilter, limit: i64) -> sqlx::Result<Vec<AuditEntry>> {
    let rows: Vec<Row> = sqlx::query_as!(
        Row,
        r#"SELECT id, at, actor_name, actor_subject, actor_role AS "actor_role?", action, target, outcome, before AS "before?", after AS "after?"
         FROM audit_log
         WHERE ($1::text IS NULL OR actor_name ILIKE '%' || $1 || '%' OR actor_subject = $1)
           AND ($2::text IS NULL OR action LIKE $2 || '%')
           AND ($3::text IS NULL OR outcome = $3)
         ORDER BY at DESC, id DESC LIMIT $4"#,
        filter.actor.as_deref(),
        filter.action.as_deref(),
        filter.outcome.as_deref(),
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor_name: r.actor_name,
            actor_subject: r.actor_subject,
            actor_role: r.actor_role,
            action: r.action,
            target: r.target,
            outcome: r.outcome,
            before: r.before,
            after: r.after,
        })
        .collect())
}
