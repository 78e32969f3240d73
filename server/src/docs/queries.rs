//! Queries on the docs tables: the worker's scan results, and the editors' claims and
//! attestations.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use time::{Date, OffsetDateTime};

use app::model::docs::{
    Attestation, CoverageFigures, CoveragePoint, DocCheck, DocClaim, ServiceRef,
};

use crate::docs::ScanOutcome;
use crate::docs::ScannedDoc;

/// Applies a scan in one transaction: docs upserted (history appended on change), vanished
/// files marked removed, the problem list replaced.
pub async fn apply_scan(
    tx: &mut sqlx::PgConnection,
    scan: &ScanOutcome,
    at: OffsetDateTime,
) -> sqlx::Result<()> {
    let previous = sqlx::query!(
        r#"SELECT path, content_hash, checks AS "checks: Json<Vec<DocCheck>>", removed_at FROM docs"#,
    )
    .fetch_all(&mut *tx)
    .await?;
    for doc in &scan.docs {
        let before = previous.iter().find(|p| p.path == doc.path);
        let event = match before {
            None => Some("added"),
            Some(p) if p.removed_at.is_some() => Some("added"),
            Some(p) if p.content_hash != doc.content_hash || p.checks.0 != doc.checks => {
                Some("changed")
            }
            _ => None,
        };
        sqlx::query!(
            "INSERT INTO docs (path, title, services, engine, owner, last_verified, checks, html, content_hash, first_seen, scanned_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT (path) DO UPDATE SET title = EXCLUDED.title, services = EXCLUDED.services,
                 engine = EXCLUDED.engine, owner = EXCLUDED.owner, last_verified = EXCLUDED.last_verified,
                 checks = EXCLUDED.checks, html = EXCLUDED.html, content_hash = EXCLUDED.content_hash,
                 scanned_at = EXCLUDED.scanned_at, removed_at = NULL",
            &doc.path,
            doc.title.as_deref(),
            &doc.services,
            doc.engine.as_deref(),
            doc.owner.as_deref(),
            doc.last_verified,
            Json(&doc.checks) as _,
            &doc.html,
            &doc.content_hash,
            at,
        )
        .execute(&mut *tx)
        .await?;
        if let Some(event) = event {
            history(
                &mut *tx,
                &doc.path,
                at,
                &doc.content_hash,
                &doc.checks,
                event,
            )
            .await?;
        }
    }
    let present: Vec<&str> = scan.docs.iter().map(|d| d.path.as_str()).collect();
    let removed = sqlx::query!(
        r#"UPDATE docs SET removed_at = $1 WHERE removed_at IS NULL AND path <> ALL($2::text[])
           RETURNING path, content_hash, checks AS "checks: Json<Vec<DocCheck>>""#,
        at,
        &present as _,
    )
    .fetch_all(&mut *tx)
    .await?;
    for doc in removed {
        history(
            &mut *tx,
            &doc.path,
            at,
            &doc.content_hash,
            &doc.checks.0,
            "removed",
        )
        .await?;
    }
    sqlx::query!("DELETE FROM doc_problems",)
        .execute(&mut *tx)
        .await?;
    let (paths, reasons): (Vec<&str>, Vec<&str>) = scan
        .problems
        .iter()
        .map(|(p, r)| (p.as_str(), r.as_str()))
        .unzip();
    sqlx::query!(
        "INSERT INTO doc_problems (path, reason, seen_at) SELECT *, $3 FROM unnest($1::text[], $2::text[])",
        &paths as _,
        &reasons as _,
        at,
    )
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn history<'e>(
    db: impl PgExecutor<'e>,
    path: &str,
    at: OffsetDateTime,
    hash: &str,
    checks: &[DocCheck],
    event: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO doc_history (path, at, content_hash, checks, event) VALUES ($1, $2, $3, $4, $5)",
        path,
        at,
        hash,
        Json(checks) as _,
        event,
    )
        .execute(db)
        .await?;
    Ok(())
}

struct DocRow {
    path: String,
    title: Option<String>,
    services: Vec<String>,
    engine: Option<String>,
    owner: Option<String>,
    last_verified: Option<Date>,
    checks: Json<Vec<DocCheck>>,
    html: String,
    content_hash: String,
}

impl From<DocRow> for ScannedDoc {
    fn from(r: DocRow) -> Self {
        ScannedDoc {
            path: r.path,
            title: r.title,
            services: r.services,
            engine: r.engine,
            owner: r.owner,
            last_verified: r.last_verified,
            checks: r.checks.0,
            html: r.html,
            content_hash: r.content_hash,
        }
    }
}

/// Everything coverage needs from the docs tables, in four queries.
pub struct DocsState {
    pub docs: Vec<ScannedDoc>,
    pub problems: Vec<(String, String)>,
    pub attestations: BTreeMap<String, Attestation>,
    pub claims: Vec<DocClaim>,
}

pub async fn load(db: &PgPool) -> sqlx::Result<DocsState> {
    let docs: Vec<DocRow> = sqlx::query_as!(
        DocRow,
        r#"SELECT path, title AS "title?", services, engine AS "engine?", owner AS "owner?", last_verified AS "last_verified?", checks AS "checks: _", html, content_hash
         FROM docs WHERE removed_at IS NULL ORDER BY path"#,
    )
    .fetch_all(db)
    .await?;
    let problems = sqlx::query!("SELECT path, reason FROM doc_problems ORDER BY path")
        .fetch_all(db)
        .await?
        .into_iter()
        .map(|r| (r.path, r.reason))
        .collect();
    let latest = sqlx::query!(
        "SELECT DISTINCT ON (path) path, actor_name, at, note FROM doc_attestations
         ORDER BY path, at DESC, id DESC",
    )
    .fetch_all(db)
    .await?;
    let attestations = latest
        .into_iter()
        .map(|r| {
            let attestation = Attestation {
                by: r.actor_name,
                at: r.at,
                note: r.note,
            };
            (r.path, attestation)
        })
        .collect();
    Ok(DocsState {
        docs: docs.into_iter().map(Into::into).collect(),
        problems,
        attestations,
        claims: open_claims(db).await?,
    })
}

struct ClaimRow {
    engine: String,
    service_key: String,
    actor_name: String,
    actor_subject: String,
    due: Option<Date>,
    note: String,
    created_at: OffsetDateTime,
}

pub async fn open_claims(db: &PgPool) -> sqlx::Result<Vec<DocClaim>> {
    let rows: Vec<ClaimRow> = sqlx::query_as!(
        ClaimRow,
        r#"SELECT engine, service_key, actor_name, actor_subject, due AS "due?", note, created_at
         FROM doc_claims WHERE released_at IS NULL ORDER BY created_at"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| DocClaim {
            engine: r.engine,
            key: r.service_key,
            by: r.actor_name,
            by_subject: r.actor_subject,
            due: r.due,
            note: r.note,
            at: r.created_at,
        })
        .collect())
}

/// The current services, as coverage sees them, in one query.
pub async fn service_refs(db: &PgPool) -> sqlx::Result<Vec<ServiceRef>> {
    struct Row {
        engine: String,
        key: String,
        display_name: String,
        container_name: Option<String>,
        compose_service: Option<String>,
        doc_path: Option<String>,
        running: bool,
        findings: i32,
        high: i64,
        exposures: i32,
        restarts: Option<i64>,
        log_errors: Option<i64>,
    }
    let rows: Vec<Row> = sqlx::query_as!(
        Row,
        r#"SELECT e.name AS "engine!", s.key, s.display_name, s.facts->>'container_name' AS "container_name!",
                s.compose_service, s.doc_path, s.state = 'running' AS "running!",
                jsonb_array_length(s.findings) AS "findings!",
                (SELECT count(*) FROM jsonb_array_elements(s.findings) f WHERE f->>'severity' = 'high') AS "high!",
                jsonb_array_length(coalesce(s.facts->'routes', '[]')) + jsonb_array_length(coalesce(s.facts->'ports', '[]')) AS "exposures!",
                (s.facts->>'restart_count')::int8 AS "restarts!",
                ((s.facts->>'log_errors')::int8 + (s.facts->>'log_fatals')::int8) AS "log_errors!"
         FROM services s JOIN engines e ON e.id = s.engine_id
         WHERE s.removed_at IS NULL AND e.configured"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ServiceRef {
            engine: r.engine,
            key: r.key,
            display_name: r.display_name,
            container_name: r.container_name.unwrap_or_default(),
            compose_service: r.compose_service,
            doc_label: r.doc_path,
            running: r.running,
            findings: r.findings.max(0) as usize,
            high_findings: r.high.max(0) as usize,
            exposures: r.exposures.max(0) as usize,
            restarts: r.restarts.unwrap_or(0),
            log_errors: r.log_errors.unwrap_or(0),
        })
        .collect())
}

/// Appends a snapshot when the figures differ from the last one or the last is from another day.
pub async fn snapshot_if_changed(
    db: &PgPool,
    f: &CoverageFigures,
    target: f64,
    at: OffsetDateTime,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query!(
        "INSERT INTO coverage_snapshots (taken_at, services, documented, passing, fresh, target)
         SELECT $1::timestamptz, $2, $3, $4, $5, $6
         WHERE NOT EXISTS (
             SELECT 1 FROM (SELECT * FROM coverage_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1) last
             WHERE last.services = $2 AND last.documented = $3 AND last.passing = $4 AND last.fresh = $5
               AND last.target = $6 AND last.taken_at::date = $1::date)",
        at,
        f.services as i32,
        f.documented as i32,
        f.passing as i32,
        f.fresh as i32,
        target,
    )
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn trend(db: &PgPool, days: i64) -> sqlx::Result<Vec<CoveragePoint>> {
    let rows = sqlx::query!(
        "SELECT taken_at, services, documented, passing FROM coverage_snapshots
         WHERE taken_at > now() - make_interval(days => $1) ORDER BY taken_at",
        days as i32,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| CoveragePoint {
            at: r.taken_at,
            documented_share: CoverageFigures::share(r.documented.into(), r.services.into()),
            passing_share: CoverageFigures::share(r.passing.into(), r.services.into()),
        })
        .collect())
}

/// A doc's change history, newest first.
pub async fn doc_history(
    db: &PgPool,
    path: &str,
) -> sqlx::Result<Vec<(OffsetDateTime, String, bool)>> {
    let rows = sqlx::query!(
        r#"SELECT at, event, checks AS "checks: Json<Vec<DocCheck>>" FROM doc_history
           WHERE path = $1 ORDER BY at DESC, id DESC LIMIT 100"#,
        path,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.at, r.event, r.checks.0.iter().all(|c| c.passed)))
        .collect())
}

pub async fn attestations(db: &PgPool, path: &str) -> sqlx::Result<Vec<Attestation>> {
    let rows = sqlx::query!(
        "SELECT actor_name, at, note FROM doc_attestations WHERE path = $1
         ORDER BY at DESC, id DESC LIMIT 100",
        path,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Attestation {
            by: r.actor_name,
            at: r.at,
            note: r.note,
        })
        .collect())
}

/// A doc's rendered (sanitized) HTML.
pub async fn html_of(db: &PgPool, path: &str) -> sqlx::Result<String> {
    sqlx::query_scalar!("SELECT html FROM docs WHERE path = $1", path,)
        .fetch_one(db)
        .await
}
