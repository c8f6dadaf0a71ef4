//! References between resources: every name a spec uses must resolve to a
//! resource of the right kind inside the same mesh.

use super::context::{Path, Sink};
use super::view::View;
use crate::common::Protocol;
use crate::identity::ResourceKind;
use crate::virtual_node::VirtualNodeSpec;
use crate::virtual_router::VirtualRouterSpec;
use crate::virtual_service::VirtualServiceSpec;

/// The mesh a resource names must itself be loaded.
pub(crate) fn mesh_loaded(s: &mut Sink, g: &View) {
    if g.mesh_spec().is_none() {
        let mesh = g.mesh_id().arn(s.ctx);
        s.error(
            "reference.missing",
            &Path::root(),
            format!(
                "belongs to mesh '{}' ({mesh}), which is not defined; add the mesh resource or load its file",
                g.name()
            ),
        );
    }
}

fn missing(s: &mut Sink, p: &Path, g: &View, kind: ResourceKind, name: &str) {
    let arn = g.id(kind, name).arn(s.ctx);
    s.error(
        "reference.missing",
        p,
        format!(
            "refers to {kind} '{name}' ({arn}), which is not defined in mesh '{}'",
            g.name()
        ),
    );
}

pub(crate) fn virtual_node<'g>(
    s: &mut Sink,
    p: &Path,
    g: &View<'g>,
    name: &str,
) -> Option<&'g VirtualNodeSpec> {
    let found = g.virtual_node(name);
    if found.is_none() && !name.is_empty() {
        missing(s, p, g, ResourceKind::VirtualNode, name);
    }
    found
}

pub(crate) fn virtual_router<'g>(
    s: &mut Sink,
    p: &Path,
    g: &View<'g>,
    name: &str,
) -> Option<&'g VirtualRouterSpec> {
    let found = g.virtual_router(name);
    if found.is_none() && !name.is_empty() {
        missing(s, p, g, ResourceKind::VirtualRouter, name);
    }
    found
}

pub(crate) fn virtual_service<'g>(
    s: &mut Sink,
    p: &Path,
    g: &View<'g>,
    name: &str,
) -> Option<&'g VirtualServiceSpec> {
    let found = g.virtual_service(name);
    if found.is_none() && !name.is_empty() {
        missing(s, p, g, ResourceKind::VirtualService, name);
    }
    found
}

/// The parent of a route (its virtual router) or gateway route (its gateway).
pub(crate) fn parent(s: &mut Sink, g: &View, kind: ResourceKind, name: &str) -> bool {
    let found = match kind {
        ResourceKind::VirtualRouter => g.virtual_router(name).is_some(),
        ResourceKind::VirtualGateway => g.virtual_gateway(name).is_some(),
        _ => true,
    };
    if !found {
        let arn = g.id(kind, name).arn(s.ctx);
        s.error(
            "reference.missing",
            &Path::root(),
            format!(
                "belongs to {kind} '{name}' ({arn}), which is not defined in mesh '{}'",
                g.name()
            ),
        );
    }
    found
}

/// The listeners (port, protocol) of a virtual node.
pub(crate) fn node_listeners(node: &VirtualNodeSpec) -> Vec<(i64, Protocol)> {
    node.listeners()
        .iter()
        .map(|l| (l.port_mapping.port, l.port_mapping.protocol))
        .collect()
}

/// The listeners (port, protocol) of a virtual router.
pub(crate) fn router_listeners(router: &VirtualRouterSpec) -> Vec<(i64, Protocol)> {
    router
        .listeners
        .iter()
        .flatten()
        .map(|l| (l.port_mapping.port, l.port_mapping.protocol))
        .collect()
}

/// The listeners of a virtual service's provider, when the provider exists.
pub(crate) fn provider_listeners(
    g: &View,
    vs: &VirtualServiceSpec,
) -> Option<Vec<(i64, Protocol)>> {
    let provider = vs.provider.as_ref()?;
    if let Some(n) = &provider.virtual_node {
        return g.virtual_node(&n.virtual_node_name).map(node_listeners);
    }
    if let Some(r) = &provider.virtual_router {
        return g
            .virtual_router(&r.virtual_router_name)
            .map(router_listeners);
    }
    None
}
