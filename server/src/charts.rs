//! Charts drawn on the server as SVG with plotters: no script, readable in light and dark themes
//! (lines and text use `currentColor`, so they follow the page's text colour) and in print.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use time::OffsetDateTime;

/// plotters writes explicit colours; these sentinels are swapped for CSS-driven ones afterwards.
const INK: RGBColor = RGBColor(1, 2, 3);
const GRID: RGBColor = RGBColor(4, 5, 6);

/// One line of a time chart: label, values between 0 and 1, and a colour that reads in both themes.
pub struct Series<'a> {
    pub label: &'a str,
    pub points: Vec<(OffsetDateTime, f64)>,
    pub color: RGBColor,
}

/// The vertical axis: its description and the unit after each tick and threshold value
/// (values are shares between 0 and 1, drawn on 0–100).
pub struct YAxis<'a> {
    pub description: &'a str,
    pub unit: &'a str,
    /// What the top of the axis stands for: 100 for percentages; for other quantities the
    /// series carry value / full_scale (a latency chart with a 500 ms top has full_scale 500).
    pub full_scale: f64,
}

/// A horizontal reference line, such as a target.
pub struct Threshold<'a> {
    pub label: &'a str,
    pub value: f64,
}

/// A moment worth marking on the time axis, such as a phase sign-off.
pub struct Marker<'a> {
    pub label: &'a str,
    pub at: OffsetDateTime,
}

/// What is drawn behind and across the series.
#[derive(Default)]
pub struct Overlays<'a> {
    /// Reference lines, highest first when `bands` is set.
    pub thresholds: &'a [Threshold<'a>],
    /// Shade alternate bands between the thresholds (the letters of a grade) and name each band.
    pub bands: bool,
    /// Vertical dashed lines with a label at the top.
    pub markers: &'a [Marker<'a>],
}

/// A percentage-over-time chart with axes, labels, a legend and reference lines, as inline SVG.
pub fn share_over_time(
    title: &str,
    axis: &YAxis,
    series: &[Series],
    overlays: &Overlays,
    width: u32,
    height: u32,
) -> String {
    let mut svg = String::new();
    let drawn = draw(&mut svg, title, axis, series, overlays, (width, height));
    if let Err(e) = drawn {
        tracing::error!(error = %e, "drawing a chart failed");
        return String::new();
    }
    svg.replace("#010203", "currentColor")
        .replace("#040506", "var(--border, #888)")
        .replacen(
            "<svg ",
            &format!(
                "<svg role=\"img\" aria-label=\"{}\" class=\"chart\" ",
                escape_attr(title)
            ),
            1,
        )
}

/// One hour of route latency: the hour, p50 and p95 in milliseconds.
pub type LatencyHour = (OffsetDateTime, Option<i32>, Option<i32>);

/// Hourly p50 and p95 latency of a service's routes, with the slow threshold; None without data.
pub fn latency_chart(hours: &[LatencyHour]) -> Option<String> {
    let max = hours
        .iter()
        .filter_map(|(_, p50, p95)| p95.or(*p50))
        .max()?;
    // A round top: 100 ms steps below a second, whole seconds above.
    let top = if max < 1000 {
        (f64::from(max) / 100.0).ceil().max(1.0) * 100.0
    } else {
        (f64::from(max) / 1000.0).ceil() * 1000.0
    };
    let line = |pick: fn(&LatencyHour) -> Option<i32>| {
        hours
            .iter()
            .filter_map(|h| pick(h).map(|v| (h.0, f64::from(v) / top)))
            .collect()
    };
    let series = [
        Series {
            label: "p95",
            points: line(|h| h.2),
            color: RGBColor(214, 96, 77),
        },
        Series {
            label: "p50",
            points: line(|h| h.1),
            color: RGBColor(67, 147, 195),
        },
    ];
    Some(share_over_time(
        "Route latency per hour, 7 days",
        &YAxis {
            description: "milliseconds",
            unit: " ms",
            full_scale: top,
        },
        &series,
        &Overlays::default(),
        720,
        260,
    ))
}

fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
}

fn draw(
    svg: &mut String,
    title: &str,
    axis: &YAxis,
    series: &[Series],
    overlays: &Overlays,
    size: (u32, u32),
) -> Result<(), Box<dyn std::error::Error>> {
    let thresholds = overlays.thresholds;
    let root = SVGBackend::with_string(svg, size).into_drawing_area();
    let times: Vec<i64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(t, _)| t.unix_timestamp()))
        .collect();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let (mut start, mut end) = (
        times.iter().copied().min().unwrap_or(now - 86_400),
        times.iter().copied().max().unwrap_or(now),
    );
    if end - start < 86_400 {
        // A single day of data still gets a readable axis.
        start = end - 86_400;
        end += 3_600;
    }
    let days = |t: i64| (t - start) as f64 / 86_400.0;
    let span = days(end);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18).into_font().color(&INK))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..span, 0.0..100.0)?;
    // Short spans label hours, longer ones days.
    let with_hours = span <= 3.0;
    let label_day = move |x: &f64| {
        let t = OffsetDateTime::from_unix_timestamp(start + (x * 86_400.0) as i64)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        if with_hours {
            format!("{:02}-{:02} {:02}h", u8::from(t.month()), t.day(), t.hour())
        } else {
            format!("{:02}-{:02}", u8::from(t.month()), t.day())
        }
    };
    chart
        .configure_mesh()
        .x_desc("date (UTC)")
        .y_desc(axis.description)
        .x_label_formatter(&label_day)
        .y_label_formatter(&|y: &f64| format!("{:.0}{}", *y * axis.full_scale / 100.0, axis.unit))
        .x_labels(6)
        .y_labels(6)
        .axis_style(INK)
        .bold_line_style(GRID.mix(0.4))
        .light_line_style(TRANSPARENT)
        .label_style(("sans-serif", 13).into_font().color(&INK))
        .axis_desc_style(("sans-serif", 13).into_font().color(&INK))
        .draw()?;
    if overlays.bands {
        // Every other band between consecutive thresholds is shaded, so each letter's range
        // reads at a glance; the band's letter sits at its right edge.
        // Plot height in pixels, roughly: the size less margins, caption and the x labels. A
        // band too thin for its letter is shaded but left unnamed (the small dashboard chart).
        let plot_px = f64::from(size.1.saturating_sub(82));
        let mut upper = 100.0;
        for (i, t) in thresholds.iter().enumerate() {
            let lower = t.value * 100.0;
            if i % 2 == 0 {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, lower), (span, upper)],
                    GRID.mix(0.18).filled(),
                )))?;
            }
            let band_px = (upper - lower) / 100.0 * plot_px;
            if band_px >= 11.0 {
                let letter = t.label.split_whitespace().next().unwrap_or(t.label);
                chart.draw_series(std::iter::once(Text::new(
                    letter.to_string(),
                    (span * 0.985, (lower + upper) / 2.0),
                    ("sans-serif", band_px.min(14.0) - 1.0)
                        .into_font()
                        .color(&INK)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                )))?;
            }
            upper = lower;
        }
    }
    for m in overlays.markers {
        let x = days(m.at.unix_timestamp());
        if !(0.0..=span).contains(&x) {
            continue;
        }
        chart.draw_series(DashedLineSeries::new(
            [(x, 0.0), (x, 100.0)],
            4,
            3,
            INK.stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            m.label.to_string(),
            (x, 98.0),
            ("sans-serif", 13)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        )))?;
    }
    // With bands the letters are named in the plot; lines and legend entries would repeat them.
    for t in thresholds.iter().filter(|_| !overlays.bands) {
        let y = t.value * 100.0;
        chart
            .draw_series(LineSeries::new([(0.0, y), (span, y)], INK.stroke_width(1)))?
            .label(format!(
                "{} ({:.0}{})",
                t.label,
                y * axis.full_scale / 100.0,
                axis.unit
            ))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], INK));
    }
    for s in series {
        let color = s.color;
        let points: Vec<(f64, f64)> = s
            .points
            .iter()
            .map(|(t, v)| (days(t.unix_timestamp()), v * 100.0))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))?
            .label(s.label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color.stroke_width(3)));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font(("sans-serif", 13).into_font().color(&INK))
        .border_style(GRID)
        .background_style(TRANSPARENT)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    #[test]
    fn a_chart_has_axes_labels_legend_and_theme_colours() {
        let now = OffsetDateTime::now_utc();
        let points = vec![
            (now - Duration::days(3), 0.3),
            (now - Duration::days(1), 0.4),
            (now, 0.45),
        ];
        let svg = share_over_time(
            "Documentation coverage",
            &YAxis {
                description: "% of running services",
                unit: "%",
                full_scale: 100.0,
            },
            &[Series {
                label: "documented",
                points,
                color: RGBColor(0x2b, 0x7b, 0xb9),
            }],
            &Overlays {
                thresholds: &[Threshold {
                    label: "target",
                    value: 0.5,
                }],
                ..Overlays::default()
            },
            640,
            280,
        );
        assert!(
            svg.starts_with("<svg role=\"img\" aria-label=\"Documentation coverage\""),
            "{}",
            &svg[..80]
        );
        for text in [
            "date (UTC)",
            "% of running services",
            "documented",
            "target (50%)",
            "100%",
        ] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(svg.contains("currentColor"), "text follows the theme");
        assert!(!svg.contains("#010203"));
    }

    #[test]
    fn grade_bands_name_each_letter_and_markers_show_sign_offs() {
        let now = OffsetDateTime::now_utc();
        let thresholds = [
            Threshold {
                label: "A+",
                value: 0.9,
            },
            Threshold {
                label: "B",
                value: 0.7,
            },
            Threshold {
                label: "C",
                value: 0.6,
            },
        ];
        let svg = share_over_time(
            "Grade",
            &YAxis {
                description: "points out of 100",
                unit: "",
                full_scale: 100.0,
            },
            &[Series {
                label: "total",
                points: vec![(now - Duration::days(5), 0.62), (now, 0.74)],
                color: RGBColor(0x2b, 0x7b, 0xb9),
            }],
            &Overlays {
                thresholds: &thresholds,
                bands: true,
                markers: &[Marker {
                    label: "PHASE-02",
                    at: now - Duration::days(2),
                }],
            },
            760,
            300,
        );
        for text in ["\nA+\n", "\nB\n", "\nC\n", "\nPHASE-02\n"] {
            assert!(svg.contains(text), "missing {text}");
        }
        assert!(
            !svg.contains("A+ (90)"),
            "bands replace the threshold lines in the legend"
        );
        assert!(
            svg.contains("opacity=\"0.18\""),
            "alternate bands are shaded"
        );
        // A marker outside the chart's time range is left out rather than drawn at the edge.
        let outside = share_over_time(
            "Grade",
            &YAxis {
                description: "points",
                unit: "",
                full_scale: 100.0,
            },
            &[],
            &Overlays {
                markers: &[Marker {
                    label: "PHASE-09",
                    at: now - Duration::days(400),
                }],
                ..Overlays::default()
            },
            400,
            200,
        );
        assert!(!outside.contains("PHASE-09"));
    }
}
