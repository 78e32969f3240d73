//! Queries for rollouts: seeding the accounting rollout, creating one from a template, the
//! summaries, the decision matrix (criteria, candidates, scores) and the decision.

use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;

use app::model::rollouts::RolloutSummary;

use super::template::{ACCOUNTING_GOAL, CANDIDATES, CRITERIA, ITEMS};
use crate::config::RolloutSettings;

/// Creates the accounting rollout on first start; afterwards keeps its host and allow-list
/// middleware in step with the configuration.
pub async fn ensure_accounting(db: &PgPool, settings: &RolloutSettings) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let created: Option<i64> = sqlx::query_scalar!(
        "INSERT INTO rollouts (slug, name, goal, host, allowlist_middleware, created_by)
         VALUES ('accounting', 'Accounting system', $1, $2, $3, 'portal (first start)')
         ON CONFLICT (slug) DO NOTHING RETURNING id",
        ACCOUNTING_GOAL,
        &settings.accounting_host,
        settings.allowlist_middleware.as_deref(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    match created {
        Some(id) => {
            for (i, (name, needle)) in CANDIDATES.iter().enumerate() {
                add_candidate(&mut *tx, id, name, needle, i as i32).await?;
            }
            let mut weights = Vec::new();
            for (i, (name, weight)) in CRITERIA.iter().enumerate() {
                let cid: i64 = sqlx::query_scalar!(
                    "INSERT INTO rollout_criteria (rollout_id, name, position) VALUES ($1, $2, $3) RETURNING id",
                    id,
                    name,
                    i as i32,
                )
                .fetch_one(&mut *tx)
                .await?;
                weights.push((cid, *weight as u8));
            }
            save_weights(&mut *tx, id, &weights, "portal (defaults)").await?;
            let items: Vec<(String, Option<String>)> = ITEMS
                .iter()
                .map(|(t, c)| (t.to_string(), c.map(String::from)))
                .collect();
            add_items(&mut tx, id, &items).await?;
        }
        None => {
            sqlx::query!(
                "UPDATE rollouts SET host = $1, allowlist_middleware = $2 WHERE slug = 'accounting'
                 AND (host, coalesce(allowlist_middleware, '')) IS DISTINCT FROM ($1, coalesce($2, ''))",
                &settings.accounting_host,
                settings.allowlist_middleware.as_deref(),
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await
}

async fn add_items(
    tx: &mut PgConnection,
    rollout: i64,
    items: &[(String, Option<String>)],
) -> sqlx::Result<()> {
    for (i, (title, check)) in items.iter().enumerate() {
        let item: i64 = sqlx::query_scalar!(
            "INSERT INTO rollout_items (rollout_id, position, title, auto_check) VALUES ($1, $2, $3, $4) RETURNING id",
            rollout,
            i as i32,
            title,
            check.as_deref(),
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO rollout_item_events (item_id, status, source, actor_name) VALUES ($1, 'todo', 'portal', 'portal')",
            item,
        )
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

pub async fn add_candidate(
    db: impl PgExecutor<'_>,
    rollout: i64,
    name: &str,
    service_match: &str,
    position: i32,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO rollout_candidates (rollout_id, name, service_match, position) VALUES ($1, $2, $3, $4) RETURNING id",
        rollout,
        name,
        service_match,
        position,
    )
    .fetch_one(db)
    .await
}

pub async fn save_weights(
    db: impl PgExecutor<'_>,
    rollout: i64,
    weights: &[(i64, u8)],
    actor: &str,
) -> sqlx::Result<()> {
    let json: Vec<serde_json::Value> = weights
        .iter()
        .map(|(c, w)| serde_json::json!({ "criterion_id": c, "weight": w }))
        .collect();
    sqlx::query!(
        "INSERT INTO rollout_weight_sets (rollout_id, weights, actor_name) VALUES ($1, $2, $3)",
        rollout,
        Json(json) as _,
        actor,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A new rollout with the template's criteria, current weights and checklist (not its
/// candidates, scores, decision or history).
pub struct FromTemplate<'a> {
    pub template: i64,
    pub slug: &'a str,
    pub name: &'a str,
    pub goal: &'a str,
    pub host: &'a str,
    pub allowlist_middleware: Option<&'a str>,
    pub candidates: &'a [(String, String)],
    pub actor: &'a str,
}

/// The new rollout's id, or None when the slug is taken: the unique constraint answers, so two
/// people creating the same slug at once cannot both succeed.
pub async fn create_from_template(
    tx: &mut PgConnection,
    t: &FromTemplate<'_>,
) -> sqlx::Result<Option<i64>> {
    let created = sqlx::query_scalar!(
        "INSERT INTO rollouts (slug, name, goal, host, allowlist_middleware, template_of, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (slug) DO NOTHING RETURNING id",
        t.slug,
        t.name,
        t.goal,
        t.host,
        t.allowlist_middleware,
        t.template,
        t.actor,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = created else {
        return Ok(None);
    };
    let criteria = criteria(&mut *tx, t.template).await?;
    let mut weights = Vec::new();
    for (i, c) in criteria.iter().enumerate() {
        let cid: i64 = sqlx::query_scalar!(
            "INSERT INTO rollout_criteria (rollout_id, name, position) VALUES ($1, $2, $3) RETURNING id",
            id,
            &c.name,
            i as i32,
        )
        .fetch_one(&mut *tx)
        .await?;
        weights.push((cid, c.weight));
    }
    save_weights(&mut *tx, id, &weights, t.actor).await?;
    for (i, (name, needle)) in t.candidates.iter().enumerate() {
        add_candidate(&mut *tx, id, name, needle, i as i32).await?;
    }
    let items: Vec<(String, Option<String>)> = sqlx::query!(
        "SELECT title, auto_check FROM rollout_items WHERE rollout_id = $1 ORDER BY position",
        t.template,
    )
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .map(|r| (r.title, r.auto_check))
    .collect();
    add_items(tx, id, &items).await?;
    Ok(Some(id))
}

/// Every rollout with its readiness (or the one asked for), in one query.
async fn summary_rows(db: &PgPool, only: Option<i64>) -> sqlx::Result<Vec<RolloutSummary>> {
    sqlx::query_as!(
        RolloutSummary,
        r#"SELECT r.id, r.slug, r.name, r.goal, r.host, d.name AS "chosen?", r.checked_at AS "checked_at?",
                  coalesce(i.items, 0) AS "items!", coalesce(i.verified, 0) AS "verified!"
           FROM rollouts r
           LEFT JOIN LATERAL (SELECT c.name FROM rollout_decisions x
                                JOIN rollout_candidates c ON c.id = x.candidate_id
                              WHERE x.rollout_id = r.id ORDER BY x.id DESC LIMIT 1) d ON true
           LEFT JOIN LATERAL (
               SELECT count(*) AS items, count(*) FILTER (WHERE e.status = 'verified') AS verified
               FROM rollout_items it
               JOIN LATERAL (SELECT status FROM rollout_item_events WHERE item_id = it.id
                             ORDER BY id DESC LIMIT 1) e ON true
               WHERE it.rollout_id = r.id
           ) i ON true
           WHERE $1::int8 IS NULL OR r.id = $1
           ORDER BY r.id"#,
        only,
    )
    .fetch_all(db)
    .await
}

/// Every rollout with its readiness, in one query.
pub async fn summaries(db: &PgPool) -> sqlx::Result<Vec<RolloutSummary>> {
    summary_rows(db, None).await
}

pub async fn summary(db: &PgPool, id: i64) -> sqlx::Result<Option<RolloutSummary>> {
    Ok(summary_rows(db, Some(id)).await?.pop())
}

/// What a rollout's checks look for: its host and its configured allow-list middleware.
pub async fn check_target(db: &PgPool, id: i64) -> sqlx::Result<Option<(String, Option<String>)>> {
    let row = sqlx::query!(
        "SELECT host, allowlist_middleware FROM rollouts WHERE id = $1",
        id
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.host, r.allowlist_middleware)))
}

pub async fn allowlist_middleware(db: &PgPool, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "SELECT allowlist_middleware FROM rollouts WHERE id = $1",
        id,
    )
    .fetch_one(db)
    .await
}

#[derive(Clone, Debug)]
pub struct CriterionRow {
    pub id: i64,
    pub name: String,
    pub weight: u8,
}

/// Criteria in order with their weight in the latest weight set (0 when a set lacks one).
pub async fn criteria(db: impl PgExecutor<'_>, rollout: i64) -> sqlx::Result<Vec<CriterionRow>> {
    let rows = sqlx::query!(
        r#"SELECT c.id, c.name,
                coalesce((SELECT (w->>'weight')::int4
                          FROM jsonb_array_elements(ws.weights) w
                          WHERE (w->>'criterion_id')::int8 = c.id), 0) AS "weight!"
         FROM rollout_criteria c
         LEFT JOIN LATERAL (SELECT weights FROM rollout_weight_sets WHERE rollout_id = c.rollout_id
                            ORDER BY id DESC LIMIT 1) ws ON true
         WHERE c.rollout_id = $1 ORDER BY c.position"#,
        rollout,
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|r| {
            let weight = u8::try_from(r.weight).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            Ok(CriterionRow {
                id: r.id,
                name: r.name,
                weight,
            })
        })
        .collect()
}

pub async fn weights_by(
    db: &PgPool,
    rollout: i64,
) -> sqlx::Result<Option<(String, OffsetDateTime)>> {
    let row = sqlx::query!(
        "SELECT actor_name, at FROM rollout_weight_sets WHERE rollout_id = $1 ORDER BY id DESC LIMIT 1",
        rollout,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.actor_name, r.at)))
}

#[derive(Clone, Debug)]
pub struct CandidateRow {
    pub id: i64,
    pub name: String,
    pub service_match: String,
}

pub async fn candidates(db: &PgPool, rollout: i64) -> sqlx::Result<Vec<CandidateRow>> {
    sqlx::query_as!(
        CandidateRow,
        "SELECT id, name, service_match FROM rollout_candidates WHERE rollout_id = $1 ORDER BY position, id",
        rollout,
    )
    .fetch_all(db)
    .await
}

#[derive(Clone, Debug)]
pub struct ScoreRow {
    pub candidate_id: i64,
    pub criterion_id: i64,
    pub score: i16,
    pub note: String,
    pub actor_name: String,
    pub at: OffsetDateTime,
}

/// The latest score of each candidate on each criterion.
pub async fn scores(db: &PgPool, rollout: i64) -> sqlx::Result<Vec<ScoreRow>> {
    sqlx::query_as!(
        ScoreRow,
        "SELECT DISTINCT ON (s.candidate_id, s.criterion_id)
                s.candidate_id, s.criterion_id, s.score, s.note, s.actor_name, s.at
         FROM rollout_scores s JOIN rollout_candidates c ON c.id = s.candidate_id
         WHERE c.rollout_id = $1
         ORDER BY s.candidate_id, s.criterion_id, s.id DESC",
        rollout,
    )
    .fetch_all(db)
    .await
}

pub async fn add_score(
    db: impl PgExecutor<'_>,
    candidate: i64,
    criterion: i64,
    score: u8,
    note: &str,
    actor: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO rollout_scores (candidate_id, criterion_id, score, note, actor_name) VALUES ($1, $2, $3, $4, $5)",
        candidate,
        criterion,
        i16::from(score),
        note,
        actor,
    )
    .execute(db)
    .await?;
    Ok(())
}

#[derive(Clone, Debug)]
pub struct DecisionRow {
    pub candidate_id: i64,
    pub candidate: String,
    pub service_match: String,
    pub rationale: String,
    pub actor_name: String,
    pub at: OffsetDateTime,
}

pub async fn decision(db: impl PgExecutor<'_>, rollout: i64) -> sqlx::Result<Option<DecisionRow>> {
    sqlx::query_as!(
        DecisionRow,
        "SELECT d.candidate_id, c.name AS candidate, c.service_match, d.rationale, d.actor_name, d.at
         FROM rollout_decisions d JOIN rollout_candidates c ON c.id = d.candidate_id
         WHERE d.rollout_id = $1 ORDER BY d.id DESC LIMIT 1",
        rollout,
    )
    .fetch_optional(db)
    .await
}

pub async fn add_decision(
    db: impl PgExecutor<'_>,
    rollout: i64,
    candidate: i64,
    rationale: &str,
    actor: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO rollout_decisions (rollout_id, candidate_id, rationale, actor_name) VALUES ($1, $2, $3, $4)",
        rollout,
        candidate,
        rationale,
        actor,
    )
        .execute(db)
        .await?;
    Ok(())
}
