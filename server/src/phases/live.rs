//! Runs the checks deliverables are bound to against the live data (after every refresh, and
//! right after a binding changes): a deliverable turns done by the portal, with the fact, when
//! its check passes, and open again, with the failing fact, when it stops passing. Waived
//! deliverables are left alone.

use std::collections::HashMap;

use sqlx::PgPool;
use sqlx::types::Json;

use app::model::docs::CoverageFigures;
use app::model::phases::DeliverableStatus;

use super::checks::{self, DeliverableCheck, Facts, Outcome, RouteFact};
use crate::auth::SessionUser;
use crate::config::Settings;
use crate::grade::evidence::GradeResult;
use crate::grade::rubric::Rubric;

/// The grade as the caller scored it: (rubric version, rubric, result).
pub type Graded = (i32, Rubric, GradeResult);

/// Gathers what the checks read, in a few queries whatever the number of deliverables. The
/// worker passes the grade it has just scored, so a refresh scores it once.
pub async fn facts(
    pool: &PgPool,
    settings: &Settings,
    coverage: &CoverageFigures,
    graded: Option<&Graded>,
) -> sqlx::Result<Facts> {
    let scored = async {
        match graded {
            Some(g) => Ok(g.clone()),
            None => crate::grade::live::current_with(pool, coverage).await,
        }
    };
    let (services, items, routes, backups, (_, rubric, grade)) = tokio::try_join!(
        crate::actions::queries::current_services(pool),
        crate::rollouts::item_queries::statuses(pool),
        sqlx::query!(
            r#"SELECT lower(r.host) AS "host!", r.url, p.ok AS "probe_ok?",
                      r.findings AS "findings: Json<Vec<app::model::Finding>>"
               FROM routes r LEFT JOIN probe_results p ON p.url = r.url
               ORDER BY r.url"#,
        )
        .fetch_all(pool),
        crate::evidence::gather_backups(pool, settings),
        scored,
    )?;
    let mut by_host: HashMap<String, Vec<RouteFact>> = HashMap::new();
    for route in routes {
        by_host.entry(route.host).or_default().push(RouteFact {
            url: route.url,
            probe_ok: route.probe_ok,
            findings: route
                .findings
                .0
                .iter()
                .map(|f| f.kind.slug().to_string())
                .collect(),
        });
    }
    let now = time::OffsetDateTime::now_utc();
    let backup_jobs = backups
        .jobs
        .iter()
        .map(|job| {
            let problems = crate::evidence::backups::job_problems(
                job,
                backups.runs.get(&job.job),
                &settings.evidence,
                now,
            );
            (
                job.job.clone(),
                problems.into_iter().map(|(_, fact)| fact).collect(),
            )
        })
        .collect();
    let mut letters: Vec<String> = rubric.thresholds.iter().map(|t| t.letter.clone()).collect();
    letters.push(rubric.failing.clone());
    Ok(Facts {
        services: services
            .into_iter()
            .map(|s| {
                (
                    (s.engine, s.key),
                    s.findings.iter().map(|f| f.kind).collect(),
                )
            })
            .collect(),
        coverage: (coverage.documented_share() * 10_000.0).round() as u32,
        grade: grade.total.hundredths_truncated() as u32,
        letter: grade.letter,
        letters,
        rollout_items: items.into_iter().collect::<HashMap<_, _>>(),
        routes: by_host,
        backup_jobs,
    })
}

/// Evaluates the bound deliverables in `scope` and records each verdict that
/// differs from the deliverable's latest status; returns how many changed.
pub async fn check_deliverables(
    pool: &PgPool,
    settings: &Settings,
    coverage: &CoverageFigures,
    scope: crate::phases::signoff_queries::CheckScope,
    graded: Option<&Graded>,
) -> sqlx::Result<usize> {
    let bound = crate::phases::signoff_queries::bound_deliverables(pool, scope).await?;
    if bound.is_empty() {
        return Ok(0);
    }
    let facts = facts(pool, settings, coverage, graded).await?;
    let portal = SessionUser::portal();
    let mut changed = 0;
    let mut tx = pool.begin().await?;
    for d in &bound {
        if d.status == DeliverableStatus::Waived {
            continue;
        }
        let outcome = match DeliverableCheck::parse(&d.check_spec) {
            Ok(check) => checks::evaluate(&check, &facts),
            Err(e) => Outcome {
                passing: false,
                fact: format!("The check '{}' cannot be read: {e}.", d.check_spec),
            },
        };
        let status = if outcome.passing {
            DeliverableStatus::Done
        } else {
            DeliverableStatus::Open
        };
        // A change of verdict is recorded, with its fact; so is the portal's first word after a
        // person's event (a person's "done" gets the check's evidence, or is reopened with the
        // failing fact). The same verdict with another figure ("12 services", then "13") is not.
        if d.status == status && d.actor_subject == portal.subject {
            continue;
        }
        tracing::info!(deliverable = d.id, status = status.as_str(), fact = %outcome.fact, "deliverable check changed");
        crate::phases::queries::add_event(
            &mut *tx,
            d.id,
            status,
            &outcome.fact,
            None,
            None,
            &portal,
        )
        .await?;
        changed += 1;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The check's verdict now for one spec (a person marking a bound deliverable done).
pub async fn verdict(
    pool: &PgPool,
    settings: &Settings,
    coverage: &CoverageFigures,
    check: &DeliverableCheck,
) -> sqlx::Result<Outcome> {
    Ok(checks::evaluate(
        check,
        &facts(pool, settings, coverage, None).await?,
    ))
}
