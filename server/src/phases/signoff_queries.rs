//! Queries for what a phase's sign-off rests on: deliverables bound to checks, reports, the
//! sign-off chain (appended under an advisory lock), and the figures the grade takes from phases.

use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;

use app::model::phases::{DeliverableStatus, ReportClaim, ServiceAtSignoff};

use super::queries::from_micros;
use crate::auth::SessionUser;
use crate::phases::chain::{GENESIS, SignoffRecord};

/// A deliverable bound to a check, with its latest status event.
#[derive(sqlx::FromRow)]
pub struct BoundDeliverable {
    pub id: i64,
    pub check_spec: String,
    #[sqlx(try_from = "String")]
    pub status: DeliverableStatus,
    pub note: String,
    pub actor_subject: String,
}

/// Which bound deliverables to evaluate: all of them after a refresh, one phase's after its
/// import, one deliverable after its binding changed.
#[derive(Clone, Copy, Debug)]
pub enum CheckScope {
    All,
    Phase(i64),
    Deliverable(i64),
}

/// Every deliverable bound to a check (all phases, or one deliverable), with its latest event.
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
    claims: &[ReportClaim],
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
    pub claims: Json<Vec<ReportClaim>>,
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

/// The advisory lock that serializes appends to the sign-off chain.
const CHAIN_LOCK: i64 = 0x0073_6967_6e6f_6666; // "signoff" in ASCII

/// The texts of a phase's deliverables still open, in plan order: an approval waits for them.
pub async fn open_deliverables(
    conn: &mut PgConnection,
    phase_id: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT d.text FROM phase_deliverables d
         JOIN LATERAL (SELECT status FROM deliverable_events WHERE deliverable_id = d.id
                       ORDER BY id DESC LIMIT 1) e ON true
         WHERE d.phase_id = $1 AND e.status = 'open' ORDER BY d.position",
    )
    .bind(phase_id)
    .fetch_all(conn)
    .await
}

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
pub async fn service_evidence(db: &PgPool) -> sqlx::Result<Vec<(ServiceAtSignoff, bool)>> {
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
                ServiceAtSignoff {
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
