//! Right-sizing memory limits from history: a finding is judged from the 7-day peak and enough
//! samples, holds within a band around its threshold (hysteresis, so a service hovering at the
//! line does not open and resolve it on every refresh), and carries the recommended limit.

/// A service's memory history over the judged window (7 days), current sample included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryHistory {
    pub peak: i64,
    pub samples: i64,
}

/// Peak at or above this share of the limit opens "near its limit"; it stays open down to
/// [`NEAR_CLOSES_BELOW`].
pub const NEAR_OPENS_AT: f64 = 0.90;
pub const NEAR_CLOSES_BELOW: f64 = 0.80;
/// Peak below this share of a large limit opens "oversized"; it stays open up to
/// [`OVERSIZED_CLOSES_AT`].
pub const OVERSIZED_OPENS_BELOW: f64 = 0.10;
pub const OVERSIZED_CLOSES_AT: f64 = 0.15;
/// Limits below this are not worth right-sizing downwards.
pub const OVERSIZED_MIN_LIMIT: i64 = 512 * MIB;

const MIB: i64 = 1024 * 1024;

/// What the history says about a limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MemoryVerdict {
    /// Too few samples to judge: no memory finding either way.
    TooLittleHistory,
    Fine,
    NearLimit {
        share: f64,
        recommended: i64,
    },
    Oversized {
        share: f64,
        recommended: i64,
        frees: i64,
    },
}

/// How the judgement is made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizingRules {
    pub headroom: f64,
    pub min_samples: i64,
}

/// Which memory finding the service had at the previous refresh.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WasFlagged {
    pub near: bool,
    pub oversized: bool,
}

/// The peak times the headroom, rounded up to a unit that suits its size (16 MiB under 256 MiB,
/// 64 MiB under 1 GiB, 256 MiB under 4 GiB, else 1 GiB), at least 16 MiB.
pub fn recommended_limit(peak: i64, headroom: f64) -> i64 {
    let wanted = (peak.max(0) as f64 * headroom).ceil() as i64;
    let unit = match wanted {
        w if w < 256 * MIB => 16 * MIB,
        w if w < 1024 * MIB => 64 * MIB,
        w if w < 4096 * MIB => 256 * MIB,
        _ => 1024 * MIB,
    };
    ((wanted + unit - 1) / unit * unit).max(16 * MIB)
}

pub fn judge(
    limit: i64,
    history: MemoryHistory,
    was: WasFlagged,
    rules: SizingRules,
) -> MemoryVerdict {
    if history.samples < rules.min_samples || limit <= 0 {
        return MemoryVerdict::TooLittleHistory;
    }
    let share = history.peak as f64 / limit as f64;
    let recommended = recommended_limit(history.peak, rules.headroom);
    let near = if was.near {
        share >= NEAR_CLOSES_BELOW
    } else {
        share >= NEAR_OPENS_AT
    };
    if near {
        return MemoryVerdict::NearLimit {
            share,
            recommended: recommended.max(limit),
        };
    }
    let oversized = limit >= OVERSIZED_MIN_LIMIT
        && recommended < limit
        && if was.oversized {
            share < OVERSIZED_CLOSES_AT
        } else {
            share < OVERSIZED_OPENS_BELOW
        };
    if oversized {
        return MemoryVerdict::Oversized {
            share,
            recommended,
            frees: limit - recommended,
        };
    }
    MemoryVerdict::Fine
}

/// `512 MiB`, `1.5 GiB`: limits as people write them.
pub fn size(bytes: i64) -> String {
    let mib = bytes as f64 / MIB as f64;
    if mib >= 1024.0 {
        let gib = mib / 1024.0;
        if (gib - gib.round()).abs() < 0.05 {
            format!("{:.0} GiB", gib)
        } else {
            format!("{gib:.1} GiB")
        }
    } else {
        format!("{mib:.0} MiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: SizingRules = SizingRules {
        headroom: 1.5,
        min_samples: 120,
    };

    fn history(peak_mib: i64) -> MemoryHistory {
        MemoryHistory {
            peak: peak_mib * MIB,
            samples: 2016,
        }
    }

    #[test]
    fn recommendations_round_up_to_a_sensible_unit() {
        assert_eq!(recommended_limit(0, 1.5), 16 * MIB);
        assert_eq!(recommended_limit(10 * MIB, 1.5), 16 * MIB);
        assert_eq!(recommended_limit(100 * MIB, 1.5), 160 * MIB);
        assert_eq!(recommended_limit(300 * MIB, 1.5), 512 * MIB);
        assert_eq!(recommended_limit(700 * MIB, 2.0), 1536 * MIB);
        assert_eq!(recommended_limit(3000 * MIB, 1.5), 5 * 1024 * MIB);
        assert_eq!(size(1536 * MIB), "1.5 GiB");
        assert_eq!(size(2048 * MIB), "2 GiB");
        assert_eq!(size(160 * MIB), "160 MiB");
    }

    #[test]
    fn near_the_limit_opens_at_90_percent_and_holds_down_to_80() {
        let limit = 1000 * MIB;
        let fresh = WasFlagged::default();
        let flagged = WasFlagged {
            near: true,
            oversized: false,
        };
        assert!(matches!(
            judge(limit, history(920), fresh, RULES),
            MemoryVerdict::NearLimit { .. }
        ));
        // 85%: not opened from clear, held when already open.
        assert_eq!(
            judge(limit, history(850), fresh, RULES),
            MemoryVerdict::Fine
        );
        assert!(matches!(
            judge(limit, history(850), flagged, RULES),
            MemoryVerdict::NearLimit { .. }
        ));
        assert_eq!(
            judge(limit, history(790), flagged, RULES),
            MemoryVerdict::Fine
        );
        // The recommendation never lowers a limit the service nearly fills.
        match judge(limit, history(950), fresh, RULES) {
            MemoryVerdict::NearLimit { recommended, .. } => assert_eq!(recommended, 1536 * MIB),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn oversized_opens_below_10_percent_and_holds_up_to_15() {
        let limit = 2048 * MIB;
        let fresh = WasFlagged::default();
        let flagged = WasFlagged {
            near: false,
            oversized: true,
        };
        match judge(limit, history(100), fresh, RULES) {
            MemoryVerdict::Oversized {
                recommended, frees, ..
            } => {
                assert_eq!(recommended, 160 * MIB);
                assert_eq!(frees, 1888 * MIB);
            }
            other => panic!("{other:?}"),
        }
        // 12%: held, not opened.
        assert_eq!(
            judge(limit, history(250), fresh, RULES),
            MemoryVerdict::Fine
        );
        assert!(matches!(
            judge(limit, history(250), flagged, RULES),
            MemoryVerdict::Oversized { .. }
        ));
        assert_eq!(
            judge(limit, history(320), flagged, RULES),
            MemoryVerdict::Fine
        );
        // A small limit is never called oversized.
        assert_eq!(
            judge(256 * MIB, history(5), fresh, RULES),
            MemoryVerdict::Fine
        );
    }

    #[test]
    fn a_few_minutes_of_data_judge_nothing() {
        let short = MemoryHistory {
            peak: 990 * MIB,
            samples: 10,
        };
        assert_eq!(
            judge(1000 * MIB, short, WasFlagged::default(), RULES),
            MemoryVerdict::TooLittleHistory
        );
    }

    #[test]
    fn a_service_hovering_at_the_line_does_not_flap() {
        // Peaks swing between 86% and 93% of the limit, refresh after refresh: one opening, no
        // resolution.
        let limit = 1000 * MIB;
        let mut was = WasFlagged::default();
        let mut transitions = 0;
        for peak in [860, 930, 870, 880, 910, 860, 925, 865] {
            let near = matches!(
                judge(limit, history(peak), was, RULES),
                MemoryVerdict::NearLimit { .. }
            );
            if near != was.near {
                transitions += 1;
            }
            was.near = near;
        }
        assert_eq!(transitions, 1);
        assert!(was.near);
    }
}
