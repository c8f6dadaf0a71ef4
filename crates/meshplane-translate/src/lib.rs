//! Translation of App Mesh resources into the Envoy v3 configuration App
//! Mesh's management service served to a proxy: same resource names, same
//! defaults, same behaviour.
//!
//! Architecture invariant: translation is pure and deterministic. It does
//! no IO and reads no clock; every list it emits is sorted by name, and the
//! same mesh always gives byte-identical resources.
//!
//! Translation is best-effort: a piece that cannot be translated (a missing
//! virtual service, a target without service discovery, ...) becomes a
//! [`Diagnostic`](meshplane_spec::Diagnostic) with a `translate.*` rule
//! naming the App Mesh resource (ARN) and field, and the rest still renders.
//!
//! Layout: [`names`] builds every resource name; `ingress` the ingress
//! listener, routes and local clusters; `egress_plan` resolves backends
//! into ports and services; `egress`, `egress_routes` and `egress_cluster`
//! build the egress side; `route_match`, `route_order` and `retry` hold the
//! App Mesh -> Envoy mapping tables (see their module docs: match kinds,
//! route order, retry events and the default retry policy); `tls` holds
//! listener TLS modes and TLS origination (client policies).
//! [`translate_virtual_gateway`] sits beside [`translate_virtual_node`]:
//! `gateway` builds the gateway listeners and self-redirect clusters,
//! `gateway_routes` a listener's route configuration (route order, one
//! virtual host per host name by `gateway_hosts`), `gateway_route` each
//! gateway route (matches, rewrites) with its target's timeouts
//! (`gateway_timeouts`), `gateway_health` the listener's health check path,
//! and `gateway_egress` the egress listener that routes to the targets of
//! the gateway routes through the node translation's egress code.
//!
//! Route order inside a virtual host: priority (0 first, routes without a
//! priority last), then the more specific match (exact path, longer prefix,
//! prefixes before regexes, more conditions), then route name.

mod access_log;
mod cluster_common;
mod dns_cluster;
mod egress;
mod egress_cluster;
mod egress_plan;
mod egress_routes;
mod emit;
mod filters;
mod gateway;
mod gateway_egress;
mod gateway_health;
mod gateway_hosts;
mod gateway_route;
mod gateway_routes;
mod gateway_timeouts;
mod ingress;
pub mod inputs;
mod ip;
pub mod names;
mod options;
mod output;
mod proto;
pub mod render;
mod retry;
mod route_match;
mod route_order;
mod stats_metadata;
mod targets;
mod tls;

pub use meshplane_envoy::ResourceType;
pub use options::TranslateOptions;
pub use output::{CloudMapQuery, NeededSecret, ProxyResources, Translation};
pub use tls::{issuer_secret_name, trust_secret_name};

use meshplane_spec::identity::ResourceKind;
use meshplane_spec::MeshGraph;

/// The complete Envoy configuration of the proxy of virtual node `node_name`.
pub fn translate_virtual_node(
    mesh: &MeshGraph,
    node_name: &str,
    opts: &TranslateOptions,
) -> Translation {
    let id = mesh.id(ResourceKind::VirtualNode, node_name);
    let mut emit = emit::Emit::new(mesh, opts, id.clone());
    let Some(node) = mesh.virtual_nodes.get(node_name) else {
        emit.error(
            "translate.node.missing",
            &id,
            "",
            format!(
                "virtual node '{node_name}' is not defined in mesh '{}'",
                mesh.name
            ),
        );
        return emit.finish();
    };
    ingress::translate(&mut emit, node_name, node);
    egress::translate(&mut emit, node_name, node);
    emit.finish()
}

/// The complete Envoy configuration of the proxy of virtual gateway
/// `gateway` (a standalone Envoy whose `APPMESH_RESOURCE_ARN` is
/// `mesh/<mesh>/virtualGateway/<gateway>`).
pub fn translate_virtual_gateway(
    mesh: &MeshGraph,
    gateway: &str,
    opts: &TranslateOptions,
) -> Translation {
    let id = mesh.id(ResourceKind::VirtualGateway, gateway);
    let mut emit = emit::Emit::new(mesh, opts, id.clone());
    let Some(spec) = mesh.virtual_gateways.get(gateway) else {
        emit.error(
            "translate.gateway.missing",
            &id,
            "",
            format!(
                "virtual gateway '{gateway}' is not defined in mesh '{}'",
                mesh.name
            ),
        );
        return emit.finish();
    };
    gateway::translate(&mut emit, gateway, spec);
    emit.finish()
}
