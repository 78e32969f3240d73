//! `GET /versions` and `/versions.csv`: per image reference in use, its tag, the image it points
//! at, how old that image is, whether the reference moved to a new image since first seen, and
//! which services still run `latest`. No registry is asked: this is what the engines report.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use leptos::prelude::*;
use serde::Deserialize;
use time::OffsetDateTime;

use app::model::Section;
use app::model::capacity::{VersionRow, tag_of};
use app::pages::versions::VersionsPage;
use app::render_page;

use super::queries;
use crate::auth::Page;
use crate::error::AppResult;
use crate::routes::csv::field;
use crate::state::AppState;

/// How the table is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionSort {
    Image,
    Age,
    Services,
    Updated,
}

impl VersionSort {
    pub fn parse(text: Option<&str>) -> Self {
        match text.unwrap_or("") {
            "age" => VersionSort::Age,
            "services" => VersionSort::Services,
            "updated" => VersionSort::Updated,
            _ => VersionSort::Image,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VersionParams {
    sort: Option<String>,
}

pub async fn rows(db: &sqlx::PgPool, now: OffsetDateTime) -> sqlx::Result<Vec<VersionRow>> {
    let found = queries::versions(db).await?;
    Ok(found
        .into_iter()
        .filter(|v| !v.services.is_empty())
        .map(|v| VersionRow {
            tag: tag_of(&v.image_ref),
            age_days: v.image_created.map(|c| (now - c).whole_days()),
            created: v.image_created,
            // A reference seen with another image before this one was updated when this one
            // first appeared.
            updated: v
                .previous_id
                .filter(|_| v.first_seen > v.ref_first_seen)
                .map(|prev| (v.first_seen, prev)),
            engine: v.engine,
            image_ref: v.image_ref,
            image_id: v.image_id,
            services: v.services,
            first_seen: v.first_seen,
        })
        .collect())
}

pub fn sort(rows: &mut [VersionRow], by: VersionSort) {
    match by {
        VersionSort::Image => {
            rows.sort_by(|a, b| (&a.image_ref, &a.engine).cmp(&(&b.image_ref, &b.engine)))
        }
        VersionSort::Age => rows.sort_by_key(|r| std::cmp::Reverse(r.age_days.unwrap_or(i64::MAX))),
        VersionSort::Services => rows.sort_by_key(|r| std::cmp::Reverse(r.services.len())),
        VersionSort::Updated => {
            rows.sort_by_key(|r| std::cmp::Reverse(r.updated.as_ref().map(|u| u.0)))
        }
    }
}

pub async fn show(
    State(state): State<AppState>,
    page: Page,
    Query(params): Query<VersionParams>,
) -> AppResult<Html<String>> {
    let now = OffsetDateTime::now_utc();
    let by = VersionSort::parse(params.sort.as_deref());
    let generation = state.read_model.current(&state.db).await?;
    let kept = generation
        .versions
        .get_or_try_init(|| async { rows(&state.db, now).await.map(std::sync::Arc::new) })
        .await?;
    let mut rows = (**kept).clone();
    sort(&mut rows, by);
    let sort_key = params.sort.unwrap_or_else(|| "image".into());
    Ok(Html(render_page(
        page.meta("Versions", Section::Capacity),
        move || view! { <VersionsPage rows=rows sort=sort_key now=now/> },
    )))
}

pub fn csv(rows: &[VersionRow]) -> String {
    let mut out = String::from(
        "engine,image,tag,image_id,created,age_days,latest,updated_at,previous_image_id,services\n",
    );
    for r in rows {
        let fields = [
            r.engine.clone(),
            r.image_ref.clone(),
            r.tag.clone(),
            r.image_id.clone(),
            r.created
                .map(app::components::format::iso)
                .unwrap_or_default(),
            r.age_days.map(|d| d.to_string()).unwrap_or_default(),
            r.on_latest().to_string(),
            r.updated
                .as_ref()
                .map(|u| app::components::format::iso(u.0))
                .unwrap_or_default(),
            r.updated.as_ref().map(|u| u.1.clone()).unwrap_or_default(),
            r.services.join(" "),
        ];
        let line: Vec<String> = fields.iter().map(|f| field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

pub async fn csv_file(State(state): State<AppState>) -> AppResult<Response> {
    let mut rows = rows(&state.db, OffsetDateTime::now_utc()).await?;
    sort(&mut rows, VersionSort::Image);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"versions.csv\"",
            ),
        ],
        csv(&rows),
    )
        .into_response())
}
