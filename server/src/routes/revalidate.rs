//! Conditional requests for pages: every HTML page carries a weak `ETag` of its bytes and
//! `Cache-Control: private, no-cache`, so a browser may keep it but asks first, and a reload of
//! an unchanged page costs a `304 Not Modified` instead of the page. The CSRF token in a page is
//! masked afresh for every response, so the tag is taken over the page without those values.
//! Sign-out tells the browser to drop what it kept (`Clear-Site-Data`).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Where a form's masked CSRF token starts in a rendered page.
const TOKEN_FIELD: &str = "name=\"csrf_token\" value=\"";

/// The page's tag: a hash of its bytes with every CSRF token value left out.
pub fn etag_of(page: &[u8]) -> String {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    // A vectorised search: a naive scan of a 444 KB page cost milliseconds per view.
    let marker = memchr::memmem::Finder::new(TOKEN_FIELD.as_bytes());
    let mut rest = page;
    while let Some(at) = marker.find(rest) {
        let value_start = at + TOKEN_FIELD.len();
        hasher.update(&rest[..value_start]);
        let value_end =
            memchr::memchr(b'"', &rest[value_start..]).map_or(rest.len(), |n| value_start + n);
        rest = &rest[value_end..];
    }
    hasher.update(rest);
    format!("W/\"{:032x}\"", hasher.digest128())
}

/// Whether `If-None-Match` names `tag` (or is `*`).
pub fn matches(if_none_match: &str, tag: &str) -> bool {
    let bare = tag.trim_start_matches("W/");
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/") == bare)
}

/// Whether `response` is an HTML page (a `200` of `text/html`).
pub fn is_page(response: &Response) -> bool {
    response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"))
}

/// Tags a page's headers: its `ETag`, and private revalidation.
pub fn mark(headers: &mut HeaderMap, tag: HeaderValue) {
    headers.insert(header::ETAG, tag);
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
}

/// `304 Not Modified` for a page tagged `tag`.
pub fn not_modified(tag: HeaderValue) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    mark(response.headers_mut(), tag);
    response
}

/// Tags every HTML page that is not tagged yet (kept pages come tagged, see
/// `readmodel::pages`), and answers `304` when the browser holds the same.
pub async fn revalidate(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let asked = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = next.run(req).await;
    if !is_page(&response) || response.headers().contains_key(header::ETAG) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Pages are rendered into one string already: this only takes it back.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let tag = etag_of(&bytes);
    let Ok(tag_value) = HeaderValue::from_str(&tag) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if asked.is_some_and(|a| matches(&a, &tag)) {
        return not_modified(tag_value);
    }
    mark(&mut parts.headers, tag_value);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_ignores_masked_tokens_and_follows_everything_else() {
        let page = |token: &str, text: &str| {
            format!(
                "<form><input type=\"hidden\" name=\"csrf_token\" value=\"{token}\"/></form><p>{text}</p><form><input type=\"hidden\" name=\"csrf_token\" value=\"{token}{token}\"/></form>"
            )
        };
        let a = etag_of(page("aa11", "3 services").as_bytes());
        assert_eq!(a, etag_of(page("bb22", "3 services").as_bytes()));
        assert_ne!(a, etag_of(page("aa11", "4 services").as_bytes()));
        assert!(a.starts_with("W/\"") && a.ends_with('"'));
        // A page without a form, and one cut off inside a token, still get a tag.
        assert_ne!(etag_of(b"<p>x</p>"), etag_of(b"<p>y</p>"));
        let _ = etag_of(b"name=\"csrf_token\" value=\"unterminated");
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let tag = "W/\"abc\"";
        assert!(matches("W/\"abc\"", tag));
        assert!(matches("\"abc\"", tag));
        assert!(matches("\"x\", W/\"abc\"", tag));
        assert!(matches("*", tag));
        assert!(!matches("W/\"abd\"", tag));
    }
}
