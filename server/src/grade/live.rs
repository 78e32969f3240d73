//! The grade of the live infrastructure: evidence from Postgres, scored, snapshotted.

use sqlx::PgPool;

use app::model::FindingKind;
use app::model::docs::CoverageFigures;
use time::OffsetDateTime;

use app::model::grade::{
    AssessmentView, CategoryView, GapView, GradeSnapshot, GradeView, OverrideView,
};

use super::evidence::{
    ASSESSED, Assessment, Evidence, GradeResult, Override, ServiceEvidence, gaps_to, grade,
};
use super::rubric::{Rubric, Score};
use crate::config::DocsSettings;

/// The rubric in force and its version: the latest an admin saved, else the default (version 1).
pub async fn rubric(db: &PgPool) -> sqlx::Result<(i32, Rubric)> {
    match crate::grade::queries::latest_rubric(db).await? {
        Some(stored) => {
            let version = stored.version;
            let rubric = Rubric::new(stored.categories, stored.thresholds, stored.failing)
                .and_then(|r| match &stored.caps {
                    Some(lines) => r.with_caps(lines),
                    None => Ok(r),
                });
            match rubric {
                Ok(rubric) => Ok((version, rubric)),
                Err(e) => {
                    // Only validated rubrics are stored; should one be unreadable, say so and use the default.
                    tracing::error!(version, error = %e, "stored rubric is invalid; using the default");
                    Ok((1, Rubric::default_rubric()))
                }
            }
        }
        None => Ok((1, Rubric::default_rubric())),
    }
}

/// The grade scored afresh from the database (pages and the API read it from the read model's
/// figures instead; the tests compare those with this).
pub async fn current(db: &PgPool, docs: &DocsSettings) -> sqlx::Result<(i32, Rubric, GradeResult)> {
    let coverage = crate::docs::live::current_report(db, docs).await?;
    current_with(db, &coverage.overall).await
}

/// Everything the grade is scored from but the documentation coverage, read once. The action
/// plan scores it again with one action's findings removed, to say what the fix is worth.
pub struct Inputs {
    pub version: i32,
    pub rubric: Rubric,
    /// The current services by id.
    pub services: Vec<(i64, ServiceEvidence)>,
    assessments: Vec<Assessment>,
    overrides: Vec<Override>,
    phases_due: i64,
    phases_signed_off: i64,
    measured: Vec<crate::evidence::queries::MeasuredCategory>,
}

pub async fn inputs(db: &PgPool) -> sqlx::Result<Inputs> {
    let (
        (version, rubric),
        services,
        assessments,
        overrides,
        (phases_due, phases_signed_off),
        measured,
    ) = tokio::try_join!(
        rubric(db),
        crate::grade::queries::service_evidence(db),
        crate::grade::queries::latest_assessments(db),
        crate::grade::queries::active_overrides(db),
        crate::phases::signoff_queries::acceptance(db),
        crate::evidence::queries::measured(db),
    )?;
    Ok(Inputs {
        version,
        rubric,
        services,
        assessments,
        overrides,
        phases_due,
        phases_signed_off,
        measured,
    })
}

impl Inputs {
    fn score(&self, services: &[ServiceEvidence], coverage: &CoverageFigures) -> GradeResult {
        grade(
            &self.rubric,
            &Evidence {
                services,
                docs: coverage,
                phases_due: self.phases_due,
                phases_signed_off: self.phases_signed_off,
                assessments: &self.assessments,
                overrides: &self.overrides,
                measured: &self.measured,
                today: OffsetDateTime::now_utc().date(),
            },
        )
    }

    pub fn grade(&self, coverage: &CoverageFigures) -> GradeResult {
        let services: Vec<ServiceEvidence> = self.services.iter().map(|(_, s)| s.clone()).collect();
        self.score(&services, coverage)
    }

    /// The grade were the findings `fixed(service id, kind)` says gone.
    pub fn grade_without(
        &self,
        coverage: &CoverageFigures,
        fixed: impl Fn(i64, FindingKind) -> bool,
    ) -> GradeResult {
        let services: Vec<ServiceEvidence> = self
            .services
            .iter()
            .map(|(id, s)| {
                let mut s = s.clone();
                s.findings.retain(|k| !fixed(*id, *k));
                s
            })
            .collect();
        self.score(&services, coverage)
    }
}

/// The grade when the caller already holds the documentation coverage (the dashboard, the
/// worker right after its docs scan), so coverage is not computed twice.
pub async fn current_with(
    db: &PgPool,
    coverage: &CoverageFigures,
) -> sqlx::Result<(i32, Rubric, GradeResult)> {
    let inputs = inputs(db).await?;
    let result = inputs.grade(coverage);
    Ok((inputs.version, inputs.rubric, result))
}

pub fn snapshot_of(version: i32, result: &GradeResult, at: OffsetDateTime) -> GradeSnapshot {
    GradeSnapshot {
        at,
        rubric_version: version,
        total: (result.total.hundredths_truncated()) as i32,
        letter: result.letter.clone(),
        capped_by: result.cap.clone(),
        categories: result
            .categories
            .iter()
            .map(|c| (c.name.clone(), c.effective.hundredths() as i32))
            .collect(),
    }
}

/// Recomputes the grade and appends a snapshot if it changed (or a day passed).
pub async fn snapshot(db: &PgPool, docs: &DocsSettings) -> sqlx::Result<()> {
    let coverage = crate::docs::live::current_report(db, docs).await?;
    snapshot_with(db, &coverage.overall).await.map(|_| ())
}

/// [`snapshot`] from coverage the caller holds; returns the grade it scored, for the checks
/// that read it next (so a refresh scores it once).
pub async fn snapshot_with(
    db: &PgPool,
    coverage: &CoverageFigures,
) -> sqlx::Result<(i32, Rubric, GradeResult)> {
    let (version, rubric, result) = current_with(db, coverage).await?;
    crate::grade::queries::snapshot_if_changed(
        db,
        &snapshot_of(version, &result, OffsetDateTime::now_utc()),
    )
    .await?;
    Ok((version, rubric, result))
}

fn why(category: &str, measured: bool, evidence: &[String]) -> String {
    match category {
        c if ASSESSED.contains(&c) && !measured => format!("assessed: {}", evidence.join("; ")),
        _ => evidence.join("; "),
    }
}

pub fn view(version: i32, rubric: &Rubric, result: &GradeResult, target: Score) -> GradeView {
    let categories = rubric
        .categories
        .iter()
        .zip(&result.categories)
        .map(|(c, s)| CategoryView {
            name: c.name.clone(),
            weight: format!("{:.2}%", c.weight.percent()),
            computed: s.computed.to_string(),
            score: s.effective.to_string(),
            points: rubric.total_of(s.effective, c.weight).shown(),
            source: s.source,
            formula: s.formula.clone(),
            evidence: s.evidence.clone(),
            evidence_link: match c.name.as_str() {
                "Availability" | "Reliability" | "Security" => Some("/services".into()),
                "Documentation" => Some("/docs".into()),
                "Acceptance" => Some("/phases".into()),
                "Backup/DR" => Some("/backups".into()),
                "Monitoring" | "Change Control" => Some("/monitoring".into()),
                _ => None,
            },
            assessment: s.assessment.as_ref().map(|a| AssessmentView {
                score: a.score.to_string(),
                note: a.note.clone(),
                link: a.link.clone(),
                evidence_date: a.evidence_date,
                expires_on: a.expires_on,
                expired: s.expired,
                by: a.by.clone(),
                at: a.at,
            }),
            override_: s.override_.as_ref().map(|o| OverrideView {
                score: o.score.to_string(),
                justification: o.justification.clone(),
                by: o.by.clone(),
                at: o.at,
            }),
            // A category measured from its configured source takes no assessment.
            assessed: ASSESSED.contains(&c.name.as_str())
                && s.source != app::model::grade::ScoreSource::Evidence,
        })
        .collect();
    let gaps = gaps_to(rubric, result, target)
        .into_iter()
        .map(|g| {
            let scored = result.categories.iter().find(|c| c.name == g.category);
            let evidence = scored.map(|c| c.evidence.clone()).unwrap_or_default();
            let measured =
                scored.is_some_and(|c| c.source == app::model::grade::ScoreSource::Evidence);
            let weight = rubric
                .categories
                .iter()
                .find(|c| c.name == g.category)
                .map(|c| c.weight.percent())
                .unwrap_or(0.0);
            GapView {
                why: why(&g.category, measured, &evidence),
                current: g.current.to_string(),
                target: g.target.to_string(),
                weight: format!("{:.2}", weight / 100.0),
                gain: g.gain.shown(),
                category: g.category,
            }
        })
        .collect();
    GradeView {
        total: result.total.shown(),
        uncapped_letter: result.uncapped_letter.clone(),
        letter: result.letter.clone(),
        cap: result.cap.clone(),
        caps_in_force: result.caps_in_force.clone(),
        categories,
        target: target.to_string(),
        gaps,
        rubric_version: version,
        weights: rubric
            .categories
            .iter()
            .map(|c| (c.name.clone(), format!("{:.2}", c.weight.percent())))
            .collect(),
        thresholds: rubric
            .thresholds
            .iter()
            .map(|t| (t.letter.clone(), t.minimum.to_string()))
            .collect(),
        failing: rubric.failing.clone(),
        caps: rubric
            .caps
            .iter()
            .map(|c| c.line())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}
