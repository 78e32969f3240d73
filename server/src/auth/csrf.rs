//! CSRF protection for every state-changing request: a same-origin check of `Origin` and
//! `Sec-Fetch-Site`, and a per-session token that every form carries as `csrf_token`.
//! As a middleware, no handler can forget it.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use tower_sessions::Session;

use super::session::CSRF_KEY;
use crate::error::AppError;
use crate::state::AppState;

/// Forms larger than this are refused (phase plans are pasted as text; 8 MiB leaves room).
const MAX_FORM_BYTES: usize = 8 * 1024 * 1024;

/// This session's token, created on first use.
pub async fn token(session: &Session) -> Result<String, tower_sessions::session::Error> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await? {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// Compares in time independent of where the strings differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub async fn verify(
    State(state): State<AppState>,
    session: Session,
    req: Request,
    next: Next,
) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    if let Err(refusal) =
        crate::routes::require_same_origin(req.headers(), &state.settings.public_url)
    {
        tracing::warn!(path = %req.uri().path(), "cross-site request refused");
        return refusal.into_response();
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    // File uploads (a phase plan) come as multipart; their token is one of the fields.
    let multipart_boundary = content_type
        .starts_with("multipart/form-data")
        .then(|| multer::parse_boundary(&content_type).ok())
        .flatten();
    let forged = || {
        AppError::Forbidden(
            "This form has expired or did not come from the portal. Reload the page and try again."
                .into(),
        )
    };
    if !is_form && multipart_boundary.is_none() {
        return forged().into_response();
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return AppError::BadRequest("The form is too large.".into()).into_response();
    };
    let sent = match multipart_boundary {
        Some(boundary) => multipart_token(bytes.clone(), boundary).await,
        None => form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned()),
    };
    let expected = session.get::<String>(CSRF_KEY).await.ok().flatten();
    match (sent, expected) {
        (Some(sent), Some(expected)) if same_token(&sent, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => {
            tracing::warn!(path = %parts.uri.path(), "form without a valid CSRF token refused");
            forged().into_response()
        }
    }
}

/// The `csrf_token` field of a multipart body, if it has one.
async fn multipart_token(body: axum::body::Bytes, boundary: String) -> Option<String> {
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("csrf_token") {
            return field.text().await.ok();
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::same_token;

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }
}
