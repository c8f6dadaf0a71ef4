//! The mesh map page: per mesh, its egress filter and the layered graph.

use meshplane_spec::MeshModel;

use super::graph;
use super::html::{esc, page};
use super::layout;

pub fn render(model: Option<&MeshModel>) -> String {
    let mut body = String::new();
    body.push_str(
        r#"<form class="filters" role="search" id="map-filters">
<label for="map-search">Search resources</label>
<input id="map-search" type="search" placeholder="name, e.g. serviceB" autocomplete="off">
<label for="map-focus">Focus on</label>
<input id="map-focus" type="text" placeholder="click a box, or type its id" autocomplete="off">
<button type="button" id="map-clear">Show everything</button>
</form>
<p class="hint">Click a box to show only what it talks to and what talks to it. Solid arrows: routing; dashed arrows: a virtual node's backends. Virtual node names open the node's Envoy configuration.</p>
"#,
    );
    let Some(model) = model else {
        body.push_str(r#"<p class="empty">No valid spec set is loaded yet: see <a href="/ui/problems">Problems</a>.</p>"#);
        return page("Mesh map", "/ui/map", &body);
    };
    if model.meshes.is_empty() {
        body.push_str(r#"<p class="empty">The spec set holds no mesh.</p>"#);
    }
    for (name, mesh) in &model.meshes {
        let spec = mesh.mesh_spec();
        let egress = format!("{:?}", spec.egress_filter_type());
        let g = graph::of_mesh(mesh);
        body.push_str(&format!(
            r#"<section class="mesh" aria-labelledby="mesh-{id}"><h2 id="mesh-{id}">Mesh {n}</h2>
<p class="meta"><span class="pill">egress filter: {egress}</span> <span class="pill">{vn} virtual nodes</span> <span class="pill">{vs} virtual services</span> <span class="pill">{vr} routers, {r} routes</span> <span class="pill">{vg} gateways, {gr} gateway routes</span></p>
<div class="mapwrap">{svg}</div></section>
"#,
            id = esc(name),
            n = esc(name),
            egress = esc(&egress_text(&egress)),
            vn = mesh.virtual_nodes.len(),
            vs = mesh.virtual_services.len(),
            vr = mesh.virtual_routers.len(),
            r = mesh.routes.len(),
            vg = mesh.virtual_gateways.len(),
            gr = mesh.gateway_routes.len(),
            svg = layout::svg(&g, name),
        ));
    }
    page("Mesh map", "/ui/map", &body)
}

fn egress_text(debug: &str) -> String {
    match debug {
        "AllowAll" => "ALLOW_ALL".to_owned(),
        "DropAll" => "DROP_ALL".to_owned(),
        other => other.to_owned(),
    }
}
