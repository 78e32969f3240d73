//! Evidence for the categories people used to assess by hand: backup and restore heartbeats,
//! the monitoring stack's own checks, and the infrastructure repository's state.

pub mod backup_runs;
pub mod backups;
pub mod monitoring;
pub(crate) mod pages;
pub mod queries;
pub mod repo;

use std::collections::HashMap;

use sqlx::PgPool;
use time::OffsetDateTime;

use app::model::evidence::{BackupJobView, BackupsPage, ServiceRef};

use crate::config::Settings;
use backups::{EffectiveJob, JobRuns};

/// The jobs and their runs, as the container refresh needs them for backup findings.
#[derive(Default)]
pub struct BackupInputs {
    pub jobs: Vec<EffectiveJob>,
    pub runs: HashMap<String, JobRuns>,
}

fn labelled(services: &[(ServiceRef, app::model::ServiceFacts)]) -> Vec<(String, String)> {
    services
        .iter()
        .filter_map(|(s, f)| {
            let job = f.labels.get(backups::BACKUP_LABEL)?.trim();
            (!job.is_empty()).then(|| (format!("{}/{}", s.engine, s.key), job.to_string()))
        })
        .collect()
}

pub async fn gather_backups(pool: &PgPool, settings: &Settings) -> sqlx::Result<BackupInputs> {
    let (services, runs) = tokio::try_join!(
        crate::evidence::backup_runs::current_services(pool),
        crate::evidence::backup_runs::job_runs(pool)
    )?;
    Ok(BackupInputs {
        jobs: backups::effective_jobs(&settings.evidence.backups, &labelled(&services)),
        runs,
    })
}

/// Backup/DR from evidence: data-bearing services, and those whose every job is on time,
/// passing and restore-tested. None when no job is declared (the category stays assessed).
#[derive(Clone, Debug, PartialEq)]
pub struct BackupEvidence {
    pub data_services: usize,
    pub protected_services: usize,
    pub jobs: usize,
    pub problems: Vec<String>,
}

/// The backups page and the Backup/DR evidence, from the same reading.
pub async fn backups_page(
    pool: &PgPool,
    settings: &Settings,
) -> sqlx::Result<(BackupsPage, Option<BackupEvidence>)> {
    let now = OffsetDateTime::now_utc();
    let (services, runs, recent) = tokio::try_join!(
        crate::evidence::backup_runs::current_services(pool),
        crate::evidence::backup_runs::job_runs(pool),
        crate::evidence::backup_runs::recent_runs(pool, 20),
    )?;
    let jobs = backups::effective_jobs(&settings.evidence.backups, &labelled(&services));
    let name_of = |engine_key: &str| -> ServiceRef {
        services
            .iter()
            .find(|(s, _)| format!("{}/{}", s.engine, s.key) == engine_key)
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| {
                let (engine, key) = engine_key.split_once('/').unwrap_or(("", engine_key));
                ServiceRef {
                    engine: engine.into(),
                    key: key.into(),
                    name: format!("{key} (not running)"),
                }
            })
    };
    let views: Vec<BackupJobView> = jobs
        .iter()
        .map(|j| {
            let r = runs.get(&j.job);
            BackupJobView {
                job: j.job.clone(),
                declared_in: j.declared_in.to_string(),
                covers: j.covers.iter().map(|c| name_of(c)).collect(),
                every_hours: j.every_hours,
                restore_every_days: j.restore_every_days,
                last_ok_backup: r.and_then(|r| r.last_ok_backup.clone()),
                last_ok_restore: r.and_then(|r| r.last_ok_restore.clone()),
                problems: backups::job_problems(j, r, &settings.evidence, now)
                    .into_iter()
                    .map(|(_, fact)| fact)
                    .collect(),
                runs: recent.get(&j.job).cloned().unwrap_or_default(),
            }
        })
        .collect();
    let mut uncovered = vec![];
    let (mut data, mut protected) = (0, 0);
    for (s, facts) in &services {
        let covering: Vec<&BackupJobView> = views
            .iter()
            .filter(|v| {
                v.covers
                    .iter()
                    .any(|c| c.engine == s.engine && c.key == s.key)
            })
            .collect();
        if !backups::holds_data(facts) && covering.is_empty() {
            continue;
        }
        data += 1;
        if covering.is_empty() {
            uncovered.push(s.clone());
        } else if covering.iter().all(|v| v.problems.is_empty()) {
            protected += 1;
        }
    }
    // Backups count as measured once a job is declared or named by a label.
    let evidence = (!jobs.is_empty()).then(|| BackupEvidence {
        data_services: data,
        protected_services: protected,
        jobs: jobs.len(),
        problems: views
            .iter()
            .flat_map(|v| v.problems.iter().cloned())
            .collect(),
    });
    Ok((
        BackupsPage {
            jobs: views,
            uncovered,
            rto_minutes: (settings.evidence.rto.as_secs() / 60) as i64,
            data_services: data,
            protected_services: protected,
        },
        evidence,
    ))
}

fn share_hundredths(part: usize, whole: usize) -> i32 {
    if whole == 0 {
        10_000
    } else {
        (part as u64 * 10_000 / whole as u64) as i32
    }
}

/// Backup/DR from the heartbeats, when a job is declared.
async fn measure_backups(
    pool: &PgPool,
    settings: &Settings,
    now: OffsetDateTime,
) -> sqlx::Result<Option<crate::evidence::queries::MeasuredCategory>> {
    let (page, evidence) = backups_page(pool, settings).await?;
    let Some(e) = evidence else {
        return Ok(None);
    };
    let mut lines = vec![format!(
        "{} of {} services holding data have every backup on time, passing and restore-tested ({} job(s))",
        e.protected_services, e.data_services, e.jobs
    )];
    if !page.uncovered.is_empty() {
        lines.push(format!(
            "no job covers: {}",
            page.uncovered
                .iter()
                .map(|s| format!("{}/{}", s.engine, s.key))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines.extend(e.problems.iter().cloned());
    let restore_unverified = page
        .jobs
        .iter()
        .any(|j| j.problems.iter().any(|p| p.contains("restore test")))
        || !page.uncovered.is_empty();
    Ok(Some(crate::evidence::queries::MeasuredCategory {
        category: "Backup/DR".into(),
        score: share_hundredths(e.protected_services, e.data_services),
        formula: "services holding data whose every backup job is on time, passing and restore-tested within its interval and the RTO / services holding data × 100".into(),
        lines,
        restore_unverified,
        computed_at: now,
    }))
}

/// Monitoring from the stack's own APIs, when any of them is configured: checks passing /
/// checks run.
async fn measure_monitoring(
    pool: &PgPool,
    settings: &Settings,
    now: OffsetDateTime,
) -> sqlx::Result<Option<crate::evidence::queries::MeasuredCategory>> {
    let e = &settings.evidence;
    if e.prometheus.is_none() && e.alertmanager.is_none() && e.loki.is_none() {
        crate::evidence::queries::store_monitoring(pool, &[], &[], now).await?;
        return Ok(None);
    }
    let (sources, checks) = monitoring::check_all(settings, now).await;
    crate::evidence::queries::store_monitoring(pool, &sources, &checks, now).await?;
    let passing = checks.iter().filter(|c| c.ok).count();
    let mut lines = vec![format!(
        "{passing} of {} checks pass ({})",
        checks.len(),
        sources
            .iter()
            .map(|s| s.source)
            .collect::<Vec<_>>()
            .join(", ")
    )];
    lines.extend(
        checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| format!("{}: {}", c.title, c.fact)),
    );
    Ok(Some(crate::evidence::queries::MeasuredCategory {
        category: "Monitoring".into(),
        score: if checks.is_empty() {
            0
        } else {
            share_hundredths(passing, checks.len())
        },
        formula: "monitoring checks passing (Prometheus answers, each target up and scraped within 3 intervals, rule groups without errors, Alertmanager's cluster ready, logs flowing from each engine in Loki) / checks run × 100".into(),
        lines,
        restore_unverified: false,
        computed_at: now,
    }))
}

/// Change Control from the infrastructure repository, when one is configured.
async fn measure_change_control(
    pool: &PgPool,
    settings: &Settings,
    now: OffsetDateTime,
) -> sqlx::Result<Option<crate::evidence::queries::MeasuredCategory>> {
    let Some(repo) = &settings.evidence.infra_repo else {
        return Ok(None);
    };
    let compose_files: Vec<String> = crate::evidence::backup_runs::current_services(pool)
        .await?
        .into_iter()
        .filter(|(_, f)| f.state == "running")
        .filter_map(|(_, f)| {
            f.labels
                .get("com.docker.compose.project.config_files")
                .cloned()
        })
        .flat_map(|files| {
            files
                .split(',')
                .map(|f| f.trim().to_string())
                .filter(|f| !f.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    let facts = repo::inspect(repo, &compose_files).await;
    crate::evidence::queries::store_repo(pool, &facts, now).await?;
    let (score, lines) = repo::score(&facts);
    Ok(Some(crate::evidence::queries::MeasuredCategory {
        category: "Change Control".into(),
        score,
        formula: "mean of: nothing uncommitted, nothing unpushed to the upstream branch, share of running services' compose files tracked in the infrastructure repository × 100".into(),
        lines,
        restore_unverified: false,
        computed_at: now,
    }))
}

/// Measures every formerly assessed category whose source is configured and publishes the
/// scores for the grade; a failure leaves the previous scores in place.
pub async fn publish(pool: &PgPool, settings: &Settings) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let mut measured = vec![];
    if let Some(m) = measure_backups(pool, settings, now).await? {
        measured.push(m);
    }
    if let Some(m) = measure_monitoring(pool, settings, now).await? {
        measured.push(m);
    }
    if let Some(m) = measure_change_control(pool, settings, now).await? {
        measured.push(m);
    }
    crate::evidence::queries::publish(pool, &measured).await?;
    Ok(())
}
