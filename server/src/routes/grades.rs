//! `/grades`: the grade with its evidence, gaps and trend; admins' assessments and overrides;
//! `/grades/history` and its CSV.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use leptos::prelude::*;
use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use app::model::drafts::FormDraft;
use app::model::{Role, Section};
use app::pages::grades::{GradeHistoryPage, GradesData, GradesPage};
use app::render_page;

use crate::audited::{self, Change, Recorded};
use crate::auth::{CurrentUser, Page, authorize};
use crate::charts::{Marker, Overlays, Series, Threshold, YAxis, share_over_time};
use crate::db;
use crate::db::grades::NewAssessment;
use crate::error::AppResult;
use crate::grade::evidence::{ASSESSED, evidence_lifetime_days};
use crate::grade::live;
use crate::grade::rubric::Score;
use crate::routes::form::{ValidForm, draft_of, evidence_link, parse_date};
use crate::state::AppState;

/// The grade the gap list aims at.
pub(crate) const TARGET: u32 = 9_000;

/// The total's trend as SVG, with the letter thresholds as reference lines.
pub async fn trend_chart(
    state: &AppState,
    days: i64,
    width: u32,
    height: u32,
) -> AppResult<String> {
    let history = db::grades::history(&state.db, days).await?;
    let points = history
        .iter()
        .map(|s| (s.at, f64::from(s.total) / 10_000.0))
        .collect();
    let (_, rubric) = live::rubric(&state.db).await?;
    let thresholds: Vec<Threshold> = rubric
        .thresholds
        .iter()
        .map(|t| Threshold {
            label: &t.letter,
            value: f64::from(t.minimum.hundredths()) / 10_000.0,
        })
        .collect();
    // Approvals are marked where they happened: Acceptance moves with them.
    let approvals = db::phases::approvals_since(&state.db, days).await?;
    let markers: Vec<Marker> = approvals
        .iter()
        .map(|(number, at)| Marker {
            label: number,
            at: *at,
        })
        .collect();
    Ok(share_over_time(
        "Production-readiness grade",
        &YAxis {
            description: "points out of 100",
            unit: "",
            full_scale: 100.0,
        },
        &[Series {
            label: "total",
            points,
            color: RGBColor(0x2b, 0x7b, 0xb9),
        }],
        &Overlays {
            thresholds: &thresholds,
            bands: true,
            markers: &markers,
        },
        width,
        height,
    ))
}

/// Each category's score over time, one line per category.
async fn category_chart(state: &AppState, days: i64) -> AppResult<String> {
    const COLORS: [RGBColor; 8] = [
        RGBColor(0x2b, 0x7b, 0xb9),
        RGBColor(0xd9, 0x7a, 0x00),
        RGBColor(0x3a, 0x9a, 0x4a),
        RGBColor(0xc0, 0x39, 0x2b),
        RGBColor(0x8e, 0x5a, 0xc8),
        RGBColor(0x16, 0x9c, 0x9c),
        RGBColor(0xb0, 0x6a, 0x8a),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    let history = db::grades::history(&state.db, days).await?;
    let (_, rubric) = live::rubric(&state.db).await?;
    let series: Vec<Series> = rubric
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| Series {
            label: &c.name,
            points: history
                .iter()
                .filter_map(|s| {
                    s.categories
                        .iter()
                        .find(|(n, _)| *n == c.name)
                        .map(|(_, v)| (s.at, f64::from(*v) / 10_000.0))
                })
                .collect(),
            color: COLORS[i % COLORS.len()],
        })
        .collect();
    Ok(share_over_time(
        "Category scores",
        &YAxis {
            description: "score out of 100",
            unit: "",
            full_scale: 100.0,
        },
        &series,
        &Overlays::default(),
        760,
        340,
    ))
}

async fn render(
    state: &AppState,
    page: &Page,
    error: Option<String>,
    draft: Option<FormDraft>,
) -> AppResult<String> {
    let generation = state.read_model.current(&state.db).await?;
    let built = generation
        .grades
        .get_or_try_init(|| async {
            let (version, rubric, result) = live::current(&state.db, &state.settings.docs).await?;
            let grade = live::view(version, &rubric, &result, Score::from_hundredths(TARGET));
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
    let data = GradesData {
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

async fn refuse(
    state: &AppState,
    page: &Page,
    message: String,
    draft: &FormDraft,
) -> AppResult<Response> {
    let html = render(state, page, Some(message), Some(draft.clone())).await?;
    Ok((StatusCode::BAD_REQUEST, Html(html)).into_response())
}

#[derive(Deserialize, Serialize)]
pub struct AssessForm {
    category: String,
    score: String,
    note: String,
    link: Option<String>,
    evidence_date: String,
}

pub async fn assess(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<AssessForm>,
) -> AppResult<Response> {
    authorize(
        &state.db,
        &user,
        Role::Admin,
        "grade.assess",
        &form.category,
    )
    .await?;
    let draft = draft_of("assess", &form);
    let measured = db::evidence::measured(&state.db)
        .await?
        .iter()
        .any(|m| m.category == form.category);
    if !ASSESSED.contains(&form.category.as_str()) || measured {
        return refuse(
            &state,
            &page,
            format!(
                "{} is computed from evidence, not assessed; use an override instead.",
                form.category
            ),
            &draft,
        )
        .await;
    }
    let score = match Score::parse(&form.score) {
        Ok(s) => s,
        Err(e) => return refuse(&state, &page, format!("Score: {e}."), &draft).await,
    };
    let today = OffsetDateTime::now_utc().date();
    let evidence_date = match parse_date(&form.evidence_date) {
        Ok(d) if d > today => {
            return refuse(
                &state,
                &page,
                "The evidence date is in the future.".into(),
                &draft,
            )
            .await;
        }
        Ok(d) => d,
        Err(e) => return refuse(&state, &page, e, &draft).await,
    };
    let note = form.note.trim();
    if note.is_empty() || note.chars().count() > 1000 {
        return refuse(
            &state,
            &page,
            "Say what was checked (up to 1000 characters).".into(),
            &draft,
        )
        .await;
    }
    let link = match evidence_link(form.link.as_deref()) {
        Ok(link) => link,
        Err(e) => return refuse(&state, &page, e, &draft).await,
    };
    let expires_on = evidence_date + Duration::days(evidence_lifetime_days(&form.category));
    let assessment = NewAssessment {
        category: &form.category,
        score,
        note,
        link,
        evidence_date,
        expires_on,
    };
    let after = serde_json::json!({ "score": score.to_string(), "note": note, "link": link,
        "evidence_date": evidence_date.to_string(), "expires_on": expires_on.to_string() });
    let change = Change::<(), _> {
        actor: &user,
        action: "grade.assess",
        target: &form.category,
        before: None,
        after: Some(after),
    };
    audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        db::grades::add_assessment(conn, &user, &assessment).await
    })
    .await?;
    live::snapshot(&state.db, &state.settings.docs).await?;
    Ok(Redirect::to("/grades").into_response())
}

#[derive(Deserialize, Serialize)]
pub struct OverrideForm {
    category: String,
    score: Option<String>,
    justification: String,
}

pub async fn override_score(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<OverrideForm>,
) -> AppResult<Response> {
    authorize(
        &state.db,
        &user,
        Role::Admin,
        "grade.override",
        &form.category,
    )
    .await?;
    let draft = draft_of("override", &form);
    if !live::rubric(&state.db)
        .await?
        .1
        .categories
        .iter()
        .any(|c| c.name == form.category)
    {
        return refuse(
            &state,
            &page,
            format!("{} is not a category of the rubric.", form.category),
            &draft,
        )
        .await;
    }
    let score = match form
        .score
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match Score::parse(text) {
            Ok(s) => Some(s),
            Err(e) => return refuse(&state, &page, format!("Score: {e}."), &draft).await,
        },
    };
    let justification = form.justification.trim();
    if justification.is_empty() || justification.chars().count() > 1000 {
        return refuse(
            &state,
            &page,
            "An override needs a written justification (up to 1000 characters).".into(),
            &draft,
        )
        .await;
    }
    let before = db::grades::active_overrides(&state.db)
        .await?
        .into_iter()
        .find(|o| o.category == form.category)
        .map(|o| serde_json::json!({ "score": o.score.to_string(), "justification": o.justification }));
    let after = serde_json::json!({ "score": score.map(|s| s.to_string()), "justification": justification });
    let change = Change {
        actor: &user,
        action: "grade.override",
        target: &form.category,
        before,
        after: Some(after),
    };
    audited::write(&state.db, change, async |conn| -> sqlx::Result<()> {
        db::grades::add_override(conn, &user, &form.category, score, justification).await
    })
    .await?;
    live::snapshot(&state.db, &state.settings.docs).await?;
    Ok(Redirect::to("/grades").into_response())
}

/// A new rubric version from the edit form: `name_i`/`weight_i` per category, `thresholds` as
/// "A+++=95, A+=90, …", and the failing letter. Validated by [`Rubric::new`] before anything is saved.
pub async fn change_rubric(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    page: Page,
    ValidForm(form): ValidForm<std::collections::HashMap<String, String>>,
) -> AppResult<Response> {
    authorize(&state.db, &user, Role::Admin, "grade.rubric", "rubric").await?;
    let draft = FormDraft {
        form: "rubric".into(),
        fields: form.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    let (version, current) = live::rubric(&state.db).await?;
    let mut categories = vec![];
    for i in 0..current.categories.len() {
        let name = form.get(&format!("name_{i}")).cloned().unwrap_or_default();
        let weight = form
            .get(&format!("weight_{i}"))
            .cloned()
            .unwrap_or_default();
        categories.push((name, weight));
    }
    let same_names = categories
        .iter()
        .map(|(n, _)| n.as_str())
        .eq(current.categories.iter().map(|c| c.name.as_str()));
    if !same_names {
        return refuse(
            &state,
            &page,
            "The categories changed while you edited; reload the page.".into(),
            &draft,
        )
        .await;
    }
    let mut thresholds = vec![];
    for part in form
        .get("thresholds")
        .map(String::as_str)
        .unwrap_or_default()
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((letter, minimum)) = part.split_once('=') else {
            return refuse(
                &state,
                &page,
                format!("'{part}' is not letter=minimum."),
                &draft,
            )
            .await;
        };
        thresholds.push((letter.trim().to_string(), minimum.trim().to_string()));
    }
    let failing = form
        .get("failing")
        .map(|f| f.trim().to_string())
        .unwrap_or_default();
    if failing.is_empty() {
        return refuse(
            &state,
            &page,
            "Name the letter below every threshold.".into(),
            &draft,
        )
        .await;
    }
    let rubric = match crate::grade::rubric::Rubric::new(
        categories.clone(),
        thresholds.clone(),
        failing.clone(),
    )
    .and_then(|r| r.with_caps(form.get("caps").map(String::as_str).unwrap_or_default()))
    {
        Ok(r) => r,
        Err(e) => {
            return refuse(
                &state,
                &page,
                format!("The rubric was not saved: {e}."),
                &draft,
            )
            .await;
        }
    };
    let cap_lines = |r: &crate::grade::rubric::Rubric| {
        r.caps
            .iter()
            .map(|c| c.line())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (new_caps, old_caps) = (cap_lines(&rubric), cap_lines(&current));
    let normalized = |r: &crate::grade::rubric::Rubric| {
        (
            r.categories
                .iter()
                .map(|c| (c.name.clone(), format!("{:.2}", c.weight.percent())))
                .collect::<Vec<_>>(),
            r.thresholds
                .iter()
                .map(|t| (t.letter.clone(), t.minimum.to_string()))
                .collect::<Vec<_>>(),
        )
    };
    let (new_categories, new_thresholds) = normalized(&rubric);
    let (old_categories, old_thresholds) = normalized(&current);
    let before = serde_json::json!({ "version": version, "categories": old_categories, "thresholds": old_thresholds, "failing": current.failing, "caps": old_caps });
    // The record names the version the write assigned.
    audited::write_recording(
        &state.db,
        &user,
        "grade.rubric",
        async |conn| -> sqlx::Result<_> {
            let saved = db::grades::add_rubric(
                conn,
                &user,
                &new_categories,
                &new_thresholds,
                &failing,
                &new_caps,
            )
            .await?;
            let after = serde_json::json!({ "version": saved, "categories": new_categories, "thresholds": new_thresholds, "failing": failing, "caps": new_caps });
            let recorded = Recorded {
                target: "rubric".to_string(),
                before: Some(before),
                after: Some(after),
            };
            Ok(((), recorded))
        },
    )
    .await?;
    live::snapshot(&state.db, &state.settings.docs).await?;
    Ok(Redirect::to("/grades").into_response())
}

pub async fn history(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    let snapshots = db::grades::history(&state.db, 3650).await?;
    let now = OffsetDateTime::now_utc();
    Ok(Html(render_page(
        page.meta("Grade history", Section::Grades),
        move || {
            view! { <GradeHistoryPage snapshots=snapshots now=now/> }
        },
    )))
}

pub async fn history_csv(State(state): State<AppState>) -> AppResult<impl IntoResponse> {
    let snapshots = db::grades::history(&state.db, 3650).await?;
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
        let cap = super::csv::field(&s.capped_by.unwrap_or_default());
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
