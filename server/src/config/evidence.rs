//! Settings for the evidence behind Monitoring, Backup/DR and Change Control: the monitoring
//! stack's URLs, the backup jobs, and the infrastructure repository.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::edge::{ApiAuth, read_auth};
use super::raw::{Env, number, text};

/// Every 24 h and a restore test every 30 days: a job named only by a label gets these.
pub const DEFAULT_EVERY_HOURS: i64 = 24;
pub const DEFAULT_RESTORE_EVERY_DAYS: i64 = 30;

#[derive(Clone, Debug)]
pub struct EvidenceSettings {
    pub backups: Vec<BackupJob>,
    /// How late a backup may be beyond its interval before it is "late".
    pub backup_grace: Duration,
    /// The recovery time objective a restore test is held to.
    pub rto: Duration,
    pub prometheus: Option<HttpSource>,
    pub alertmanager: Option<HttpSource>,
    pub loki: Option<HttpSource>,
    /// LogQL per engine proving that its logs flow; `{engine}` stands for the engine's name.
    pub loki_query: String,
    pub loki_queries: BTreeMap<String, String>,
    /// A checkout of the infrastructure repository, read only.
    pub infra_repo: Option<PathBuf>,
}

/// A backup job declared in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupJob {
    pub job: String,
    /// Services it covers, as `engine/key` (e.g. `master/db/postgres`).
    pub covers: Vec<String>,
    pub every_hours: i64,
    pub restore_every_days: i64,
}

/// An HTTP API of the monitoring stack.
#[derive(Clone, Debug)]
pub struct HttpSource {
    pub url: String,
    pub auth: Option<ApiAuth>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBackupJob {
    job: String,
    #[serde(default)]
    covers: Vec<String>,
    every_hours: Option<i64>,
    restore_every_days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    prometheus_url: Option<String>,
    prometheus_auth_file: Option<PathBuf>,
    alertmanager_url: Option<String>,
    alertmanager_auth_file: Option<PathBuf>,
    loki_url: Option<String>,
    loki_auth_file: Option<PathBuf>,
    loki_query: Option<String>,
    loki_queries: Option<BTreeMap<String, String>>,
    infra_repo: Option<PathBuf>,
    backup_grace_hours: Option<i64>,
    rto_minutes: Option<i64>,
}

fn source(
    env: &Env,
    (url_env, url_file): (&str, &str),
    (auth_env, auth_file): (&str, &str),
    url: Option<String>,
    auth: Option<PathBuf>,
) -> Result<Option<HttpSource>, ConfigError> {
    let Some((key, value)) = text(env, url_env, url_file, url) else {
        return Ok(None);
    };
    let parsed = reqwest::Url::parse(value.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            ConfigError::new(
                &key,
                format!(
                    "'{value}' must be an http:// or https:// URL, e.g. http://prometheus:9090"
                ),
            )
        })?;
    let auth = match env
        .get(auth_env)
        .map(|p| (auth_env, PathBuf::from(p)))
        .or(auth.map(|p| (auth_file, p)))
    {
        Some((key, path)) => Some(read_auth(key, &path)?),
        None => None,
    };
    Ok(Some(HttpSource {
        url: parsed.as_str().trim_end_matches('/').to_string(),
        auth,
    }))
}

pub(super) fn resolve(
    env: &Env,
    raw: RawEvidence,
    jobs: Vec<RawBackupJob>,
) -> Result<EvidenceSettings, ConfigError> {
    let mut backups: Vec<BackupJob> = vec![];
    for (i, j) in jobs.into_iter().enumerate() {
        let key = format!("backups[{i}]");
        let name = j.job.trim().to_string();
        if name.is_empty() || name.len() > 100 {
            return Err(ConfigError::new(
                key,
                "job must be a name of 1 to 100 characters",
            ));
        }
        if backups.iter().any(|b| b.job == name) {
            return Err(ConfigError::new(
                key,
                format!("job '{name}' is declared twice"),
            ));
        }
        if let Some(bad) = j.covers.iter().find(|c| !c.contains('/')) {
            return Err(ConfigError::new(
                key,
                format!("covers: '{bad}' is not engine/service, e.g. master/db/postgres"),
            ));
        }
        let every_hours = j.every_hours.unwrap_or(DEFAULT_EVERY_HOURS);
        let restore_every_days = j.restore_every_days.unwrap_or(DEFAULT_RESTORE_EVERY_DAYS);
        if !(1..=24 * 366).contains(&every_hours) || !(1..=366).contains(&restore_every_days) {
            return Err(ConfigError::new(
                key,
                "every_hours must be 1 to 8784 and restore_every_days 1 to 366",
            ));
        }
        backups.push(BackupJob {
            job: name,
            covers: j.covers,
            every_hours,
            restore_every_days,
        });
    }
    Ok(EvidenceSettings {
        backups,
        backup_grace: Duration::from_secs(
            3600 * number(
                env,
                "AUDIT_BACKUP_GRACE_HOURS",
                "evidence.backup_grace_hours",
                raw.backup_grace_hours,
                6,
                0..=720,
                "a number of hours",
            )? as u64,
        ),
        rto: Duration::from_secs(
            60 * number(
                env,
                "AUDIT_BACKUP_RTO_MINUTES",
                "evidence.rto_minutes",
                raw.rto_minutes,
                60,
                1..=7 * 24 * 60,
                "a number of minutes",
            )? as u64,
        ),
        prometheus: source(
            env,
            ("AUDIT_PROMETHEUS_URL", "evidence.prometheus_url"),
            (
                "AUDIT_PROMETHEUS_AUTH_FILE",
                "evidence.prometheus_auth_file",
            ),
            raw.prometheus_url,
            raw.prometheus_auth_file,
        )?,
        alertmanager: source(
            env,
            ("AUDIT_ALERTMANAGER_URL", "evidence.alertmanager_url"),
            (
                "AUDIT_ALERTMANAGER_AUTH_FILE",
                "evidence.alertmanager_auth_file",
            ),
            raw.alertmanager_url,
            raw.alertmanager_auth_file,
        )?,
        loki: source(
            env,
            ("AUDIT_LOKI_URL", "evidence.loki_url"),
            ("AUDIT_LOKI_AUTH_FILE", "evidence.loki_auth_file"),
            raw.loki_url,
            raw.loki_auth_file,
        )?,
        loki_query: text(
            env,
            "AUDIT_LOKI_QUERY",
            "evidence.loki_query",
            raw.loki_query,
        )
        .map(|(_, v)| v)
        .unwrap_or_else(|| "sum(count_over_time({host=\"{engine}\"}[15m]))".into()),
        loki_queries: raw.loki_queries.unwrap_or_default(),
        infra_repo: env
            .get("AUDIT_INFRA_REPO")
            .map(PathBuf::from)
            .or(raw.infra_repo),
    })
}
