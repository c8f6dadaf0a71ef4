//! Validation: every error and warning about a loaded mesh model, at once.
//!
//! [`validate`] checks each resource's fields against the App Mesh API model
//! (lengths, ranges, list sizes, patterns, unions), then the semantics the
//! API enforces between resources (references, route kinds against listener
//! protocols, ports), then reports warnings for configurations App Mesh
//! accepts but that misbehave. Every finding is a [`Diagnostic`] with a
//! stable rule id, the resource ARN, the field's document path, and file and
//! line where the loader recorded them. The order is deterministic: meshes
//! by name, resources by kind then name, checks in a fixed order.
//! `VALIDATION.md` beside this crate lists every rule.

mod common;
mod context;
mod fields;
mod gateways;
mod nodes;
mod references;
mod routes;
mod services;
mod tls;
mod warnings;

#[cfg(test)]
mod testing;

use context::Sink;

use crate::diagnostic::Diagnostic;
use crate::identity::{ArnContext, ResourceId, ResourceKind};
use crate::model::{MeshGraph, MeshModel, Origins};

/// Every error and warning about `model`, in a deterministic order.
pub fn validate(model: &MeshModel, origins: &Origins, ctx: &ArnContext) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for g in model.meshes.values() {
        validate_mesh(g, origins, ctx, &mut out);
    }
    out
}

fn validate_mesh(g: &MeshGraph, origins: &Origins, ctx: &ArnContext, out: &mut Vec<Diagnostic>) {
    if g.spec.is_some() {
        let mut s = Sink::new(ResourceId::mesh(&g.name, &g.owner), ctx, origins, out);
        name(&mut s, "meshName");
    }
    for (n, spec) in &g.virtual_services {
        let mut s = Sink::new(g.id(ResourceKind::VirtualService, n), ctx, origins, out);
        references::mesh_loaded(&mut s, g);
        services::virtual_service(&mut s, g, spec);
    }
    for (n, spec) in &g.virtual_nodes {
        let mut s = Sink::new(g.id(ResourceKind::VirtualNode, n), ctx, origins, out);
        name(&mut s, "virtualNodeName");
        references::mesh_loaded(&mut s, g);
        nodes::virtual_node(&mut s, g, spec);
        warnings::tcp_port_conflict(&mut s, g, spec);
        warnings::allow_all_backends(&mut s, g, spec);
    }
    for (n, spec) in &g.virtual_routers {
        let mut s = Sink::new(g.id(ResourceKind::VirtualRouter, n), ctx, origins, out);
        name(&mut s, "virtualRouterName");
        references::mesh_loaded(&mut s, g);
        services::virtual_router(&mut s, spec);
    }
    for ((router, n), spec) in &g.routes {
        let mut s = Sink::new(
            g.child_id(ResourceKind::Route, router, n),
            ctx,
            origins,
            out,
        );
        name(&mut s, "routeName");
        references::mesh_loaded(&mut s, g);
        routes::route(&mut s, g, router, spec);
        warnings::route_timeout_exceeds_listener(&mut s, g, spec);
        warnings::retry_budget_exceeds_timeout(&mut s, spec);
    }
    for (n, spec) in &g.virtual_gateways {
        let mut s = Sink::new(g.id(ResourceKind::VirtualGateway, n), ctx, origins, out);
        name(&mut s, "virtualGatewayName");
        references::mesh_loaded(&mut s, g);
        gateways::virtual_gateway(&mut s, spec);
    }
    for ((gateway, n), spec) in &g.gateway_routes {
        let mut s = Sink::new(
            g.child_id(ResourceKind::GatewayRoute, gateway, n),
            ctx,
            origins,
            out,
        );
        name(&mut s, "gatewayRouteName");
        references::mesh_loaded(&mut s, g);
        gateways::gateway_route(&mut s, g, gateway, spec);
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
