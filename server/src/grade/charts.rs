//! The grade's charts as finished SVG: the total's trend with the letter thresholds, and each
//! category's share over time.

use plotters::style::RGBColor;

use crate::charts::{Marker, Overlays, Series, Threshold, YAxis, share_over_time};
use crate::error::AppResult;
use crate::grade::live;
use crate::state::AppState;

/// The grade the gap list aims at.
pub const TARGET: u32 = 9_000;

/// The total's trend as SVG, with the letter thresholds as reference lines.
pub async fn trend_chart(
    state: &AppState,
    days: i64,
    width: u32,
    height: u32,
) -> AppResult<String> {
    let history = crate::grade::queries::history(&state.db, days).await?;
    let points = history
        .iter()
        .map(|s| (s.at, f64::from(s.total) / 10_000.0))
        .collect();
    let (_, rubric) = live::rubric(&state.db).await?;
    let thresholds: Vec<Threshold> = rubric
        .thresholds
        .iter()
        .map(|t| Threshold {
            label: &t.letter,
            value: f64::from(t.minimum.hundredths()) / 10_000.0,
        })
        .collect();
    // Approvals are marked where they happened: Acceptance moves with them.
    let approvals = crate::phases::signoff_queries::approvals_since(&state.db, days).await?;
    let markers: Vec<Marker> = approvals
        .iter()
        .map(|(number, at)| Marker {
            label: number,
            at: *at,
        })
        .collect();
    Ok(share_over_time(
        "Production-readiness grade",
        &YAxis {
            description: "points out of 100",
            unit: "",
            full_scale: 100.0,
        },
        &[Series {
            label: "total",
            points,
            color: RGBColor(0x2b, 0x7b, 0xb9),
        }],
        &Overlays {
            thresholds: &thresholds,
            bands: true,
            markers: &markers,
        },
        width,
        height,
    ))
}

/// Each category's score over time, one line per category.
pub(super) async fn category_chart(state: &AppState, days: i64) -> AppResult<String> {
    const COLORS: [RGBColor; 8] = [
        RGBColor(0x2b, 0x7b, 0xb9),
        RGBColor(0xd9, 0x7a, 0x00),
        RGBColor(0x3a, 0x9a, 0x4a),
        RGBColor(0xc0, 0x39, 0x2b),
        RGBColor(0x8e, 0x5a, 0xc8),
        RGBColor(0x16, 0x9c, 0x9c),
        RGBColor(0xb0, 0x6a, 0x8a),
        RGBColor(0x7f, 0x7f, 0x7f),
    ];
    let history = crate::grade::queries::history(&state.db, days).await?;
    let (_, rubric) = live::rubric(&state.db).await?;
    let series: Vec<Series> = rubric
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| Series {
            label: &c.name,
            points: history
                .iter()
                .filter_map(|s| {
                    s.categories
                        .iter()
                        .find(|(n, _)| *n == c.name)
                        .map(|(_, v)| (s.at, f64::from(*v) / 10_000.0))
                })
                .collect(),
            color: COLORS[i % COLORS.len()],
        })
        .collect();
    Ok(share_over_time(
        "Category scores",
        &YAxis {
            description: "score out of 100",
            unit: "",
            full_scale: 100.0,
        },
        &series,
        &Overlays::default(),
        760,
        340,
    ))
}
