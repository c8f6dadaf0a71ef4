//! One resource's checks: which resources a mesh holds, in the order
//! validation reports them, and every check of one of them. Shared by the
//! full validation (`validate.rs`) and the incremental one
//! (`incremental.rs`).

use super::context::Sink;
use super::view::View;
use super::{gateways, nodes, references, routes, services, warnings};
use crate::gateway_route::GatewayRouteSpec;
use crate::identity::{ResourceId, ResourceKind};
use crate::model::MeshGraph;
use crate::route::RouteSpec;
use crate::virtual_gateway::VirtualGatewaySpec;
use crate::virtual_node::VirtualNodeSpec;
use crate::virtual_router::VirtualRouterSpec;
use crate::virtual_service::VirtualServiceSpec;

/// One resource's spec, with its parent's name for routes and gateway
/// routes.
#[derive(Clone, Copy)]
pub(crate) enum SpecRef<'a> {
    Mesh,
    VirtualService(&'a VirtualServiceSpec),
    VirtualNode(&'a VirtualNodeSpec),
    VirtualRouter(&'a VirtualRouterSpec),
    Route(&'a str, &'a RouteSpec),
    VirtualGateway(&'a VirtualGatewaySpec),
    GatewayRoute(&'a str, &'a GatewayRouteSpec),
}

/// Every resource of a mesh with its spec, in the order validation reports
/// them: the mesh, then by kind, then by name.
pub(crate) fn resources(g: &MeshGraph) -> impl Iterator<Item = (ResourceId, SpecRef<'_>)> {
    let mesh = g
        .spec
        .as_ref()
        .map(|_| (ResourceId::mesh(&g.name, &g.owner), SpecRef::Mesh));
    let id = move |kind, n: &str| g.id(kind, n);
    let child = move |kind, p: &str, n: &str| g.child_id(kind, p, n);
    mesh.into_iter()
        .chain(g.virtual_services.iter().map(move |(n, s)| {
            (
                id(ResourceKind::VirtualService, n),
                SpecRef::VirtualService(s),
            )
        }))
        .chain(
            g.virtual_nodes
                .iter()
                .map(move |(n, s)| (id(ResourceKind::VirtualNode, n), SpecRef::VirtualNode(s))),
        )
        .chain(g.virtual_routers.iter().map(move |(n, s)| {
            (
                id(ResourceKind::VirtualRouter, n),
                SpecRef::VirtualRouter(s),
            )
        }))
        .chain(
            g.routes
                .iter()
                .map(move |((r, n), s)| (child(ResourceKind::Route, r, n), SpecRef::Route(r, s))),
        )
        .chain(g.virtual_gateways.iter().map(move |(n, s)| {
            (
                id(ResourceKind::VirtualGateway, n),
                SpecRef::VirtualGateway(s),
            )
        }))
        .chain(g.gateway_routes.iter().map(move |((gw, n), s)| {
            (
                child(ResourceKind::GatewayRoute, gw, n),
                SpecRef::GatewayRoute(gw, s),
            )
        }))
}

/// The spec of the resource `id` names in `g`, if `g` holds it.
pub(crate) fn spec_of<'a>(g: &'a MeshGraph, id: &ResourceId) -> Option<SpecRef<'a>> {
    let parent = || id.parent.clone().unwrap_or_default();
    match id.kind {
        ResourceKind::Mesh => g.spec.as_ref().map(|_| SpecRef::Mesh),
        ResourceKind::VirtualService => g
            .virtual_services
            .get(&id.name)
            .map(|s| SpecRef::VirtualService(s)),
        ResourceKind::VirtualNode => g
            .virtual_nodes
            .get(&id.name)
            .map(|s| SpecRef::VirtualNode(s)),
        ResourceKind::VirtualRouter => g
            .virtual_routers
            .get(&id.name)
            .map(|s| SpecRef::VirtualRouter(s)),
        ResourceKind::Route => g
            .routes
            .get_key_value(&(parent(), id.name.clone()))
            .map(|((r, _), s)| SpecRef::Route(r, s)),
        ResourceKind::VirtualGateway => g
            .virtual_gateways
            .get(&id.name)
            .map(|s| SpecRef::VirtualGateway(s)),
        ResourceKind::GatewayRoute => g
            .gateway_routes
            .get_key_value(&(parent(), id.name.clone()))
            .map(|((gw, _), s)| SpecRef::GatewayRoute(gw, s)),
    }
}

/// Every check of one resource, its findings into `s`; other resources are
/// reached through `g` only.
pub(crate) fn check(s: &mut Sink, g: &View, spec: SpecRef) {
    match spec {
        SpecRef::Mesh => name(s, "meshName"),
        SpecRef::VirtualService(spec) => {
            references::mesh_loaded(s, g);
            services::virtual_service(s, g, spec);
        }
        SpecRef::VirtualNode(spec) => {
            name(s, "virtualNodeName");
            references::mesh_loaded(s, g);
            nodes::virtual_node(s, g, spec);
            warnings::tcp_port_conflict(s, g, spec);
            warnings::allow_all_backends(s, g, spec);
        }
        SpecRef::VirtualRouter(spec) => {
            name(s, "virtualRouterName");
            references::mesh_loaded(s, g);
            services::virtual_router(s, spec);
        }
        SpecRef::Route(router, spec) => {
            name(s, "routeName");
            references::mesh_loaded(s, g);
            routes::route(s, g, router, spec);
            warnings::route_timeout_exceeds_listener(s, g, spec);
            warnings::retry_budget_exceeds_timeout(s, spec);
        }
        SpecRef::VirtualGateway(spec) => {
            name(s, "virtualGatewayName");
            references::mesh_loaded(s, g);
            gateways::virtual_gateway(s, spec);
        }
        SpecRef::GatewayRoute(gateway, spec) => {
            name(s, "gatewayRouteName");
            references::mesh_loaded(s, g);
            gateways::gateway_route(s, g, gateway, spec);
        }
    }
}

/// `ResourceName`: 1 to 255 characters. (Virtual service names are the
/// API's unconstrained `ServiceName` and are not checked.)
fn name(s: &mut Sink, member: &str) {
    let n = s.id.name.chars().count();
    if !(1..=255).contains(&n) {
        let message =
            format!("the name is {n} characters long; allowed length is 1 to 255 characters");
        s.error_outside_spec("field.length", member, message);
    }
}
