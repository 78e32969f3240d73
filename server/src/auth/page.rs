//! The page context every handler starts from: who is signed in and the session's CSRF token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use app::PageMeta;
use app::model::{Role, Section};

use super::guard::CurrentUser;
use super::session::SessionUser;
use crate::error::AppError;

pub struct Page {
    pub user: Option<SessionUser>,
    pub csrf: String,
    /// The page is rendered to be kept (`readmodel::pages`): its forms get the placeholder, and
    /// each response its own token.
    pub to_keep: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Page {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, m)| AppError::Internal(anyhow::anyhow!("no session layer: {m}")))?;
        let user = parts.extensions.get::<CurrentUser>().map(|u| u.0.clone());
        // Anonymous visitors get no session (and no row in the store) just by looking at a page:
        // only a sign-in they start creates one.
        let csrf = super::csrf::for_viewer(&session, user.is_some())
            .await
            .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("the CSRF token")))?;
        let to_keep = parts
            .extensions
            .get::<crate::readmodel::pages::RenderToKeep>()
            .is_some();
        Ok(Page {
            user,
            csrf,
            to_keep,
        })
    }
}

impl Page {
    pub fn meta(&self, title: impl Into<String>, section: Section) -> PageMeta {
        let mut meta = PageMeta::new(title, section);
        meta.viewer = self.user.as_ref().map(SessionUser::viewer);
        meta.csrf = if self.to_keep {
            app::CSRF_PLACEHOLDER.to_string()
        } else {
            super::csrf::masked(&self.csrf)
        };
        meta
    }

    /// Whether the signed-in person holds at least `role` (for showing forms; writes check again).
    pub fn can(&self, role: Role) -> bool {
        self.user
            .as_ref()
            .and_then(|u| u.role)
            .is_some_and(|r| r.allows(role))
    }
}
