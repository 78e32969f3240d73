//! Backup runs as reported by heartbeats, and the current services the backup audit looks at.

use std::collections::HashMap;

use sqlx::PgPool;
use sqlx::types::Json;
use time::OffsetDateTime;

use app::model::ServiceFacts;
use app::model::evidence::{RunView, ServiceRef};

use crate::evidence::backups::JobRuns;

/// A run to record, as validated from a heartbeat.
pub struct NewRun<'a> {
    pub job: &'a str,
    pub kind: &'a str,
    pub ok: bool,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub bytes: Option<i64>,
    pub detail: Option<&'a str>,
    pub reported_by: &'a str,
}

pub async fn insert_run(conn: &mut sqlx::PgConnection, r: &NewRun<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "INSERT INTO backup_runs (job, kind, ok, started_at, finished_at, bytes, detail, reported_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        r.job,
        r.kind,
        r.ok,
        r.started_at,
        r.finished_at,
        r.bytes,
        r.detail,
        r.reported_by,
    )
    .fetch_one(conn)
    .await
}

struct RunRow {
    id: i64,
    job: String,
    kind: String,
    ok: bool,
    started_at: OffsetDateTime,
    finished_at: OffsetDateTime,
    bytes: Option<i64>,
    detail: Option<String>,
    reported_by: String,
}

impl RunRow {
    fn view(self) -> (String, RunView) {
        (
            self.job,
            RunView {
                id: self.id,
                kind: self.kind,
                ok: self.ok,
                started_at: self.started_at,
                finished_at: self.finished_at,
                bytes: self.bytes,
                detail: self.detail,
                reported_by: self.reported_by,
            },
        )
    }
}

/// Per job: the latest backup, the latest passing backup, the latest passing restore test.
pub async fn job_runs(db: &PgPool) -> sqlx::Result<HashMap<String, JobRuns>> {
    let rows: Vec<RunRow> = sqlx::query_as!(
        RunRow,
        r#"SELECT id, job, kind, ok, started_at, finished_at, bytes AS "bytes?", detail AS "detail?", reported_by FROM (
             SELECT r.*, row_number() OVER (
                 PARTITION BY job, kind = 'restore_test', ok ORDER BY finished_at DESC, id DESC) AS n
             FROM backup_runs r) latest
         WHERE n = 1"#,
    )
    .fetch_all(db)
    .await?;
    let mut out: HashMap<String, JobRuns> = HashMap::new();
    for row in rows {
        let (job, run) = row.view();
        let entry = out.entry(job).or_default();
        if run.kind == "restore_test" {
            if run.ok {
                entry.last_ok_restore = Some(run);
            }
            continue;
        }
        if run.ok {
            entry.last_ok_backup = Some(run.clone());
        }
        let newer = entry
            .last_backup
            .as_ref()
            .is_none_or(|b| b.finished_at < run.finished_at);
        if newer {
            entry.last_backup = Some(run);
        }
    }
    Ok(out)
}

/// The latest `per_job` runs of every job, newest first.
pub async fn recent_runs(db: &PgPool, per_job: i64) -> sqlx::Result<HashMap<String, Vec<RunView>>> {
    let rows: Vec<RunRow> = sqlx::query_as!(
        RunRow,
        r#"SELECT id, job, kind, ok, started_at, finished_at, bytes AS "bytes?", detail AS "detail?", reported_by FROM (
             SELECT r.*, row_number() OVER (PARTITION BY job ORDER BY finished_at DESC, id DESC) AS n
             FROM backup_runs r) latest
         WHERE n <= $1 ORDER BY job, finished_at DESC, id DESC"#,
        per_job,
    )
    .fetch_all(db)
    .await?;
    let mut out: HashMap<String, Vec<RunView>> = HashMap::new();
    for row in rows {
        let (job, run) = row.view();
        out.entry(job).or_default().push(run);
    }
    Ok(out)
}

/// Every current service with its facts, for the backup audit.
pub async fn current_services(db: &PgPool) -> sqlx::Result<Vec<(ServiceRef, ServiceFacts)>> {
    let rows = sqlx::query!(
        r#"SELECT e.name AS engine, s.key, s.display_name AS name,
                  s.facts AS "facts: Json<ServiceFacts>"
           FROM services s JOIN engines e ON e.id = s.engine_id
           WHERE s.removed_at IS NULL AND e.configured ORDER BY e.name, s.key"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let service = ServiceRef {
                engine: r.engine,
                key: r.key,
                name: r.name,
            };
            (service, r.facts.0)
        })
        .collect())
}

/// Whether a job name is known: declared in the configuration or named by a current service's label.
pub async fn job_is_labelled(db: &PgPool, job: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM services s JOIN engines e ON e.id = s.engine_id
                        WHERE s.removed_at IS NULL AND e.configured
                          AND trim(s.facts->'labels'->>'audit.backup') = $1) AS "present!""#,
        job,
    )
    .fetch_one(db)
    .await
}
