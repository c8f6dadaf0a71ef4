//! The egress side of a virtual gateway: listener `lds_egress_0.0.0.0_15001`
//! (reached only through the self-redirect clusters) and its route
//! configuration `rds_egress_<protocol>_15001`, with one virtual host per
//! target of the gateway's gateway routes (domains `<name>` and
//! `<name>:15001`) built by the node translation's egress code, and the
//! `default_backend` virtual host (`*`) that finds the target of a gateway
//! route which kept the request's host name from the
//! `x-app-mesh-virtual-service` header.
//!
//! A gateway reaches only what its gateway routes target (the routes some
//! listener of the gateway serves). App Mesh served a gateway every
//! virtual service of the mesh, so a client keeping its own `Host` through
//! a route that keeps the host name could reach any internal service, and
//! the gateway resolved and health-checked every node. Here a request whose
//! host names an internal service no gateway route targets finds no virtual
//! host for it; a route keeping the host name reaches its own target
//! through `default_backend`, whatever the host. The clusters are those of
//! the targets' providers.
//!
//! A virtual service whose provider has several listeners gets the routes
//! of every listener in its virtual host, each also matching the
//! `x-meshplane-target-port` header the gateway route set from its target
//! port (the header is removed before the request leaves the gateway).
//! The gateway's backend defaults (client policy) apply to every service.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::accesslog::v3::AccessLog;
use envoy_types::pb::envoy::config::core::v3::TrafficDirection;
use envoy_types::pb::envoy::config::listener::v3::{FilterChain, FilterChainMatch, Listener};
use envoy_types::pb::envoy::config::route::v3::{Route, RouteConfiguration, VirtualHost};
use meshplane_spec::common::Protocol;
use meshplane_spec::gateway_route::GatewayRouteSpec;
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::virtual_gateway::VirtualGatewaySpec;

use crate::egress_plan::{self, BackendRef};
use crate::emit::Emit;
use crate::gateway_timeouts::{self, Timeouts};
use crate::proto::{listen_address, u32_value};
use crate::{egress_routes, filters, gateway_route, gateway_routes, names, route_match};

/// What the gateway's egress can reach.
#[derive(Debug, Default)]
pub struct Reach {
    /// Virtual service -> its provider's listener ports (sorted).
    pub ports: BTreeMap<String, Vec<u32>>,
    /// (virtual service, port) -> the timeouts a gateway route to it carries.
    pub timeouts: BTreeMap<(String, u32), Timeouts>,
}

impl Reach {
    /// Whether a gateway route to `service` must name the provider port
    /// (the service is reachable on several ports).
    pub fn needs_port(&self, service: &str) -> bool {
        self.ports.get(service).is_some_and(|p| p.len() > 1)
    }
}

pub fn translate<'m>(
    emit: &mut Emit<'m>,
    gateway: &str,
    spec: &'m VirtualGatewaySpec,
    routes: &[(&'m str, &'m GatewayRouteSpec)],
    protocol: Protocol,
    loopback: &str,
    logs: &[AccessLog],
) -> Reach {
    let mesh = emit.mesh;
    let gw_id = emit.id(ResourceKind::VirtualGateway, gateway);
    let policy = spec
        .backend_defaults
        .as_ref()
        .and_then(|d| d.client_policy.as_ref())
        .and_then(|p| p.tls.as_ref())
        .filter(|t| t.enforce.unwrap_or(true))
        .map(|t| ("spec.backendDefaults.clientPolicy.tls".to_owned(), t));
    // Targets that are not defined are reported with their gateway route.
    let targets: BTreeSet<&'m str> = routes
        .iter()
        .filter(|(_, r)| gateway_routes::served(spec, r))
        .filter_map(|(_, r)| r.target())
        .map(|t| t.virtual_service.virtual_service_name.as_str())
        .filter(|name| mesh.virtual_services.contains_key(*name))
        .collect();
    let backends = targets
        .into_iter()
        .enumerate()
        .map(|(index, name)| BackendRef {
            index,
            virtual_service_name: name,
            client_policy: policy.clone(),
        })
        .collect();
    let plans = egress_plan::plan_backends(emit, &gw_id, backends, true);
    let mut sources = vec![gw_id.clone()];
    let mut by_service: BTreeMap<String, Vec<(u32, VirtualHost)>> = BTreeMap::new();
    let mut reach = Reach::default();
    for plan in &plans {
        for s in &plan.services {
            let vh = egress_routes::virtual_host(emit, plan.port, s, &mut sources);
            reach.timeouts.insert(
                (s.virtual_service.to_owned(), plan.port),
                gateway_timeouts::of_target(&vh.routes),
            );
            by_service
                .entry(s.virtual_service.to_owned())
                .or_default()
                .push((plan.port, vh));
        }
    }
    let mut virtual_hosts = Vec::new();
    let mut service_routes: BTreeMap<String, Vec<Route>> = BTreeMap::new();
    for (service, hosts) in by_service {
        let ports: Vec<u32> = hosts.iter().map(|(p, _)| *p).collect();
        let several = ports.len() > 1;
        let mut routes = Vec::new();
        for (port, vh) in hosts {
            for mut r in vh.routes {
                if several {
                    if let Some(m) = r.r#match.as_mut() {
                        m.headers.push(route_match::pseudo_header(
                            names::TARGET_PORT_HEADER,
                            &port.to_string(),
                        ));
                    }
                    r.request_headers_to_remove
                        .push(names::TARGET_PORT_HEADER.to_owned());
                }
                routes.push(r);
            }
        }
        virtual_hosts.push(VirtualHost {
            name: service.clone(),
            domains: vec![service.clone(), format!("{service}:{}", names::EGRESS_PORT)],
            routes: routes.clone(),
            ..Default::default()
        });
        service_routes.insert(service.clone(), routes);
        reach.ports.insert(service, ports);
    }
    // Targets of gateway routes that keep the request's host name.
    let kept_host: BTreeSet<&str> = routes
        .iter()
        .filter(|(_, r)| gateway_route::keeps_hostname(r))
        .filter_map(|(_, r)| r.target())
        .map(|t| t.virtual_service.virtual_service_name.as_str())
        .collect();
    let mut default_routes = Vec::new();
    for service in kept_host {
        for mut r in service_routes.get(service).cloned().unwrap_or_default() {
            if let Some(m) = r.r#match.as_mut() {
                m.headers.insert(
                    0,
                    route_match::pseudo_header(names::VIRTUAL_SERVICE_HEADER, service),
                );
            }
            r.response_headers_to_remove
                .push(names::VIRTUAL_SERVICE_HEADER.to_owned());
            default_routes.push(r);
        }
    }
    if !default_routes.is_empty() {
        virtual_hosts.push(VirtualHost {
            name: names::DEFAULT_BACKEND_VIRTUAL_HOST.to_owned(),
            domains: vec!["*".to_owned()],
            routes: default_routes,
            ..Default::default()
        });
    }
    let rds = names::egress_route_config(protocol, names::EGRESS_PORT);
    emit.route_config(
        RouteConfiguration {
            name: rds.clone(),
            virtual_hosts,
            ..Default::default()
        },
        sources.clone(),
    );
    let listener = Listener {
        name: names::egress_listener(),
        address: Some(listen_address(loopback, names::EGRESS_PORT, false)),
        // Bound on loopback, but its stats keep the name App Mesh's
        // gateways gave them (`listener.0.0.0.0_15001.*`), so dashboards
        // built on them keep working.
        stat_prefix: names::egress_listener_stat_prefix(),
        filter_chains: vec![FilterChain {
            filter_chain_match: Some(FilterChainMatch {
                destination_port: Some(u32_value(names::EGRESS_PORT)),
                ..Default::default()
            }),
            filters: vec![filters::http_connection_manager(
                names::EGRESS_STAT_PREFIX,
                &rds,
                protocol,
                logs.to_vec(),
            )],
            ..Default::default()
        }],
        listener_filters: vec![crate::gateway::tls_inspector()],
        traffic_direction: TrafficDirection::Outbound as i32,
        ..Default::default()
    };
    emit.listener(listener, [gw_id]);
    reach
}
