//! Queries on the docs tables: the worker's scan results, and the editors' claims and
//! attestations.

use std::collections::BTreeMap;

use sqlx::types::Json;
use sqlx::{PgExecutor, PgPool};
use time::{Date, OffsetDateTime};

use app::model::docs::{
    Attestation, CoverageFigures, CoveragePoint, DocCheck, DocClaim, ServiceRef,
};

use crate::auth::SessionUser;
use crate::docs::ScanOutcome;
use crate::docs::ScannedDoc;

/// A doc as the previous scan left it: path, content hash, checks, removal time.
type PreviousDoc = (String, String, Json<Vec<DocCheck>>, Option<OffsetDateTime>);

/// Applies a scan in one transaction: docs upserted (history appended on change), vanished
/// files marked removed, the problem list replaced.
pub async fn apply_scan(
    tx: &mut sqlx::PgConnection,
    scan: &ScanOutcome,
    at: OffsetDateTime,
) -> sqlx::Result<()> {
    let previous: Vec<PreviousDoc> =
        sqlx::query_as("SELECT path, content_hash, checks, removed_at FROM docs")
            .fetch_all(&mut *tx)
            .await?;
    for doc in &scan.docs {
        let before = previous.iter().find(|p| p.0 == doc.path);
        let event = match before {
            None => Some("added"),
            Some((_, _, _, Some(_))) => Some("added"),
            Some((_, hash, checks, None))
                if *hash != doc.content_hash || checks.0 != doc.checks =>
            {
                Some("changed")
            }
            _ => None,
        };
        sqlx::query(
            "INSERT INTO docs (path, title, services, engine, owner, last_verified, checks, html, content_hash, first_seen, scanned_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT (path) DO UPDATE SET title = EXCLUDED.title, services = EXCLUDED.services,
                 engine = EXCLUDED.engine, owner = EXCLUDED.owner, last_verified = EXCLUDED.last_verified,
                 checks = EXCLUDED.checks, html = EXCLUDED.html, content_hash = EXCLUDED.content_hash,
                 scanned_at = EXCLUDED.scanned_at, removed_at = NULL",
        )
        .bind(&doc.path)
        .bind(&doc.title)
        .bind(&doc.services)
        .bind(&doc.engine)
        .bind(&doc.owner)
        .bind(doc.last_verified)
        .bind(Json(&doc.checks))
        .bind(&doc.html)
        .bind(&doc.content_hash)
        .bind(at)
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
    let removed: Vec<(String, String, Json<Vec<DocCheck>>)> = sqlx::query_as(
        "UPDATE docs SET removed_at = $1 WHERE removed_at IS NULL AND path <> ALL($2::text[])
         RETURNING path, content_hash, checks",
    )
    .bind(at)
    .bind(&present)
    .fetch_all(&mut *tx)
    .await?;
    for (path, hash, checks) in removed {
        history(&mut *tx, &path, at, &hash, &checks.0, "removed").await?;
    }
    sqlx::query("DELETE FROM doc_problems")
        .execute(&mut *tx)
        .await?;
    let (paths, reasons): (Vec<&str>, Vec<&str>) = scan
        .problems
        .iter()
        .map(|(p, r)| (p.as_str(), r.as_str()))
        .unzip();
    sqlx::query("INSERT INTO doc_problems (path, reason, seen_at) SELECT *, $3 FROM unnest($1::text[], $2::text[])")
        .bind(&paths)
        .bind(&reasons)
        .bind(at)
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
    sqlx::query("INSERT INTO doc_history (path, at, content_hash, checks, event) VALUES ($1, $2, $3, $4, $5)")
        .bind(path)
        .bind(at)
        .bind(hash)
        .bind(Json(checks))
        .bind(event)
        .execute(db)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
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
    let docs: Vec<DocRow> = sqlx::query_as(
        "SELECT path, title, services, engine, owner, last_verified, checks, html, content_hash
         FROM docs WHERE removed_at IS NULL ORDER BY path",
    )
    .fetch_all(db)
    .await?;
    let problems: Vec<(String, String)> =
        sqlx::query_as("SELECT path, reason FROM doc_problems ORDER BY path")
            .fetch_all(db)
            .await?;
    let latest: Vec<(String, String, OffsetDateTime, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (path) path, actor_name, at, note FROM doc_attestations ORDER BY path, at DESC, id DESC",
    )
    .fetch_all(db)
    .await?;
    let attestations = latest
        .into_iter()
        .map(|(path, by, at, note)| (path, Attestation { by, at, note }))
        .collect();
    Ok(DocsState {
        docs: docs.into_iter().map(Into::into).collect(),
        problems,
        attestations,
        claims: open_claims(db).await?,
    })
}

#[derive(sqlx::FromRow)]
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
    let rows: Vec<ClaimRow> = sqlx::query_as(
        "SELECT engine, service_key, actor_name, actor_subject, due, note, created_at
         FROM doc_claims WHERE released_at IS NULL ORDER BY created_at",
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
    #[derive(sqlx::FromRow)]
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
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT e.name AS engine, s.key, s.display_name, s.facts->>'container_name' AS container_name,
                s.compose_service, s.doc_path, s.state = 'running' AS running,
                jsonb_array_length(s.findings) AS findings,
                (SELECT count(*) FROM jsonb_array_elements(s.findings) f WHERE f->>'severity' = 'high') AS high,
                jsonb_array_length(coalesce(s.facts->'routes', '[]')) + jsonb_array_length(coalesce(s.facts->'ports', '[]')) AS exposures,
                (s.facts->>'restart_count')::int8 AS restarts,
                ((s.facts->>'log_errors')::int8 + (s.facts->>'log_fatals')::int8) AS log_errors
         FROM services s JOIN engines e ON e.id = s.engine_id
         WHERE s.removed_at IS NULL AND e.configured",
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
    let inserted = sqlx::query(
        "INSERT INTO coverage_snapshots (taken_at, services, documented, passing, fresh, target)
         SELECT $1, $2, $3, $4, $5, $6
         WHERE NOT EXISTS (
             SELECT 1 FROM (SELECT * FROM coverage_snapshots ORDER BY taken_at DESC, id DESC LIMIT 1) last
             WHERE last.services = $2 AND last.documented = $3 AND last.passing = $4 AND last.fresh = $5
               AND last.target = $6 AND last.taken_at::date = $1::date)",
    )
    .bind(at)
    .bind(f.services as i32)
    .bind(f.documented as i32)
    .bind(f.passing as i32)
    .bind(f.fresh as i32)
    .bind(target)
    .execute(db)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub async fn trend(db: &PgPool, days: i64) -> sqlx::Result<Vec<CoveragePoint>> {
    let rows: Vec<(OffsetDateTime, i32, i32, i32)> = sqlx::query_as(
        "SELECT taken_at, services, documented, passing FROM coverage_snapshots
         WHERE taken_at > now() - make_interval(days => $1) ORDER BY taken_at",
    )
    .bind(days as i32)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, services, documented, passing)| CoveragePoint {
            at,
            documented_share: CoverageFigures::share(documented.into(), services.into()),
            passing_share: CoverageFigures::share(passing.into(), services.into()),
        })
        .collect())
}

/// A doc's change history, newest first.
pub async fn doc_history(
    db: &PgPool,
    path: &str,
) -> sqlx::Result<Vec<(OffsetDateTime, String, bool)>> {
    let rows: Vec<(OffsetDateTime, String, Json<Vec<DocCheck>>)> =
        sqlx::query_as("SELECT at, event, checks FROM doc_history WHERE path = $1 ORDER BY at DESC, id DESC LIMIT 100")
            .bind(path)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(at, event, checks)| (at, event, checks.0.iter().all(|c| c.passed)))
        .collect())
}

pub async fn attestations(db: &PgPool, path: &str) -> sqlx::Result<Vec<Attestation>> {
    let rows: Vec<(String, OffsetDateTime, String)> =
        sqlx::query_as("SELECT actor_name, at, note FROM doc_attestations WHERE path = $1 ORDER BY at DESC, id DESC LIMIT 100")
            .bind(path)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(by, at, note)| Attestation { by, at, note })
        .collect())
}

/// Whether a current service has that key on that engine.
pub async fn service_exists(db: &PgPool, engine: &str, key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM services s JOIN engines e ON e.id = s.engine_id
                        WHERE e.name = $1 AND s.key = $2 AND s.removed_at IS NULL)",
    )
    .bind(engine)
    .bind(key)
    .fetch_one(db)
    .await
}

/// Whether a doc of that path is in the folder now.
pub async fn doc_exists(db: &PgPool, path: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM docs WHERE path = $1 AND removed_at IS NULL)")
        .bind(path)
        .fetch_one(db)
        .await
}

pub struct NewClaim<'a> {
    pub engine: &'a str,
    pub key: &'a str,
    pub due: Option<Date>,
    pub note: &'a str,
}

/// Claims a service's doc; false when it is claimed already (the partial unique index on open
/// claims answers, so two people claiming at once cannot both win).
pub async fn claim(
    conn: &mut sqlx::PgConnection,
    c: &NewClaim<'_>,
    by: &SessionUser,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO doc_claims (engine, service_key, actor_subject, actor_name, due, note)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (engine, service_key) WHERE released_at IS NULL DO NOTHING",
    )
    .bind(c.engine)
    .bind(c.key)
    .bind(&by.subject)
    .bind(by.display_name())
    .bind(c.due)
    .bind(c.note)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Releases the open claim on a service; returns what it was (by, due, note), or None.
pub async fn release(
    conn: &mut sqlx::PgConnection,
    engine: &str,
    key: &str,
    by: &SessionUser,
) -> sqlx::Result<Option<serde_json::Value>> {
    let released: Option<(String, Option<Date>, String)> = sqlx::query_as(
        "UPDATE doc_claims SET released_at = now(), released_by = $3
         WHERE engine = $1 AND service_key = $2 AND released_at IS NULL
         RETURNING actor_name, due, note",
    )
    .bind(engine)
    .bind(key)
    .bind(by.display_name())
    .fetch_optional(conn)
    .await?;
    Ok(released.map(|(by, due, note)| {
        serde_json::json!({ "by": by, "due": due.map(|d| d.to_string()), "note": note })
    }))
}

/// A person's word that a doc matches the running service.
pub async fn attest(
    conn: &mut sqlx::PgConnection,
    path: &str,
    note: &str,
    by: &SessionUser,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO doc_attestations (path, actor_subject, actor_name, note) VALUES ($1, $2, $3, $4)",
    )
    .bind(path)
    .bind(&by.subject)
    .bind(by.display_name())
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// A doc's rendered (sanitized) HTML.
pub async fn html_of(db: &PgPool, path: &str) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT html FROM docs WHERE path = $1")
        .bind(path)
        .fetch_one(db)
        .await
}
