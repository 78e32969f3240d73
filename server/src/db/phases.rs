//! Queries for phases: creating them from a plan, deliverables and their status history,
//! reports, and appending to and reading the sign-off chain.

use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::{Date, OffsetDateTime};

use app::model::phases::{
    Claim, DeliverableChange, DeliverableView, PhaseSummary, ServiceEvidence,
};

use crate::auth::SessionUser;
use crate::grade::rubric::Score;
use crate::phases::chain::{GENESIS, SignoffRecord};
use crate::phases::import::PlanItem;

/// The advisory lock that serializes appends to the sign-off chain.
const CHAIN_LOCK: i64 = 0x0073_6967_6e6f_6666; // "signoff" in ASCII

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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO phases (number, title, starts_on, due_on, target_grade, objectives, criteria,
                             source_markdown, import_notes, created_by, claimed_grade)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(p.number)
    .bind(p.title)
    .bind(p.starts_on)
    .bind(p.due_on)
    .bind(p.target_grade.map(|g| g as i32))
    .bind(Json(p.objectives))
    .bind(Json(p.criteria))
    .bind(p.source)
    .bind(Json(p.notes))
    .bind(actor.display_name())
    .bind(p.claimed_grade.map(|g| g as i32))
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
        .map(|i| if i.checked { "done" } else { "open" })
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
    sqlx::query(
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
    )
    .bind(id)
    .bind(&positions)
    .bind(&headings)
    .bind(&texts)
    .bind(&depths)
    .bind(&statuses)
    .bind(&notes)
    .bind(&actor.subject)
    .bind(actor.display_name())
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
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO phase_deliverables (phase_id, position, text, origin, owner, due_on, signoff_id)
         VALUES ($1, (SELECT coalesce(max(position) + 1, 0) FROM phase_deliverables WHERE phase_id = $1),
                 $2, $3, $4, $5, $6)
         RETURNING id",
    )
    .bind(phase_id)
    .bind(d.text)
    .bind(d.origin)
    .bind(d.owner)
    .bind(d.due_on)
    .bind(d.signoff_id)
    .fetch_one(&mut *tx)
    .await?;
    add_event(&mut *tx, id, "open", "", None, None, actor).await?;
    Ok(id)
}

pub async fn add_event(
    db: impl PgExecutor<'_>,
    deliverable_id: i64,
    status: &str,
    note: &str,
    link: Option<&str>,
    report: Option<&str>,
    actor: &SessionUser,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO deliverable_events (deliverable_id, status, note, link, report, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(deliverable_id)
    .bind(status)
    .bind(note)
    .bind(link)
    .bind(report)
    .bind(&actor.subject)
    .bind(actor.display_name())
    .execute(db)
    .await?;
    Ok(())
}

/// The phase a deliverable belongs to, if it exists.
pub async fn deliverable_phase(db: &PgPool, deliverable_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT phase_id FROM phase_deliverables WHERE id = $1")
        .bind(deliverable_id)
        .fetch_optional(db)
        .await
}

const SUMMARY: &str = "
    SELECT p.id, p.number, p.title, p.due_on, p.target_grade, p.claimed_grade, p.created_at,
           s.grade_total AS last_decision_grade,
           (SELECT g.total FROM grade_snapshots g WHERE g.taken_at <= p.created_at
            ORDER BY g.taken_at DESC, g.id DESC LIMIT 1) AS grade_at_import,
           coalesce(c.total, 0) AS total, coalesce(c.done, 0) AS done, coalesce(c.waived, 0) AS waived,
           s.decision AS last_decision, s.signed_at_micros AS last_decision_micros
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
                       WHERE phase_id = p.id ORDER BY seq DESC LIMIT 1) s ON true";

#[derive(sqlx::FromRow)]
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

/// Every phase with its progress and last decision, in one query.
pub async fn summaries(db: &PgPool) -> sqlx::Result<Vec<PhaseSummary>> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!("{SUMMARY} ORDER BY p.number"))
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

pub async fn summary(db: &PgPool, id: i64) -> sqlx::Result<Option<PhaseSummary>> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!("{SUMMARY} WHERE p.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(Into::into))
}

#[derive(sqlx::FromRow)]
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
    sqlx::query_as(
        "SELECT starts_on, objectives, criteria, import_notes, created_by, created_at,
                source_markdown IS NOT NULL AS has_source
         FROM phases WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn source(db: &PgPool, id: i64) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT number, source_markdown FROM phases WHERE id = $1 AND source_markdown IS NOT NULL",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

#[derive(sqlx::FromRow)]
pub struct DeliverableRow {
    pub id: i64,
    pub headings: Json<Vec<String>>,
    pub text: String,
    pub depth: i16,
    pub origin: String,
    pub owner: Option<String>,
    pub due_on: Option<Date>,
    pub status: String,
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
    sqlx::query_as(
        "SELECT d.id, d.headings, d.text, d.depth, d.origin, d.owner, d.due_on,
                e.status, e.note, e.link, e.report, e.actor_name, e.at, n.changes,
                (SELECT c.check_spec FROM deliverable_checks c WHERE c.deliverable_id = d.id
                 ORDER BY c.id DESC LIMIT 1) AS check_spec
         FROM phase_deliverables d
         JOIN LATERAL (SELECT * FROM deliverable_events WHERE deliverable_id = d.id
                       ORDER BY id DESC LIMIT 1) e ON true
         JOIN LATERAL (SELECT count(*) AS changes FROM deliverable_events
                       WHERE deliverable_id = d.id) n ON true
         WHERE d.phase_id = $1
         ORDER BY d.position",
    )
    .bind(phase_id)
    .fetch_all(db)
    .await
}

#[derive(sqlx::FromRow)]
pub struct ChangeRow {
    pub deliverable_id: i64,
    pub status: String,
    pub note: String,
    pub link: Option<String>,
    pub actor_name: String,
    pub at: OffsetDateTime,
}

/// Every status change of a phase's deliverables, newest first, in one query.
pub async fn deliverable_changes(db: &PgPool, phase_id: i64) -> sqlx::Result<Vec<ChangeRow>> {
    sqlx::query_as(
        "SELECT e.deliverable_id, e.status, e.note, e.link, e.actor_name, e.at
         FROM deliverable_events e JOIN phase_deliverables d ON d.id = e.deliverable_id
         WHERE d.phase_id = $1 ORDER BY e.id DESC",
    )
    .bind(phase_id)
    .fetch_all(db)
    .await
}

impl DeliverableRow {
    pub fn into_view(
        self,
        report_html: Option<String>,
        history: Vec<DeliverableChange>,
    ) -> DeliverableView {
        DeliverableView {
            id: self.id,
            headings: self.headings.0,
            text: self.text,
            depth: self.depth,
            origin: self.origin,
            owner: self.owner,
            due_on: self.due_on,
            status: self.status,
            note: self.note,
            link: self.link,
            report_html,
            by: self.actor_name,
            at: self.at,
            changes: self.changes,
            history,
            check: self.check_spec.map(|spec| {
                let described = crate::phases::checks::DeliverableCheck::parse(&spec)
                    .map(|c| c.describe())
                    .unwrap_or_else(|e| format!("an unreadable check ({e})"));
                (spec, described)
            }),
        }
    }
}

/// A deliverable bound to a check, with its latest status event.
#[derive(sqlx::FromRow)]
pub struct BoundDeliverable {
    pub id: i64,
    pub check_spec: String,
    pub status: String,
    pub note: String,
    pub actor_subject: String,
}

/// Every deliverable bound to a check (all phases, or one deliverable), with its latest event.
/// Which bound deliverables to evaluate: all of them after a refresh, one phase's after its
/// import, one deliverable after its binding changed.
#[derive(Clone, Copy, Debug)]
pub enum CheckScope {
    All,
    Phase(i64),
    Deliverable(i64),
}

pub async fn bound_deliverables(
    db: &PgPool,
    scope: CheckScope,
) -> sqlx::Result<Vec<BoundDeliverable>> {
    let (phase, deliverable) = match scope {
        CheckScope::All => (None, None),
        CheckScope::Phase(id) => (Some(id), None),
        CheckScope::Deliverable(id) => (None, Some(id)),
    };
    sqlx::query_as(
        "SELECT d.id, c.check_spec, e.status, e.note, e.actor_subject
         FROM phase_deliverables d
         JOIN LATERAL (SELECT check_spec FROM deliverable_checks
                       WHERE deliverable_id = d.id ORDER BY id DESC LIMIT 1) c ON true
         JOIN LATERAL (SELECT status, note, actor_subject FROM deliverable_events
                       WHERE deliverable_id = d.id ORDER BY id DESC LIMIT 1) e ON true
         WHERE c.check_spec IS NOT NULL AND ($1::bigint IS NULL OR d.phase_id = $1)
           AND ($2::bigint IS NULL OR d.id = $2)
         ORDER BY d.id",
    )
    .bind(phase)
    .bind(deliverable)
    .fetch_all(db)
    .await
}

/// A phase's deliverable ids in plan order.
pub async fn deliverable_ids(db: impl PgExecutor<'_>, phase_id: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("SELECT id FROM phase_deliverables WHERE phase_id = $1 ORDER BY position")
        .bind(phase_id)
        .fetch_all(db)
        .await
}

/// Binds a deliverable to a check spec, or unbinds it (`None`): a new row either way.
pub async fn set_check(
    db: impl PgExecutor<'_>,
    deliverable_id: i64,
    spec: Option<&str>,
    actor: &SessionUser,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO deliverable_checks (deliverable_id, check_spec, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4)",
    )
    .bind(deliverable_id)
    .bind(spec)
    .bind(&actor.subject)
    .bind(actor.display_name())
    .execute(db)
    .await?;
    Ok(())
}

pub async fn add_report(
    db: impl PgExecutor<'_>,
    phase_id: i64,
    kind: &str,
    body: &str,
    claims: &[Claim],
    actor: &SessionUser,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO phase_reports (phase_id, kind, body, claims, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(phase_id)
    .bind(kind)
    .bind(body)
    .bind(Json(claims))
    .bind(&actor.subject)
    .bind(actor.display_name())
    .fetch_one(db)
    .await
}

#[derive(sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    pub kind: String,
    pub body: String,
    pub claims: Json<Vec<Claim>>,
    pub actor_subject: String,
    pub actor_name: String,
    pub at: OffsetDateTime,
}

/// A phase's reports, newest first.
pub async fn reports(db: &PgPool, phase_id: i64) -> sqlx::Result<Vec<ReportRow>> {
    sqlx::query_as(
        "SELECT id, kind, body, claims, actor_subject, actor_name, at FROM phase_reports
         WHERE phase_id = $1 ORDER BY id DESC",
    )
    .bind(phase_id)
    .fetch_all(db)
    .await
}

const RECORD_COLUMNS: &str =
    "id, seq, phase_id, phase_number, decision, comment, reasons, remediation,
    grade_total, grade_letter, rubric_version, evidence, supersedes, signer_issuer, signer_subject,
    signer_name, auth_time, signed_at_micros, prev_hash, hash";

/// Appends a sign-off to the chain. The transaction-scoped advisory lock makes concurrent
/// appends wait for each other, so each sees the true last record; `seq`, `prev_hash`, `hash`
/// and `supersedes` of `record` are filled in here.
pub async fn append_signoff(
    tx: &mut PgConnection,
    mut record: SignoffRecord,
) -> sqlx::Result<SignoffRecord> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHAIN_LOCK)
        .execute(&mut *tx)
        .await?;
    let last: Option<(i64, String)> =
        sqlx::query_as("SELECT seq, hash FROM phase_signoffs ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    record.supersedes = sqlx::query_scalar(
        "SELECT id FROM phase_signoffs WHERE phase_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(record.phase_id)
    .fetch_optional(&mut *tx)
    .await?;
    record.seq = last.as_ref().map_or(1, |(seq, _)| seq + 1);
    record.prev_hash = last.map_or_else(|| GENESIS.to_string(), |(_, hash)| hash);
    record.hash = record.compute_hash();
    record.id = sqlx::query_scalar(
        "INSERT INTO phase_signoffs (seq, phase_id, phase_number, decision, comment, reasons, remediation,
             grade_total, grade_letter, rubric_version, evidence, supersedes, signer_issuer, signer_subject,
             signer_name, auth_time, signed_at_micros, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         RETURNING id",
    )
    .bind(record.seq)
    .bind(record.phase_id)
    .bind(&record.phase_number)
    .bind(&record.decision)
    .bind(&record.comment)
    .bind(&record.reasons)
    .bind(&record.remediation)
    .bind(record.grade_total)
    .bind(&record.grade_letter)
    .bind(record.rubric_version)
    .bind(&record.evidence)
    .bind(record.supersedes)
    .bind(&record.signer_issuer)
    .bind(&record.signer_subject)
    .bind(&record.signer_name)
    .bind(record.auth_time)
    .bind(record.signed_at_micros)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .fetch_one(&mut *tx)
    .await?;
    Ok(record)
}

/// The whole chain in order, for `/phases/verify`.
pub async fn chain(db: &PgPool) -> sqlx::Result<Vec<SignoffRecord>> {
    sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM phase_signoffs ORDER BY seq"
    ))
    .fetch_all(db)
    .await
}

/// The `seq` and hash of every sign-off as the audit trail recorded it when it was signed.
pub async fn recorded_signoffs(db: &PgPool) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT (after->>'seq')::int8, after->>'hash' FROM audit_log
         WHERE action = 'phase.sign_off' AND outcome = 'done' AND after ? 'hash'
         ORDER BY id",
    )
    .fetch_all(db)
    .await
}

pub async fn signoffs_of(db: &PgPool, phase_id: i64) -> sqlx::Result<Vec<SignoffRecord>> {
    sqlx::query_as(&format!(
        "SELECT {RECORD_COLUMNS} FROM phase_signoffs WHERE phase_id = $1 ORDER BY seq DESC"
    ))
    .bind(phase_id)
    .fetch_all(db)
    .await
}

/// The services as a signer sees them, for the evidence snapshot.
pub async fn service_evidence(db: &PgPool) -> sqlx::Result<Vec<(ServiceEvidence, bool)>> {
    let rows: Vec<(String, String, String, String, i64, bool)> = sqlx::query_as(
        "SELECT e.name, s.key, s.image_ref, coalesce(s.facts->>'image_id', ''),
                jsonb_array_length(s.findings)::int8, s.state = 'running'
         FROM services s JOIN engines e ON e.id = s.engine_id
         WHERE s.removed_at IS NULL AND e.configured
         ORDER BY e.name, s.key",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(engine, key, image, image_id, findings, running)| {
            (
                ServiceEvidence {
                    engine,
                    key,
                    image,
                    image_id,
                    findings,
                },
                running,
            )
        })
        .collect())
}

/// (phases due, phases whose latest decision is an approval) for the Acceptance category. A phase
/// is due once its due date has passed, its completion is reported, or it was put to a decision.
pub async fn acceptance(db: &PgPool) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE due), count(*) FILTER (WHERE due AND decision = 'approved')
         FROM (
             SELECT (p.due_on <= current_date
                     OR s.decision IS NOT NULL
                     OR EXISTS (SELECT 1 FROM phase_reports r
                                WHERE r.phase_id = p.id AND r.kind = 'completion')) AS due,
                    s.decision
             FROM phases p
             LEFT JOIN LATERAL (SELECT decision FROM phase_signoffs WHERE phase_id = p.id
                                ORDER BY seq DESC LIMIT 1) s ON true
         ) x",
    )
    .fetch_one(db)
    .await
}

/// When each approval was signed, for markers on the grade chart.
pub async fn approvals_since(
    db: &PgPool,
    days: i64,
) -> sqlx::Result<Vec<(String, OffsetDateTime)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT phase_number, signed_at_micros FROM phase_signoffs
         WHERE decision = 'approved'
           AND signed_at_micros > (extract(epoch FROM now() - make_interval(days => $1::int)) * 1000000)::int8
         ORDER BY seq",
    )
    .bind(days as i32)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(n, micros)| (n, from_micros(micros)))
        .collect())
}
