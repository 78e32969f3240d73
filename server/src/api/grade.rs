//! `GET /api/v1/grade`: the grade as measured now, each category with its score's source, formula
//! and evidence, and the gaps to the target.

use axum::Json;
use axum::extract::State;

use app::model::grade::ScoreSource as PageSource;

use super::wire::{self, Assessment, Category, Gap, Grade, Override, ScoreSource, points};
use super::{ApiError, Reader};
use crate::grade::live;
use crate::grade::rubric::Score;
use crate::state::AppState;

/// The grade with the evidence behind every category.
#[utoipa::path(get, path = "/api/v1/grade", tag = "grade",
    responses((status = 200, body = Grade), (status = 401, body = wire::Problem)),
    security(("token" = []), ("session" = [])))]
pub(super) async fn grade(
    State(state): State<AppState>,
    _: Reader,
) -> Result<Json<Grade>, ApiError> {
    let figures = crate::readmodel::figures::current(&state).await?;
    let view = live::view(
        figures.rubric_version,
        &figures.rubric,
        &figures.grade,
        Score::from_hundredths(crate::grade::TARGET),
    );
    let categories: Vec<Category> = view
        .categories
        .into_iter()
        .map(|c| Category {
            weight: points(c.weight.trim_end_matches('%')),
            computed: points(&c.computed),
            score: points(&c.score),
            points: points(&c.points),
            source: match c.source {
                PageSource::Evidence => ScoreSource::Evidence,
                PageSource::Assessment => ScoreSource::Assessment,
                PageSource::Missing => ScoreSource::Missing,
            },
            formula: c.formula,
            evidence: c.evidence,
            evidence_page: c.evidence_link,
            assessment: c.assessment.map(|a| Assessment {
                score: points(&a.score),
                note: a.note,
                link: a.link,
                evidence_date: a.evidence_date,
                expires_on: a.expires_on,
                expired: a.expired,
                by: a.by,
                at: a.at,
            }),
            override_: c.override_.map(|o| Override {
                score: points(&o.score),
                justification: o.justification,
                by: o.by,
                at: o.at,
            }),
            name: c.name,
        })
        .collect();
    let gaps = view
        .gaps
        .into_iter()
        .map(|g| Gap {
            weight: categories
                .iter()
                .find(|c| c.name == g.category)
                .map(|c| c.weight)
                .unwrap_or(0.0),
            current: points(&g.current),
            target: points(&g.target),
            gain: points(&g.gain),
            why: g.why,
            category: g.category,
        })
        .collect();
    Ok(Json(Grade {
        total: points(&view.total),
        letter: view.letter,
        uncapped_letter: view.uncapped_letter,
        cap: view.cap,
        caps_in_force: view.caps_in_force,
        rubric_version: view.rubric_version,
        target: points(&view.target),
        categories,
        gaps,
    }))
}
