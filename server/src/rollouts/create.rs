//! A new rollout from a template, with its candidates.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use app::model::Role;

use super::show::render_list;
use super::write::recheck;
use crate::audited::{Change, Stopped};
use crate::auth::{CurrentUser, Page, authorize};
use crate::error::{AppError, AppResult};
use crate::rollouts::queries::FromTemplate;
use crate::routes::form::ValidForm;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TemplateForm {
    template: String,
    name: String,
    slug: String,
    host: String,
    allowlist_middleware: Option<String>,
    candidates: Option<String>,
    goal: Option<String>,
}

/// `Twenty=twenty, EspoCRM=espocrm` → [(Twenty, twenty), (EspoCRM, espocrm)].
fn parse_candidates(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, needle)) if !name.trim().is_empty() && !needle.trim().is_empty() => {
                Ok((name.trim().to_string(), needle.trim().to_lowercase()))
            }
            _ => Err(format!(
                "'{pair}': write candidates as Name=match, e.g. Odoo=odoo."
            )),
        })
        .collect()
}

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<TemplateForm>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Admin, "rollout.create", &form.slug).await?;
    let fail = async |message: String| -> AppResult<Response> {
        Ok((
            StatusCode::BAD_REQUEST,
            Html(render_list(&state, &page, Some(message)).await?),
        )
            .into_response())
    };
    let template = match form.template.parse::<i64>() {
        Ok(t)
            if crate::rollouts::queries::summary(&state.db, t)
                .await?
                .is_some() =>
        {
            t
        }
        _ => return fail("Choose an existing rollout as the template.".into()).await,
    };
    let (name, slug, host) = (
        form.name.trim(),
        form.slug.trim(),
        form.host.trim().to_ascii_lowercase(),
    );
    if name.is_empty() || name.chars().count() > 200 {
        return fail("Give the rollout a name (up to 200 characters).".into()).await;
    }
    if slug.is_empty()
        || slug.len() > 60
        || !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return fail("The short name uses a-z, 0-9 and '-' only.".into()).await;
    }
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
    {
        return fail(format!("'{host}' is not a host name.")).await;
    }
    let candidates = match parse_candidates(form.candidates.as_deref().unwrap_or_default()) {
        Ok(c) => c,
        Err(e) => return fail(e).await,
    };
    let allowlist = form
        .allowlist_middleware
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let goal = form.goal.as_deref().unwrap_or_default().trim();
    let actor = user.display_name().to_string();
    let change = Change::<(), _> {
        actor: &user,
        action: "rollout.create",
        target: slug,
        before: None,
        after: Some(
            serde_json::json!({ "template": template, "name": name, "host": host, "candidates": candidates }),
        ),
    };
    let created = crate::audited::write(&state.db, change, async |conn| -> Result<i64, Stopped> {
        let created = crate::rollouts::queries::create_from_template(
            conn,
            &FromTemplate {
                template,
                slug,
                name,
                goal,
                host: &host,
                allowlist_middleware: allowlist,
                candidates: &candidates,
                actor: &actor,
            },
        )
        .await?;
        created
            .ok_or_else(|| Stopped::Refused(format!("A rollout called '{slug}' exists already.")))
    })
    .await;
    let id = match created {
        Ok(id) => id,
        Err(Stopped::Refused(message)) => return fail(message).await,
        Err(Stopped::Missing) => return Err(AppError::NotFound(format!("Rollout {slug}"))),
        Err(Stopped::Database(e)) => return Err(e.into()),
    };
    recheck(&state).await?;
    Ok(Redirect::to(&format!("/rollouts/{id}")).into_response())
}
