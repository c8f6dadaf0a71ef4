//! Deterministic layered layout of the mesh map, drawn as inline SVG: one
//! column per resource kind, left to right, boxes sorted by name, edges as
//! curves between the right side of one box and the left side of the next.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::graph::{EdgeKind, Graph, COLUMNS};
use super::html::esc;

const BOX_W: u32 = 190;
const BOX_H: u32 = 40;
const GAP_X: u32 = 56;
const GAP_Y: u32 = 12;
const TOP: u32 = 34;

/// Where each box goes: (x, y) of its top-left corner, by vertex id.
pub fn positions(g: &Graph) -> BTreeMap<String, (u32, u32)> {
    let mut by_column: Vec<Vec<&str>> = vec![Vec::new(); COLUMNS.len()];
    let mut sorted: Vec<_> = g.vertices.iter().collect();
    sorted.sort_by(|a, b| (a.column, &a.label, &a.id).cmp(&(b.column, &b.label, &b.id)));
    for v in sorted {
        by_column[v.column].push(&v.id);
    }
    let mut out = BTreeMap::new();
    for (c, ids) in by_column.iter().enumerate() {
        for (row, id) in ids.iter().enumerate() {
            let x = c as u32 * (BOX_W + GAP_X) + 10;
            let y = TOP + row as u32 * (BOX_H + GAP_Y);
            out.insert((*id).to_owned(), (x, y));
        }
    }
    out
}

/// The map as an `<svg>` element. Boxes carry `data-id` and `data-adj`
/// (their neighbours) for the search and focus filters of console.js.
pub fn svg(g: &Graph, mesh: &str) -> String {
    let pos = positions(g);
    let rows = (0..COLUMNS.len())
        .map(|c| g.vertices.iter().filter(|v| v.column == c).count())
        .max()
        .unwrap_or(0) as u32;
    let width = COLUMNS.len() as u32 * (BOX_W + GAP_X) + 10;
    let height = TOP + rows.max(1) * (BOX_H + GAP_Y) + 10;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="map" role="img" aria-label="Map of mesh {m}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">"#,
        m = esc(mesh)
    );
    s.push_str(r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>"#);
    for (c, title) in COLUMNS.iter().enumerate() {
        let x = c as u32 * (BOX_W + GAP_X) + 10;
        let _ = write!(
            s,
            r#"<text class="colhead" x="{x}" y="18">{}</text>"#,
            esc(title)
        );
    }
    let mut adj: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &g.edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        adj.entry(&e.from).or_default().push(&e.to);
        adj.entry(&e.to).or_default().push(&e.from);
        let (class, d) = match e.kind {
            EdgeKind::Flow => {
                let (sx, sy, tx, ty) = (x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2);
                let mx = (sx + tx) / 2;
                ("edge", format!("M{sx},{sy} C{mx},{sy} {mx},{ty} {tx},{ty}"))
            }
            EdgeKind::Backend => {
                // From a node (right column) back to a service: a dashed arc
                // above the boxes, entering the service from its top.
                let (sx, sy, tx, ty) = (x1 + BOX_W / 2, y1, x2 + BOX_W / 2, y2);
                let top = sy.min(ty).saturating_sub(30).max(24);
                (
                    "edge backend",
                    format!("M{sx},{sy} C{sx},{top} {tx},{top} {tx},{ty}"),
                )
            }
        };
        let _ = write!(
            s,
            r#"<path class="{class}" d="{d}" data-from="{f}" data-to="{t}" marker-end="url(#arrow)"/>"#,
            f = esc(&e.from),
            t = esc(&e.to)
        );
        if let Some(label) = &e.label {
            let lx = x2.saturating_sub(GAP_X) + 4;
            let ly = y2 + BOX_H / 2 - 4;
            let _ = write!(
                s,
                r#"<text class="weight" x="{lx}" y="{ly}" data-from="{f}" data-to="{t}">{}</text>"#,
                esc(label.split(' ').nth(1).unwrap_or(label)),
                f = esc(&e.from),
                t = esc(&e.to)
            );
        }
    }
    let mut drawn: Vec<_> = g.vertices.iter().collect();
    drawn.sort_by(|a, b| (a.column, &a.label, &a.id).cmp(&(b.column, &b.label, &b.id)));
    for v in drawn {
        let Some(&(x, y)) = pos.get(&v.id) else {
            continue;
        };
        let neighbours = adj
            .get(v.id.as_str())
            .map(|n| n.join(" "))
            .unwrap_or_default();
        let kind = v.id.split('/').next().unwrap_or("");
        let _ = write!(
            s,
            r#"<g class="v {kind}" data-id="{id}" data-adj="{adj}" data-name="{name}" tabindex="0"><title>{id}: {detail}</title>"#,
            id = esc(&v.id),
            adj = esc(&neighbours),
            name = esc(&v.label.to_lowercase()),
            detail = esc(&v.detail)
        );
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6"/>"#
        );
        let label = clip(&v.label, 24);
        let detail = clip(&v.detail, 31);
        let (tx, ty) = (x + 8, y + 16);
        match &v.link {
            Some(href) => {
                let _ = write!(
                    s,
                    r#"<a href="{}"><text class="label" x="{tx}" y="{ty}">{}</text></a>"#,
                    esc(href),
                    esc(&label)
                );
            }
            None => {
                let _ = write!(
                    s,
                    r#"<text class="label" x="{tx}" y="{ty}">{}</text>"#,
                    esc(&label)
                );
            }
        }
        let _ = write!(
            s,
            r#"<text class="detail" x="{tx}" y="{}">{}</text></g>"#,
            ty + 16,
            esc(&detail)
        );
    }
    s.push_str("</svg>");
    s
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::graph::Vertex;

    fn v(id: &str, column: usize) -> Vertex {
        Vertex {
            id: id.to_owned(),
            column,
            label: id.rsplit('/').next().unwrap().to_owned(),
            detail: String::new(),
            link: None,
        }
    }

    #[test]
    fn boxes_are_placed_by_column_then_name_whatever_the_input_order() {
        let a = Graph {
            vertices: vec![v("node/b", 5), v("node/a", 5), v("service/s", 2)],
            edges: vec![],
        };
        let mut b = a.clone();
        b.vertices.reverse();
        assert_eq!(positions(&a), positions(&b));
        let p = positions(&a);
        assert!(p["node/a"].1 < p["node/b"].1);
        assert!(p["service/s"].0 < p["node/a"].0);
        assert_eq!(svg(&a, "m"), svg(&b, "m"));
    }
}
