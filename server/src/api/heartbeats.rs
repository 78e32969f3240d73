//! `POST /api/v1/heartbeats`: a backup, restore test or snapshot job reports one run, with a
//! token holding the `heartbeat` scope.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{ApiError, require};
use crate::auth::tokens::{ApiCaller, Scope};
use crate::state::AppState;

/// A heartbeat is a few hundred bytes; anything near this is not one.
pub const MAX_HEARTBEAT_BYTES: usize = 64 * 1024;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad(message)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Heartbeat {
    job: String,
    kind: String,
    ok: bool,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    finished_at: OffsetDateTime,
    bytes: Option<i64>,
    detail: Option<String>,
}

const KINDS: [&str; 3] = ["backup", "restore_test", "snapshot"];
/// Clocks drift; a run may finish a little "in the future" of the portal's clock, not more.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(5);

/// `POST /api/v1/heartbeats`: records one run of a backup job (scope `heartbeat`).
pub(super) async fn heartbeat(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Body,
) -> Result<Response, ApiError> {
    require(&caller, Scope::Heartbeat)?;
    let bytes = to_bytes(body, MAX_HEARTBEAT_BYTES).await.map_err(|_| {
        ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body exceeds {} KiB; nothing was recorded",
                MAX_HEARTBEAT_BYTES / 1024
            ),
        )
    })?;
    let hb: Heartbeat = serde_json::from_slice(&bytes)
        .map_err(|e| bad(format!("not a heartbeat: {e}; expected {{job, kind, ok, started_at, finished_at, bytes?, detail?}} with RFC 3339 times")))?;
    let job = hb.job.trim();
    if job.is_empty() || job.len() > 100 {
        return Err(bad("job must be a name of 1 to 100 characters"));
    }
    if !KINDS.contains(&hb.kind.as_str()) {
        return Err(bad(format!(
            "kind '{}' is not one of backup, restore_test, snapshot",
            hb.kind
        )));
    }
    let now = OffsetDateTime::now_utc();
    if hb.finished_at < hb.started_at {
        return Err(bad("finished_at is before started_at"));
    }
    if hb.finished_at > now + CLOCK_SKEW {
        return Err(bad(format!(
            "finished_at {} is in the future (the portal's clock says {})",
            hb.finished_at, now
        )));
    }
    if hb.started_at < now - time::Duration::days(400) {
        return Err(bad("started_at is more than 400 days ago"));
    }
    if hb.bytes.is_some_and(|b| b < 0) {
        return Err(bad("bytes must not be negative"));
    }
    let detail = hb
        .detail
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if detail.is_some_and(|d| d.chars().count() > 2000) {
        return Err(bad("detail is longer than 2000 characters"));
    }
    let declared = state.settings.evidence.backups.iter().any(|j| j.job == job);
    if !declared && !crate::evidence::backup_runs::job_is_labelled(&state.db, job).await? {
        return Err(bad(format!(
            "unknown job '{job}': declare it in [[backups]] or label a service audit.backup={job}"
        )));
    }
    let actor = caller.as_actor();
    // The record names the run the write created.
    let id = crate::audited::write_recording(
        &state.db,
        &actor,
        "backup.heartbeat",
        async |conn| -> sqlx::Result<_> {
            let id = crate::evidence::backup_runs::insert_run(
                &mut *conn,
                &crate::evidence::backup_runs::NewRun {
                    job,
                    kind: &hb.kind,
                    ok: hb.ok,
                    started_at: hb.started_at,
                    finished_at: hb.finished_at,
                    bytes: hb.bytes,
                    detail,
                    reported_by: &caller.name,
                },
            )
            .await?;
            // The worker re-judges the jobs now rather than at its next tick.
            crate::inventory::engines::request_refresh(&mut *conn).await?;
            let recorded = crate::audited::Recorded::<(), _> {
                target: job.to_string(),
                before: None,
                after: Some(json!({ "run": id, "kind": hb.kind, "ok": hb.ok })),
            };
            Ok((id, recorded))
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "job": job, "kind": hb.kind, "ok": hb.ok })),
    )
        .into_response())
}
