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

use super::session::{CSRF_KEY, SessionUser, USER_KEY};
use crate::error::AppError;
use crate::state::AppState;

/// Forms larger than this are refused: the longest field of an ordinary form is a report or an
/// evidence note, far below it.
pub const MAX_FORM_BYTES: usize = 256 * 1024;
/// Phase plans (pasted or uploaded; the importer takes plans up to 1 MiB, which URL-encoding can
/// triple) may be this large, for editors and admins only.
pub const MAX_PLAN_BYTES: usize = 5 * 1024 * 1024;
/// The paths that take a phase plan.
const PLAN_PATHS: &[&str] = &["/phases/import", "/phases/upload"];

/// This session's token, created on first use.
pub async fn token(session: &Session) -> Result<String, tower_sessions::session::Error> {
    if let Some(token) = session.get::<String>(CSRF_KEY).await? {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    session.insert(CSRF_KEY, &token).await?;
    Ok(token)
}

/// This session's token if it has one; creates nothing.
pub async fn existing(session: &Session) -> Result<String, tower_sessions::session::Error> {
    Ok(session.get::<String>(CSRF_KEY).await?.unwrap_or_default())
}

/// The token a page's forms carry: a signed-in viewer's (created if the session has none yet);
/// an anonymous visitor's only if one exists, so that looking at a page creates no session.
pub async fn for_viewer(
    session: &Session,
    signed_in: bool,
) -> Result<String, tower_sessions::session::Error> {
    if signed_in {
        token(session).await
    } else {
        existing(session).await
    }
}

/// The token as written into one page: a fresh random pad, then the token XOR the pad, both in
/// hex. Every response carries different bytes for the same secret, so a compressed page whose
/// size an attacker watches while reflecting guesses (BREACH) gives nothing away.
pub fn masked(token: &str) -> String {
    let Some(secret) = hex_bytes(token) else {
        return token.to_string();
    };
    let mut pad = vec![0u8; secret.len()];
    rand::rng().fill_bytes(&mut pad);
    let mixed: Vec<u8> = secret.iter().zip(&pad).map(|(s, p)| s ^ p).collect();
    format!("{}{}", hex(&pad), hex(&mixed))
}

/// The session token a sent value stands for: a masked one unmasked; an unmasked one (a page
/// from before masking) as it is.
fn unmasked(sent: &str) -> String {
    let half = sent.len() / 2;
    if sent.len() == 128
        && sent.is_char_boundary(half)
        && let (Some(pad), Some(mixed)) = (hex_bytes(&sent[..half]), hex_bytes(&sent[half..]))
    {
        let secret: Vec<u8> = pad.iter().zip(&mixed).map(|(p, m)| p ^ m).collect();
        return hex(&secret);
    }
    sent.to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_bytes(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
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
    // API tokens open the /api/v1 routes only (which are outside this layer): a browser form
    // sent with one is refused whatever else it carries.
    if req.headers().contains_key(header::AUTHORIZATION) {
        tracing::warn!(path = %req.uri().path(), "form with an Authorization header refused");
        return AppError::Forbidden(
            "API tokens are accepted on /api/v1 only; forms need a signed-in session.".into(),
        )
        .into_response();
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
    // Everything that can be refused without reading the body is refused first, so that an
    // anonymous client cannot make the portal buffer megabytes: a session without a token, or a
    // declared length above what this person may send.
    let limit = body_limit(req.uri().path(), &session).await;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let Some(expected) = session.get::<String>(CSRF_KEY).await.ok().flatten() else {
        tracing::warn!(path = %req.uri().path(), "form without a session refused");
        return forged().into_response();
    };
    let (parts, body) = req.into_parts();
    // A body sent without a length (chunked) is cut off at the same limit.
    let Ok(bytes) = to_bytes(body, limit).await else {
        return too_large(limit);
    };
    let sent = match multipart_boundary {
        Some(boundary) => multipart_token(bytes.clone(), boundary).await,
        None => form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned()),
    };
    match sent {
        Some(sent) if same_token(&unmasked(&sent), &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => {
            tracing::warn!(path = %parts.uri.path(), "form without a valid CSRF token refused");
            forged().into_response()
        }
    }
}

/// How many bytes this request's body may have: plans are large, and only editors send them.
async fn body_limit(path: &str, session: &Session) -> usize {
    if !PLAN_PATHS.contains(&path) {
        return MAX_FORM_BYTES;
    }
    let user: Option<SessionUser> = session.get(USER_KEY).await.ok().flatten();
    let editor = user
        .and_then(|u| u.role)
        .is_some_and(|r| r.allows(app::model::Role::Editor));
    if editor {
        MAX_PLAN_BYTES
    } else {
        MAX_FORM_BYTES
    }
}

fn too_large(limit: usize) -> Response {
    AppError::TooLarge(format!(
        "The form is larger than the {} KiB this page accepts; nothing was saved.",
        limit / 1024
    ))
    .into_response()
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
    use super::{masked, same_token, unmasked};

    #[test]
    fn a_masked_token_differs_every_time_and_unmasks_to_the_secret() {
        let secret = "00ff".repeat(16);
        let (a, b) = (masked(&secret), masked(&secret));
        assert_ne!(a, b);
        assert_eq!(a.len(), 128);
        assert!(!a.contains(&secret));
        assert_eq!(unmasked(&a), secret);
        assert_eq!(unmasked(&b), secret);
        // A page from before masking still works; anything else stays what it was (and fails).
        assert_eq!(unmasked(&secret), secret);
        assert_ne!(unmasked(&"zz".repeat(64)), secret);
        let mut flipped = a.into_bytes();
        flipped[127] = if flipped[127] == b'0' { b'1' } else { b'0' };
        assert_ne!(unmasked(&String::from_utf8(flipped).unwrap()), secret);
    }

    #[test]
    fn tokens_compare_exactly() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "abcd"));
    }
}
