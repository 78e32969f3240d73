//! The machine API under `/api/v1`: authenticated by a scoped bearer token, never by a session
//! or a cookie, so no CSRF token is involved; answers are JSON, errors too.

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::auth::tokens::{self, ApiCaller, Scope};
use crate::db;
use crate::db::tokens::Refusal;
use crate::state::AppState;

/// A heartbeat is a few hundred bytes; anything near this is not one.
pub const MAX_HEARTBEAT_BYTES: usize = 64 * 1024;

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/v1/heartbeats", post(heartbeat))
        .route("/api/v1/summary", get(summary))
        .route("/metrics", get(super::metrics::metrics))
}

/// An API error: a status and a message a script's author can act on.
#[derive(Debug)]
pub struct ApiError(pub(super) StatusCode, pub(super) String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::UNAUTHORIZED
            && let Ok(v) = header::HeaderValue::from_str("Bearer realm=\"audit-portal\"")
        {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "API request failed on the database");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; nothing was recorded".into(),
        )
    }
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message.into())
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers).await
    }
}

/// The caller a request's bearer token names, or why it names none.
pub(super) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<ApiCaller, ApiError> {
    let unauthorized = |m: &str| ApiError(StatusCode::UNAUTHORIZED, m.to_string());
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("send the token as 'Authorization: Bearer <token>'"))?
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not text"))?;
    let secret = value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    match db::tokens::authenticate(&state.db, &tokens::hash(secret)).await? {
        Ok(caller) => Ok(caller),
        Err(Refusal::Unknown) => Err(unauthorized("unknown token")),
        Err(Refusal::Revoked) => Err(unauthorized("this token was revoked")),
        Err(Refusal::Expired) => Err(unauthorized("this token has expired")),
    }
}

pub(super) fn require(caller: &ApiCaller, scope: Scope) -> Result<(), ApiError> {
    if caller.scopes.contains(&scope) {
        Ok(())
    } else {
        Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "token '{}' lacks the '{}' scope",
                caller.name,
                scope.as_str()
            ),
        ))
    }
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
async fn heartbeat(
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
    if !declared && !db::backups::job_is_labelled(&state.db, job).await? {
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
            let id = db::backups::insert_run(
                &mut *conn,
                &db::backups::NewRun {
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
            db::engines::request_refresh(&mut *conn).await?;
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

/// The portal's headline figures, for a dashboard widget (Homepage's `customapi`).
#[derive(Debug, Serialize)]
struct Summary {
    /// Points out of 100, caps applied to the letter only.
    grade: f64,
    letter: String,
    /// The cap holding the letter down, if one does.
    cap: Option<String>,
    high_findings: i64,
    findings: i64,
    /// Running services with a service document, in percent.
    coverage_percent: f64,
    coverage_target_percent: f64,
    services: i64,
    running: i64,
    unhealthy: i64,
    engines: i64,
    engines_up: i64,
}

/// `GET /api/v1/summary` (scope `read`).
async fn summary(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Summary>, ApiError> {
    require(&caller, Scope::Read)?;
    let stale_after = crate::worker::stale_after(&state.settings);
    let coverage = crate::docs::live::current_report(&state.db, &state.settings.docs)
        .await?
        .overall;
    let ((_, _, grade), counts, engines, findings) = tokio::try_join!(
        crate::grade::live::current_with(&state.db, &coverage),
        db::services::counts(&state.db, stale_after),
        db::engines::statuses(&state.db, stale_after),
        db::services::finding_totals(&state.db),
    )?;
    let percent = |share: f64| (share * 1000.0).round() / 10.0;
    Ok(Json(Summary {
        grade: grade.total.hundredths_truncated() as f64 / 100.0,
        letter: grade.letter,
        cap: grade.cap,
        high_findings: findings
            .iter()
            .filter(|(_, severity, _)| *severity == app::model::findings::Severity::High)
            .map(|(_, _, n)| n)
            .sum(),
        findings: findings.iter().map(|(_, _, n)| n).sum(),
        coverage_percent: percent(coverage.documented_share()),
        coverage_target_percent: percent(state.settings.docs.target_share),
        services: counts.containers,
        running: counts.running,
        unhealthy: counts.unhealthy,
        engines: engines.len() as i64,
        engines_up: engines.iter().filter(|e| e.reachable && !e.stale).count() as i64,
    }))
}
