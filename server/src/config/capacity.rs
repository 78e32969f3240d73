//! Settings for capacity: how right-sizing recommends a limit, how much history a judgement
//! needs, when a service counts as regressed against a baseline, and each engine's upgrade trigger.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::raw::{Env, number};
use super::{ConfigError, EngineConfig};

#[derive(Clone, Debug, PartialEq)]
pub struct CapacitySettings {
    /// A recommended memory limit is the observed peak times this factor (then rounded up).
    pub headroom: f64,
    /// Memory findings need at least this many samples of history (120 = an hour at 30 s), so a
    /// few minutes of data never raise or clear them.
    pub min_samples: i64,
    /// A service whose CPU or memory p95 over the last day is this many percent above its
    /// baseline's is a performance regression.
    pub regression_percent: f64,
    /// The host memory share (sum of the containers' use over the host's memory) that calls for
    /// an upgrade, unless the engine has its own.
    pub memory_trigger_percent: f64,
    pub engine_memory_trigger_percent: BTreeMap<String, f64>,
}

impl Default for CapacitySettings {
    fn default() -> Self {
        Self {
            headroom: 1.5,
            min_samples: 120,
            regression_percent: 50.0,
            memory_trigger_percent: 75.0,
            engine_memory_trigger_percent: BTreeMap::new(),
        }
    }
}

impl CapacitySettings {
    /// The upgrade trigger for one engine, in percent of the host's memory.
    pub fn memory_trigger_for(&self, engine: &str) -> f64 {
        self.engine_memory_trigger_percent
            .get(engine)
            .copied()
            .unwrap_or(self.memory_trigger_percent)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapacity {
    headroom: Option<f64>,
    min_samples: Option<i64>,
    regression_percent: Option<f64>,
    memory_trigger_percent: Option<f64>,
    engine_memory_trigger_percent: Option<BTreeMap<String, f64>>,
}

pub(super) fn resolve(
    env: &Env,
    raw: RawCapacity,
    engines: &[EngineConfig],
) -> Result<CapacitySettings, ConfigError> {
    let defaults = CapacitySettings::default();
    let headroom = number(
        env,
        "AUDIT_CAPACITY_HEADROOM",
        "capacity.headroom",
        raw.headroom,
        defaults.headroom,
        1.05..=10.0,
        "a factor such as 1.5",
    )?;
    let min_samples = number(
        env,
        "AUDIT_CAPACITY_MIN_SAMPLES",
        "capacity.min_samples",
        raw.min_samples,
        defaults.min_samples,
        1..=1_000_000,
        "a number of samples",
    )?;
    let regression_percent = number(
        env,
        "AUDIT_CAPACITY_REGRESSION_PERCENT",
        "capacity.regression_percent",
        raw.regression_percent,
        defaults.regression_percent,
        1.0..=10_000.0,
        "a percentage",
    )?;
    let memory_trigger_percent = number(
        env,
        "AUDIT_CAPACITY_MEMORY_TRIGGER_PERCENT",
        "capacity.memory_trigger_percent",
        raw.memory_trigger_percent,
        defaults.memory_trigger_percent,
        1.0..=100.0,
        "a percentage",
    )?;
    let mut per_engine = BTreeMap::new();
    for (name, percent) in raw.engine_memory_trigger_percent.unwrap_or_default() {
        let key = format!("capacity.engine_memory_trigger_percent.{name}");
        if !engines.iter().any(|e| e.name == name) {
            return Err(ConfigError::new(
                key,
                format!("no engine is named '{name}'"),
            ));
        }
        if !(1.0..=100.0).contains(&percent) {
            return Err(ConfigError::new(
                key,
                format!("{percent} is out of range (1 to 100)"),
            ));
        }
        per_engine.insert(name, percent);
    }
    Ok(CapacitySettings {
        headroom,
        min_samples,
        regression_percent,
        memory_trigger_percent,
        engine_memory_trigger_percent: per_engine,
    })
}
