//! The stylesheet and icon, embedded in the binary so the portal runs from any folder.

use axum::http::header;
use axum::response::IntoResponse;

const STYLESHEET: &str = include_str!("../../../style/portal.css");
const FAVICON: &str = include_str!("../../../public/favicon.svg");

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

pub async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
}
