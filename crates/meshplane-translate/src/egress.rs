//! The egress side of a virtual node: listener `lds_egress_0.0.0.0_15001`,
//! its route configurations and the clusters of everything it reaches.
//!
//! Filter chains, one per destination port the node's backends expose:
//! - HTTP-family ports: a connection manager (stat prefix `egress`) on RDS
//!   `rds_egress_<protocol>_<port>`.
//! - TCP ports with one virtual service: a TCP proxy to its weighted
//!   clusters (the first route of the router listener in App Mesh order;
//!   further TCP routes are reported, as TCP cannot tell them apart).
//! - TCP ports with several virtual services: ambiguous at layer 4 (a
//!   warning). One chain per service matched on SNI (`server_names` = the
//!   virtual service name), for clients that speak TLS to that name.
//! - `*.amazonaws.com` on 443: passthrough `cds_egress_<mesh>_amazonaws`.
//! - ALLOW_ALL: a catch-all chain to `cds_egress_<mesh>_mesh-allow-all`,
//!   and the same passthrough on every port whose chains all match on SNI
//!   (443 and the SNI-split ports). Envoy picks the chains of the
//!   destination port first and never falls back to the port-less
//!   catch-all, so without it a TLS connection to an unmodelled host on 443
//!   (any host but `*.amazonaws.com`), or a connection without a matching
//!   SNI on an SNI-split port, would find no chain and be reset. App Mesh
//!   served the same third chain (`destination_port: 443` without
//!   `server_names`).
//! - DROP_ALL has no catch-all chain: Envoy closes a connection that
//!   matches no chain at once (stat `no_filter_chain_match`); it never
//!   hangs. That includes connections on an SNI-split port whose SNI names
//!   none of its services.

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::core::v3::TrafficDirection;
use envoy_types::pb::envoy::config::listener::v3::{FilterChain, FilterChainMatch, Listener};
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::mesh::EgressFilterType;
use meshplane_spec::virtual_node::VirtualNodeSpec;
use meshplane_spec::ResourceId;

use crate::access_log::access_logs;
use crate::cluster_common::{circuit_breakers, Limits};
use crate::egress_cluster::CONNECT_TIMEOUT_MS;
use crate::egress_plan::{self, PortPlan, Provider, ServicePlan};
use crate::emit::Emit;
use crate::filters::{self, TcpTarget};
use crate::proto::{listen_address, millis, u32_value};
use crate::{egress_routes, names, targets};

/// App Mesh's TCP idle timeout when none is configured (user guide, routes: "Idle duration – The default is 300 seconds").
pub const DEFAULT_TCP_IDLE_MS: i64 = 300_000;

pub fn translate<'m>(emit: &mut Emit<'m>, node_name: &str, node: &'m VirtualNodeSpec) {
    let mesh_name = emit.mesh.name.clone();
    let allow_all = emit.mesh.mesh_spec().egress_filter_type() == EgressFilterType::AllowAll;
    let node_id = emit.id(ResourceKind::VirtualNode, node_name);
    // Mesh-wide pieces come from the mesh resource; when none was loaded
    // (App Mesh defaults apply), from the node that needs them.
    let mesh_id = if emit.mesh.spec.is_some() {
        ResourceId::mesh(&mesh_name, &emit.mesh.owner)
    } else {
        node_id.clone()
    };
    let logs = access_logs(node.logging.as_ref());
    let (bind, ipv4_compat) =
        crate::ip::listen_address(crate::ip::effective(node, emit.mesh.spec.as_ref()));
    let plans = egress_plan::plan(emit, node_name, node);

    let mut chains = Vec::new();
    let mut sni_ports = vec![names::AMAZONAWS_PORT];
    let mut listener_sources = vec![node_id.clone(), mesh_id.clone()];
    for plan in &plans {
        listener_sources.extend(
            plan.services
                .iter()
                .map(|s| emit.id(ResourceKind::VirtualService, s.virtual_service)),
        );
        if plan.protocol.is_http_family() {
            let (config, mut sources) = egress_routes::build(emit, plan, allow_all);
            sources.push(node_id.clone());
            chains.push(FilterChain {
                filter_chain_match: Some(port_match(plan.port, Vec::new())),
                filters: vec![filters::http_connection_manager(
                    names::EGRESS_STAT_PREFIX,
                    &config.name,
                    plan.protocol,
                    logs.clone(),
                )],
                ..Default::default()
            });
            emit.route_config(config, sources);
        } else {
            tcp_chains(
                emit,
                &node_id,
                plan,
                allow_all,
                &logs,
                &mut chains,
                &mut sni_ports,
            );
        }
    }

    // AWS service endpoints stay reachable (App Mesh's passthrough).
    chains.push(FilterChain {
        filter_chain_match: Some(port_match(
            names::AMAZONAWS_PORT,
            vec![names::AMAZONAWS_SERVER_NAME.to_owned()],
        )),
        filters: vec![filters::tcp_proxy(
            names::EGRESS_STAT_PREFIX,
            TcpTarget::Cluster(names::amazonaws_cluster(&mesh_name)),
            None,
            logs.clone(),
        )],
        ..Default::default()
    });
    emit.cluster(
        original_dst_cluster(names::amazonaws_cluster(&mesh_name)),
        [mesh_id.clone()],
    );
    if allow_all {
        let passthrough = |match_: Option<FilterChainMatch>| FilterChain {
            filter_chain_match: match_,
            filters: vec![filters::tcp_proxy(
                names::EGRESS_STAT_PREFIX,
                TcpTarget::Cluster(names::allow_all_cluster(&mesh_name)),
                None,
                logs.clone(),
            )],
            ..Default::default()
        };
        for port in ports_without_catch_all(&chains) {
            chains.push(passthrough(Some(port_match(port, Vec::new()))));
        }
        chains.push(passthrough(None));
        emit.cluster(
            original_dst_cluster(names::allow_all_cluster(&mesh_name)),
            [mesh_id],
        );
    }
    sni_ports.sort_unstable();
    sni_ports.dedup();
    let listener = Listener {
        name: names::egress_listener(),
        address: Some(listen_address(bind, names::EGRESS_PORT, ipv4_compat)),
        filter_chains: chains,
        listener_filters: vec![filters::original_dst(), filters::tls_inspector(&sni_ports)],
        traffic_direction: TrafficDirection::Outbound as i32,
        ..Default::default()
    };
    emit.listener(listener, listener_sources);
}

fn tcp_chains(
    emit: &mut Emit<'_>,
    node_id: &ResourceId,
    plan: &PortPlan<'_>,
    allow_all: bool,
    logs: &[envoy_types::pb::envoy::config::accesslog::v3::AccessLog],
    chains: &mut Vec<FilterChain>,
    sni_ports: &mut Vec<u32>,
) {
    let resolved: Vec<(&ServicePlan<'_>, Option<(TcpTarget, i64)>)> = plan
        .services
        .iter()
        .map(|s| (s, tcp_target(emit, plan.port, s)))
        .collect();
    let proxy = |target: TcpTarget, idle_ms: i64| {
        filters::tcp_proxy(
            names::EGRESS_STAT_PREFIX,
            target,
            Some(millis(idle_ms)),
            logs.to_vec(),
        )
    };
    if resolved.len() == 1 {
        if let (_, Some((target, idle))) = resolved.into_iter().next().expect("one element") {
            chains.push(FilterChain {
                filter_chain_match: Some(port_match(plan.port, Vec::new())),
                filters: vec![proxy(target, idle)],
                ..Default::default()
            });
        }
        return;
    }
    let names_list: Vec<&str> = plan.services.iter().map(|s| s.virtual_service).collect();
    let fallback = if allow_all {
        "connections without a matching SNI go to their original destination (ALLOW_ALL)"
    } else {
        "connections without a matching SNI are closed (DROP_ALL)"
    };
    emit.warn(
        "translate.tcp.ambiguous-port",
        node_id,
        "spec.backends",
        format!(
            "virtual services {} all serve TCP on port {}; TCP cannot tell them apart, so they are told apart by TLS SNI (the virtual service name); {fallback}",
            names_list.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", "),
            plan.port
        ),
    );
    sni_ports.push(plan.port);
    for (s, target) in resolved {
        let Some((target, idle)) = target else {
            continue;
        };
        chains.push(FilterChain {
            filter_chain_match: Some(port_match(plan.port, vec![s.virtual_service.to_owned()])),
            filters: vec![proxy(target, idle)],
            ..Default::default()
        });
    }
}

/// Destination ports whose every chain also matches on something else
/// (SNI): connections on them that match none would find no chain.
fn ports_without_catch_all(chains: &[FilterChain]) -> Vec<u32> {
    let mut specific = std::collections::BTreeSet::new();
    let mut catch_all = std::collections::BTreeSet::new();
    for m in chains.iter().filter_map(|c| c.filter_chain_match.as_ref()) {
        let Some(port) = m.destination_port.as_ref().map(|p| p.value) else {
            continue;
        };
        if m.server_names.is_empty() {
            catch_all.insert(port);
        } else {
            specific.insert(port);
        }
    }
    specific.difference(&catch_all).copied().collect()
}

/// The clusters and idle timeout of one TCP virtual service on `port`.
fn tcp_target(emit: &mut Emit<'_>, port: u32, s: &ServicePlan<'_>) -> Option<(TcpTarget, i64)> {
    let client = targets::Client {
        node: emit.client.clone(),
        policy: s.client_policy.clone(),
    };
    match &s.provider {
        Provider::Router { router, routes } => {
            let (name, spec) = *routes.first()?;
            for (extra, _) in routes.iter().skip(1) {
                let id = emit.route_id(router, extra);
                emit.warn(
                    "translate.tcp.extra-route",
                    &id,
                    "spec.tcpRoute",
                    format!("route '{name}' already serves this TCP listener of '{router}'; TCP routes cannot be told apart, so this one is not served"),
                );
            }
            let tcp = spec.tcp_route.as_ref()?;
            let id = emit.route_id(router, name);
            let clusters = targets::resolve(
                emit,
                &client,
                &id,
                "spec.tcpRoute.action.weightedTargets",
                &tcp.action.weighted_targets,
                i64::from(port),
            );
            if clusters.is_empty() || clusters.iter().all(|(_, w)| *w == 0) {
                emit.warn(
                    "translate.route.no-targets",
                    &id,
                    "spec.tcpRoute.action.weightedTargets",
                    "no weighted target with a positive weight is reachable; the route is not served".to_owned(),
                );
                return None;
            }
            let idle = tcp
                .timeout
                .as_ref()
                .and_then(|t| t.idle.as_ref())
                .map_or(DEFAULT_TCP_IDLE_MS, |d| d.as_millis());
            Some((TcpTarget::Weighted(clusters), idle))
        }
        Provider::Node {
            node,
            spec,
            listener,
        } => {
            let Some(cluster) = targets::cluster_for(emit, &client, node, spec, listener) else {
                let node_id = targets::node_id(emit, node);
                emit.warn(
                    "translate.target.not-routable",
                    &node_id,
                    "spec.serviceDiscovery",
                    format!("virtual node '{node}' provides virtual service '{}' but has no service discovery, so it cannot be routed to", s.virtual_service),
                );
                return None;
            };
            let idle = listener
                .timeout
                .as_ref()
                .and_then(|t| t.tcp.as_ref())
                .and_then(|t| t.idle.as_ref())
                .map_or(DEFAULT_TCP_IDLE_MS, |d| d.as_millis());
            Some((TcpTarget::Cluster(cluster), idle))
        }
    }
}

fn port_match(port: u32, server_names: Vec<String>) -> FilterChainMatch {
    FilterChainMatch {
        destination_port: Some(u32_value(port)),
        server_names,
        ..Default::default()
    }
}

/// A passthrough to the address the application connected to.
fn original_dst_cluster(name: String) -> Cluster {
    Cluster {
        name,
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::OriginalDst as i32,
        )),
        lb_policy: cluster::LbPolicy::ClusterProvided as i32,
        connect_timeout: Some(millis(CONNECT_TIMEOUT_MS)),
        circuit_breakers: Some(circuit_breakers(Limits::default())),
        ..Default::default()
    }
}
