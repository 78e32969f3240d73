//! `GET /actions`: the plan, with a form per action for editors and admins.

use axum::extract::{Query, State};
use axum::response::Html;
use leptos::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;

use app::model::actions::{ActionFilter, ActionRefusal, ActionView, ActionsPage};
use app::model::{Role, Section};
use app::pages::actions::{self as actions_page, ActionsPlanPage};
use app::render_page;

use super::plan;
use crate::auth::Page;
use crate::error::AppResult;
use crate::state::AppState;

/// The page, narrowed by `filter`, with a refused change shown beside its action's form.
pub async fn render(
    state: &AppState,
    page: &Page,
    filter: ActionFilter,
    refusal: Option<ActionRefusal>,
) -> AppResult<String> {
    let now = OffsetDateTime::now_utc();
    // Valuing every action scores the grade again per action: once per change of the data.
    let generation = state.read_model.current(&state.db).await?;
    let plan = generation
        .actions
        .get_or_try_init(|| async {
            plan::load(&state.db, &state.settings, now)
                .await
                .map(std::sync::Arc::new)
        })
        .await?;
    let narrow = |actions: &[ActionView]| -> Vec<ActionView> {
        actions
            .iter()
            .filter(|a| filter.matches(a))
            .cloned()
            .collect()
    };
    let can_edit = page.can(Role::Editor);
    // Without a refusal to show beside one row, the tables are the same for every view of this
    // state of the data with the same filter and forms: rendered once, the token put in after.
    let rendered_rows = refusal.is_none().then(|| {
        generation.action_rows(format!("{filter:?}|{can_edit}"), || {
            let today = now.date();
            [&plan.open, &plan.accepted, &plan.done]
                .map(|actions| actions_page::rows_html(narrow(actions), can_edit, today, now))
        })
    });
    let count = |actions: &[ActionView]| actions.iter().filter(|a| filter.matches(a)).count();
    let counts = [count(&plan.open), count(&plan.accepted), count(&plan.done)];
    // With the rows rendered, the page needs only their counts: no copy of the plan per view.
    let listed = |actions: &[ActionView]| {
        if rendered_rows.is_some() {
            vec![]
        } else {
            narrow(actions)
        }
    };
    let data = ActionsPage {
        open: listed(&plan.open),
        accepted: listed(&plan.accepted),
        done: listed(&plan.done),
        counts,
        grade_now: plan.grade_now,
        grade_if_all_fixed: plan.grade_if_all_fixed,
        can_edit,
        filter,
        refusal,
        today: now.date(),
        now,
        rendered_rows,
    };
    let meta = page.meta("Action plan", Section::Actions);
    let token = meta.csrf.clone();
    let html = render_page(meta, move || {
        view! { <ActionsPlanPage data=data/> }
    });
    Ok(if can_edit {
        html.replace(actions_page::CSRF_PLACEHOLDER, &token)
    } else {
        html
    })
}

/// The filter form's fields, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct FilterParams {
    owner: Option<String>,
    effort: Option<String>,
    kind: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<FilterParams>,
) -> AppResult<Html<String>> {
    let pairs = [
        ("owner", params.owner.as_deref()),
        ("effort", params.effort.as_deref()),
        ("kind", params.kind.as_deref()),
    ];
    let filter = ActionFilter::from_pairs(pairs.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    Ok(Html(render(&state, &page, filter, None).await?))
}
