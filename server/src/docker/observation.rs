//! What an engine said in one refresh, as plain data: no bollard types, no environment values.

use std::collections::{BTreeMap, HashMap};

use time::OffsetDateTime;

use app::model::{MountInfo, PublishedPort};

/// What the worker asks of an engine in one refresh.
#[derive(Debug, Default, Clone)]
pub struct ObserveRequest {
    /// Per container id: read log lines written since this time (the previous observation).
    pub logs_since: HashMap<String, OffsetDateTime>,
    /// When a container has no previous observation, read logs from this long ago.
    pub default_log_window: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct EngineObservation {
    pub docker_version: Option<String>,
    pub api_version: Option<String>,
    pub containers: Vec<ContainerObservation>,
    /// Containers listed but not readable this time (e.g. removed between list and inspect).
    pub skipped: Vec<String>,
}

/// One container's configuration and state; environment variables by name only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerObservation {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub state: String,
    pub health: Option<String>,
    pub failing_streak: i64,
    pub healthcheck: Option<String>,
    pub restart_policy: String,
    pub restart_count: i64,
    pub oom_killed: bool,
    pub exit_code: Option<i64>,
    pub started_at: Option<OffsetDateTime>,
    pub image_ref: String,
    pub image_id: String,
    pub image_created: Option<OffsetDateTime>,
    pub privileged: bool,
    pub memory_limit: Option<i64>,
    pub cpu_limit: Option<f64>,
    pub ports: Vec<PublishedPort>,
    pub mounts: Vec<MountInfo>,
    pub env_names: Vec<String>,
    pub stats: Option<StatsSample>,
    pub logs: LogSummary,
}

/// One one-shot stats reading. CPU % needs two readings, so the raw counters are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsSample {
    pub memory_usage: Option<i64>,
    pub cpu_total: u64,
    pub system_cpu: u64,
    pub online_cpus: u32,
}

/// Log lines since the previous refresh, classified by level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogSummary {
    pub errors: i64,
    pub warnings: i64,
    pub fatals: i64,
    /// The last few error and fatal lines, truncated.
    pub samples: Vec<String>,
}
