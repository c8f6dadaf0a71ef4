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
mod duration_limit;
mod fields;
mod gateways;
mod log_format;
mod nodes;
mod references;
mod regex;
mod routes;
mod rules;
mod services;
mod tls;
mod warnings;

#[cfg(test)]
mod testing;

use context::Sink;
pub use rules::Rules;

use crate::diagnostic::Diagnostic;
use crate::identity::{ArnContext, ResourceId, ResourceKind};
use crate::model::{MeshGraph, MeshModel, Origins};

/// The ids of the rules about values the proxy refuses although the API
/// accepts them.
pub const PROXY_RULES: &[&str] = &[regex::RULE, duration_limit::RULE, log_format::RULE];

/// Every error and warning about `model`, in a deterministic order.
pub fn validate(model: &MeshModel, origins: &Origins, ctx: &ArnContext) -> Vec<Diagnostic> {
    validate_with(model, origins, ctx, Rules::all())
}

/// [`validate`] with a choice of rule groups.
pub fn validate_with(
    model: &MeshModel,
    origins: &Origins,
    ctx: &ArnContext,
    rules: Rules,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for g in model.meshes.values() {
        let mut v = Validation {
            origins,
            ctx,
            rules,
            out: &mut out,
        };
        validate_mesh(g, &mut v);
    }
    out
}

struct Validation<'a> {
    origins: &'a Origins,
    ctx: &'a ArnContext,
    rules: Rules,
    out: &'a mut Vec<Diagnostic>,
}

impl Validation<'_> {
    fn sink(&mut self, id: ResourceId) -> Sink<'_> {
        Sink::new(id, self.ctx, self.origins, self.out).with_rules(self.rules)
    }
}

fn validate_mesh(g: &MeshGraph, v: &mut Validation<'_>) {
    if g.spec.is_some() {
        let mut s = v.sink(ResourceId::mesh(&g.name, &g.owner));
        name(&mut s, "meshName");
    }
    for (n, spec) in &g.virtual_services {
        let mut s = v.sink(g.id(ResourceKind::VirtualService, n));
        references::mesh_loaded(&mut s, g);
        services::virtual_service(&mut s, g, spec);
    }
    for (n, spec) in &g.virtual_nodes {
        let mut s = v.sink(g.id(ResourceKind::VirtualNode, n));
        name(&mut s, "virtualNodeName");
        references::mesh_loaded(&mut s, g);
        nodes::virtual_node(&mut s, g, spec);
        warnings::tcp_port_conflict(&mut s, g, spec);
        warnings::allow_all_backends(&mut s, g, spec);
    }
    for (n, spec) in &g.virtual_routers {
        let mut s = v.sink(g.id(ResourceKind::VirtualRouter, n));
        name(&mut s, "virtualRouterName");
        references::mesh_loaded(&mut s, g);
        services::virtual_router(&mut s, spec);
    }
    for ((router, n), spec) in &g.routes {
        let mut s = v.sink(g.child_id(ResourceKind::Route, router, n));
        name(&mut s, "routeName");
        references::mesh_loaded(&mut s, g);
        routes::route(&mut s, g, router, spec);
        warnings::route_timeout_exceeds_listener(&mut s, g, spec);
        warnings::retry_budget_exceeds_timeout(&mut s, spec);
    }
    for (n, spec) in &g.virtual_gateways {
        let mut s = v.sink(g.id(ResourceKind::VirtualGateway, n));
        name(&mut s, "virtualGatewayName");
        references::mesh_loaded(&mut s, g);
        gateways::virtual_gateway(&mut s, spec);
    }
    for ((gateway, n), spec) in &g.gateway_routes {
        let mut s = v.sink(g.child_id(ResourceKind::GatewayRoute, gateway, n));
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
