//! Drift against a saved baseline: a service whose CPU, memory or route latency p95 over the last
//! day is more than the configured percentage above the baseline's is a `performance_regression`.

use app::model::{Finding, FindingKind, Severity};

use super::sizing::size;

/// What the baseline said of one service, and what the last day says now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Comparison {
    pub baseline_label: String,
    pub baseline_day: String,
    pub then: Figures,
    pub now: Figures,
    /// Samples behind `now`: fewer than the minimum judge nothing.
    pub now_samples: i64,
}

/// The p95s compared.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Figures {
    pub cpu_p95: Option<f64>,
    pub memory_p95: Option<i64>,
    pub latency_p95_ms: Option<f64>,
}

/// Below these, a change is noise whatever its percentage (0.1% → 0.3% CPU is +200%).
const CPU_FLOOR_POINTS: f64 = 1.0;
const MEMORY_FLOOR_BYTES: i64 = 16 * 1024 * 1024;
const LATENCY_FLOOR_MS: f64 = 20.0;

/// How much worse `now` is than `then`, in percent, when it is worse by more than the floor.
fn worse(then: f64, now: f64, floor: f64) -> Option<f64> {
    (now - then > floor && then > 0.0).then(|| (now - then) / then * 100.0)
}

/// The regressed figures, each as "CPU p95 40.0% (baseline 3.0%, +1233%)".
pub fn regressed(c: &Comparison, percent: f64) -> Vec<String> {
    let mut out = vec![];
    if let (Some(then), Some(now)) = (c.then.cpu_p95, c.now.cpu_p95)
        && let Some(up) = worse(then, now, CPU_FLOOR_POINTS).filter(|up| *up > percent)
    {
        out.push(format!(
            "CPU p95 {now:.1}% (baseline {then:.1}%, +{up:.0}%)"
        ));
    }
    if let (Some(then), Some(now)) = (c.then.memory_p95, c.now.memory_p95)
        && let Some(up) =
            worse(then as f64, now as f64, MEMORY_FLOOR_BYTES as f64).filter(|up| *up > percent)
    {
        out.push(format!(
            "memory p95 {} (baseline {}, +{up:.0}%)",
            size(now),
            size(then)
        ));
    }
    if let (Some(then), Some(now)) = (c.then.latency_p95_ms, c.now.latency_p95_ms)
        && let Some(up) = worse(then, now, LATENCY_FLOOR_MS).filter(|up| *up > percent)
    {
        out.push(format!(
            "route latency p95 {now:.0} ms (baseline {then:.0} ms, +{up:.0}%)"
        ));
    }
    out
}

/// The finding, when the last day (with enough samples) is worse than the baseline.
pub fn finding(c: &Comparison, percent: f64, min_samples: i64) -> Option<Finding> {
    if c.now_samples < min_samples {
        return None;
    }
    let worse = regressed(c, percent);
    (!worse.is_empty()).then(|| Finding {
        kind: FindingKind::PerformanceRegression,
        severity: Severity::Medium,
        fact: format!(
            "over the last day, {} against the baseline '{}' of {} (threshold +{percent:.0}%)",
            worse.join("; "),
            c.baseline_label,
            c.baseline_day
        ),
        fix: "Compare with the baseline on /capacity: find what changed since (image, load, \
              configuration), fix it, or save a new baseline if the new level is expected."
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comparison(then: Figures, now: Figures) -> Comparison {
        Comparison {
            baseline_label: "before the upgrade".into(),
            baseline_day: "2026-11-30".into(),
            then,
            now,
            now_samples: 500,
        }
    }

    #[test]
    fn worse_by_more_than_the_threshold_and_the_floor_is_a_regression() {
        let then = Figures {
            cpu_p95: Some(4.0),
            memory_p95: Some(100 * 1024 * 1024),
            latency_p95_ms: Some(100.0),
        };
        let now = Figures {
            cpu_p95: Some(12.0),
            memory_p95: Some(140 * 1024 * 1024),
            latency_p95_ms: Some(400.0),
        };
        let f = finding(&comparison(then, now), 50.0, 120).unwrap();
        assert_eq!(f.kind, FindingKind::PerformanceRegression);
        assert!(
            f.fact.contains("CPU p95 12.0% (baseline 4.0%, +200%)"),
            "{}",
            f.fact
        );
        // Memory +40%: under the 50% threshold.
        assert!(!f.fact.contains("memory"), "{}", f.fact);
        assert!(
            f.fact
                .contains("route latency p95 400 ms (baseline 100 ms, +300%)")
        );
        assert!(f.fact.contains("'before the upgrade' of 2026-11-30"));
    }

    #[test]
    fn noise_better_figures_and_thin_data_are_not_regressions() {
        let tiny = comparison(
            Figures {
                cpu_p95: Some(0.1),
                ..Default::default()
            },
            Figures {
                cpu_p95: Some(0.9),
                ..Default::default()
            },
        );
        assert_eq!(finding(&tiny, 50.0, 120), None);
        let better = comparison(
            Figures {
                cpu_p95: Some(40.0),
                ..Default::default()
            },
            Figures {
                cpu_p95: Some(10.0),
                ..Default::default()
            },
        );
        assert_eq!(finding(&better, 50.0, 120), None);
        let mut thin = comparison(
            Figures {
                cpu_p95: Some(4.0),
                ..Default::default()
            },
            Figures {
                cpu_p95: Some(40.0),
                ..Default::default()
            },
        );
        assert!(finding(&thin, 50.0, 120).is_some());
        thin.now_samples = 10;
        assert_eq!(finding(&thin, 50.0, 120), None);
    }
}
