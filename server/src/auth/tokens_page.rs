//! `/settings/tokens`: admins create, list and revoke API tokens.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use app::model::{Role, Section};
use app::pages::tokens::{TokensPage, TokensView};
use app::render_page;

use crate::audited::Recorded;
use crate::auth::tokens::{self, CreateError, Scope};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::routes::form::ValidForm;
use crate::state::AppState;

async fn render(
    state: &AppState,
    page: &Page,
    created: Option<(String, String)>,
    error: Option<String>,
) -> AppResult<String> {
    let data = TokensView {
        tokens: crate::auth::token_store::list(&state.db).await?,
        created,
        error,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta("API tokens", Section::None),
        move || {
            view! { <TokensPage data=data/> }
        },
    ))
}

fn admin_only(page: &Page) -> AppResult<()> {
    if page.can(Role::Admin) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "API tokens are managed by admins.".into(),
        ))
    }
}

pub async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    admin_only(&page)?;
    Ok(Html(render(&state, &page, None, None).await?))
}

#[derive(Deserialize, Serialize)]
pub struct CreateForm {
    name: String,
    scope_heartbeat: Option<String>,
    scope_read: Option<String>,
    expires_days: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<CreateForm>,
) -> AppResult<Response> {
    authorize(
        &state.db,
        &user,
        Role::Admin,
        "token.create",
        form.name.trim(),
    )
    .await?;
    let refuse = async |message: String| -> AppResult<Response> {
        let html = render(&state, &page, None, Some(message)).await?;
        Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
    };
    let mut chosen = vec![];
    if form.scope_heartbeat.is_some() {
        chosen.push(Scope::Heartbeat.as_str());
    }
    if form.scope_read.is_some() {
        chosen.push(Scope::Read.as_str());
    }
    let scopes = match tokens::parse_scopes(chosen) {
        Ok(s) => s,
        Err(e) => return refuse(e).await,
    };
    let expires_days = match form.expires_days.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(d) => match d.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return refuse(format!("'{d}' is not a number of days.")).await,
        },
    };
    match tokens::create(&state.db, &form.name, &scopes, expires_days, &user).await {
        Ok(secret) => {
            let name = form.name.trim().to_string();
            Ok(Html(render(&state, &page, Some((name, secret)), None).await?).into_response())
        }
        Err(CreateError::Invalid(message)) => refuse(message).await,
        Err(CreateError::Database(e)) => Err(e.into()),
    }
}

/// The revoke button's form carries nothing but its CSRF token.
#[derive(Deserialize)]
pub struct RevokeForm {}

pub async fn revoke(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    ValidForm(_): ValidForm<RevokeForm>,
) -> AppResult<Response> {
    authorize(
        &state.db,
        &user,
        Role::Admin,
        "token.revoke",
        &id.to_string(),
    )
    .await?;
    // The record names the token, which the revocation reads.
    crate::audited::write_recording(
        &state.db,
        &user,
        "token.revoke",
        async |conn| -> Result<_, AppError> {
            let Some(name) =
                crate::auth::token_store::revoke(conn, id, user.display_name()).await?
            else {
                return Err(AppError::NotFound(format!("An active token with id {id}")));
            };
            let recorded = Recorded::<(), ()> {
                target: name,
                before: None,
                after: None,
            };
            Ok(((), recorded))
        },
    )
    .await?;
    Ok(Redirect::to("/settings/tokens").into_response())
}
