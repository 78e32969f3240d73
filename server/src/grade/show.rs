//! `/grades`: the grade with its evidence, gaps and trend (and again with a refused form's
//! message); `/grades/history` and its CSV.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;
use time::OffsetDateTime;

use app::model::drafts::FormDraft;
use app::model::{Role, Section};
use app::pages::grades::{GradeHistoryPage, GradesPage, GradesView};
use app::render_page;

use super::charts::{TARGET, category_chart, trend_chart};
use crate::auth::Page;
use crate::error::AppResult;
use crate::grade::live;
use crate::grade::rubric::Score;
use crate::state::AppState;

pub(super) async fn render(
    state: &AppState,
    page: &Page,
    error: Option<String>,
    draft: Option<FormDraft>,
) -> AppResult<String> {
    let generation = state.read_model.current(&state.db).await?;
    let built = generation
        .grades
        .get_or_try_init(|| async {
            let figures =
                crate::readmodel::figures::of(&generation, &state.db, &state.settings).await?;
            let grade = live::view(
                figures.rubric_version,
                &figures.rubric,
                &figures.grade,
                Score::from_hundredths(TARGET),
            );
            // Tall enough that each 5-point letter band can carry its letter.
            let chart_svg = trend_chart(state, 90, 760, 400).await?;
            let categories_svg = category_chart(state, 90).await?;
            Ok::<_, crate::error::AppError>(std::sync::Arc::new(crate::readmodel::GradesData {
                grade,
                chart_svg,
                categories_svg,
            }))
        })
        .await?;
    let data = GradesView {
        grade: built.grade.clone(),
        chart_svg: built.chart_svg.clone(),
        categories_svg: built.categories_svg.clone(),
        can_edit: page.can(Role::Admin),
        error,
        draft,
        now: OffsetDateTime::now_utc(),
    };
    Ok(render_page(
        page.meta("Grades", Section::Grades),
        move || view! { <GradesPage data=data/> },
    ))
}

pub async fn overview(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    Ok(Html(render(&state, &page, None, None).await?))
}

pub(super) async fn refuse(
    state: &AppState,
    page: &Page,
    message: String,
    draft: &FormDraft,
) -> AppResult<Response> {
    let html = render(state, page, Some(message), Some(draft.clone())).await?;
    Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
}

pub async fn history(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let snapshots = crate::grade::queries::history(&state.db, 3650).await?;
    let now = OffsetDateTime::now_utc();
    Ok(Html(render_page(
        page.meta("Grade history", Section::Grades),
        move || {
            view! { <GradeHistoryPage snapshots=snapshots now=now/> }
        },
    )))
}

pub async fn history_csv(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let snapshots = crate::grade::queries::history(&state.db, 3650).await?;
    let (_, rubric) = live::rubric(&state.db).await?;
    let mut csv = String::from("taken_at,rubric_version,total,letter,capped_by");
    for c in &rubric.categories {
        csv.push(',');
        csv.push_str(&c.name.to_lowercase().replace(['/', ' '], "_"));
    }
    csv.push('\n');
    for s in snapshots {
        let at =
            s.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
        // The cap's text comes from a rubric an admin wrote: defused like any other cell.
        let cap = crate::routes::csv::field(&s.capped_by.unwrap_or_default());
        csv.push_str(&format!(
            "{at},{},{}.{:02},{},{cap}",
            s.rubric_version,
            s.total / 100,
            s.total % 100,
            s.letter
        ));
        for c in &rubric.categories {
            let v = s
                .categories
                .iter()
                .find(|(n, _)| *n == c.name)
                .map(|(_, v)| *v)
                .unwrap_or(0);
            csv.push_str(&format!(",{}.{:02}", v / 100, v % 100));
        }
        csv.push('\n');
    }
    let headers = [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"grade-history.csv\"",
        ),
    ];
    Ok((headers, csv))
}
