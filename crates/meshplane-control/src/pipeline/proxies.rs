//! The proxy identities of a mesh and how each is translated: shared by
//! the reload and the dry run, so both walk and translate alike.

use meshplane_spec::{MeshGraph, ResourceKind};
use meshplane_translate::{
    translate_virtual_gateway, translate_virtual_node, TranslateOptions, Translation,
};

/// Every virtual node, then every virtual gateway, of `graph`, by name.
pub fn of(graph: &MeshGraph) -> impl Iterator<Item = (ResourceKind, &String)> {
    let nodes = graph
        .virtual_nodes
        .keys()
        .map(|n| (ResourceKind::VirtualNode, n));
    let gateways = graph
        .virtual_gateways
        .keys()
        .map(|n| (ResourceKind::VirtualGateway, n));
    nodes.chain(gateways)
}

/// The translation of one proxy identity of [`of`].
pub fn translate(
    graph: &MeshGraph,
    kind: ResourceKind,
    name: &str,
    opts: &TranslateOptions,
) -> Translation {
    if kind == ResourceKind::VirtualGateway {
        translate_virtual_gateway(graph, name, opts)
    } else {
        translate_virtual_node(graph, name, opts)
    }
}
