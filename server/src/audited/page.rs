//! `/audit`: the audit trail, for admins.

use axum::extract::{Query, State};
use axum::response::Html;
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::audit_log::AuditFilter;
use app::model::{Role, Section};
use app::pages::audit::AuditPage;
use app::render_page;

use crate::auth::{CurrentUser, Page};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    Query(filter): Query<AuditFilter>,
) -> AppResult<Html<String>> {
    if !user.role.is_some_and(|r| r.allows(Role::Admin)) {
        return Err(AppError::Forbidden("The audit trail is for admins.".into()));
    }
    let filter = filter.normalized();
    let entries = crate::audited::trail::list(&state.db, &filter, 500).await?;
    let now = OffsetDateTime::now_utc();
    Ok(Html(render_page(
        page.meta("Audit trail", Section::None),
        move || {
            view! { <AuditPage entries=entries filter=filter now=now/> }
        },
    )))
}
