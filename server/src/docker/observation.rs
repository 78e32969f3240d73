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
    /// The engine's container events (OOM kills, deaths, starts) to attach: what happened between
    /// two refreshes, which the containers' state no longer shows (Docker clears `OOMKilled` when
    /// a restart policy starts the container again). The events are followed from the first
    /// value's time on (the previous refresh's start), and each refresh takes those up to the
    /// second (its own start), so no event is attached twice.
    pub events_window: Option<(OffsetDateTime, OffsetDateTime)>,
}

#[derive(Debug, Clone)]
pub struct EngineObservation {
    pub docker_version: Option<String>,
    pub api_version: Option<String>,
    /// The host as the engine's `info` describes it (None when the call failed).
    pub host: Option<HostInfo>,
    pub containers: Vec<ContainerObservation>,
    /// Containers listed but gone by the time they were inspected (removed in between).
    pub skipped: Vec<String>,
    /// Containers listed but not readable this time (the inspect timed out or failed): they
    /// exist, so they keep their last known state instead of being taken for removed.
    pub unreadable: Vec<String>,
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
    /// Host names that environment values point at (`db` in `postgres://u:p@db:5432/x`), for
    /// the dependency map. Never stored: the worker keeps only the edges they prove.
    pub env_hosts: Vec<String>,
    /// User-defined networks it is attached to (not `bridge`, `host` or `none`).
    pub networks: Vec<String>,
    pub stats: Option<StatsSample>,
    pub logs: LogSummary,
    /// What the engine's event stream said about this container since the previous refresh.
    pub events: Vec<ContainerEvent>,
}

/// One event of a container's life between two refreshes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerEvent {
    pub at: OffsetDateTime,
    pub kind: ContainerEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerEventKind {
    /// The kernel's OOM killer struck (`oom`).
    OomKill,
    /// The container died from SIGKILL (`die` with exit code 137): an OOM kill or a forced stop.
    Killed,
    /// The container was started (again).
    Started,
}

/// One one-shot stats reading. CPU % needs two readings, so the raw counters are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatsSample {
    pub memory_usage: Option<i64>,
    pub cpu_total: u64,
    pub system_cpu: u64,
    pub online_cpus: u32,
    /// Bytes read and written on block devices since the container started.
    pub block_io: Option<u64>,
    /// Bytes received and sent on all its interfaces since the container started.
    pub net_io: Option<u64>,
}

/// A Docker host's facts, from `GET /info`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostInfo {
    pub cpus: Option<i64>,
    pub memory_bytes: Option<i64>,
    pub kernel_version: Option<String>,
    pub operating_system: Option<String>,
    pub storage_driver: Option<String>,
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
