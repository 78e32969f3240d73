//! The dependency map drawn on the server as SVG: services in columns by how deep their
//! dependencies go (what nothing else is needed for on the left... what needs the most on the
//! right), each box coloured by its state through CSS classes (so both themes read), arrows from
//! a service to what it needs, dashed where the only link is a shared network.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// A box on the map.
#[derive(Clone, Debug)]
pub struct GraphNode {
    pub id: String,
    pub label: String,
    /// `ok`, `bad`, `off` or `warn`: the CSS class that colours the box.
    pub tone: &'static str,
    pub href: String,
}

/// An arrow: `from` needs `to`.
#[derive(Clone, Debug)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub dashed: bool,
}

const BOX_W: i64 = 170;
const BOX_H: i64 = 26;
const COL_GAP: i64 = 90;
const ROW_GAP: i64 = 12;
const PAD: i64 = 10;

/// The tone for a Docker state and health.
pub fn tone(state: &str, health: Option<&str>) -> &'static str {
    match (state, health) {
        ("running", Some("unhealthy")) => "bad",
        ("running", Some("starting")) => "warn",
        ("running", _) => "ok",
        ("restarting" | "dead", _) => "bad",
        ("paused" | "created", _) => "warn",
        _ => "off",
    }
}

/// Columns: a service that needs nothing is in column 0; one that needs others sits one column
/// right of the deepest of them. Cycles stop growing after as many rounds as there are nodes.
fn columns(nodes: &[GraphNode], edges: &[GraphEdge]) -> HashMap<String, usize> {
    let mut col: HashMap<String, usize> = nodes.iter().map(|n| (n.id.clone(), 0)).collect();
    for _ in 0..nodes.len() {
        let mut changed = false;
        for e in edges.iter().filter(|e| !e.dashed) {
            let (Some(&to), Some(&from)) = (col.get(&e.to), col.get(&e.from)) else {
                continue;
            };
            if from < to + 1 && to < nodes.len() {
                col.insert(e.from.clone(), to + 1);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    col
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The map as inline SVG; None when there is nothing to draw.
pub fn draw(title: &str, nodes: &[GraphNode], edges: &[GraphEdge]) -> Option<String> {
    if nodes.is_empty() {
        return None;
    }
    let col = columns(nodes, edges);
    let mut by_col: BTreeMap<usize, Vec<&GraphNode>> = BTreeMap::new();
    for n in nodes {
        by_col.entry(col[&n.id]).or_default().push(n);
    }
    let mut at: HashMap<&str, (i64, i64)> = HashMap::new();
    let mut rows = 0;
    for (c, list) in by_col.values_mut().enumerate() {
        list.sort_by(|a, b| a.label.cmp(&b.label));
        for (r, n) in list.iter().enumerate() {
            let x = PAD + c as i64 * (BOX_W + COL_GAP);
            let y = PAD + r as i64 * (BOX_H + ROW_GAP);
            at.insert(&n.id, (x, y));
        }
        rows = rows.max(list.len());
    }
    let width = PAD * 2 + by_col.len() as i64 * (BOX_W + COL_GAP) - COL_GAP;
    let height = PAD * 2 + rows as i64 * (BOX_H + ROW_GAP) - ROW_GAP;
    // Several maps share a page: each needs its own marker id.
    let marker_id = format!(
        "arrow-{:x}",
        title
            .bytes()
            .fold(5381u32, |h, b| h.wrapping_mul(33) ^ u32::from(b))
    );
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" class=\"depmap\" \
         viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">\
         <defs><marker id=\"{marker_id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" \
         markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"currentColor\"/></marker></defs>",
        escape(title)
    );
    for e in edges {
        let (Some(&(fx, fy)), Some(&(tx, ty))) = (at.get(e.from.as_str()), at.get(e.to.as_str()))
        else {
            continue;
        };
        // From the dependent's left edge to the dependency's right edge; same column: a curve.
        let (x1, y1) = (fx, fy + BOX_H / 2);
        let (x2, y2) = (tx + BOX_W, ty + BOX_H / 2);
        let dash = if e.dashed {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        let marker = if e.dashed {
            String::new()
        } else {
            format!(" marker-end=\"url(#{marker_id})\"")
        };
        let _ = write!(
            svg,
            "<path class=\"dep-edge\" d=\"M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}\" fill=\"none\" stroke=\"currentColor\" stroke-opacity=\"0.55\"{dash}{marker}/>",
            x1 - COL_GAP / 2,
            x2 + COL_GAP / 2,
        );
    }
    for n in nodes {
        let (x, y) = at[n.id.as_str()];
        let label: String = if n.label.chars().count() > 22 {
            n.label.chars().take(21).chain(['…']).collect()
        } else {
            n.label.clone()
        };
        let _ = write!(
            svg,
            "<a href=\"{}\"><g class=\"dep-node {}\"><title>{}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{BOX_W}\" height=\"{BOX_H}\" rx=\"4\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text></g></a>",
            escape(&n.href),
            n.tone,
            escape(&n.label),
            x + 8,
            y + 17,
            escape(&label)
        );
    }
    svg.push_str("</svg>");
    Some(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, tone: &'static str) -> GraphNode {
        GraphNode {
            id: id.into(),
            label: format!("<{id}>"),
            tone,
            href: format!("/services/m/{id}"),
        }
    }

    fn edge(from: &str, to: &str) -> GraphEdge {
        GraphEdge {
            from: from.into(),
            to: to.into(),
            dashed: false,
        }
    }

    #[test]
    fn dependencies_sit_left_of_what_needs_them_and_cycles_end() {
        let nodes = [node("app", "ok"), node("db", "bad"), node("web", "off")];
        let edges = [edge("app", "db"), edge("web", "app")];
        let col = columns(&nodes, &edges);
        assert_eq!((col["db"], col["app"], col["web"]), (0, 1, 2));
        let cyclic = [edge("app", "db"), edge("db", "app")];
        let col = columns(&nodes, &cyclic);
        assert!(col["app"] <= nodes.len() && col["db"] <= nodes.len());
    }

    #[test]
    fn the_map_escapes_names_and_colours_by_state() {
        let nodes = [node("app", "ok"), node("db", "bad")];
        let svg = draw("Dependencies of master", &nodes, &[edge("app", "db")]).unwrap();
        assert!(svg.contains("&lt;db&gt;") && !svg.contains("<db>"));
        assert!(svg.contains("class=\"dep-node bad\""));
        assert!(svg.contains("marker-end=\"url(#arrow-"));
        assert_eq!(svg.matches("<path class=\"dep-edge\"").count(), 1);
        assert!(draw("empty", &[], &[]).is_none());
    }
}
