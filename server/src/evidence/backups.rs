//! Backup jobs and their heartbeats, judged: which services hold data, which job covers each,
//! and whether each job is on time, passing and restore-tested. Pure: the runs come from
//! Postgres elsewhere.

use std::collections::HashMap;

use time::{Duration, OffsetDateTime};

use app::model::evidence::RunView;
use app::model::{Finding, FindingKind, ServiceFacts, Severity};

use crate::config::{BackupJob, DEFAULT_EVERY_HOURS, DEFAULT_RESTORE_EVERY_DAYS, EvidenceSettings};

/// The label that names a service's backup job.
pub const BACKUP_LABEL: &str = "audit.backup";
/// `audit.data=true|false` overrides the guess of whether a service holds data.
pub const DATA_LABEL: &str = "audit.data";

/// Images whose containers hold data worth a backup, by the image's base name.
const DATABASE_IMAGES: &[&str] = &[
    "postgres",
    "postgis",
    "timescaledb",
    "mariadb",
    "mysql",
    "mongo",
    "redis",
    "valkey",
    "keydb",
    "influxdb",
    "clickhouse-server",
    "elasticsearch",
    "opensearch",
    "couchdb",
    "cassandra",
    "minio",
    "etcd",
];

/// Whether a service holds data: a named volume, or a database image, unless its label says.
pub fn holds_data(facts: &ServiceFacts) -> bool {
    if let Some(v) = facts.labels.get(DATA_LABEL) {
        return v.eq_ignore_ascii_case("true");
    }
    // Docker stores a named volume under <root>/volumes/<name>/_data; bind mounts are elsewhere.
    let named_volume = facts
        .mounts
        .iter()
        .any(|m| m.source.contains("/volumes/") && m.source.ends_with("/_data"));
    let image = facts.image_ref.rsplit('/').next().unwrap_or_default();
    let base = image.split([':', '@']).next().unwrap_or_default();
    named_volume || DATABASE_IMAGES.contains(&base)
}

/// A job as the portal holds it: declared in the configuration, or named by labels only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectiveJob {
    pub job: String,
    pub declared_in: &'static str,
    /// `engine/key` of each service it covers.
    pub covers: Vec<String>,
    pub every_hours: i64,
    pub restore_every_days: i64,
}

/// The configured jobs, with the services whose label names them added to their cover, and a
/// job with the defaults for each name that only labels use. `labelled`: (`engine/key`, job).
pub fn effective_jobs(config: &[BackupJob], labelled: &[(String, String)]) -> Vec<EffectiveJob> {
    let mut jobs: Vec<EffectiveJob> = config
        .iter()
        .map(|j| EffectiveJob {
            job: j.job.clone(),
            declared_in: "configuration",
            covers: j.covers.clone(),
            every_hours: j.every_hours,
            restore_every_days: j.restore_every_days,
        })
        .collect();
    for (service, job) in labelled {
        match jobs.iter_mut().find(|j| j.job == *job) {
            Some(j) if !j.covers.contains(service) => j.covers.push(service.clone()),
            Some(_) => {}
            None => jobs.push(EffectiveJob {
                job: job.clone(),
                declared_in: "label",
                covers: vec![service.clone()],
                every_hours: DEFAULT_EVERY_HOURS,
                restore_every_days: DEFAULT_RESTORE_EVERY_DAYS,
            }),
        }
    }
    jobs
}

/// The runs that matter for judging a job.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobRuns {
    /// The latest backup or snapshot, passing or not.
    pub last_backup: Option<RunView>,
    pub last_ok_backup: Option<RunView>,
    pub last_ok_restore: Option<RunView>,
}

/// What is wrong with a job now, as findings' kinds and facts.
pub fn job_problems(
    job: &EffectiveJob,
    runs: Option<&JobRuns>,
    settings: &EvidenceSettings,
    now: OffsetDateTime,
) -> Vec<(FindingKind, String)> {
    let empty = JobRuns::default();
    let runs = runs.unwrap_or(&empty);
    let mut out = vec![];
    if let Some(last) = runs.last_backup.as_ref().filter(|r| !r.ok) {
        out.push((
            FindingKind::BackupFailing,
            format!(
                "job '{}': the latest {} failed at {}{}",
                job.job,
                last.kind,
                last.finished_at.date(),
                last.detail
                    .as_deref()
                    .map(|d| format!(" ({})", d.chars().take(200).collect::<String>()))
                    .unwrap_or_default()
            ),
        ));
    }
    let due = Duration::hours(job.every_hours)
        + Duration::seconds(settings.backup_grace.as_secs() as i64);
    match &runs.last_ok_backup {
        None => out.push((
            FindingKind::BackupLate,
            format!("job '{}': no successful backup reported yet", job.job),
        )),
        Some(ok) if now - ok.finished_at > due => out.push((
            FindingKind::BackupLate,
            format!(
                "job '{}': the latest successful backup finished {} hours ago (due every {} h)",
                job.job,
                (now - ok.finished_at).whole_hours(),
                job.every_hours
            ),
        )),
        Some(_) => {}
    }
    let restore_due = Duration::days(job.restore_every_days);
    match &runs.last_ok_restore {
        None => out.push((
            FindingKind::RestoreUntested,
            format!("job '{}': no successful restore test reported", job.job),
        )),
        Some(r) if now - r.finished_at > restore_due => out.push((
            FindingKind::RestoreUntested,
            format!(
                "job '{}': the latest successful restore test was {} days ago (due every {} days)",
                job.job,
                (now - r.finished_at).whole_days(),
                job.restore_every_days
            ),
        )),
        Some(r) if r.duration_s() > settings.rto.as_secs() as i64 => out.push((
            FindingKind::RestoreUntested,
            format!(
                "job '{}': the latest restore test took {} min, over the {} min recovery time objective",
                job.job,
                r.duration_s() / 60,
                settings.rto.as_secs() / 60
            ),
        )),
        Some(_) => {}
    }
    out
}

fn fix(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::BackupMissing => {
            "Back it up: declare a [[backups]] job covering it (or label it audit.backup=<job>) and have the backup script report each run to /api/v1/heartbeats."
        }
        FindingKind::BackupLate => {
            "Check that the backup job still runs (cron, timer) and that its last line reports the run; a silent job is a failing job."
        }
        FindingKind::BackupFailing => {
            "Read the backup job's log for the failure and run it again; report the run when it passes."
        }
        FindingKind::RestoreUntested => {
            "Restore the latest backup into a scratch instance, time it, and report it with kind restore_test."
        }
        _ => "",
    }
}

/// The backup findings of one service: no job while it holds data, or each problem of the
/// jobs that cover it (one finding per kind, naming every job concerned).
pub fn service_findings(
    engine_key: &str,
    facts: &ServiceFacts,
    jobs: &[EffectiveJob],
    runs: &HashMap<String, JobRuns>,
    settings: &EvidenceSettings,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let own_label = facts.labels.get(BACKUP_LABEL).map(|s| s.trim().to_string());
    let covering: Vec<EffectiveJob> = jobs
        .iter()
        .filter(|j| j.covers.iter().any(|c| c == engine_key))
        .cloned()
        .chain(
            own_label
                .filter(|l| !l.is_empty() && !jobs.iter().any(|j| j.job == *l))
                .map(|l| effective_jobs(&[], &[(engine_key.to_string(), l)]))
                .unwrap_or_default(),
        )
        .collect();
    if covering.is_empty() {
        // Until a first job is declared, backups are not measured at all (Backup/DR stays an
        // assessment), so a missing job is not yet a finding.
        if !jobs.is_empty() && holds_data(facts) {
            return vec![Finding {
                kind: FindingKind::BackupMissing,
                severity: Severity::High,
                fact: "holds data (a named volume or a database image) and no backup job covers it"
                    .into(),
                fix: fix(FindingKind::BackupMissing).into(),
            }];
        }
        return vec![];
    }
    let mut by_kind: std::collections::BTreeMap<FindingKind, Vec<String>> = Default::default();
    for job in &covering {
        for (kind, fact) in job_problems(job, runs.get(&job.job), settings, now) {
            by_kind.entry(kind).or_default().push(fact);
        }
    }
    by_kind
        .into_iter()
        .map(|(kind, facts)| Finding {
            kind,
            severity: if kind == FindingKind::RestoreUntested {
                Severity::Medium
            } else {
                Severity::High
            },
            fact: facts.join("; "),
            fix: fix(kind).into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::MountInfo;

    fn run(kind: &str, ok: bool, hours_ago: i64, minutes: i64) -> RunView {
        let finished = OffsetDateTime::now_utc() - Duration::hours(hours_ago);
        RunView {
            id: 1,
            kind: kind.into(),
            ok,
            started_at: finished - Duration::minutes(minutes),
            finished_at: finished,
            bytes: None,
            detail: None,
            reported_by: "t".into(),
        }
    }

    fn settings() -> EvidenceSettings {
        crate::config::Settings::load_from(None, &[])
            .expect("defaults")
            .evidence
    }

    #[test]
    fn data_is_a_named_volume_or_a_database_image_unless_the_label_says() {
        let mut f = ServiceFacts {
            image_ref: "docker.io/library/postgres:16".into(),
            ..Default::default()
        };
        assert!(holds_data(&f));
        f.image_ref = "grafana/grafana:11".into();
        assert!(!holds_data(&f));
        f.mounts.push(MountInfo {
            source: "/var/lib/docker/volumes/grafana_data/_data".into(),
            destination: "/var/lib/grafana".into(),
            read_only: false,
        });
        assert!(holds_data(&f));
        f.labels.insert(DATA_LABEL.into(), "false".into());
        assert!(!holds_data(&f));
    }

    #[test]
    fn a_job_is_judged_on_time_passing_and_restore_tested() {
        let s = settings();
        let now = OffsetDateTime::now_utc();
        let job = &effective_jobs(&[], &[("m/db".into(), "nightly".into())])[0];
        assert_eq!(job.every_hours, 24);
        let kinds = |runs: JobRuns| -> Vec<FindingKind> {
            job_problems(job, Some(&runs), &s, now)
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        let good = JobRuns {
            last_backup: Some(run("backup", true, 2, 5)),
            last_ok_backup: Some(run("backup", true, 2, 5)),
            last_ok_restore: Some(run("restore_test", true, 24 * 3, 20)),
        };
        assert_eq!(kinds(good.clone()), []);
        let late = JobRuns {
            last_backup: Some(run("backup", true, 31, 5)),
            last_ok_backup: Some(run("backup", true, 31, 5)),
            ..good.clone()
        };
        assert_eq!(kinds(late), [FindingKind::BackupLate]);
        let failing = JobRuns {
            last_backup: Some(run("backup", false, 1, 5)),
            ..good.clone()
        };
        assert_eq!(kinds(failing), [FindingKind::BackupFailing]);
        let slow_restore = JobRuns {
            last_ok_restore: Some(run("restore_test", true, 5, 90)),
            ..good
        };
        assert_eq!(kinds(slow_restore), [FindingKind::RestoreUntested]);
        assert_eq!(
            kinds(JobRuns::default()),
            [FindingKind::BackupLate, FindingKind::RestoreUntested]
        );
    }
}
