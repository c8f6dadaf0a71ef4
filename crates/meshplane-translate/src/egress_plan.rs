//! Which virtual services a node reaches on which ports, and through what:
//! the node's backends resolved against the mesh, grouped by destination
//! port, before any Envoy resource is built.
//!
//! A backend's ports are its provider's: each listener of the provider
//! virtual router (with the router's routes for that listener), or each
//! listener of the provider virtual node. A port serves one protocol family:
//! when backends disagree (HTTP-family and TCP on one port) the first
//! virtual service by name wins and the others are reported.

use std::collections::BTreeMap;

use meshplane_spec::common::Protocol;
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::route::RouteSpec;
use meshplane_spec::tls::ClientPolicyTls;
use meshplane_spec::virtual_node::{Listener as NodeListener, VirtualNodeSpec};

use crate::emit::Emit;
use crate::proto::clamp_u32;
use crate::route_order;

pub struct PortPlan<'m> {
    pub port: u32,
    pub protocol: Protocol,
    /// Sorted by virtual service name.
    pub services: Vec<ServicePlan<'m>>,
}

pub struct ServicePlan<'m> {
    pub virtual_service: &'m str,
    /// Index of the backend in the node's spec (for diagnostics).
    pub backend_index: usize,
    pub protocol: Protocol,
    pub provider: Provider<'m>,
    /// The enforced TLS client policy for this backend (its own, else the
    /// node's backend defaults) and its field path.
    pub client_policy: Option<(String, &'m ClientPolicyTls)>,
}

pub enum Provider<'m> {
    /// The router's routes for this listener, in App Mesh priority order.
    Router {
        router: &'m str,
        routes: Vec<(&'m str, &'m RouteSpec)>,
    },
    Node {
        node: &'m str,
        spec: &'m VirtualNodeSpec,
        listener: &'m NodeListener,
    },
}

/// One virtual service a proxy reaches: a node's backend, or (for a
/// virtual gateway) a target of its gateway routes.
pub struct BackendRef<'m> {
    pub index: usize,
    pub virtual_service_name: &'m str,
    /// The enforced TLS client policy for this backend and its field path.
    pub client_policy: Option<(String, &'m ClientPolicyTls)>,
}

pub fn plan<'m>(
    emit: &mut Emit<'m>,
    node_name: &str,
    node: &'m VirtualNodeSpec,
) -> Vec<PortPlan<'m>> {
    let backends = node
        .backends()
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            b.virtual_service.as_ref().map(|vs| BackendRef {
                index: i,
                virtual_service_name: vs.virtual_service_name.as_str(),
                client_policy: client_policy(node, i),
            })
        })
        .collect();
    let node_id = emit.id(ResourceKind::VirtualNode, node_name);
    plan_backends(emit, &node_id, backends, false)
}

/// The port plans of `backends`; findings about a backend are reported
/// against `client` (the proxy's resource) at `spec.backends[<index>]`.
/// `http_only` leaves TCP listeners out (a virtual gateway reaches HTTP-family
/// services only).
pub fn plan_backends<'m>(
    emit: &mut Emit<'m>,
    client: &meshplane_spec::ResourceId,
    backends: Vec<BackendRef<'m>>,
    http_only: bool,
) -> Vec<PortPlan<'m>> {
    let mesh = emit.mesh;
    let node_id = client.clone();
    let mut by_port: BTreeMap<u32, Vec<ServicePlan<'m>>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for backend in backends {
        let i = backend.index;
        let path = format!("spec.backends[{i}].virtualService.virtualServiceName");
        let Some((vs_name, vs)) = mesh
            .virtual_services
            .get_key_value(backend.virtual_service_name)
        else {
            emit.warn(
                "translate.backend.missing",
                &node_id,
                &path,
                format!(
                    "virtual service '{}' is not defined in mesh '{}'; the backend is skipped",
                    backend.virtual_service_name, mesh.name
                ),
            );
            continue;
        };
        if !seen.insert(vs_name.as_str()) {
            continue;
        }
        let vs_id = emit.id(ResourceKind::VirtualService, vs_name);
        let client_policy = backend.client_policy;
        let provider = vs.provider.as_ref();
        if let Some(r) = provider.and_then(|p| p.virtual_router.as_ref()) {
            let Some((router_name, router)) =
                mesh.virtual_routers.get_key_value(&r.virtual_router_name)
            else {
                emit.warn(
                    "translate.provider.missing",
                    &vs_id,
                    "spec.provider.virtualRouter.virtualRouterName",
                    format!(
                        "virtual router '{}' is not defined; the service has no routes",
                        r.virtual_router_name
                    ),
                );
                continue;
            };
            let listeners = router.listeners.as_deref().unwrap_or(&[]);
            let mut routes: Vec<(&'m str, &'m RouteSpec)> = mesh.routes_of(router_name).collect();
            route_order::sort(&mut routes);
            for (name, route) in &routes {
                let fits = listeners
                    .iter()
                    .any(|l| fits(route, l.port_mapping.protocol, l.port_mapping.port));
                if !fits {
                    let id = emit.route_id(router_name, name);
                    emit.warn(
                        "translate.route.no-listener",
                        &id,
                        "spec",
                        format!(
                            "no listener of virtual router '{router_name}' matches this route's protocol{}; the route is not served",
                            route.match_port().map(|p| format!(" and port {p}")).unwrap_or_default()
                        ),
                    );
                }
            }
            for l in listeners {
                let (protocol, port) = (l.port_mapping.protocol, l.port_mapping.port);
                let for_listener = routes
                    .iter()
                    .filter(|(_, r)| fits(r, protocol, port))
                    .copied()
                    .collect();
                by_port
                    .entry(clamp_u32(port))
                    .or_default()
                    .push(ServicePlan {
                        virtual_service: vs_name,
                        backend_index: i,
                        protocol,
                        provider: Provider::Router {
                            router: router_name,
                            routes: for_listener,
                        },
                        client_policy: client_policy.clone(),
                    });
            }
        } else if let Some(n) = provider.and_then(|p| p.virtual_node.as_ref()) {
            let Some((target_name, target)) =
                mesh.virtual_nodes.get_key_value(&n.virtual_node_name)
            else {
                emit.warn(
                    "translate.provider.missing",
                    &vs_id,
                    "spec.provider.virtualNode.virtualNodeName",
                    format!(
                        "virtual node '{}' is not defined; the service is unreachable",
                        n.virtual_node_name
                    ),
                );
                continue;
            };
            for l in target.listeners() {
                by_port
                    .entry(clamp_u32(l.port_mapping.port))
                    .or_default()
                    .push(ServicePlan {
                        virtual_service: vs_name,
                        backend_index: i,
                        protocol: l.port_mapping.protocol,
                        provider: Provider::Node {
                            node: target_name,
                            spec: target,
                            listener: l,
                        },
                        client_policy: client_policy.clone(),
                    });
            }
        } else {
            emit.warn(
                "translate.provider.none",
                &vs_id,
                "spec.provider",
                "the virtual service has no provider; backends naming it reach nothing".to_owned(),
            );
        }
    }
    let mut plans = Vec::new();
    for (port, mut services) in by_port {
        if http_only {
            services.retain(|s| s.protocol.is_http_family());
            if services.is_empty() {
                continue;
            }
        }
        services.sort_by(|a, b| a.virtual_service.cmp(b.virtual_service));
        let protocol = services[0].protocol;
        let family = protocol.is_http_family();
        let (kept, dropped): (Vec<_>, Vec<_>) = services
            .into_iter()
            .partition(|s| s.protocol.is_http_family() == family);
        for s in dropped {
            emit.warn(
                "translate.port.protocol-conflict",
                &node_id,
                &format!("spec.backends[{}]", s.backend_index),
                format!(
                    "virtual service '{}' serves {} on port {port}, but '{}' already serves {protocol} there; one port carries one protocol family, so '{}' is not reachable on it",
                    s.virtual_service, s.protocol, kept[0].virtual_service, s.virtual_service
                ),
            );
        }
        // HTTP-family ports share one route configuration named after the
        // lowest protocol present (http < http2 < grpc).
        let protocol = kept.iter().map(|s| s.protocol).min().unwrap_or(protocol);
        plans.push(PortPlan {
            port,
            protocol,
            services: kept,
        });
    }
    plans
}

/// Whether a route belongs to the router listener `(protocol, port)`: same
/// protocol, and the route's `match.port` is that port or unset.
fn fits(route: &RouteSpec, protocol: Protocol, port: i64) -> bool {
    route.protocol() == Some(protocol) && route.match_port().is_none_or(|p| p == port)
}

/// The backend's TLS client policy, else the node's backend defaults; only
/// when enforced (the API default).
fn client_policy(node: &VirtualNodeSpec, index: usize) -> Option<(String, &ClientPolicyTls)> {
    let own = node.backends()[index]
        .virtual_service
        .as_ref()
        .and_then(|b| b.client_policy.as_ref())
        .and_then(|p| p.tls.as_ref())
        .map(|t| {
            (
                format!("spec.backends[{index}].virtualService.clientPolicy.tls"),
                t,
            )
        });
    let defaults = || {
        node.backend_defaults
            .as_ref()
            .and_then(|d| d.client_policy.as_ref())
            .and_then(|p| p.tls.as_ref())
            .map(|t| ("spec.backendDefaults.clientPolicy.tls".to_owned(), t))
    };
    own.or_else(defaults)
        .filter(|(_, t)| t.enforce.unwrap_or(true))
}
