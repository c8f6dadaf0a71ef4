//! Weighted targets of a route (and virtual-node providers) resolved to
//! egress clusters.

use envoy_types::pb::envoy::config::core::v3::TransportSocket;
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::route::WeightedTarget;
use meshplane_spec::tls::ClientPolicyTls;
use meshplane_spec::virtual_node::{Listener as NodeListener, VirtualNodeSpec};
use meshplane_spec::ResourceId;

use crate::egress_cluster;
use crate::emit::Emit;
use crate::proto::clamp_u32;

/// The node whose proxy originates connections, and the enforced TLS
/// client policy of the backend being reached (with its field path).
pub struct Client<'m> {
    pub node: ResourceId,
    pub policy: Option<(String, &'m ClientPolicyTls)>,
}

/// `(cluster, weight)` pairs in target order; unreachable targets are
/// reported against `route` at `path` and left out.
pub fn resolve(
    emit: &mut Emit<'_>,
    client: &Client<'_>,
    route: &ResourceId,
    path: &str,
    targets: &[WeightedTarget],
    listener_port: i64,
) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let tpath = format!("{path}[{i}]");
        let Some((name, spec)) = emit.mesh.virtual_nodes.get_key_value(&t.virtual_node) else {
            emit.warn(
                "translate.target.missing",
                route,
                &format!("{tpath}.virtualNode"),
                format!(
                    "virtual node '{}' is not defined; its share of traffic is dropped",
                    t.virtual_node
                ),
            );
            continue;
        };
        let Some(listener) = pick_listener(spec, t.port, listener_port) else {
            let why = match t.port {
                Some(p) => format!("virtual node '{name}' has no listener on port {p}"),
                None if spec.listeners().is_empty() => format!("virtual node '{name}' has no listeners"),
                None => format!(
                    "virtual node '{name}' has several listeners; set the target's port to choose one"
                ),
            };
            emit.warn(
                "translate.target.no-listener",
                route,
                &tpath,
                format!("{why}; its share of traffic is dropped"),
            );
            continue;
        };
        match cluster_for(emit, client, name, spec, listener) {
            Some(cluster) => out.push((cluster, clamp_u32(t.weight))),
            None => emit.warn(
                "translate.target.not-routable",
                route,
                &tpath,
                format!(
                    "virtual node '{name}' has no service discovery, so it cannot be routed to; its share of traffic is dropped"
                ),
            ),
        }
    }
    out
}

/// The cluster of a node listener, or `None` when the node has no service
/// discovery (reported by the caller, who knows who routes to it).
pub fn cluster_for(
    emit: &mut Emit<'_>,
    client: &Client<'_>,
    node: &str,
    spec: &VirtualNodeSpec,
    listener: &NodeListener,
) -> Option<String> {
    let tls = origination(emit, client, spec, listener);
    let origin = egress_cluster::TlsOrigin {
        client: &client.node,
        policy_path: client.policy.as_ref().map(|(path, _)| path.as_str()),
    };
    egress_cluster::ensure(emit, node, spec, listener, tls, origin).ok()
}

/// The target's listener: the one on `port` when given; else the only one;
/// else the one on the router listener's port.
fn pick_listener(
    spec: &VirtualNodeSpec,
    port: Option<i64>,
    listener_port: i64,
) -> Option<&NodeListener> {
    let listeners = spec.listeners();
    match port {
        Some(p) => listeners.iter().find(|l| l.port_mapping.port == p),
        None if listeners.len() == 1 => listeners.first(),
        None => listeners
            .iter()
            .find(|l| l.port_mapping.port == listener_port),
    }
}

pub fn node_id(emit: &Emit<'_>, node: &str) -> ResourceId {
    emit.id(ResourceKind::VirtualNode, node)
}

/// The TLS towards a target listener: the client policy when it covers the
/// listener's port, else whatever the server's TLS mode asks for.
fn origination(
    emit: &mut Emit<'_>,
    client: &Client<'_>,
    spec: &VirtualNodeSpec,
    listener: &NodeListener,
) -> Option<TransportSocket> {
    let port = listener.port_mapping.port;
    let policy = client
        .policy
        .as_ref()
        .filter(|(_, p)| {
            p.ports
                .as_ref()
                .is_none_or(|ports| ports.is_empty() || ports.contains(&port))
        })
        .map(|(path, p)| (path.as_str(), *p));
    let host = egress_cluster::host_of(spec);
    crate::tls::origination(emit, &client.node, policy, listener, host.as_deref())
}
