//! A service page's capacity sections: its resource history with charts against its limits,
//! and its place in the dependency map with the impact line.

use plotters::style::RGBColor;
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use app::model::ServiceFacts;
use app::model::capacity::{DependencyLink, ResourceWindow, ServiceDependencies, ServiceResources};
use app::model::service_query::url_encode;

use super::edge_queries::{self, StoredEdge};
use super::graph::{self, GraphEdge, GraphNode};
use super::history::{self, HourUse, WINDOWS};
use super::queries;
use crate::charts::{Overlays, Series, Threshold, YAxis, share_over_time};

pub async fn resources(
    db: &PgPool,
    engine: &str,
    key: &str,
    facts: &ServiceFacts,
    now: OffsetDateTime,
) -> sqlx::Result<ServiceResources> {
    let hours = queries::service_hours(db, engine, key, now - Duration::days(30)).await?;
    let windows = WINDOWS
        .iter()
        .map(|(label, span)| {
            let w = history::summarize(&hours, now - *span);
            ResourceWindow {
                label: label.to_string(),
                samples: w.samples,
                cpu_avg: w.cpu_avg,
                cpu_p95: w.cpu_p95,
                memory_avg: w.memory_avg,
                memory_peak: w.memory_peak,
                block_io: w.block_io,
                net_io: w.net_io,
            }
        })
        .collect();
    let week: Vec<&HourUse> = hours
        .iter()
        .filter(|h| h.hour >= now - Duration::days(7))
        .collect();
    Ok(ServiceResources {
        windows,
        cpu_svg: cpu_chart(&week, facts.cpu_limit),
        memory_svg: memory_chart(&week, facts.memory_limit_bytes),
    })
}

/// A round top for an axis: 1, 2 or 5 times a power of ten at or above `max`.
fn round_top(max: f64) -> f64 {
    let max = max.max(1e-9);
    let power = 10f64.powi(max.log10().floor() as i32);
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|t| *t >= max)
        .unwrap_or(10.0 * power)
}

/// One resource over time: the hourly average and peak, and the limit when there is one.
struct Usage<'a> {
    title: &'a str,
    description: &'a str,
    unit: &'a str,
    average: Vec<(OffsetDateTime, f64)>,
    peak: Vec<(OffsetDateTime, f64)>,
    limit: Option<f64>,
}

fn usage_chart(u: Usage) -> Option<String> {
    if u.average.is_empty() {
        return None;
    }
    let top = round_top(
        u.average
            .iter()
            .chain(&u.peak)
            .map(|p| p.1)
            .chain(u.limit)
            .fold(1.0, f64::max),
    );
    let scale = |points: Vec<(OffsetDateTime, f64)>| {
        points.into_iter().map(|(t, v)| (t, v / top)).collect()
    };
    let series = [
        Series {
            label: "peak",
            points: scale(u.peak),
            color: RGBColor(214, 96, 77),
        },
        Series {
            label: "average",
            points: scale(u.average),
            color: RGBColor(67, 147, 195),
        },
    ];
    let limit_line: Vec<Threshold> = u
        .limit
        .map(|l| Threshold {
            label: "limit",
            value: l / top,
        })
        .into_iter()
        .collect();
    Some(share_over_time(
        u.title,
        &YAxis {
            description: u.description,
            unit: u.unit,
            full_scale: top,
        },
        &series,
        &Overlays {
            thresholds: &limit_line,
            ..Default::default()
        },
        720,
        240,
    ))
}

fn cpu_chart(hours: &[&HourUse], limit_cpus: Option<f64>) -> Option<String> {
    usage_chart(Usage {
        title: "CPU per hour, 7 days (percent of one CPU)",
        description: "% of one CPU",
        unit: "%",
        average: hours
            .iter()
            .filter_map(|h| h.cpu_avg().map(|v| (h.hour, v)))
            .collect(),
        peak: hours
            .iter()
            .filter_map(|h| h.cpu_max.map(|v| (h.hour, v)))
            .collect(),
        limit: limit_cpus.map(|c| c * 100.0),
    })
}

fn memory_chart(hours: &[&HourUse], limit: Option<i64>) -> Option<String> {
    const MIB: f64 = 1024.0 * 1024.0;
    usage_chart(Usage {
        title: "Memory per hour, 7 days (MiB)",
        description: "MiB",
        unit: " MiB",
        average: hours
            .iter()
            .filter_map(|h| h.memory_avg().map(|v| (h.hour, v / MIB)))
            .collect(),
        peak: hours
            .iter()
            .filter_map(|h| h.memory_max.map(|v| (h.hour, v as f64 / MIB)))
            .collect(),
        limit: limit.map(|l| l as f64 / MIB),
    })
}

pub fn service_href(engine: &str, key: &str) -> String {
    format!("/services/{}/{}", url_encode(engine), url_encode(key))
}

/// Boxes and arrows for a set of stored edges.
pub fn graph_of(edges: &[StoredEdge]) -> (Vec<GraphNode>, Vec<GraphEdge>) {
    let mut nodes: Vec<GraphNode> = vec![];
    let mut add = |link: &DependencyLink, health: Option<&str>| {
        let id = format!("{}/{}", link.engine, link.key);
        if !nodes.iter().any(|n| n.id == id) {
            nodes.push(GraphNode {
                id,
                label: link.name.clone(),
                tone: graph::tone(&link.state, health),
                href: service_href(&link.engine, &link.key),
            });
        }
    };
    for e in edges {
        add(&e.from, e.from_health.as_deref());
        add(&e.to, e.to_health.as_deref());
    }
    let arrows = edges
        .iter()
        .map(|e| GraphEdge {
            from: format!("{}/{}", e.from.engine, e.from.key),
            to: format!("{}/{}", e.to.engine, e.to.key),
            dashed: e.from.via.iter().all(|v| v.starts_with("network:")),
        })
        .collect();
    (nodes, arrows)
}

fn directed(link: &DependencyLink) -> bool {
    link.via.iter().any(|v| !v.starts_with("network:"))
}

pub async fn dependencies(
    db: &PgPool,
    engine: &str,
    key: &str,
    name: &str,
) -> sqlx::Result<ServiceDependencies> {
    let edges = edge_queries::service_edges(db, engine, key).await?;
    let depends_on: Vec<DependencyLink> = edges
        .iter()
        .filter(|e| e.from.key == key)
        .map(|e| e.to.clone())
        .collect();
    let needed_by: Vec<DependencyLink> = edges
        .iter()
        .filter(|e| e.to.key == key)
        .map(|e| e.from.clone())
        .collect();
    let running_dependents = needed_by
        .iter()
        .filter(|l| directed(l) && l.state == "running")
        .count();
    let impact = (!needed_by.is_empty()).then(|| match running_dependents {
        0 => format!("If {name} stops, no running service depends on it."),
        1 => format!("If {name} stops, 1 running service depends on it."),
        n => format!("If {name} stops, {n} running services depend on it."),
    });
    let (nodes, arrows) = graph_of(&edges);
    Ok(ServiceDependencies {
        depends_on,
        needed_by,
        impact,
        svg: graph::draw(&format!("Dependencies of {name}"), &nodes, &arrows),
    })
}

#[cfg(test)]
mod tests {
    use super::round_top;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(round_top(0.3), 0.5);
        assert_eq!(round_top(73.0), 100.0);
        assert_eq!(round_top(120.0), 200.0);
        assert_eq!(round_top(512.0), 1000.0);
        assert_eq!(round_top(100.0), 100.0);
    }
}
