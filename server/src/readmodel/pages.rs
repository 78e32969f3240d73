//! Whole pages kept per generation: the first view of a page by one viewer renders it (views
//! arriving meanwhile wait for that render), with a placeholder where each form's CSRF token
//! goes; every later view of the same address by the same viewer, until the data changes, copies
//! those bytes with this response's masked token put in. When only the clock replaced the
//! generation, no view waits: the page kept before stands in, and the first view starts the new
//! copy's render in the background (stale while revalidating, as HTTP caches say). The tag
//! (`ETag`) is taken once, when the page is kept, so a reload that is answered `304` costs a
//! lookup. No handler changes: the pages routed through [`keep_pages`] render as they always do,
//! and [`Page::meta`](crate::auth::Page::meta) writes the placeholder when asked to.
//!
//! What a page shows depends on the data (the generation), the address (path and query string)
//! and who looks (name, role and the demo flag shown in the header, and what the role may do);
//! the key holds all three, so no viewer is ever sent another's page.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;
use tracing::Instrument;

use crate::auth::CurrentUser;
use crate::routes::revalidate;
use crate::state::AppState;

/// What a page renders instead of a CSRF token when it is being kept (see [`keep_pages`]).
pub const CSRF_PLACEHOLDER: &str = app::CSRF_PLACEHOLDER;

/// Marks a request whose page is rendered to be kept: `Page::meta` writes the placeholder.
#[derive(Clone, Copy, Debug)]
pub struct RenderToKeep;

/// Where one page is kept, filled once per generation (see `Generation::page_slot`).
pub type KeptSlot = Arc<Slot>;

/// One page's place in a generation: the page once rendered, and whether a view is rendering it.
#[derive(Debug, Default)]
pub struct Slot {
    pub page: tokio::sync::OnceCell<Arc<KeptPage>>,
    claimed: AtomicBool,
}

/// One kept page: its bytes cut at each token placeholder, and its tag.
#[derive(Debug)]
pub struct KeptPage {
    pieces: Vec<Bytes>,
    length: usize,
    etag: HeaderValue,
    headers: axum::http::HeaderMap,
    rendered: Instant,
}

impl KeptPage {
    /// Keeps `html`, cut at its placeholders; the tag is of the page with them.
    pub(crate) fn new(html: Bytes, headers: axum::http::HeaderMap) -> Option<KeptPage> {
        let finder = memchr::memmem::Finder::new(CSRF_PLACEHOLDER.as_bytes());
        let mut pieces = Vec::new();
        let mut start = 0;
        for at in finder.find_iter(&html) {
            pieces.push(html.slice(start..at));
            start = at + CSRF_PLACEHOLDER.len();
        }
        pieces.push(html.slice(start..));
        let etag = HeaderValue::from_str(&revalidate::etag_of(&html)).ok()?;
        Some(KeptPage {
            length: html.len() - (pieces.len() - 1) * CSRF_PLACEHOLDER.len(),
            pieces,
            etag,
            headers,
            rendered: Instant::now(),
        })
    }

    /// The page with `token` wherever a form needs it, in one buffer. Sending the kept pieces
    /// as they are, the token between them, saved this copy but made a page with many forms as
    /// many frames and writes: `bench-pages` run 12 had `/docs` at 456 views a second (2.2% of
    /// nginx), against 2,768 in run 11 with the copy.
    fn body(&self, token: &str) -> Bytes {
        let mut out = Vec::with_capacity(self.length + (self.pieces.len() - 1) * token.len());
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(token.as_bytes());
            }
            out.extend_from_slice(piece);
        }
        Bytes::from(out)
    }

    fn respond(&self, token: &str, if_none_match: Option<&str>) -> Response {
        if if_none_match.is_some_and(|asked| revalidate::matches(asked, self.etag_str())) {
            return revalidate::not_modified(self.etag.clone());
        }
        let mut response = Response::new(Body::from(self.body(token)));
        *response.headers_mut() = self.headers.clone();
        revalidate::mark(response.headers_mut(), self.etag.clone());
        response
    }

    /// How long ago the page was rendered.
    pub fn age(&self) -> Duration {
        self.rendered.elapsed()
    }

    /// The bytes this page holds.
    pub fn size(&self) -> usize {
        self.length
    }

    fn etag_str(&self) -> &str {
        self.etag.to_str().unwrap_or_default()
    }
}

/// Serves a GET of a page routed through it from the current generation's kept pages, or
/// renders, keeps and serves it. Anything that is not a `200` HTML page passes through unkept.
pub async fn keep_pages(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET {
        return next.run(req).await;
    }
    let Some(session) = req.extensions().get::<Session>().cloned() else {
        return next.run(req).await;
    };
    let user = req.extensions().get::<CurrentUser>();
    let signed_in = user.is_some();
    let viewer = user
        .map(|u| format!("{}|{}|{:?}", u.0.issuer, u.0.subject, u.0.viewer()))
        .unwrap_or_default();
    let key = format!(
        "{}\n{viewer}",
        req.uri()
            .path_and_query()
            .map_or(req.uri().path(), |p| p.as_str())
    );
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Ok(generation) = state.read_model.current(&state.db).await else {
        return next.run(req).await;
    };
    let token = |session: Session| async move {
        crate::auth::csrf::for_viewer(&session, signed_in)
            .await
            .map(|t| crate::auth::csrf::masked(&t))
    };
    let slot = generation.page_slot(&key);
    // The same data with older clock figures: answered from the page kept before; the first such
    // view starts this generation's render in the background, and a render that keeps nothing
    // (an error) lets the next view start another.
    if slot.page.get().is_none()
        && let Some(stand_in) = generation.stand_in(&key)
    {
        if !slot.claimed.swap(true, Ordering::AcqRel) {
            let (slot, generation) = (slot.clone(), generation.clone());
            tokio::spawn(async move {
                if render_off_runtime(slot.clone(), generation, req, next)
                    .await
                    .is_err()
                {
                    slot.claimed.store(false, Ordering::Release);
                }
            });
        }
        return match token(session).await {
            Ok(token) => stand_in.respond(&token, if_none_match.as_deref()),
            Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
    }
    // Otherwise the first view renders and keeps the page; views arriving meanwhile wait for it.
    // A render that is not a page (an error, a redirect) is answered as is, keeps nothing, and
    // the next waiting view tries in turn. A page kept already is answered here, on the runtime:
    // sending every view through the blocking pool to find it kept halved the views a second
    // (`bench-pages` runs 11 and 12, `/` 7,429 against 13,411 in run 9).
    let kept = match slot.page.get() {
        Some(kept) => kept.clone(),
        None => match render_off_runtime(slot, generation, req, next).await {
            Ok(kept) => kept,
            Err(response) => return response,
        },
    };
    match token(session).await {
        Ok(token) => kept.respond(&token, if_none_match.as_deref()),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// [`render_and_keep`] on a thread of the blocking pool. A render is tens of milliseconds of
/// work with little to await (the read model's figures, Leptos's HTML); on one of the runtime's
/// few worker threads it held every view queued behind it (the stall watcher saw 29–81 ms), on
/// a thread of its own it shares the CPU with them.
// The error is the response to send (a page that could not be kept), moved once, not a value
// passed up through layers: its size costs nothing here.
#[allow(clippy::result_large_err)]
async fn render_off_runtime(
    slot: KeptSlot,
    generation: Arc<crate::readmodel::Generation>,
    req: Request,
    next: Next,
) -> Result<Arc<KeptPage>, Response> {
    let runtime = tokio::runtime::Handle::current();
    let render = render_and_keep(slot, generation, req, next).instrument(tracing::Span::current());
    match tokio::task::spawn_blocking(move || runtime.block_on(render)).await {
        Ok(rendered) => rendered,
        // A render that panicked is an error page, like a handler's panic.
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    }
}

/// The page of `slot`: kept already, or rendered by `next` now (once, however many views ask at
/// the same time) and kept; a response that is not a page comes back as the error.
async fn render_and_keep(
    slot: KeptSlot,
    generation: Arc<crate::readmodel::Generation>,
    req: Request,
    next: Next,
) -> Result<Arc<KeptPage>, Response> {
    slot.page
        .get_or_try_init(|| async {
            let mut req = req;
            req.extensions_mut().insert(RenderToKeep);
            crate::metrics::count_kept_page_render();
            let response = next.run(req).await;
            if !revalidate::is_page(&response) {
                return Err(response);
            }
            let (parts, body) = response.into_parts();
            let Ok(html) = to_bytes(body, usize::MAX).await else {
                return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            };
            let Some(kept) = KeptPage::new(html, parts.headers) else {
                return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
            };
            generation.count_kept_bytes(kept.size());
            Ok(Arc::new(kept))
        })
        .await
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_page_takes_each_responses_token_and_keeps_one_tag() {
        let html = format!(
            "<form><input name=\"csrf_token\" value=\"{CSRF_PLACEHOLDER}\"/></form><p>3</p><form><input name=\"csrf_token\" value=\"{CSRF_PLACEHOLDER}\"/></form>"
        );
        let kept = KeptPage::new(Bytes::from(html), Default::default()).unwrap();
        assert_eq!(kept.pieces.len(), 3);
        let one = kept.body("aaaa");
        assert_eq!(
            std::str::from_utf8(&one).unwrap(),
            "<form><input name=\"csrf_token\" value=\"aaaa\"/></form><p>3</p><form><input name=\"csrf_token\" value=\"aaaa\"/></form>"
        );
        assert_eq!(one.len(), kept.length + 2 * 4);
        // The tag is the one the page would get with any token in its place.
        assert_eq!(kept.etag.to_str().unwrap(), revalidate::etag_of(&one));
        let plain =
            KeptPage::new(Bytes::from_static(b"<p>no form</p>"), Default::default()).unwrap();
        assert_eq!(&plain.body("x")[..], b"<p>no form</p>");
    }
}
