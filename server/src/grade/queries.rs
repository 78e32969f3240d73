//! Queries for the grade: its evidence, admins' assessments and overrides, and its history.

use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use time::Date;

use app::model::grade::GradeSnapshot;
use app::model::{Finding, FindingKind};

use crate::auth::SessionUser;
use crate::grade::evidence::{Assessment, Override, ServiceEvidence};
use crate::grade::rubric::Score;

/// Every current service's id, 7-day availability and findings, in one query. Availability is
/// what users got (its routes' probes) when it has probed routes, else its container's.
pub async fn service_evidence(db: &PgPool) -> sqlx::Result<Vec<(i64, ServiceEvidence)>> {
    let rows = sqlx::query!(
        r#"SELECT s.id,
                (SELECT sum(ph.successes)::float8 / nullif(sum(ph.samples), 0) FROM probe_hourly ph
                  WHERE ph.url IN (SELECT r.url FROM routes r WHERE r.service_id = s.id)
                    AND ph.hour > now() - interval '7 days') AS routes_7d,
                (SELECT sum(h.up_samples)::float8 / nullif(sum(h.samples), 0) FROM service_hourly h
                  WHERE h.service_id = s.id AND h.hour > now() - interval '7 days') AS container_7d,
                s.findings AS "findings: Json<Vec<Finding>>"
         FROM services s JOIN engines e ON e.id = s.engine_id
         WHERE s.removed_at IS NULL AND e.configured"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let evidence = ServiceEvidence {
                availability_7d: r.routes_7d.or(r.container_7d),
                availability_from_routes: r.routes_7d.is_some(),
                findings: r
                    .findings
                    .0
                    .iter()
                    .map(|f| f.kind)
                    .collect::<Vec<FindingKind>>(),
            };
            (r.id, evidence)
        })
        .collect())
}

/// The latest assessment of each category.
pub async fn latest_assessments(db: &PgPool) -> sqlx::Result<Vec<Assessment>> {
    let rows = sqlx::query!(
        "SELECT DISTINCT ON (category) category, score, note, link, evidence_date, expires_on, actor_name, created_at
         FROM grade_assessments ORDER BY category, created_at DESC, id DESC",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Assessment {
            category: r.category,
            score: Score::from_hundredths(r.score.max(0) as u32),
            note: r.note,
            link: r.link,
            evidence_date: r.evidence_date,
            expires_on: r.expires_on,
            by: r.actor_name,
            at: r.created_at,
        })
        .collect())
}

/// The override in force per category (the latest, unless it cleared the override).
pub async fn active_overrides(db: &PgPool) -> sqlx::Result<Vec<Override>> {
    let rows = sqlx::query!(
        "SELECT DISTINCT ON (category) category, score, justification, actor_name, created_at
         FROM grade_overrides ORDER BY category, created_at DESC, id DESC",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Override {
                category: r.category,
                score: Score::from_hundredths(r.score?.max(0) as u32),
                justification: r.justification,
                by: r.actor_name,
                at: r.created_at,
            })
        })
        .collect())
}

pub struct NewAssessment<'a> {
    pub category: &'a str,
    pub score: Score,
    pub note: &'a str,
    pub link: Option<&'a str>,
    pub evidence_date: Date,
    pub expires_on: Date,
}

pub async fn add_assessment<'e>(
    db: impl PgExecutor<'e>,
    user: &SessionUser,
    a: &NewAssessment<'_>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO grade_assessments (category, score, note, link, evidence_date, expires_on, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        a.category,
        a.score.hundredths() as i32,
        a.note,
        a.link,
        a.evidence_date,
        a.expires_on,
        user.subject,
        user.display_name(),
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn add_override<'e>(
    db: impl PgExecutor<'e>,
    user: &SessionUser,
    category: &str,
    score: Option<Score>,
    justification: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO grade_overrides (category, score, justification, actor_subject, actor_name) VALUES ($1, $2, $3, $4, $5)",
        category,
        score.map(|s| s.hundredths() as i32),
        justification,
        user.subject,
        user.display_name(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Appends a snapshot when the grade differs from the last one, or the last is from another day.
pub async fn snapshot_if_changed(db: &PgPool, s: &GradeSnapshot) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO grade_snapshots (taken_at, rubric_version, total, letter, capped_by, categories)
         SELECT $1, $2, $3, $4, $5, $6
         WHERE NOT EXISTS (
             SELECT 1 FROM (SELECT * FROM grade_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1) last
             WHERE last.rubric_version = $2 AND last.total = $3 AND last.letter = $4
               AND last.capped_by IS NOT DISTINCT FROM $5 AND last.categories = $6::jsonb
               AND last.taken_at::date = $1::timestamptz::date)",
        s.at,
        s.rubric_version,
        s.total,
        s.letter,
        s.capped_by.as_deref(),
        Json(&s.categories) as _,
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn history(db: &PgPool, days: i64) -> sqlx::Result<Vec<GradeSnapshot>> {
    let rows = sqlx::query!(
        r#"SELECT taken_at, rubric_version, total, letter, capped_by,
                  categories AS "categories: Json<Vec<(String, i32)>>"
           FROM grade_snapshots
           WHERE taken_at > now() - make_interval(days => $1) ORDER BY taken_at, id"#,
        days as i32,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| GradeSnapshot {
            at: r.taken_at,
            rubric_version: r.rubric_version,
            total: r.total,
            letter: r.letter,
            capped_by: r.capped_by,
            categories: r.categories.0,
        })
        .collect())
}

/// A stored rubric: version, (category, weight), (letter, minimum), failing letter.
/// A saved rubric version as stored: its number, categories, thresholds, failing letter and
/// cap lines (None for versions saved before caps were editable: the defaults apply).
pub struct StoredRubric {
    pub version: i32,
    pub categories: Vec<(String, String)>,
    pub thresholds: Vec<(String, String)>,
    pub failing: String,
    pub caps: Option<String>,
}

/// The latest rubric version, if an admin ever changed the default.
pub async fn latest_rubric(db: &PgPool) -> sqlx::Result<Option<StoredRubric>> {
    let row = sqlx::query!(
        r#"SELECT version, categories AS "categories: Json<Vec<(String, String)>>",
                  thresholds AS "thresholds: Json<Vec<(String, String)>>", failing, caps
           FROM rubric_versions ORDER BY version DESC LIMIT 1"#,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| StoredRubric {
        version: r.version,
        categories: r.categories.0,
        thresholds: r.thresholds.0,
        failing: r.failing,
        caps: r.caps,
    }))
}

/// Stores a new rubric version (the next number) and returns it.
pub async fn add_rubric<'e>(
    db: impl PgExecutor<'e>,
    user: &SessionUser,
    categories: &[(String, String)],
    thresholds: &[(String, String)],
    failing: &str,
    caps: &str,
) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "INSERT INTO rubric_versions (version, actor_subject, actor_name, categories, thresholds, failing, caps)
         SELECT greatest(coalesce(max(version), 1) + 1, 2), $1, $2, $3, $4, $5, $6 FROM rubric_versions
         RETURNING version",
        user.subject,
        user.display_name(),
        Json(categories) as _,
        Json(thresholds) as _,
        failing,
        caps,
    )
    .fetch_one(db)
    .await
}
