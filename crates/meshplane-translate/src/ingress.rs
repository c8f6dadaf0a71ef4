//! The ingress side of a virtual node (only when it has listeners):
//! listener `lds_ingress_0.0.0.0_15000` with one filter chain per node
//! listener (matched on its port), a route configuration
//! `rds_ingress_<protocol>_<port>` per HTTP-family listener routing every
//! request to the local application, and the local cluster
//! `cds_ingress_<mesh>_<node>_<protocol>_<port>`.
//!
//! Timeouts come from the listener's `timeout.<protocol>`: `perRequest`
//! (default 15 s) becomes the route timeout, `idle` the route idle timeout
//! (unset: Envoy's stream idle timeout, 300 s, App Mesh's documented
//! default); TCP listeners get `idle` (default 300 s) on the TCP proxy. A
//! value of 0 disables a timeout, in App Mesh and in Envoy alike.

use std::collections::BTreeSet;

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::core::v3::TrafficDirection;
use envoy_types::pb::envoy::config::listener::v3::{FilterChain, FilterChainMatch, Listener};
use envoy_types::pb::envoy::config::route::v3::{
    route, route_action, Route, RouteAction, RouteConfiguration, VirtualHost,
};
use meshplane_spec::common::{ConnectionPool, HttpTimeout, Protocol};
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::virtual_node::{Listener as NodeListener, VirtualNodeSpec};

use crate::access_log::access_logs;
use crate::cluster_common::{circuit_breakers, single_endpoint, upstream_protocol_options, Limits};
use crate::egress::DEFAULT_TCP_IDLE_MS;
use crate::egress_routes::DEFAULT_REQUEST_TIMEOUT_MS;
use crate::emit::Emit;
use crate::filters::{self, TcpTarget};
use crate::proto::{clamp_u32, listen_address, millis, u32_value};
use crate::{ip, names, route_match, tls};

/// App Mesh's connect timeout to the local application.
pub const LOCAL_CONNECT_TIMEOUT_MS: i64 = 250;

pub fn translate(emit: &mut Emit<'_>, node_name: &str, node: &VirtualNodeSpec) {
    let listeners = node.listeners();
    if listeners.is_empty() {
        return;
    }
    let node_id = emit.id(ResourceKind::VirtualNode, node_name);
    let mesh_name = emit.mesh.name.clone();
    let local = ip::local_app_address(ip::effective(node, emit.mesh.spec.as_ref()));
    let logs = access_logs(node.logging.as_ref());
    let (bind, ipv4_compat) =
        crate::ip::listen_address(crate::ip::effective(node, emit.mesh.spec.as_ref()));
    let mut chains = Vec::new();
    let mut ports = BTreeSet::new();
    let mut sni_ports = Vec::new();
    for (i, l) in listeners.iter().enumerate() {
        let protocol = l.port_mapping.protocol;
        let port = clamp_u32(l.port_mapping.port);
        if !ports.insert(port) {
            emit.warn(
                "translate.listener.duplicate-port",
                &node_id,
                &format!("spec.listeners[{i}].portMapping.port"),
                format!("another listener already uses port {port}; this one is not served"),
            );
            continue;
        }
        let termination = tls::termination(emit, &node_id, i, l);
        if matches!(termination, tls::Termination::Refused) {
            continue;
        }
        let cluster_name = names::ingress_cluster(&mesh_name, node_name, protocol, port);
        emit.cluster(local_cluster(&cluster_name, local, l), [node_id.clone()]);
        let stat_prefix = names::ingress_stat_prefix(listeners.len(), protocol, port);
        let filter = if protocol.is_http_family() {
            let rds = names::ingress_route_config(protocol, port);
            emit.route_config(
                ingress_routes(&rds, &cluster_name, http_timeout(l)),
                [node_id.clone()],
            );
            filters::http_connection_manager(&stat_prefix, &rds, protocol, logs.clone())
        } else {
            let idle = l
                .timeout
                .as_ref()
                .and_then(|t| t.tcp.as_ref())
                .and_then(|t| t.idle.as_ref())
                .map_or(DEFAULT_TCP_IDLE_MS, |d| d.as_millis());
            filters::tcp_proxy(
                &stat_prefix,
                TcpTarget::Cluster(cluster_name),
                Some(millis(idle)),
                logs.clone(),
            )
        };
        let chain = |transport_protocol: &str, transport_socket| FilterChain {
            filter_chain_match: Some(FilterChainMatch {
                destination_port: Some(u32_value(port)),
                transport_protocol: transport_protocol.to_owned(),
                ..Default::default()
            }),
            filters: vec![filter.clone()],
            transport_socket,
            ..Default::default()
        };
        match termination {
            tls::Termination::Plaintext | tls::Termination::Refused => chains.push(chain("", None)),
            tls::Termination::Tls(socket) => chains.push(chain("", Some(socket))),
            tls::Termination::Permissive(socket) => {
                chains.push(chain("tls", Some(socket)));
                chains.push(chain("raw_buffer", None));
                sni_ports.push(port);
            }
        }
    }
    if chains.is_empty() {
        // Every listener was refused: Envoy takes no listener without chains.
        return;
    }
    let mut listener_filters = vec![filters::original_dst()];
    if !sni_ports.is_empty() {
        listener_filters.push(filters::tls_inspector(&sni_ports));
    }
    let listener = Listener {
        name: names::ingress_listener(),
        address: Some(listen_address(bind, names::INGRESS_PORT, ipv4_compat)),
        filter_chains: chains,
        listener_filters,
        traffic_direction: TrafficDirection::Inbound as i32,
        ..Default::default()
    };
    emit.listener(listener, [node_id]);
}

fn http_timeout(l: &NodeListener) -> Option<&HttpTimeout> {
    let t = l.timeout.as_ref()?;
    match l.port_mapping.protocol {
        Protocol::Http => t.http.as_ref(),
        Protocol::Http2 => t.http2.as_ref(),
        Protocol::Grpc => t.grpc.as_ref(),
        Protocol::Tcp => None,
    }
}

fn ingress_routes(name: &str, cluster: &str, timeout: Option<&HttpTimeout>) -> RouteConfiguration {
    let per_request = timeout
        .and_then(|t| t.per_request.as_ref())
        .map_or(DEFAULT_REQUEST_TIMEOUT_MS, |d| d.as_millis());
    let idle = timeout
        .and_then(|t| t.idle.as_ref())
        .map(|d| millis(d.as_millis()));
    RouteConfiguration {
        name: name.to_owned(),
        virtual_hosts: vec![VirtualHost {
            name: names::INGRESS_VIRTUAL_HOST.to_owned(),
            domains: vec!["*".to_owned()],
            routes: vec![Route {
                r#match: Some(route_match::everything()),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(
                        cluster.to_owned(),
                    )),
                    timeout: Some(millis(per_request)),
                    idle_timeout: idle,
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn local_cluster(name: &str, address: &str, l: &NodeListener) -> Cluster {
    let protocol = l.port_mapping.protocol;
    let port = clamp_u32(l.port_mapping.port);
    Cluster {
        name: name.to_owned(),
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Static as i32,
        )),
        connect_timeout: Some(millis(LOCAL_CONNECT_TIMEOUT_MS)),
        circuit_breakers: Some(circuit_breakers(limits(
            protocol,
            l.connection_pool.as_ref(),
        ))),
        typed_extension_protocol_options: upstream_protocol_options(protocol),
        load_assignment: Some(single_endpoint(name, address, port)),
        ..Default::default()
    }
}

/// The listener's connection pool (destination side) as thresholds; only
/// the member matching the listener protocol counts (validation reports a
/// mismatch).
pub(crate) fn limits(protocol: Protocol, pool: Option<&ConnectionPool>) -> Limits {
    let Some(pool) = pool else {
        return Limits::default();
    };
    match protocol {
        Protocol::Http => pool.http.as_ref().map_or(Limits::default(), |h| Limits {
            max_connections: Some(clamp_u32(h.max_connections)),
            max_pending_requests: h.max_pending_requests.map(clamp_u32),
            max_requests: None,
        }),
        Protocol::Http2 => pool.http2.as_ref().map_or(Limits::default(), |h| Limits {
            max_requests: Some(clamp_u32(h.max_requests)),
            ..Limits::default()
        }),
        Protocol::Grpc => pool.grpc.as_ref().map_or(Limits::default(), |h| Limits {
            max_requests: Some(clamp_u32(h.max_requests)),
            ..Limits::default()
        }),
        Protocol::Tcp => pool.tcp.as_ref().map_or(Limits::default(), |h| Limits {
            max_connections: Some(clamp_u32(h.max_connections)),
            ..Limits::default()
        }),
    }
}
