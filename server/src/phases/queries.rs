//! Queries for phases and their deliverables: creating them from a plan, status history, the
//! summaries and plans the pages show.

use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};

use app::model::phases::{DeliverableStatus, PhaseSummary};

use crate::auth::SessionUser;
use crate::db::Parsed;
use crate::grade::rubric::Score;
use crate::phases::import::PlanItem;

/// A phase about to be written, from an import or the create form.
pub struct NewPhase<'a> {
    pub number: &'a str,
    pub title: &'a str,
    pub starts_on: Option<Date>,
    pub due_on: Option<Date>,
    pub target_grade: Option<u32>,
    pub claimed_grade: Option<u32>,
    pub objectives: &'a [String],
    pub criteria: &'a [String],
    pub source: Option<&'a str>,
    pub notes: &'a [String],
    pub items: &'a [PlanItem],
}

/// Writes the phase and its deliverables; checked plan items start as done, the rest open.
pub async fn create(
    tx: &mut PgConnection,
    p: &NewPhase<'_>,
    actor: &SessionUser,
) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO phases (number, title, starts_on, due_on, target_grade, objectives, criteria,
                             source_markdown, import_notes, created_by, claimed_grade)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        p.number,
        p.title,
        p.starts_on,
        p.due_on,
        p.target_grade.map(|g| g as i32),
        Json(p.objectives) as _,
        Json(p.criteria) as _,
        p.source,
        Json(p.notes) as _,
        actor.display_name(),
        p.claimed_grade.map(|g| g as i32),
    )
    .fetch_one(&mut *tx)
    .await?;
    let positions: Vec<i32> = (0..p.items.len() as i32).collect();
    let headings: Vec<String> = p
        .items
        .iter()
        .map(|i| serde_json::to_string(&i.headings).unwrap_or_else(|_| "[]".into()))
        .collect();
    let texts: Vec<&str> = p.items.iter().map(|i| i.text.as_str()).collect();
    let depths: Vec<i16> = p.items.iter().map(|i| i16::from(i.depth)).collect();
    let statuses: Vec<&str> = p
        .items
        .iter()
        .map(|i| {
            if i.checked {
                DeliverableStatus::Done
            } else {
                DeliverableStatus::Open
            }
            .as_str()
        })
        .collect();
    let notes: Vec<&str> = p
        .items
        .iter()
        .map(|i| {
            if i.checked {
                "checked in the imported plan"
            } else {
                ""
            }
        })
        .collect();
    // One statement for all items and their first status, however long the plan.
    sqlx::query!(
        "WITH items AS (
             SELECT * FROM unnest($2::int4[], $3::text[], $4::text[], $5::int2[], $6::text[], $7::text[])
                 AS t(position, headings, text, depth, status, note)
         ), created AS (
             INSERT INTO phase_deliverables (phase_id, position, headings, text, depth, origin)
             SELECT $1, position, headings::jsonb, text, depth, 'plan' FROM items
             RETURNING id, position
         )
         INSERT INTO deliverable_events (deliverable_id, status, note, actor_subject, actor_name)
         SELECT c.id, i.status, i.note, $8, $9 FROM created c JOIN items i USING (position)",
        id,
        &positions,
        &headings,
        &texts as _,
        &depths,
        &statuses as _,
        &notes as _,
        &actor.subject,
        actor.display_name(),
    )
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// A deliverable added after the import: a person's, or a conditional sign-off's remediation.
pub struct NewDeliverable<'a> {
    pub text: &'a str,
    pub origin: &'a str,
    pub owner: Option<&'a str>,
    pub due_on: Option<Date>,
    pub signoff_id: Option<i64>,
}

pub async fn add_deliverable(
    tx: &mut PgConnection,
    phase_id: i64,
    d: &NewDeliverable<'_>,
    actor: &SessionUser,
) -> sqlx::Result<i64> {
    let id: i64 = sqlx::query_scalar!(
        "INSERT INTO phase_deliverables (phase_id, position, text, origin, owner, due_on, signoff_id)
         VALUES ($1, (SELECT coalesce(max(position) + 1, 0) FROM phase_deliverables WHERE phase_id = $1),
                 $2, $3, $4, $5, $6)
         RETURNING id",
        phase_id,
        d.text,
        d.origin,
        d.owner,
        d.due_on,
        d.signoff_id,
    )
    .fetch_one(&mut *tx)
    .await?;
    add_event(&mut *tx, id, DeliverableStatus::Open, "", None, None, actor).await?;
    Ok(id)
}

pub async fn add_event(
    db: impl PgExecutor<'_>,
    deliverable_id: i64,
    status: DeliverableStatus,
    note: &str,
    link: Option<&str>,
    report: Option<&str>,
    actor: &SessionUser,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO deliverable_events (deliverable_id, status, note, link, report, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        deliverable_id,
        status.as_str(),
        note,
        link,
        report,
        &actor.subject,
        actor.display_name(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The phase a deliverable belongs to, if it exists.
pub async fn deliverable_phase(db: &PgPool, deliverable_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "SELECT phase_id FROM phase_deliverables WHERE id = $1",
        deliverable_id,
    )
    .fetch_optional(db)
    .await
}

struct SummaryRow {
    id: i64,
    number: String,
    title: String,
    due_on: Option<Date>,
    target_grade: Option<i32>,
    claimed_grade: Option<i32>,
    created_at: OffsetDateTime,
    last_decision_grade: Option<i32>,
    grade_at_import: Option<i32>,
    total: i64,
    done: i64,
    waived: i64,
    last_decision: Option<String>,
    last_decision_micros: Option<i64>,
}

pub fn from_micros(micros: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Stored hundredths of a point as the pages show them ("93.00"), through [`Score`].
pub fn points(h: i32) -> String {
    Score::from_hundredths(h.max(0) as u32).to_string()
}

impl From<SummaryRow> for PhaseSummary {
    fn from(r: SummaryRow) -> Self {
        PhaseSummary {
            id: r.id,
            number: r.number,
            title: r.title,
            due_on: r.due_on,
            target_grade: r.target_grade.map(points),
            claimed_grade: r.claimed_grade.map(points),
            created_at: r.created_at,
            last_decision_grade: r.last_decision_grade.map(points),
            grade_at_import: r.grade_at_import.map(points),
            total: r.total,
            done: r.done,
            waived: r.waived,
            last_decision: r.last_decision,
            last_decision_at: r.last_decision_micros.map(from_micros),
        }
    }
}

/// Every phase (or the one asked for) with its progress and last decision, in one query.
async fn summary_rows(db: &PgPool, only: Option<i64>) -> sqlx::Result<Vec<PhaseSummary>> {
    let rows = sqlx::query_as!(
        SummaryRow,
        r#"SELECT p.id, p.number, p.title, p.due_on AS "due_on?", p.target_grade AS "target_grade?", p.claimed_grade AS "claimed_grade?", p.created_at,
                  s.grade_total AS "last_decision_grade?",
                  (SELECT g.total FROM grade_snapshots g WHERE g.taken_at <= p.created_at
                   ORDER BY g.taken_at DESC, g.id DESC LIMIT 1) AS "grade_at_import?",
                  coalesce(c.total, 0) AS "total!", coalesce(c.done, 0) AS "done!",
                  coalesce(c.waived, 0) AS "waived!",
                  s.decision AS "last_decision?", s.signed_at_micros AS "last_decision_micros?"
           FROM phases p
           LEFT JOIN LATERAL (
               SELECT count(*) AS total,
                      count(*) FILTER (WHERE e.status = 'done') AS done,
                      count(*) FILTER (WHERE e.status = 'waived') AS waived
               FROM phase_deliverables d
               JOIN LATERAL (SELECT status FROM deliverable_events WHERE deliverable_id = d.id
                             ORDER BY id DESC LIMIT 1) e ON true
               WHERE d.phase_id = p.id
           ) c ON true
           LEFT JOIN LATERAL (SELECT decision, signed_at_micros, grade_total FROM phase_signoffs
                              WHERE phase_id = p.id ORDER BY seq DESC LIMIT 1) s ON true
           WHERE $1::int8 IS NULL OR p.id = $1
           ORDER BY p.number"#,
        only,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Every phase with its progress and last decision, in one query.
pub async fn summaries(db: &PgPool) -> sqlx::Result<Vec<PhaseSummary>> {
    summary_rows(db, None).await
}

pub async fn summary(db: &PgPool, id: i64) -> sqlx::Result<Option<PhaseSummary>> {
    Ok(summary_rows(db, Some(id)).await?.pop())
}

pub struct PhasePlan {
    pub starts_on: Option<Date>,
    pub objectives: Json<Vec<String>>,
    pub criteria: Json<Vec<String>>,
    pub import_notes: Json<Vec<String>>,
    pub created_by: String,
    pub created_at: OffsetDateTime,
    pub has_source: bool,
}

pub async fn plan(db: &PgPool, id: i64) -> sqlx::Result<Option<PhasePlan>> {
    sqlx::query_as!(
        PhasePlan,
        r#"SELECT starts_on AS "starts_on?", objectives AS "objectives: _", criteria AS "criteria: _",
                import_notes AS "import_notes: _", created_by, created_at,
                source_markdown IS NOT NULL AS "has_source!"
         FROM phases WHERE id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await
}

pub async fn source(db: &PgPool, id: i64) -> sqlx::Result<Option<(String, String)>> {
    let rows = sqlx::query!(
        r#"SELECT number, source_markdown AS "source_markdown!" FROM phases WHERE id = $1 AND source_markdown IS NOT NULL"#,
        id,
    )
    .fetch_optional(db)
    .await?;
    Ok(rows.map(|r| (r.number, r.source_markdown)))
}

pub struct DeliverableRow {
    pub id: i64,
    pub headings: Json<Vec<String>>,
    pub text: String,
    pub depth: i16,
    pub origin: String,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub status: DeliverableStatus,
    pub note: String,
    pub link: Option<String>,
    pub report: Option<String>,
    pub actor_name: String,
    pub at: OffsetDateTime,
    pub changes: i64,
    pub check_spec: Option<String>,
}

/// A phase's deliverables in plan order, each with its current status and evidence.
pub async fn deliverables(db: &PgPool, phase_id: i64) -> sqlx::Result<Vec<DeliverableRow>> {
    sqlx::query_as!(
        DeliverableRow,
        r#"SELECT d.id AS "id!", d.headings AS "headings!: _", d.text AS "text!", d.depth AS "depth!", d.origin AS "origin!", d.owner AS "owner?", d.due_on AS "due_on?",
                e.status AS "status!: Parsed<DeliverableStatus>", e.note AS "note!", e.link AS "link?", e.report AS "report?",
                e.actor_name AS "actor_name!", e.at AS "at!", n.changes AS "changes!",
                (SELECT c.check_spec FROM deliverable_checks c WHERE c.deliverable_id = d.id
                 ORDER BY c.id DESC LIMIT 1) AS "check_spec?"
         FROM phase_deliverables d
         JOIN LATERAL (SELECT * FROM deliverable_events WHERE deliverable_id = d.id
                       ORDER BY id DESC LIMIT 1) e ON true
         JOIN LATERAL (SELECT count(*) AS changes FROM deliverable_events
                       WHERE deliverable_id = d.id) n ON true
         WHERE d.phase_id = $1
         ORDER BY d.position"#,
        phase_id,
    )
    .fetch_all(db)
    .await
}

pub struct ChangeRow {
    pub deliverable_id: i64,
    pub status: DeliverableStatus,
    pub note: String,
    pub link: Option<String>,
    pub actor_name: String,
    pub at: OffsetDateTime,
}

/// Every status change of a phase's deliverables, newest first, in one query.
pub async fn deliverable_changes(db: &PgPool, phase_id: i64) -> sqlx::Result<Vec<ChangeRow>> {
    sqlx::query_as!(
        ChangeRow,
        r#"SELECT e.deliverable_id, e.status AS "status: Parsed<DeliverableStatus>", e.note, e.link AS "link?",
                  e.actor_name, e.at
           FROM deliverable_events e JOIN phase_deliverables d ON d.id = e.deliverable_id
           WHERE d.phase_id = $1 ORDER BY e.id DESC"#,
        phase_id,
    )
    .fetch_all(db)
    .await
}
