//! `GET /actions`: the plan, with a form per action for editors and admins.

use axum::extract::State;
use axum::response::Html;
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::actions::{ActionRefusal, ActionsPage};
use app::model::{Role, Section};
use app::pages::actions::ActionsPlanPage;
use app::render_page;

use super::plan;
use crate::auth::Page;
use crate::error::AppResult;
use crate::state::AppState;

/// The page, with a refused change shown beside its action's form.
pub async fn render(
    state: &AppState,
    page: &Page,
    refusal: Option<ActionRefusal>,
) -> AppResult<String> {
    let now = OffsetDateTime::now_utc();
    let plan = plan::load(&state.db, &state.settings, now).await?;
    let data = ActionsPage {
        open: plan.open,
        accepted: plan.accepted,
        done: plan.done,
        grade_now: plan.grade_now,
        grade_if_all_fixed: plan.grade_if_all_fixed,
        can_edit: page.can(Role::Editor),
        refusal,
        today: now.date(),
        now,
    };
    Ok(render_page(
        page.meta("Action plan", Section::Actions),
        move || {
            view! { <ActionsPlanPage data=data/> }
        },
    ))
}

pub async fn list(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    Ok(Html(render(&state, &page, None).await?))
}
