//! A virtual gateway: a standalone Envoy that brings traffic from outside
//! the mesh to virtual services, routed by gateway routes.
//!
//! The structure is App Mesh's (config dump of a gateway in
//! `appmesh-envoy-config-observed.md`, section A):
//! - one listener per gateway listener, `lds_ingress_0.0.0.0_<port>`, bound
//!   directly on its port (no iptables redirection), with the TLS inspector,
//!   an HTTP connection manager (stat prefix `ingress`, or
//!   `ingress.<protocol>.<port>` with several listeners) on RDS
//!   `rds_ingress_<protocol>_<port>` (`gateway_routes`);
//! - those routes match the request, rewrite host and path, and send it to
//!   `cds_ingress_<mesh>_<gateway>_self_redirect[_<listener port>]_<protocol>_15001`,
//!   a static cluster to the gateway's own egress listener;
//! - the egress listener `lds_egress_0.0.0.0_15001` routes the rewritten
//!   request to the target virtual service exactly as a virtual node's
//!   egress does, through its router's routes (`gateway_egress`).
//!
//! The second routing pass is what lets a gateway route target a virtual
//! service whose router matches the rewritten request again; a direct
//! design would have to compose every gateway route with every router
//! route, which prefix rewrites and regular expressions make impossible in
//! general. The egress listener is bound on the loopback address (its name
//! stays App Mesh's): only the self-redirect clusters reach it, so traffic
//! from outside cannot bypass the gateway routes.
//!
//! The gateway listener's connection pool sets the thresholds of its
//! self-redirect cluster (how much the gateway forwards at once). An HTTP
//! health check policy with a path makes the gateway answer that path
//! itself where no gateway route takes it (`gateway_health`).

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::core::v3::TrafficDirection;
use envoy_types::pb::envoy::config::listener::v3::{
    listener_filter, FilterChain, FilterChainMatch, Listener, ListenerFilter,
};
use envoy_types::pb::envoy::extensions::filters::listener::tls_inspector::v3::TlsInspector;
use meshplane_spec::common::Protocol;
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::virtual_gateway::{VirtualGatewayListener, VirtualGatewaySpec};
use meshplane_spec::virtual_node::Listener as NodeListener;

use crate::access_log::access_logs;
use crate::cluster_common::{circuit_breakers, single_endpoint, upstream_protocol_options};
use crate::emit::Emit;
use crate::ingress::{limits, LOCAL_CONNECT_TIMEOUT_MS};
use crate::proto::{any, clamp_u32, listen_address, millis, u32_value};
use crate::{filters, gateway_egress, gateway_health, gateway_routes, ip, names, tls};

pub fn translate<'m>(emit: &mut Emit<'m>, gateway: &str, spec: &'m VirtualGatewaySpec) {
    let gw_id = emit.id(ResourceKind::VirtualGateway, gateway);
    let mesh_name = emit.mesh.name.clone();
    let pref = emit.mesh.spec.as_ref().and_then(|m| m.ip_preference());
    let (bind, ipv4_compat) = ip::listen_address(pref);
    let loopback = ip::local_app_address(pref);
    let logs = access_logs(spec.logging.as_ref());
    let routes = gateway_routes::ordered(emit, gateway);
    gateway_routes::report_unserved(emit, gateway, spec, &routes);
    let listeners = spec.listeners();
    let egress_protocol = listeners
        .iter()
        .map(|l| l.port_mapping.protocol)
        .filter(|p| p.is_http_family())
        .min()
        .unwrap_or(Protocol::Http);
    let reach = gateway_egress::translate(
        emit,
        gateway,
        spec,
        &routes,
        egress_protocol,
        loopback,
        &logs,
    );
    let mut ports = std::collections::BTreeSet::new();
    for (i, l) in listeners.iter().enumerate() {
        let protocol = l.port_mapping.protocol;
        let port = clamp_u32(l.port_mapping.port);
        if !protocol.is_http_family() {
            emit.error(
                "translate.gateway.listener-protocol",
                &gw_id,
                &format!("spec.listeners[{i}].portMapping.protocol"),
                format!("a virtual gateway listener serves http, http2 or grpc, not {protocol}; the listener is not served"),
            );
            continue;
        }
        if port == names::EGRESS_PORT {
            emit.error(
                "translate.gateway.reserved-port",
                &gw_id,
                &format!("spec.listeners[{i}].portMapping.port"),
                format!("port {port} is the gateway Envoy's own egress listener (where its routes reach virtual services); choose another port; the listener is not served"),
            );
            continue;
        }
        if !ports.insert(port) {
            emit.warn(
                "translate.listener.duplicate-port",
                &gw_id,
                &format!("spec.listeners[{i}].portMapping.port"),
                format!("another listener already uses port {port}; this one is not served"),
            );
            continue;
        }
        let as_node = NodeListener {
            connection_pool: None,
            health_check: None,
            outlier_detection: None,
            port_mapping: l.port_mapping.clone(),
            timeout: None,
            tls: l.tls.clone(),
        };
        let termination = tls::termination(emit, &gw_id, i, &as_node);
        if matches!(termination, tls::Termination::Refused) {
            continue;
        }
        let cluster_name =
            names::self_redirect_cluster(&mesh_name, gateway, listeners.len(), port, protocol);
        emit.cluster(
            self_redirect_cluster(&cluster_name, loopback, l),
            [gw_id.clone()],
        );
        let rds = names::ingress_route_config(protocol, port);
        let health_check_path = gateway_health::path(l);
        let listener_routes = gateway_routes::ListenerRoutes {
            name: &rds,
            protocol,
            port,
            cluster: &cluster_name,
            health_check_path,
        };
        let (config, sources) =
            gateway_routes::build(emit, gateway, &listener_routes, &routes, &reach);
        emit.route_config(config, sources);
        let stat_prefix = names::ingress_stat_prefix(listeners.len(), protocol, port);
        let hcm = filters::http_connection_manager_with(
            &stat_prefix,
            &rds,
            protocol,
            logs.clone(),
            health_check_path
                .map(gateway_health::filter)
                .into_iter()
                .collect(),
        );
        let chain = |transport_protocol: &str, transport_socket| FilterChain {
            filter_chain_match: Some(FilterChainMatch {
                destination_port: Some(u32_value(port)),
                transport_protocol: transport_protocol.to_owned(),
                ..Default::default()
            }),
            filters: vec![hcm.clone()],
            transport_socket,
            ..Default::default()
        };
        let chains = match termination {
            tls::Termination::Plaintext | tls::Termination::Refused => vec![chain("", None)],
            tls::Termination::Tls(socket) => vec![chain("", Some(socket))],
            tls::Termination::Permissive(socket) => {
                vec![chain("tls", Some(socket)), chain("raw_buffer", None)]
            }
        };
        let listener = Listener {
            name: names::gateway_listener(port),
            address: Some(listen_address(bind, port, ipv4_compat)),
            filter_chains: chains,
            listener_filters: vec![tls_inspector()],
            traffic_direction: TrafficDirection::Inbound as i32,
            ..Default::default()
        };
        emit.listener(listener, [gw_id.clone()]);
    }
}

/// The static cluster to the gateway's own egress listener.
fn self_redirect_cluster(name: &str, loopback: &str, l: &VirtualGatewayListener) -> Cluster {
    let protocol = l.port_mapping.protocol;
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
        load_assignment: Some(single_endpoint(name, loopback, names::EGRESS_PORT)),
        ..Default::default()
    }
}

/// App Mesh's gateway listeners carry the TLS inspector whatever their TLS mode.
pub(crate) fn tls_inspector() -> ListenerFilter {
    ListenerFilter {
        name: filters::TLS_INSPECTOR.to_owned(),
        config_type: Some(listener_filter::ConfigType::TypedConfig(any(
            &TlsInspector::default(),
        ))),
        filter_disabled: None,
    }
}
