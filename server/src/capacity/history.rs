//! Resource history arithmetic on hourly rows: averages weighted by samples, p95 over the hours,
//! peaks, and I/O totals for a window. Pure, so the figures are unit-tested exactly.

use time::{Duration, OffsetDateTime};

/// One hour of one service's resource use, as `service_hourly` keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct HourUse {
    pub hour: OffsetDateTime,
    pub cpu_sum: f64,
    pub cpu_samples: i64,
    pub cpu_max: Option<f64>,
    pub memory_sum: f64,
    pub memory_samples: i64,
    pub memory_max: Option<i64>,
    pub block_io: i64,
    pub net_io: i64,
}

impl HourUse {
    pub fn cpu_avg(&self) -> Option<f64> {
        (self.cpu_samples > 0).then(|| self.cpu_sum / self.cpu_samples as f64)
    }

    pub fn memory_avg(&self) -> Option<f64> {
        (self.memory_samples > 0).then(|| self.memory_sum / self.memory_samples as f64)
    }
}

/// The 95th percentile by the nearest-rank method: the smallest value with at least 95% of the
/// values at or below it. None for no values.
pub fn p95(values: &[f64]) -> Option<f64> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = (0.95 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// What a window of history says.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WindowUse {
    pub hours: usize,
    pub samples: i64,
    /// CPU in percent of one CPU: the average over every sample, and the p95 of the hourly averages.
    pub cpu_avg: Option<f64>,
    pub cpu_p95: Option<f64>,
    pub memory_avg: Option<f64>,
    pub memory_peak: Option<i64>,
    /// The p95 of the hourly memory peaks.
    pub memory_p95: Option<i64>,
    pub block_io: i64,
    pub net_io: i64,
}

/// Summarises the hours from `since` on.
pub fn summarize(hours: &[HourUse], since: OffsetDateTime) -> WindowUse {
    let inside: Vec<&HourUse> = hours.iter().filter(|h| h.hour >= since).collect();
    let cpu_samples: i64 = inside.iter().map(|h| h.cpu_samples).sum();
    let memory_samples: i64 = inside.iter().map(|h| h.memory_samples).sum();
    let hourly_cpu: Vec<f64> = inside.iter().filter_map(|h| h.cpu_avg()).collect();
    let hourly_peaks: Vec<f64> = inside
        .iter()
        .filter_map(|h| h.memory_max.map(|m| m as f64))
        .collect();
    WindowUse {
        hours: inside.len(),
        samples: memory_samples.max(cpu_samples),
        cpu_avg: (cpu_samples > 0)
            .then(|| inside.iter().map(|h| h.cpu_sum).sum::<f64>() / cpu_samples as f64),
        cpu_p95: p95(&hourly_cpu),
        memory_avg: (memory_samples > 0)
            .then(|| inside.iter().map(|h| h.memory_sum).sum::<f64>() / memory_samples as f64),
        memory_peak: inside.iter().filter_map(|h| h.memory_max).max(),
        memory_p95: p95(&hourly_peaks).map(|v| v as i64),
        block_io: inside.iter().map(|h| h.block_io).sum(),
        net_io: inside.iter().map(|h| h.net_io).sum(),
    }
}

/// The three windows the service page shows.
pub const WINDOWS: [(&str, Duration); 3] = [
    ("24 hours", Duration::hours(24)),
    ("7 days", Duration::days(7)),
    ("30 days", Duration::days(30)),
];

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn p95_is_the_nearest_rank() {
        assert_eq!(p95(&[]), None);
        assert_eq!(p95(&[7.0]), Some(7.0));
        // 20 values 1..=20: rank ceil(19) = 19, so 19.
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(p95(&twenty), Some(19.0));
        // 100 values: the 95th.
        let hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        assert_eq!(p95(&hundred), Some(95.0));
        // 10 values: rank ceil(9.5) = 10, the largest; NaN is ignored.
        let mut ten: Vec<f64> = (1..=10).map(f64::from).collect();
        ten.push(f64::NAN);
        assert_eq!(p95(&ten), Some(10.0));
    }

    #[test]
    fn a_window_weights_averages_by_samples_and_takes_peaks_and_totals() {
        let now = datetime!(2026-12-02 12:00 UTC);
        let hour = |ago: i64, cpu: (f64, i64), mem: (f64, i64, i64), io: (i64, i64)| HourUse {
            hour: now - Duration::hours(ago),
            cpu_sum: cpu.0,
            cpu_samples: cpu.1,
            cpu_max: None,
            memory_sum: mem.0,
            memory_samples: mem.1,
            memory_max: Some(mem.2),
            block_io: io.0,
            net_io: io.1,
        };
        let hours = [
            // Two days ago: outside the 24 h window.
            hour(48, (900.0, 10), (1000.0, 10, 500), (7, 7)),
            hour(2, (100.0, 100), (20_000.0, 100, 400), (10, 1)),
            hour(1, (300.0, 20), (6_000.0, 20, 300), (5, 2)),
        ];
        let day = summarize(&hours, now - Duration::hours(24));
        assert_eq!(day.hours, 2);
        assert_eq!(day.samples, 120);
        // (100 + 300) / 120 samples, not the mean of the hourly means (8.0).
        assert!((day.cpu_avg.unwrap() - 400.0 / 120.0).abs() < 1e-9);
        assert_eq!(day.cpu_p95, Some(15.0));
        assert!((day.memory_avg.unwrap() - 26_000.0 / 120.0).abs() < 1e-9);
        assert_eq!(day.memory_peak, Some(400));
        assert_eq!(day.memory_p95, Some(400));
        assert_eq!((day.block_io, day.net_io), (15, 3));

        let week = summarize(&hours, now - Duration::days(7));
        assert_eq!(week.hours, 3);
        assert_eq!(week.memory_peak, Some(500));
        assert_eq!(week.cpu_p95, Some(90.0));
        assert_eq!(summarize(&[], now).cpu_avg, None);
    }
}
