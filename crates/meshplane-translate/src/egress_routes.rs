//! The egress route configuration of one HTTP-family port
//! (`rds_egress_<protocol>_<port>`): one virtual host per backend virtual
//! service, named after it, with domains `<name>` and `<name>:<port>`.
//!
//! Under ALLOW_ALL an extra `*` virtual host sends every other host to its
//! original destination. Under DROP_ALL there is no `*` virtual host: Envoy
//! answers requests for unknown hosts with 404 at once (response flag `NR`),
//! which is what App Mesh's proxies did.
//!
//! Weighted clusters carry the weights as given (0 included, as observed);
//! `total_weight`, which App Mesh set, is deprecated in current Envoy (the
//! sum of the weights is used) and left out.

use envoy_types::pb::envoy::config::route::v3::{
    route, route_action, weighted_cluster, Route, RouteAction, RouteConfiguration, VirtualHost,
    WeightedCluster,
};
use meshplane_spec::common::{HttpTimeout, Protocol};
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::ResourceId;

use crate::egress_plan::{PortPlan, Provider, ServicePlan};
use crate::emit::Emit;
use crate::proto::{millis, u32_value};
use crate::retry;
use crate::stats_metadata::{aggregate_stats, TARGET_VIRTUAL_SERVICE};
use crate::{names, route_match, targets};

/// App Mesh's per-request timeout when none is configured.
pub const DEFAULT_REQUEST_TIMEOUT_MS: i64 = 15_000;

pub fn build(
    emit: &mut Emit<'_>,
    plan: &PortPlan<'_>,
    allow_all: bool,
) -> (RouteConfiguration, Vec<ResourceId>) {
    let mut sources = Vec::new();
    let mut virtual_hosts: Vec<VirtualHost> = plan
        .services
        .iter()
        .map(|s| virtual_host(emit, plan.port, s, &mut sources))
        .collect();
    if allow_all {
        virtual_hosts.push(VirtualHost {
            name: names::ALLOW_ALL_VIRTUAL_HOST.to_owned(),
            domains: vec!["*".to_owned()],
            routes: vec![Route {
                r#match: Some(route_match::everything()),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(
                        names::allow_all_cluster(&emit.mesh.name),
                    )),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        });
        sources.push(ResourceId::mesh(&emit.mesh.name, &emit.mesh.owner));
    }
    let config = RouteConfiguration {
        name: names::egress_route_config(plan.protocol, plan.port),
        virtual_hosts,
        ..Default::default()
    };
    (config, sources)
}

pub(crate) fn virtual_host(
    emit: &mut Emit<'_>,
    port: u32,
    s: &ServicePlan<'_>,
    sources: &mut Vec<ResourceId>,
) -> VirtualHost {
    sources.push(emit.id(ResourceKind::VirtualService, s.virtual_service));
    let client = targets::Client {
        node: emit.client.clone(),
        policy: s.client_policy.clone(),
    };
    let mut routes = Vec::new();
    match &s.provider {
        Provider::Router {
            router,
            routes: specs,
        } => {
            sources.push(emit.id(ResourceKind::VirtualRouter, router));
            let mut catch_all: Option<&str> = None;
            for (name, spec) in specs {
                let id = emit.route_id(router, name);
                sources.push(id.clone());
                if let Some(r) = route(emit, &client, &id, name, spec, port) {
                    if let Some(earlier) = catch_all {
                        emit.warn(
                            "translate.route.shadowed",
                            &id,
                            "spec",
                            format!("route '{earlier}' comes first (priority, then specificity) and matches every request, so this route never matches"),
                        );
                    } else if matches_everything(&r) {
                        catch_all = Some(name);
                    }
                    routes.push(r);
                }
            }
        }
        Provider::Node {
            node,
            spec,
            listener,
        } => {
            let node_id = targets::node_id(emit, node);
            sources.push(node_id.clone());
            match targets::cluster_for(emit, &client, node, spec, listener) {
                Some(cluster) => {
                    provider_timeout_note(emit, &node_id, node, s.virtual_service, listener);
                    routes.push(Route {
                        name: format!("{}_{}", s.virtual_service, node),
                        r#match: Some(route_match::everything()),
                        action: Some(route::Action::Route(action(
                            emit,
                            vec![(cluster, 1)],
                            Timeouts::of(None),
                            None,
                        ))),
                        ..Default::default()
                    });
                }
                None => emit.warn(
                    "translate.target.not-routable",
                    &node_id,
                    "spec.serviceDiscovery",
                    format!(
                        "virtual node '{node}' provides virtual service '{}' but has no service discovery, so it cannot be routed to",
                        s.virtual_service
                    ),
                ),
            }
        }
    }
    let metadata = aggregate_stats(&[(TARGET_VIRTUAL_SERVICE, s.virtual_service)]);
    for r in &mut routes {
        r.metadata = Some(metadata.clone());
    }
    VirtualHost {
        name: s.virtual_service.to_owned(),
        domains: vec![
            s.virtual_service.to_owned(),
            format!("{}:{port}", s.virtual_service),
        ],
        routes,
        ..Default::default()
    }
}

/// One App Mesh route; `None` (reported) when none of its targets is reachable.
fn route(
    emit: &mut Emit<'_>,
    client: &targets::Client<'_>,
    id: &ResourceId,
    name: &str,
    spec: &meshplane_spec::route::RouteSpec,
    port: u32,
) -> Option<Route> {
    let (kind, m, targets, timeout, explicit): (_, _, _, _, Option<retry::Events<'_>>) =
        if let Some(h) = &spec.http_route {
            let m = route_match::http(&h.match_);
            let events = h.retry_policy.as_ref().map(Into::into);
            (
                "httpRoute",
                m,
                &h.action.weighted_targets,
                h.timeout.as_ref(),
                events,
            )
        } else if let Some(h) = &spec.http2_route {
            let m = route_match::http(&h.match_);
            let events = h.retry_policy.as_ref().map(Into::into);
            (
                "http2Route",
                m,
                &h.action.weighted_targets,
                h.timeout.as_ref(),
                events,
            )
        } else if let Some(g) = &spec.grpc_route {
            let m = route_match::grpc(&g.match_);
            let events = g.retry_policy.as_ref().map(Into::into);
            (
                "grpcRoute",
                m,
                &g.action.weighted_targets,
                g.timeout.as_ref(),
                events,
            )
        } else {
            return None;
        };
    let path = format!("spec.{kind}.action.weightedTargets");
    let clusters = targets::resolve(emit, client, id, &path, targets, i64::from(port));
    if clusters.is_empty() {
        emit.warn(
            "translate.route.no-targets",
            id,
            &path,
            "no weighted target of the route is reachable; the route is not served".to_owned(),
        );
        return None;
    }
    if clusters.iter().all(|(_, w)| *w == 0) {
        emit.error(
            "translate.route.zero-weight",
            id,
            &path,
            "every reachable weighted target has weight 0; Envoy needs a positive total weight, so the route is not served".to_owned(),
        );
        return None;
    }
    let explicit = explicit.map(|events| {
        let (policy, unknown) = retry::explicit(events);
        for event in unknown {
            emit.warn(
                "translate.route.retry-event",
                id,
                &format!("spec.{kind}.retryPolicy.httpRetryEvents"),
                format!("'{event}' is not an App Mesh HTTP retry event (server-error, gateway-error, client-error, stream-error); it is ignored"),
            );
        }
        policy
    });
    Some(Route {
        name: name.to_owned(),
        r#match: Some(m),
        action: Some(route::Action::Route(action(
            emit,
            clusters,
            Timeouts::of(timeout),
            explicit,
        ))),
        ..Default::default()
    })
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    per_request_ms: i64,
    idle_ms: Option<i64>,
}

impl Timeouts {
    fn of(t: Option<&HttpTimeout>) -> Self {
        Timeouts {
            per_request_ms: t
                .and_then(|t| t.per_request.as_ref())
                .map_or(DEFAULT_REQUEST_TIMEOUT_MS, |d| d.as_millis()),
            idle_ms: t.and_then(|t| t.idle.as_ref()).map(|d| d.as_millis()),
        }
    }
}

/// A virtual-node provider has no route, so its clients use App Mesh's
/// route defaults (15 s per request, no idle timeout), as App Mesh served
/// them; the provider listener's own timeout governs its ingress side only.
/// When that listener allows longer than the default, clients would cut
/// requests the provider still accepts: say so, and how to change it.
fn provider_timeout_note(
    emit: &mut Emit<'_>,
    node_id: &ResourceId,
    node: &str,
    service: &str,
    listener: &meshplane_spec::virtual_node::Listener,
) {
    let protocol = listener.port_mapping.protocol;
    let (kind, t) = match (protocol, listener.timeout.as_ref()) {
        (Protocol::Http, Some(t)) => ("http", t.http.as_ref()),
        (Protocol::Http2, Some(t)) => ("http2", t.http2.as_ref()),
        (Protocol::Grpc, Some(t)) => ("grpc", t.grpc.as_ref()),
        _ => return,
    };
    let Some(per_request) = t.and_then(|t| t.per_request.as_ref()) else {
        return;
    };
    let ms = per_request.as_millis();
    if ms <= DEFAULT_REQUEST_TIMEOUT_MS && ms != 0 {
        return;
    }
    let index = emit
        .mesh
        .virtual_nodes
        .get(node)
        .and_then(|n| n.listeners().iter().position(|l| std::ptr::eq(l, listener)))
        .unwrap_or(0);
    emit.warn(
        "translate.provider.timeout",
        node_id,
        &format!("spec.listeners[{index}].timeout.{kind}.perRequest"),
        format!(
            "this listener allows {} per request, but clients of virtual service '{service}' reach it without a virtual router and so keep App Mesh's 15 s route default; put a virtual router with a route timeout in front of it to let longer requests through",
            if ms == 0 { "unlimited time".to_owned() } else { format!("{ms} ms") }
        ),
    );
}

fn action(
    emit: &Emit<'_>,
    clusters: Vec<(String, u32)>,
    timeouts: Timeouts,
    explicit: Option<envoy_types::pb::envoy::config::route::v3::RetryPolicy>,
) -> RouteAction {
    let cluster_specifier = if clusters.len() == 1 {
        route_action::ClusterSpecifier::Cluster(clusters.into_iter().map(|(c, _)| c).collect())
    } else {
        route_action::ClusterSpecifier::WeightedClusters(WeightedCluster {
            clusters: clusters
                .into_iter()
                .map(|(name, weight)| weighted_cluster::ClusterWeight {
                    name,
                    weight: Some(u32_value(weight)),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
    };
    let retry_policy =
        explicit.or_else(|| emit.opts.default_retry_policy.then(retry::default_policy));
    RouteAction {
        cluster_specifier: Some(cluster_specifier),
        timeout: Some(millis(timeouts.per_request_ms)),
        idle_timeout: timeouts.idle_ms.map(millis),
        retry_policy,
        ..Default::default()
    }
}

/// A route that matches every request (`prefix: /`, no other condition).
fn matches_everything(r: &Route) -> bool {
    r.r#match.as_ref().is_some_and(|m| {
        m.headers.is_empty()
            && m.query_parameters.is_empty()
            && m.path_specifier
                == Some(
                    envoy_types::pb::envoy::config::route::v3::route_match::PathSpecifier::Prefix(
                        "/".to_owned(),
                    ),
                )
    })
}
