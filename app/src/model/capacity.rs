//! What the capacity pages show: resource history per service, each host's memory against its
//! containers', right-sizing, baselines, the dependency map and the image versions.

use time::OffsetDateTime;

/// One window (24 h, 7 d, 30 d) of a service's resource use.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceWindow {
    pub label: String,
    pub samples: i64,
    /// CPU in percent of one CPU.
    pub cpu_avg: Option<f64>,
    pub cpu_p95: Option<f64>,
    pub memory_avg: Option<f64>,
    pub memory_peak: Option<i64>,
    pub block_io: i64,
    pub net_io: i64,
}

/// A service's resource section: the windows and two charts against its limits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceResources {
    pub windows: Vec<ResourceWindow>,
    pub cpu_svg: Option<String>,
    pub memory_svg: Option<String>,
}

/// A service at the other end of a dependency edge.
#[derive(Clone, Debug, PartialEq)]
pub struct DependencyLink {
    pub engine: String,
    pub key: String,
    pub name: String,
    pub state: String,
    /// Where the edge comes from: compose, env, traefik, label, network:<name>.
    pub via: Vec<String>,
}

/// A service's place in the dependency map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceDependencies {
    pub depends_on: Vec<DependencyLink>,
    pub needed_by: Vec<DependencyLink>,
    /// "If postgres stops, 9 running services depend on it."
    pub impact: Option<String>,
    pub svg: Option<String>,
}

/// One engine's host and its containers' memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineCapacity {
    pub name: String,
    pub cpus: Option<i32>,
    pub memory_bytes: Option<i64>,
    pub kernel_version: Option<String>,
    pub operating_system: Option<String>,
    pub storage_driver: Option<String>,
    pub docker_version: Option<String>,
    pub running: i64,
    /// Sum of the running containers' memory use.
    pub memory_used: i64,
    /// Sum of the memory limits that are set.
    pub limits_sum: i64,
    /// Running containers without a memory limit.
    pub unlimited: i64,
    pub unlimited_used: i64,
    /// The upgrade trigger, in percent of the host's memory.
    pub trigger_percent: f64,
    pub trend_svg: Option<String>,
}

impl EngineCapacity {
    pub fn used_share(&self) -> Option<f64> {
        self.memory_bytes
            .filter(|m| *m > 0)
            .map(|m| self.memory_used as f64 / m as f64)
    }

    pub fn limits_share(&self) -> Option<f64> {
        self.memory_bytes
            .filter(|m| *m > 0)
            .map(|m| self.limits_sum as f64 / m as f64)
    }

    /// Memory left before the upgrade trigger, negative once past it.
    pub fn headroom_to_trigger(&self) -> Option<i64> {
        self.memory_bytes
            .map(|m| (m as f64 * self.trigger_percent / 100.0) as i64 - self.memory_used)
    }

    pub fn trigger_reached(&self) -> bool {
        self.used_share()
            .is_some_and(|s| s * 100.0 > self.trigger_percent)
    }
}

/// A service whose memory limit the history says to change.
#[derive(Clone, Debug, PartialEq)]
pub struct RightSizing {
    pub engine: String,
    pub key: String,
    pub name: String,
    pub limit: i64,
    pub peak_7d: i64,
    pub samples: i64,
    pub recommended: i64,
    /// Positive: memory the change frees; negative: memory it takes.
    pub frees: i64,
}

/// A saved baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineSummary {
    pub id: i64,
    pub label: String,
    pub taken_at: OffsetDateTime,
    pub taken_by: String,
    pub window_days: i32,
    pub services: i64,
}

/// One service then (at the baseline) and now (the last 24 hours).
#[derive(Clone, Debug, PartialEq)]
pub struct BaselineRow {
    pub engine: String,
    pub key: String,
    pub name: String,
    pub cpu: (Option<f64>, Option<f64>),
    pub memory: (Option<i64>, Option<i64>),
    pub latency_ms: (Option<f64>, Option<f64>),
    /// The figures worse than the threshold, as the finding words them.
    pub regressed: Vec<String>,
}

/// `/capacity`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CapacityPage {
    pub engines: Vec<EngineCapacity>,
    pub rightsizing: Vec<RightSizing>,
    pub headroom_factor: f64,
    pub min_samples: i64,
    pub regression_percent: f64,
    pub baselines: Vec<BaselineSummary>,
    pub compared: Option<(BaselineSummary, Vec<BaselineRow>)>,
    pub can_save: bool,
    pub refusal: Option<String>,
}

/// One engine's dependency map.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineDependencies {
    pub engine: String,
    pub svg: Option<String>,
    /// (from, to, via) by display name.
    pub edges: Vec<(DependencyLink, DependencyLink)>,
    pub isolated: i64,
}

/// One image reference in use (or seen) on an engine.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRow {
    pub engine: String,
    pub image_ref: String,
    pub tag: String,
    pub image_id: String,
    pub created: Option<OffsetDateTime>,
    pub age_days: Option<i64>,
    pub services: Vec<String>,
    /// When the reference last pointed at a new image, and the id it replaced.
    pub updated: Option<(OffsetDateTime, String)>,
    pub first_seen: OffsetDateTime,
}

impl VersionRow {
    /// `latest`, or no tag at all (which Docker reads as `latest`).
    pub fn on_latest(&self) -> bool {
        self.tag == "latest"
    }
}

/// The tag of an image reference: `grafana/grafana:11.3` → `11.3`; none (or a digest) → `latest`
/// or the digest's start.
pub fn tag_of(image_ref: &str) -> String {
    if let Some((_, digest)) = image_ref.split_once('@') {
        return format!("@{}", digest.chars().take(19).collect::<String>());
    }
    let name = image_ref.rsplit('/').next().unwrap_or(image_ref);
    match name.split_once(':') {
        Some((_, tag)) => tag.to_string(),
        None => "latest".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::tag_of;

    #[test]
    fn tags_are_read_after_the_last_slash() {
        assert_eq!(tag_of("grafana/grafana:11.3.0"), "11.3.0");
        assert_eq!(tag_of("registry.local:5000/app"), "latest");
        assert_eq!(tag_of("registry.local:5000/app:2"), "2");
        assert_eq!(tag_of("redis"), "latest");
        assert_eq!(
            tag_of("redis@sha256:0123456789abcdef0123"),
            "@sha256:0123456789ab"
        );
    }
}
