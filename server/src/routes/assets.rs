//! The stylesheet and icon, embedded in the binary so the portal runs from any folder. Pages link
//! them by names that carry a hash of their content (`app::assets`), served as immutable for a
//! year; the plain names stay for anything that links them directly, with a short lifetime.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use app::assets::{FAVICON, STYLESHEET, favicon_path, stylesheet_path};

use crate::error::AppError;

const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const FOREVER: &str = "public, max-age=31536000, immutable";

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, CSS),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

pub async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, SVG),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}

/// `/assets/{name}`: the hashed names of the current build; an old hash is gone.
pub async fn hashed(Path(name): Path<String>) -> Result<Response, AppError> {
    let path = format!("/assets/{name}");
    let (kind, body) = if path == stylesheet_path() {
        (CSS, STYLESHEET)
    } else if path == favicon_path() {
        (SVG, FAVICON)
    } else {
        return Err(AppError::NotFound(format!("The file {path}")));
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, FOREVER),
        ],
        body,
    )
        .into_response())
}
