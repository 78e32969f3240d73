//! Who is calling the API: a bearer token (machines) or a browser session (people reading the
//! JSON the pages are built from). Reads accept either; writes only a token with its scope.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use time::OffsetDateTime;
use tower_sessions::Session;

use super::ApiError;
use crate::auth::SessionUser;
use crate::auth::session::USER_KEY;
use crate::auth::token_store::Refusal;
use crate::auth::tokens::{self, ApiCaller, Scope};
use crate::state::AppState;

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(state, &parts.headers).await
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, message.to_string())
}

/// The caller a request's bearer token names, or why it names none.
pub async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<ApiCaller, ApiError> {
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
    match crate::auth::token_store::authenticate(&state.db, &tokens::hash(secret)).await? {
        Ok(caller) => Ok(caller),
        Err(Refusal::Unknown) => Err(unauthorized("unknown token")),
        Err(Refusal::Revoked) => Err(unauthorized("this token was revoked")),
        Err(Refusal::Expired) => Err(unauthorized("this token has expired")),
    }
}

pub fn require(caller: &ApiCaller, scope: Scope) -> Result<(), ApiError> {
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

/// Someone allowed to read the API: a token with the `read` scope, or a signed-in person with a
/// role in the portal (any role reads). A request that sends a token is judged by the token
/// alone, so a bad token is never rescued by a cookie.
#[derive(Clone, Copy, Debug)]
pub struct Reader;

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            let caller = authenticate(state, &parts.headers).await?;
            require(&caller, Scope::Read)?;
            return Ok(Reader);
        }
        let no_one = || {
            unauthorized(
                "send a token with the 'read' scope as 'Authorization: Bearer <token>', or sign in",
            )
        };
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| no_one())?;
        let user: Option<SessionUser> = session.get(USER_KEY).await.map_err(|e| {
            tracing::error!(error = %e, "reading a session for the API failed");
            ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
        })?;
        let now = OffsetDateTime::now_utc();
        match user {
            Some(u) if u.expired(state.settings.auth.session_absolute, now) => Err(no_one()),
            Some(u) if u.role.is_some() => Ok(Reader),
            Some(_) => Err(ApiError(
                StatusCode::FORBIDDEN,
                "your account is in none of the portal's groups".into(),
            )),
            None => Err(no_one()),
        }
    }
}
