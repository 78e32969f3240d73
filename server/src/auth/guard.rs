//! The gate in front of every page: signed in, not expired, in one of the portal's groups.
//! And [`authorize`], the role check every write calls on the server.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use sqlx::PgPool;
use time::OffsetDateTime;
use tower_sessions::Session;

use app::model::{Role, Section};
use app::pages::auth::NoAccessPage;
use app::{PageMeta, render_page};

use super::session::{SessionUser, USER_KEY};
use crate::audited::trail::{self, Outcome, Record};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The signed-in person, put into the request by [`require_sign_in`].
#[derive(Clone, Debug)]
pub struct CurrentUser(pub SessionUser);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| AppError::Forbidden("Sign in first.".into()))
    }
}

/// Paths anyone may reach: probes, static files and the sign-in flow itself.
fn is_public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/favicon.svg")
        || path.starts_with("/auth/")
        || path.starts_with("/assets/")
}

/// Only a path of this portal may be a "return to" target, never another site. Browsers drop
/// tabs and newlines inside URLs and read `\\` as `/`, so `/\t/evil.example` would become
/// `//evil.example`: any control character, space or backslash refuses the value outright, and
/// what is left must resolve, against this origin, to this origin.
pub fn safe_next(next: Option<&str>) -> String {
    let Some(candidate) = next else {
        return "/".into();
    };
    let plain = candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    if !plain {
        return "/".into();
    }
    const BASE: &str = "http://portal.invalid";
    let Ok(base) = reqwest::Url::parse(BASE) else {
        return "/".into();
    };
    match base.join(candidate) {
        Ok(url) if url.origin() == base.origin() && !url.path().starts_with("/auth/") => url
            .as_str()
            .strip_prefix(BASE)
            .filter(|p| p.starts_with('/'))
            .unwrap_or("/")
            .to_string(),
        _ => "/".into(),
    }
}

pub async fn require_sign_in(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if is_public(&path) {
        return next.run(req).await;
    }
    let user: Option<SessionUser> = match session.get(USER_KEY).await {
        Ok(user) => user,
        Err(e) => {
            return AppError::Internal(anyhow::Error::new(e).context("reading the session"))
                .into_response();
        }
    };
    let user = match user {
        Some(u)
            if u.expired(
                state.settings.auth.session_absolute,
                OffsetDateTime::now_utc(),
            ) =>
        {
            tracing::info!(subject = %u.subject, "session reached its absolute lifetime; signing out");
            let _ = session.flush().await;
            None
        }
        other => other,
    };
    let Some(user) = user else {
        return sign_in_first(&req);
    };
    if user.role.is_none() {
        let (name, groups) = (user.display_name().to_string(), user.groups.clone());
        let mut meta = PageMeta::new("No access", Section::None);
        meta.viewer = Some(user.viewer());
        meta.csrf = super::csrf::masked(&super::csrf::token(&session).await.unwrap_or_default());
        let page = render_page(
            meta,
            move || view! { <NoAccessPage name=name groups=groups/> },
        );
        return (StatusCode::FORBIDDEN, Html(page)).into_response();
    }
    if let Err(e) = keep_alive(&session, state.settings.auth.session_touch_every).await {
        return AppError::Internal(anyhow::Error::new(e).context("writing the session"))
            .into_response();
    }
    req.extensions_mut().insert(CurrentUser(user));
    next.run(req).await
}

/// The session key holding when this session last had its idle expiry moved (unix seconds).
const TOUCHED_KEY: &str = "touched_at";

/// Moves a session's idle expiry forward when it was last moved `every` ago or more: the
/// changed value makes the session layer save it with a new expiry. In between, a page view
/// writes nothing.
async fn keep_alive(
    session: &Session,
    every: std::time::Duration,
) -> Result<(), tower_sessions::session::Error> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let touched: Option<i64> = session.get(TOUCHED_KEY).await?;
    let due = touched.is_none_or(|t| now.saturating_sub(t) >= every.as_secs() as i64);
    if due {
        session.insert(TOUCHED_KEY, now).await?;
    }
    Ok(())
}

/// Browsers asking for a page go to the sign-in, and come back afterwards; anything else is 401.
fn sign_in_first(req: &Request) -> Response {
    let wants_page = req.method() == Method::GET
        && req.uri().path() != "/services.csv"
        && !req.uri().path().starts_with("/api/");
    if wants_page {
        let target = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let next = app::model::service_query::url_encode(target);
        Redirect::to(&format!("/auth/login?next={next}")).into_response()
    } else {
        (StatusCode::UNAUTHORIZED, "sign in first\n").into_response()
    }
}

/// Checks on the server that `user` holds `needed` for `action`. A refusal is written to the audit
/// trail (so admins see attempts) and answered with 403; nothing else is written.
pub async fn authorize(
    db: &PgPool,
    user: &SessionUser,
    needed: Role,
    action: &str,
    target: &str,
) -> AppResult<()> {
    if user.role.is_some_and(|r| r.allows(needed)) {
        return Ok(());
    }
    tracing::warn!(subject = %user.subject, role = ?user.role, action, target, "write refused: role too low");
    let record = Record::<(), ()> {
        actor: user,
        action,
        target,
        outcome: Outcome::Refused,
        before: None,
        after: None,
    };
    trail::append(db, record).await?;
    Err(AppError::Forbidden(format!(
        "This needs the {} role; you are signed in as {}.",
        needed.as_str(),
        user.role.map(|r| r.as_str()).unwrap_or("no role")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_return_targets() {
        assert_eq!(safe_next(Some("/services?q=a")), "/services?q=a");
        assert_eq!(
            safe_next(Some("/phases/1#deliverables")),
            "/phases/1#deliverables"
        );
        for bad in [
            "//evil.example/x",
            "https://evil.example",
            "/\\evil",
            "evil",
            "/auth/logout",
            "/./auth/logout",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r//evil.example",
            "/ /evil.example",
            "/\u{7f}/evil.example",
            "/\u{0}x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
