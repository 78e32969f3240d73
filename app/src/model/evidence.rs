//! Evidence for the categories people used to assess by hand: API tokens, backup jobs and their
//! runs, the monitoring stack's checks, and the infrastructure repository.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An API token as admins see it: never its secret, only the first characters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub revoked_by: Option<String>,
}

/// One reported run of a backup job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub id: i64,
    /// backup, restore_test or snapshot.
    pub kind: String,
    pub ok: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    pub bytes: Option<i64>,
    pub detail: Option<String>,
    pub reported_by: String,
}

impl RunView {
    pub fn duration_s(&self) -> i64 {
        (self.finished_at - self.started_at).whole_seconds()
    }
}

/// A service a job covers, or that holds data and has no job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRef {
    pub engine: String,
    pub key: String,
    pub name: String,
}

/// A backup job with its latest runs and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupJobView {
    pub job: String,
    /// "configuration" or "label".
    pub declared_in: String,
    pub covers: Vec<ServiceRef>,
    pub every_hours: i64,
    pub restore_every_days: i64,
    /// The latest successful backup (or snapshot).
    pub last_ok_backup: Option<RunView>,
    /// The latest successful restore test.
    pub last_ok_restore: Option<RunView>,
    /// What is wrong, in words; empty when on time, passing and restore-tested.
    pub problems: Vec<String>,
    /// The latest runs, newest first.
    pub runs: Vec<RunView>,
}

/// Everything the backups page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupsPage {
    pub jobs: Vec<BackupJobView>,
    /// Services holding data (named volumes or a database image) that no job covers.
    pub uncovered: Vec<ServiceRef>,
    pub rto_minutes: i64,
    pub data_services: usize,
    pub protected_services: usize,
}

/// One check of the monitoring stack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitoringCheck {
    pub key: String,
    pub source: String,
    pub ok: bool,
    pub title: String,
    pub fact: String,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
}

/// An alert Alertmanager reports as firing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FiringAlert {
    pub name: String,
    pub severity: String,
    pub summary: String,
    pub starts_at: String,
}

/// A monitoring source (Prometheus, Alertmanager, Loki) at the latest refresh.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitoringSource {
    pub source: String,
    pub reachable: bool,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    pub alerts: Vec<FiringAlert>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonitoringPage {
    /// The configured sources; empty when none is (the category stays assessed).
    pub sources: Vec<MonitoringSource>,
    pub checks: Vec<MonitoringCheck>,
    pub configured: Vec<String>,
}

/// The infrastructure repository as the portal last read it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepoFacts {
    pub path: String,
    /// Why it could not be read, when it could not.
    pub error: Option<String>,
    pub branch: Option<String>,
    pub upstream: Option<String>,
    /// `git status --porcelain` lines: changes not committed.
    pub uncommitted: Vec<String>,
    /// Commits on the branch not on its upstream (None without an upstream).
    pub unpushed: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_commit_at: Option<OffsetDateTime>,
    pub last_commit_subject: Option<String>,
    /// Compose files of running services found in the repository, and those that are not.
    pub compose_tracked: Vec<String>,
    pub compose_untracked: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeControlView {
    pub facts: RepoFacts,
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
}
