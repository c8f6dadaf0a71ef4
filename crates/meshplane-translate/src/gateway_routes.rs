//! The route configuration of one gateway listener,
//! `rds_ingress_<protocol>_<port>`: the gateway routes of the listener's
//! protocol whose `match.port` is the listener's port (or unset), in one
//! virtual host per host name (`gateway_hosts`: the host is matched first;
//! routes without a host name are in `self_redirect`, domains `*`), then
//! the listener's health check route (`gateway_health`) in each.
//!
//! Inside a virtual host the routes are tried in this order:
//!
//! 1. `priority`, lowest number first; routes without a priority last;
//! 2. the path: exact path first, then prefixes, longest first (a gRPC
//!    service name is the prefix `/<service>/`), then regular expressions;
//! 3. more conditions (headers, query parameters, method, metadata) first;
//! 4. the gateway route name (so the order never depends on load order).
//!
//! Each route is translated by `gateway_route` (matches, rewrites,
//! timeouts). The port in a request's host is ignored when choosing the
//! virtual host (`ignore_port_in_host_matching`).

use std::cmp::Reverse;
use std::collections::BTreeMap;

use envoy_types::pb::envoy::config::route::v3::{RouteConfiguration, VirtualHost};
use meshplane_spec::common::Protocol;
use meshplane_spec::gateway_route::GatewayRouteSpec;
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::virtual_gateway::VirtualGatewaySpec;
use meshplane_spec::ResourceId;

use crate::emit::Emit;
use crate::gateway_egress::Reach;
use crate::{gateway_health, gateway_hosts, gateway_route, names};

/// The gateway's routes in the order of the module documentation.
pub fn ordered<'m>(emit: &Emit<'m>, gateway: &str) -> Vec<(&'m str, &'m GatewayRouteSpec)> {
    let mesh = emit.mesh;
    let mut routes: Vec<(&'m str, &'m GatewayRouteSpec)> = mesh
        .gateway_routes
        .iter()
        .filter(|((g, _), _)| g == gateway)
        .map(|((_, name), spec)| (name.as_str(), spec.as_ref()))
        .collect();
    routes.sort_by(|(an, a), (bn, b)| key(a).cmp(&key(b)).then_with(|| an.cmp(bn)));
    routes
}

type Key = (bool, i64, u8, Reverse<usize>, Reverse<usize>);

fn key(r: &GatewayRouteSpec) -> Key {
    let (path_rank, prefix_len, conditions) =
        if let Some(h) = r.http_route.as_ref().or(r.http2_route.as_ref()) {
            let m = &h.match_;
            let (rank, len) = match (&m.path, &m.prefix) {
                (Some(p), _) if p.exact.is_some() => (0, 0),
                (Some(p), _) if p.regex.is_some() => (2, 0),
                (_, Some(prefix)) => (1, prefix.len()),
                _ => (1, 1),
            };
            let conditions = m.headers.as_ref().map_or(0, Vec::len)
                + m.query_parameters.as_ref().map_or(0, Vec::len)
                + usize::from(m.method.is_some());
            (rank, len, conditions)
        } else if let Some(g) = &r.grpc_route {
            let m = &g.match_;
            let len = m.service_name.as_ref().map_or(1, |s| s.len() + 2);
            (1, len, m.metadata.as_ref().map_or(0, Vec::len))
        } else {
            (3, 0, 0)
        };
    (
        r.priority.is_none(),
        r.priority.unwrap_or(0),
        path_rank,
        Reverse(prefix_len),
        Reverse(conditions),
    )
}

fn fits(r: &GatewayRouteSpec, protocol: Protocol, port: u32) -> bool {
    r.protocol() == Some(protocol) && r.match_port().is_none_or(|p| p == i64::from(port))
}

/// Whether some listener of the gateway serves the route.
pub fn served(spec: &VirtualGatewaySpec, r: &GatewayRouteSpec) -> bool {
    spec.listeners().iter().any(|l| {
        fits(
            r,
            l.port_mapping.protocol,
            crate::proto::clamp_u32(l.port_mapping.port),
        )
    })
}

/// Reports the gateway routes no listener of the gateway serves.
pub fn report_unserved(
    emit: &mut Emit<'_>,
    gateway: &str,
    spec: &VirtualGatewaySpec,
    routes: &[(&str, &GatewayRouteSpec)],
) {
    for (name, r) in routes {
        if !served(spec, r) {
            let id = emit
                .mesh
                .child_id(ResourceKind::GatewayRoute, gateway, name);
            emit.warn(
                "translate.gateway-route.no-listener",
                &id,
                "spec",
                format!(
                    "no listener of virtual gateway '{gateway}' matches this route's protocol{}; the route is not served",
                    r.match_port().map(|p| format!(" and port {p}")).unwrap_or_default()
                ),
            );
        }
    }
}

/// What one gateway listener's route configuration is built from.
pub struct ListenerRoutes<'a> {
    /// The route configuration's name, `rds_ingress_<protocol>_<port>`.
    pub name: &'a str,
    pub protocol: Protocol,
    pub port: u32,
    /// The listener's self-redirect cluster.
    pub cluster: &'a str,
    /// The listener's HTTP health check path.
    pub health_check_path: Option<&'a str>,
}

pub fn build(
    emit: &mut Emit<'_>,
    gateway: &str,
    listener: &ListenerRoutes<'_>,
    routes: &[(&str, &GatewayRouteSpec)],
    reach: &Reach,
) -> (RouteConfiguration, Vec<ResourceId>) {
    let mut sources = vec![emit.id(ResourceKind::VirtualGateway, gateway)];
    let mut by_domain: BTreeMap<String, Vec<_>> = BTreeMap::new();
    by_domain.insert(gateway_hosts::ANY.to_owned(), Vec::new());
    let fitting = routes
        .iter()
        .filter(|(_, r)| fits(r, listener.protocol, listener.port));
    for (route_name, r) in fitting {
        let id = emit
            .mesh
            .child_id(ResourceKind::GatewayRoute, gateway, route_name);
        if let Some(route) = gateway_route::route(emit, &id, route_name, r, listener.cluster, reach)
        {
            sources.push(id);
            by_domain
                .entry(gateway_hosts::domain(r))
                .or_default()
                .push(route);
        }
    }
    let mut virtual_hosts: Vec<VirtualHost> = by_domain
        .into_iter()
        .map(|(domain, mut routes)| {
            if let Some(path) = listener.health_check_path {
                routes.push(gateway_health::route(listener.name, path));
            }
            let name = if domain == gateway_hosts::ANY {
                names::SELF_REDIRECT_VIRTUAL_HOST.to_owned()
            } else {
                domain.clone()
            };
            VirtualHost {
                name,
                domains: vec![domain],
                routes,
                ..Default::default()
            }
        })
        .collect();
    virtual_hosts.sort_by_key(|vh| gateway_hosts::order(&vh.domains[0]));
    let config = RouteConfiguration {
        name: listener.name.to_owned(),
        virtual_hosts,
        ignore_port_in_host_matching: true,
        ..Default::default()
    };
    (config, sources)
}
