//! Whatever the mesh (missing references, protocol clashes, unroutable
//! nodes), translation never panics and its output is self-consistent:
//! every route configuration a listener asks for, every cluster a listener
//! or route sends to, and every EDS cluster's endpoints are emitted, each
//! name once, and every resource has provenance. Envoy would otherwise keep
//! listeners warming or reject the update.

use std::collections::BTreeSet;

use envoy_types::pb::envoy::config::cluster::v3::cluster::{ClusterDiscoveryType, DiscoveryType};
use envoy_types::pb::envoy::config::listener::v3::filter::ConfigType;
use envoy_types::pb::envoy::config::route::v3::{route, route_action};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager::RouteSpecifier, HttpConnectionManager,
};
use envoy_types::pb::envoy::extensions::filters::network::tcp_proxy::v3::{tcp_proxy, TcpProxy};
use meshplane_spec::common::{PortMapping, Protocol};
use meshplane_spec::gateway_route::{
    GatewayRouteHostnameRewrite, GatewayRouteSpec, GatewayRouteTarget, GatewayRouteVirtualService,
    GrpcGatewayRoute, GrpcGatewayRouteAction, GrpcGatewayRouteMatch, HttpGatewayRoute,
    HttpGatewayRouteAction, HttpGatewayRouteMatch, HttpGatewayRouteRewrite,
};
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::mesh::{EgressFilter, EgressFilterType, MeshSpec};
use meshplane_spec::route::{
    GrpcRoute, GrpcRouteMatch, HttpRoute, HttpRouteMatch, RouteAction, RouteSpec, TcpRoute,
    WeightedTarget,
};
use meshplane_spec::virtual_gateway::{VirtualGatewayListener, VirtualGatewaySpec};
use meshplane_spec::virtual_node::{
    AwsCloudMapServiceDiscovery, Backend, DnsServiceDiscovery, Listener, ServiceDiscovery,
    VirtualNodeSpec, VirtualServiceBackend,
};
use meshplane_spec::virtual_router::{VirtualRouterListener, VirtualRouterSpec};
use meshplane_spec::virtual_service::{
    VirtualNodeServiceProvider, VirtualRouterServiceProvider, VirtualServiceProvider,
    VirtualServiceSpec,
};
use meshplane_spec::MeshGraph;
use meshplane_translate::inputs::{inputs, MeshChanges};
use meshplane_translate::{
    translate_virtual_gateway, translate_virtual_node, ResourceType, TranslateOptions, Translation,
};
use proptest::prelude::*;
use prost::Message;

const PORTS: [(i64, Protocol); 5] = [
    (8080, Protocol::Http),
    (9090, Protocol::Grpc),
    (7000, Protocol::Tcp),
    (8443, Protocol::Http2),
    (8080, Protocol::Tcp),
];

fn listener((port, protocol): (i64, Protocol)) -> Listener {
    Listener {
        connection_pool: None,
        health_check: None,
        outlier_detection: None,
        port_mapping: PortMapping { port, protocol },
        timeout: None,
        tls: None,
    }
}

fn node() -> impl Strategy<Value = VirtualNodeSpec> {
    (
        proptest::sample::subsequence(PORTS.to_vec(), 0..3),
        0..3u8,
        proptest::sample::subsequence(vec!["s0", "s1", "s2", "s3", "missing"], 0..5),
    )
        .prop_map(|(ports, sd, backends)| VirtualNodeSpec {
            listeners: Some(ports.into_iter().map(listener).collect()),
            service_discovery: match sd {
                0 => None,
                1 => Some(ServiceDiscovery {
                    dns: Some(DnsServiceDiscovery {
                        hostname: "h.local".into(),
                        ip_preference: None,
                        response_type: None,
                    }),
                    aws_cloud_map: None,
                }),
                _ => Some(ServiceDiscovery {
                    dns: None,
                    aws_cloud_map: Some(AwsCloudMapServiceDiscovery {
                        attributes: None,
                        ip_preference: None,
                        namespace_name: "ns".into(),
                        service_name: "svc".into(),
                    }),
                }),
            },
            backends: Some(
                backends
                    .into_iter()
                    .map(|b| Backend {
                        virtual_service: Some(VirtualServiceBackend {
                            client_policy: None,
                            virtual_service_name: b.into(),
                        }),
                    })
                    .collect(),
            ),
            ..VirtualNodeSpec::default()
        })
}

fn service() -> impl Strategy<Value = VirtualServiceSpec> {
    (0..3u8, 0..4usize).prop_map(|(kind, i)| VirtualServiceSpec {
        provider: match kind {
            0 => None,
            1 => Some(VirtualServiceProvider {
                virtual_node: Some(VirtualNodeServiceProvider {
                    virtual_node_name: format!("n{i}"),
                }),
                virtual_router: None,
            }),
            _ => Some(VirtualServiceProvider {
                virtual_node: None,
                virtual_router: Some(VirtualRouterServiceProvider {
                    virtual_router_name: format!("r{i}"),
                }),
            }),
        },
    })
}

fn route_spec() -> impl Strategy<Value = RouteSpec> {
    (
        0..4u8,
        proptest::collection::vec(
            (
                0..4usize,
                0..3i64,
                proptest::option::of(prop_oneof![Just(8080i64), Just(7000)]),
            ),
            1..3,
        ),
        proptest::option::of(0..3i64),
        proptest::option::of(prop_oneof![Just("/".to_owned()), Just("/a".to_owned())]),
    )
        .prop_map(|(kind, targets, priority, prefix)| {
            let action = RouteAction {
                weighted_targets: targets
                    .into_iter()
                    .map(|(n, weight, port)| WeightedTarget {
                        port,
                        virtual_node: format!("n{n}"),
                        weight,
                    })
                    .collect(),
            };
            let http = HttpRoute {
                action: action.clone(),
                match_: HttpRouteMatch {
                    prefix: prefix.clone(),
                    ..HttpRouteMatch::default()
                },
                retry_policy: None,
                timeout: None,
            };
            let mut r = RouteSpec {
                priority,
                ..RouteSpec::default()
            };
            match kind {
                0 => r.http_route = Some(http),
                1 => r.http2_route = Some(http),
                2 => {
                    r.grpc_route = Some(GrpcRoute {
                        action,
                        match_: GrpcRouteMatch::default(),
                        retry_policy: None,
                        timeout: None,
                    })
                }
                _ => {
                    r.tcp_route = Some(TcpRoute {
                        action,
                        match_: None,
                        timeout: None,
                    })
                }
            }
            r
        })
}

/// Gateway listeners (http family only, as validation requires).
const GATEWAY_PORTS: [(i64, Protocol); 3] = [
    (1111, Protocol::Http),
    (2222, Protocol::Http),
    (9090, Protocol::Grpc),
];

fn gateway_route() -> impl Strategy<Value = GatewayRouteSpec> {
    (
        0..3u8,
        0..4usize,
        proptest::option::of(prop_oneof![Just(8080i64), Just(9090), Just(8443)]),
        proptest::option::of(prop_oneof![Just(1111i64), Just(2222), Just(9090)]),
        proptest::option::of(0..3i64),
        proptest::option::of(prop_oneof![Just("/".to_owned()), Just("/a".to_owned())]),
        any::<bool>(),
    )
        .prop_map(
            |(kind, service, target_port, match_port, priority, prefix, keep_host)| {
                let target = GatewayRouteTarget {
                    port: target_port,
                    virtual_service: GatewayRouteVirtualService {
                        virtual_service_name: format!("s{service}"),
                    },
                };
                let hostname = keep_host.then_some(GatewayRouteHostnameRewrite {
                    default_target_hostname: Some(
                        meshplane_spec::gateway_route::DefaultRewrite::Disabled,
                    ),
                });
                let mut r = GatewayRouteSpec {
                    priority,
                    ..GatewayRouteSpec::default()
                };
                if kind == 2 {
                    r.grpc_route = Some(GrpcGatewayRoute {
                        action: GrpcGatewayRouteAction {
                            rewrite: hostname.map(|h| {
                                meshplane_spec::gateway_route::GrpcGatewayRouteRewrite {
                                    hostname: Some(h),
                                }
                            }),
                            target,
                        },
                        match_: GrpcGatewayRouteMatch {
                            port: match_port,
                            ..GrpcGatewayRouteMatch::default()
                        },
                    });
                } else {
                    let http = HttpGatewayRoute {
                        action: HttpGatewayRouteAction {
                            rewrite: hostname.map(|h| HttpGatewayRouteRewrite {
                                hostname: Some(h),
                                ..HttpGatewayRouteRewrite::default()
                            }),
                            target,
                        },
                        match_: HttpGatewayRouteMatch {
                            port: match_port,
                            prefix,
                            ..HttpGatewayRouteMatch::default()
                        },
                    };
                    if kind == 0 {
                        r.http_route = Some(http);
                    } else {
                        r.http2_route = Some(http);
                    }
                }
                r
            },
        )
}

fn mesh() -> impl Strategy<Value = MeshGraph> {
    (
        proptest::collection::vec(node(), 4),
        proptest::collection::vec(service(), 4),
        proptest::collection::vec(proptest::sample::subsequence(PORTS.to_vec(), 0..3), 3),
        proptest::collection::vec(proptest::collection::vec(route_spec(), 0..3), 3),
        any::<bool>(),
        proptest::sample::subsequence(GATEWAY_PORTS.to_vec(), 0..4),
        proptest::collection::vec(gateway_route(), 0..5),
    )
        .prop_map(
            |(nodes, services, routers, routes, allow_all, gw_ports, gw_routes)| {
                let mut g = MeshGraph {
                    name: "m".into(),
                    owner: "000000000000".into(),
                    ..MeshGraph::default()
                };
                let filter = if allow_all {
                    EgressFilterType::AllowAll
                } else {
                    EgressFilterType::DropAll
                };
                g.spec = Some(MeshSpec {
                    egress_filter: Some(EgressFilter { type_: filter }),
                    service_discovery: None,
                });
                for (i, n) in nodes.into_iter().enumerate() {
                    g.virtual_nodes.insert(format!("n{i}"), n.into());
                }
                for (i, s) in services.into_iter().enumerate() {
                    g.virtual_services.insert(format!("s{i}"), s.into());
                }
                for (i, ports) in routers.into_iter().enumerate() {
                    let listeners = ports
                        .into_iter()
                        .map(|(port, protocol)| VirtualRouterListener {
                            port_mapping: PortMapping { port, protocol },
                        })
                        .collect();
                    g.virtual_routers.insert(
                        format!("r{i}"),
                        VirtualRouterSpec {
                            listeners: Some(listeners),
                        }
                        .into(),
                    );
                }
                for (i, rs) in routes.into_iter().enumerate() {
                    for (j, r) in rs.into_iter().enumerate() {
                        g.routes
                            .insert((format!("r{i}"), format!("route{j}")), r.into());
                    }
                }
                let listeners = gw_ports
                    .into_iter()
                    .map(|(port, protocol)| VirtualGatewayListener {
                        connection_pool: None,
                        health_check: None,
                        port_mapping: PortMapping { port, protocol },
                        tls: None,
                    })
                    .collect();
                g.virtual_gateways.insert(
                    "gw".into(),
                    VirtualGatewaySpec {
                        listeners: Some(listeners),
                        ..VirtualGatewaySpec::default()
                    }
                    .into(),
                );
                for (i, r) in gw_routes.into_iter().enumerate() {
                    g.gateway_routes
                        .insert(("gw".into(), format!("gr{i}")), r.into());
                }
                g
            },
        )
}

/// Checks the invariants; returns a description of the first violation.
fn check(t: &Translation) -> Result<(), String> {
    let r = &t.resources;
    let unique = |names: Vec<&str>, what: &str| -> Result<BTreeSet<String>, String> {
        let set: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
        if set.len() == names.len() {
            Ok(set)
        } else {
            Err(format!("duplicate {what} names: {names:?}"))
        }
    };
    let clusters = unique(
        r.clusters.iter().map(|c| c.name.as_str()).collect(),
        "cluster",
    )?;
    let routes = unique(r.routes.iter().map(|c| c.name.as_str()).collect(), "route")?;
    let endpoints = unique(
        r.endpoints
            .iter()
            .map(|c| c.cluster_name.as_str())
            .collect(),
        "endpoint",
    )?;
    unique(
        r.listeners.iter().map(|c| c.name.as_str()).collect(),
        "listener",
    )?;
    let need_cluster = |name: &str| {
        if clusters.contains(name) {
            Ok(())
        } else {
            Err(format!("cluster {name} is referenced but not emitted"))
        }
    };
    for l in &r.listeners {
        if l.filter_chains.is_empty() {
            return Err(format!("listener {} has no filter chains", l.name));
        }
        for fc in &l.filter_chains {
            for f in &fc.filters {
                let Some(ConfigType::TypedConfig(any)) = &f.config_type else {
                    return Err("filter without config".into());
                };
                if any.type_url.ends_with("HttpConnectionManager") {
                    let hcm = HttpConnectionManager::decode(any.value.as_slice())
                        .map_err(|e| e.to_string())?;
                    let Some(RouteSpecifier::Rds(rds)) = hcm.route_specifier else {
                        return Err("HCM without RDS".into());
                    };
                    if !routes.contains(&rds.route_config_name) {
                        return Err(format!(
                            "route config {} is referenced but not emitted",
                            rds.route_config_name
                        ));
                    }
                } else {
                    let tcp = TcpProxy::decode(any.value.as_slice()).map_err(|e| e.to_string())?;
                    match tcp.cluster_specifier {
                        Some(tcp_proxy::ClusterSpecifier::Cluster(c)) => need_cluster(&c)?,
                        Some(tcp_proxy::ClusterSpecifier::WeightedClusters(w)) => {
                            for c in &w.clusters {
                                need_cluster(&c.name)?;
                            }
                        }
                        None => return Err("tcp proxy without cluster".into()),
                    }
                }
            }
        }
    }
    for rc in &r.routes {
        for vh in &rc.virtual_hosts {
            for rt in &vh.routes {
                let Some(route::Action::Route(a)) = &rt.action else {
                    return Err("route without action".into());
                };
                match &a.cluster_specifier {
                    Some(route_action::ClusterSpecifier::Cluster(c)) => need_cluster(c)?,
                    Some(route_action::ClusterSpecifier::WeightedClusters(w)) => {
                        let total: u32 = w
                            .clusters
                            .iter()
                            .map(|c| c.weight.as_ref().map_or(0, |v| v.value))
                            .sum();
                        if total == 0 {
                            return Err(format!("route {} has a zero total weight", rt.name));
                        }
                        for c in &w.clusters {
                            need_cluster(&c.name)?;
                        }
                    }
                    _ => return Err("route without cluster".into()),
                }
            }
        }
    }
    for c in &r.clusters {
        let eds =
            c.cluster_discovery_type == Some(ClusterDiscoveryType::Type(DiscoveryType::Eds as i32));
        if eds != endpoints.contains(&c.name) || eds != t.cloud_map.contains_key(&c.name) {
            return Err(format!(
                "cluster {}: EDS, endpoints and Cloud Map query disagree",
                c.name
            ));
        }
    }
    let emitted: BTreeSet<(ResourceType, String)> = r
        .names()
        .into_iter()
        .map(|(ty, n)| (ty, n.to_owned()))
        .collect();
    let noted: BTreeSet<(ResourceType, String)> = t.provenance.keys().cloned().collect();
    if emitted != noted {
        return Err("provenance does not cover exactly the emitted resources".into());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn translation_is_self_consistent(g in mesh()) {
        for name in g.virtual_nodes.keys() {
            let t = translate_virtual_node(&g, name, &TranslateOptions::default());
            if let Err(e) = check(&t) {
                return Err(TestCaseError::fail(format!("node {name}: {e}")));
            }
        }
        let t = translate_virtual_gateway(&g, "gw", &TranslateOptions::default());
        if let Err(e) = check(&t) {
            return Err(TestCaseError::fail(format!("gateway: {e}")));
        }
    }
}

proptest! {
    // Each case runs the real Envoy once per node: few cases, real checks
    // (duplicate filter chain matches, domains, weights, extension configs).
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    #[test]
    fn envoy_accepts_whatever_is_rendered(g in mesh()) {
        for name in g.virtual_nodes.keys() {
            let t = translate_virtual_node(&g, name, &TranslateOptions::default());
            if let Err(e) = meshplane_testsupport::envoy_check::check(&t.resources.to_xds()) {
                return Err(TestCaseError::fail(format!("node {name}: {e}")));
            }
        }
        let t = translate_virtual_gateway(&g, "gw", &TranslateOptions::default());
        if let Err(e) = meshplane_testsupport::envoy_check::check(&t.resources.to_xds()) {
            return Err(TestCaseError::fail(format!("gateway: {e}")));
        }
    }
}

/// The proxies of a mesh: its virtual nodes and its gateway.
fn proxies(g: &MeshGraph) -> Vec<(ResourceKind, String)> {
    let nodes = g
        .virtual_nodes
        .keys()
        .map(|n| (ResourceKind::VirtualNode, n.clone()));
    let gateways = g
        .virtual_gateways
        .keys()
        .map(|n| (ResourceKind::VirtualGateway, n.clone()));
    nodes.chain(gateways).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    /// `affected` (from the changes back to the proxies) answers what
    /// `affects` of each proxy's inputs answers: for the changes between two
    /// meshes, and for every single input of either mesh's proxies changed
    /// alone.
    #[test]
    fn affected_is_affects_of_the_inputs(old in mesh(), new in mesh()) {
        let mut all_changes = vec![MeshChanges::between(&old, &new)];
        for g in [&old, &new] {
            for (kind, name) in proxies(g) {
                for input in inputs(g, kind, &name) {
                    all_changes.push(MeshChanges {
                        mesh: false,
                        inputs: BTreeSet::from([input]),
                    });
                }
            }
        }
        for changes in &all_changes {
            let affected = changes.affected(&new);
            for (kind, name) in proxies(&new) {
                prop_assert_eq!(
                    affected.proxy(&new, kind, &name),
                    changes.affects(&inputs(&new, kind, &name)),
                    "{:?} {} {:?}", kind, name, changes
                );
            }
        }
    }
}
