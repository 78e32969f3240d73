//! Measured category scores (Monitoring, Backup/DR, Change Control) as the worker publishes them.

use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;

/// One category's score from evidence.
#[derive(Clone, Debug, PartialEq)]
pub struct MeasuredCategory {
    pub category: String,
    /// Hundredths of a point.
    pub score: i32,
    pub formula: String,
    pub lines: Vec<String>,
    pub restore_unverified: bool,
    pub computed_at: OffsetDateTime,
}

/// Replaces the measured categories: those given are stored, every other one is removed (its
/// source is no longer configured, so it is assessed again).
pub async fn publish(db: &PgPool, measured: &[MeasuredCategory]) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let names: Vec<&str> = measured.iter().map(|m| m.category.as_str()).collect();
    sqlx::query!(
        "DELETE FROM category_evidence WHERE category <> ALL($1)",
        &names as _,
    )
    .execute(&mut *tx)
    .await?;
    for m in measured {
        sqlx::query!(
            "INSERT INTO category_evidence (category, score, formula, lines, restore_unverified, computed_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (category) DO UPDATE SET score = $2, formula = $3, lines = $4,
                 restore_unverified = $5, computed_at = $6",
            &m.category,
            m.score,
            &m.formula,
            Json(&m.lines) as _,
            m.restore_unverified,
            m.computed_at,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

pub async fn measured(db: &PgPool) -> sqlx::Result<Vec<MeasuredCategory>> {
    let rows = sqlx::query!(
        r#"SELECT category, score, formula, lines AS "lines: Json<Vec<String>>", restore_unverified,
                  computed_at
           FROM category_evidence ORDER BY category"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MeasuredCategory {
            category: r.category,
            score: r.score,
            formula: r.formula,
            lines: r.lines.0,
            restore_unverified: r.restore_unverified,
            computed_at: r.computed_at,
        })
        .collect())
}

/// Stores one round of monitoring checks: each check keeps since when it fails; checks and
/// sources no longer reported are removed.
pub async fn store_monitoring(
    db: &PgPool,
    sources: &[crate::evidence::monitoring::SourceResult],
    checks: &[crate::evidence::monitoring::Check],
    at: OffsetDateTime,
) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    let keys: Vec<&str> = checks.iter().map(|c| c.key.as_str()).collect();
    sqlx::query!(
        "DELETE FROM monitoring_checks WHERE check_key <> ALL($1)",
        &keys as _,
    )
    .execute(&mut *tx)
    .await?;
    for c in checks {
        sqlx::query!(
            "INSERT INTO monitoring_checks (check_key, source, ok, title, fact, checked_at, failing_since)
             VALUES ($1, $2, $3::bool, $4, $5, $6::timestamptz, CASE WHEN $3 THEN NULL ELSE $6 END)
             ON CONFLICT (check_key) DO UPDATE SET source = $2, ok = $3, title = $4, fact = $5,
                 checked_at = $6,
                 failing_since = CASE WHEN $3 THEN NULL
                                      ELSE coalesce(monitoring_checks.failing_since, $6) END",
            &c.key,
            c.source,
            c.ok,
            &c.title,
            &c.fact,
            at,
        )
        .execute(&mut *tx)
        .await?;
    }
    let names: Vec<&str> = sources.iter().map(|s| s.source).collect();
    sqlx::query!(
        "DELETE FROM monitoring_sources WHERE source <> ALL($1)",
        &names as _,
    )
    .execute(&mut *tx)
    .await?;
    for s in sources {
        sqlx::query!(
            "INSERT INTO monitoring_sources (source, reachable, error, checked_at, failing_since, alerts)
             VALUES ($1, $2::bool, $3, $4::timestamptz, CASE WHEN $2 THEN NULL ELSE $4 END, $5)
             ON CONFLICT (source) DO UPDATE SET reachable = $2, error = $3, checked_at = $4,
                 failing_since = CASE WHEN $2 THEN NULL
                                      ELSE coalesce(monitoring_sources.failing_since, $4) END,
                 alerts = $5",
            s.source,
            s.reachable,
            s.error.as_deref(),
            at,
            Json(&s.alerts) as _,
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

struct CheckRow {
    check_key: String,
    source: String,
    ok: bool,
    title: String,
    fact: String,
    checked_at: OffsetDateTime,
    failing_since: Option<OffsetDateTime>,
}

struct SourceRow {
    source: String,
    reachable: bool,
    error: Option<String>,
    checked_at: OffsetDateTime,
    failing_since: Option<OffsetDateTime>,
    alerts: Json<Vec<app::model::evidence::FiringAlert>>,
}

/// The latest checks (failing first) and sources, for the monitoring page.
pub async fn monitoring(
    db: &PgPool,
) -> sqlx::Result<(
    Vec<app::model::evidence::MonitoringSource>,
    Vec<app::model::evidence::MonitoringCheck>,
)> {
    let checks: Vec<CheckRow> = sqlx::query_as!(
        CheckRow,
        r#"SELECT check_key, source, ok, title, fact, checked_at, failing_since AS "failing_since?"
         FROM monitoring_checks ORDER BY ok, source, check_key"#,
    )
    .fetch_all(db)
    .await?;
    let sources: Vec<SourceRow> = sqlx::query_as!(
        SourceRow,
        r#"SELECT source, reachable, error AS "error?", checked_at, failing_since AS "failing_since?", alerts AS "alerts: _"
         FROM monitoring_sources ORDER BY source"#,
    )
    .fetch_all(db)
    .await?;
    Ok((
        sources
            .into_iter()
            .map(|s| app::model::evidence::MonitoringSource {
                source: s.source,
                reachable: s.reachable,
                error: s.error,
                checked_at: s.checked_at,
                failing_since: s.failing_since,
                alerts: s.alerts.0,
            })
            .collect(),
        checks
            .into_iter()
            .map(|c| app::model::evidence::MonitoringCheck {
                key: c.check_key,
                source: c.source,
                ok: c.ok,
                title: c.title,
                fact: c.fact,
                checked_at: c.checked_at,
                failing_since: c.failing_since,
            })
            .collect(),
    ))
}

pub async fn store_repo(
    db: &PgPool,
    facts: &app::model::evidence::RepoFacts,
    at: OffsetDateTime,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO change_control (id, checked_at, facts) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET checked_at = $1, facts = $2",
        at,
        Json(facts) as _,
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn repo(db: &PgPool) -> sqlx::Result<Option<app::model::evidence::ChangeControlView>> {
    let row = sqlx::query!(
        r#"SELECT checked_at, facts AS "facts: Json<app::model::evidence::RepoFacts>"
           FROM change_control WHERE id = 1"#,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| app::model::evidence::ChangeControlView {
        facts: r.facts.0,
        checked_at: r.checked_at,
    }))
}
