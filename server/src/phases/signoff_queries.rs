//! Queries for what a phase's sign-off rests on: deliverables bound to checks, reports, the
//! sign-off chain (appended under an advisory lock), and the figures the grade takes from phases.

use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;

use app::model::phases::{DeliverableStatus, ReportClaim, ServiceAtSignoff};

use super::queries::from_micros;
use crate::auth::SessionUser;
use crate::db::Parsed;
use crate::phases::chain::{GENESIS, SignoffRecord};

/// A deliverable bound to a check, with its latest status event.
pub struct BoundDeliverable {
    pub id: i64,
    pub check_spec: String,
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
    sqlx::query_as!(
        BoundDeliverable,
        r#"SELECT d.id AS "id!", c.check_spec AS "check_spec!", e.status AS "status!: Parsed<DeliverableStatus>",
                e.note AS "note!", e.actor_subject AS "actor_subject!"
         FROM phase_deliverables d
         JOIN LATERAL (SELECT check_spec FROM deliverable_checks
                       WHERE deliverable_id = d.id ORDER BY id DESC LIMIT 1) c ON true
         JOIN LATERAL (SELECT status, note, actor_subject FROM deliverable_events
                       WHERE deliverable_id = d.id ORDER BY id DESC LIMIT 1) e ON true
         WHERE c.check_spec IS NOT NULL AND ($1::bigint IS NULL OR d.phase_id = $1)
           AND ($2::bigint IS NULL OR d.id = $2)
         ORDER BY d.id"#,
        phase,
        deliverable,
    )
    .fetch_all(db)
    .await
}

/// A phase's deliverable ids in plan order.
pub async fn deliverable_ids(db: impl PgExecutor<'_>, phase_id: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "SELECT id FROM phase_deliverables WHERE phase_id = $1 ORDER BY position",
        phase_id,
    )
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
    sqlx::query!(
        "INSERT INTO deliverable_checks (deliverable_id, check_spec, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4)",
        deliverable_id,
        spec,
        &actor.subject,
        actor.display_name(),
    )
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
    sqlx::query_scalar!(
        "INSERT INTO phase_reports (phase_id, kind, body, claims, actor_subject, actor_name)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        phase_id,
        kind,
        body,
        Json(claims) as _,
        &actor.subject,
        actor.display_name(),
    )
    .fetch_one(db)
    .await
}

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
    sqlx::query_as!(
        ReportRow,
        r#"SELECT id, kind, body, claims AS "claims: _", actor_subject, actor_name, at FROM phase_reports
         WHERE phase_id = $1 ORDER BY id DESC"#,
        phase_id,
    )
    .fetch_all(db)
    .await
}

/// The advisory lock that serializes appends to the sign-off chain.
const CHAIN_LOCK: i64 = 0x0073_6967_6e6f_6666; // "signoff" in ASCII

/// The texts of a phase's deliverables still open, in plan order: an approval waits for them.
pub async fn open_deliverables(
    conn: &mut PgConnection,
    phase_id: i64,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        "SELECT d.text FROM phase_deliverables d
         JOIN LATERAL (SELECT status FROM deliverable_events WHERE deliverable_id = d.id
                       ORDER BY id DESC LIMIT 1) e ON true
         WHERE d.phase_id = $1 AND e.status = 'open' ORDER BY d.position",
        phase_id,
    )
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
    sqlx::query!("SELECT pg_advisory_xact_lock($1)", CHAIN_LOCK,)
        .execute(&mut *tx)
        .await?;
    let last = sqlx::query!("SELECT seq, hash FROM phase_signoffs ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?;
    record.supersedes = sqlx::query_scalar!(
        "SELECT id FROM phase_signoffs WHERE phase_id = $1 ORDER BY seq DESC LIMIT 1",
        record.phase_id,
    )
    .fetch_optional(&mut *tx)
    .await?;
    record.seq = last.as_ref().map_or(1, |l| l.seq + 1);
    record.prev_hash = last.map_or_else(|| GENESIS.to_string(), |l| l.hash);
    record.hash = record.compute_hash();
    record.id = sqlx::query_scalar!(
        "INSERT INTO phase_signoffs (seq, phase_id, phase_number, decision, comment, reasons, remediation,
             grade_total, grade_letter, rubric_version, evidence, supersedes, signer_issuer, signer_subject,
             signer_name, auth_time, signed_at_micros, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         RETURNING id",
        record.seq,
        record.phase_id,
        &record.phase_number,
        &record.decision,
        &record.comment,
        &record.reasons,
        &record.remediation,
        record.grade_total,
        &record.grade_letter,
        record.rubric_version,
        &record.evidence,
        record.supersedes,
        &record.signer_issuer,
        &record.signer_subject,
        &record.signer_name,
        record.auth_time,
        record.signed_at_micros,
        &record.prev_hash,
        &record.hash,
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(record)
}

/// The whole chain in order (or one phase's part of it), for `/phases/verify`.
async fn chain_of(db: &PgPool, phase_id: Option<i64>) -> sqlx::Result<Vec<SignoffRecord>> {
    sqlx::query_as!(
        SignoffRecord,
        r#"SELECT id, seq, phase_id, phase_number, decision, comment, reasons, remediation,
                grade_total, grade_letter, rubric_version, evidence, supersedes AS "supersedes?", signer_issuer,
                signer_subject, signer_name, auth_time, signed_at_micros, prev_hash, hash
         FROM phase_signoffs WHERE $1::int8 IS NULL OR phase_id = $1 ORDER BY seq"#,
        phase_id,
    )
    .fetch_all(db)
    .await
}

/// The whole chain in order, for `/phases/verify`.
pub async fn chain(db: &PgPool) -> sqlx::Result<Vec<SignoffRecord>> {
    chain_of(db, None).await
}

/// The `seq` and hash of every sign-off as the audit trail recorded it when it was signed.
pub async fn recorded_signoffs(db: &PgPool) -> sqlx::Result<Vec<(i64, String)>> {
    let rows = sqlx::query!(
        r#"SELECT (after->>'seq')::int8 AS "seq!", after->>'hash' AS "hash!" FROM audit_log
         WHERE action = 'phase.sign_off' AND outcome = 'done' AND after ? 'hash'
         ORDER BY id"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.seq, r.hash)).collect())
}

pub async fn signoffs_of(db: &PgPool, phase_id: i64) -> sqlx::Result<Vec<SignoffRecord>> {
    let mut records = chain_of(db, Some(phase_id)).await?;
    records.reverse();
    Ok(records)
}

/// The services as a signer sees them, for the evidence snapshot.
pub async fn service_evidence(db: &PgPool) -> sqlx::Result<Vec<(ServiceAtSignoff, bool)>> {
    let rows = sqlx::query!(
        r#"SELECT e.name AS engine, s.key, s.image_ref, coalesce(s.facts->>'image_id', '') AS "image_id!",
                  jsonb_array_length(s.findings)::int8 AS "findings!", s.state = 'running' AS "running!"
           FROM services s JOIN engines e ON e.id = s.engine_id
           WHERE s.removed_at IS NULL AND e.configured
           ORDER BY e.name, s.key"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let service = ServiceAtSignoff {
                engine: r.engine,
                key: r.key,
                image: r.image_ref,
                image_id: r.image_id,
                findings: r.findings,
            };
            (service, r.running)
        })
        .collect())
}

/// (phases due, phases whose latest decision is an approval) for the Acceptance category. A phase
/// is due once its due date has passed, its completion is reported, or it was put to a decision.
pub async fn acceptance(db: &PgPool) -> sqlx::Result<(i64, i64)> {
    let rows = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE due) AS "due!",
                count(*) FILTER (WHERE due AND decision = 'approved') AS "approved!"
         FROM (
             SELECT (p.due_on <= current_date
                     OR s.decision IS NOT NULL
                     OR EXISTS (SELECT 1 FROM phase_reports r
                                WHERE r.phase_id = p.id AND r.kind = 'completion')) AS due,
                    s.decision
             FROM phases p
             LEFT JOIN LATERAL (SELECT decision FROM phase_signoffs WHERE phase_id = p.id
                                ORDER BY seq DESC LIMIT 1) s ON true
         ) x"#,
    )
    .fetch_one(db)
    .await?;
    Ok((rows.due, rows.approved))
}

/// When each approval was signed, for markers on the grade chart.
pub async fn approvals_since(
    db: &PgPool,
    days: i64,
) -> sqlx::Result<Vec<(String, OffsetDateTime)>> {
    let rows = sqlx::query!(
        "SELECT phase_number, signed_at_micros FROM phase_signoffs
         WHERE decision = 'approved'
           AND signed_at_micros > (extract(epoch FROM now() - make_interval(days => $1::int)) * 1000000)::int8
         ORDER BY seq",
        days as i32,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.phase_number, from_micros(r.signed_at_micros)))
        .collect())
}
