//! The one error type of request handlers: a status, a message for people, and a log line for 5xx.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use app::model::Section;
use app::pages::errors::ErrorPage;
use app::{PageMeta, render_page};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("database query failed"))
    }
}

impl AppError {
    pub fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What a person is told; internal errors say only that something failed, never why.
    fn public_message(&self) -> (String, String) {
        match self {
            AppError::NotFound(what) => ("Not found".into(), format!("{what} does not exist.")),
            AppError::BadRequest(m) => ("That request could not be used".into(), m.clone()),
            AppError::Forbidden(m) => ("Not allowed".into(), m.clone()),
            AppError::TooLarge(m) => ("Too large".into(), m.clone()),
            AppError::Unavailable(m) => ("Temporarily unavailable".into(), m.clone()),
            AppError::Internal(_) => (
                "Something went wrong".into(),
                "The portal could not complete this request. The error was logged; try again shortly.".into(),
            ),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = format!("{:#}", self), "request failed");
        } else if status == StatusCode::FORBIDDEN {
            tracing::warn!(reason = %self, "request refused");
        }
        let (heading, message) = self.public_message();
        let page = render_page(PageMeta::new(heading.clone(), Section::None), move || {
            leptos::prelude::view! { <ErrorPage status=status.as_u16() heading=heading message=message/> }
        });
        (status, Html(page)).into_response()
    }
}

pub type AppResult<T> = Result<T, AppError>;
