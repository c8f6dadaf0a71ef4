//! proptest strategies for App Mesh specs and whole mesh models.
//!
//! Reusable from any test crate:
//! `#[path = "../../meshplane-load/tests/support/arbitrary_mesh.rs"] mod arbitrary_mesh;`
//! Every optional field is sometimes set and sometimes not; strings include
//! ones that look like numbers, booleans or YAML syntax.
#![allow(dead_code)]

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::option::of as opt;
use proptest::prelude::*;

use meshplane_spec::common::*;
use meshplane_spec::gateway_route::*;
use meshplane_spec::mesh::*;
use meshplane_spec::route::*;
use meshplane_spec::tls::*;
use meshplane_spec::virtual_gateway::*;
use meshplane_spec::virtual_node::*;
use meshplane_spec::virtual_router::*;
use meshplane_spec::virtual_service::*;
use meshplane_spec::{MeshGraph, MeshModel};

/// Resource names: short, sometimes numeric-looking (`80`, `1e5`, `true`).
pub fn name() -> BoxedStrategy<String> {
    name_unboxed().boxed()
}

fn name_unboxed() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z][A-Za-z0-9._-]{0,10}",
        1 => "[0-9][0-9a-z.]{0,4}",
        1 => Just("true".to_owned()),
        1 => Just("null".to_owned()),
    ]
}

/// Free text: anything printable, YAML punctuation, empty.
pub fn text() -> BoxedStrategy<String> {
    text_unboxed().boxed()
}

fn text_unboxed() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z/._-]{0,12}",
        1 => "\\PC{0,12}",
        1 => Just("a: b # c".to_owned()),
        1 => Just("- x\n  y".to_owned()),
        1 => Just("".to_owned()),
        1 => Just("'\"\\".to_owned()),
        1 => Just("\u{85}\u{2028}\t x\r\n".to_owned()),
        1 => Just(" lead and trail ".to_owned()),
    ]
}

pub fn int() -> BoxedStrategy<i64> {
    int_unboxed().boxed()
}

fn int_unboxed() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 0i64..70_000, 1 => any::<i64>()]
}

pub fn protocol() -> BoxedStrategy<Protocol> {
    protocol_unboxed().boxed()
}

fn protocol_unboxed() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Http),
        Just(Protocol::Http2),
        Just(Protocol::Grpc),
        Just(Protocol::Tcp)
    ]
}

pub fn port_mapping() -> BoxedStrategy<PortMapping> {
    port_mapping_unboxed().boxed()
}

fn port_mapping_unboxed() -> impl Strategy<Value = PortMapping> {
    (int(), protocol()).prop_map(|(port, protocol)| PortMapping { port, protocol })
}

pub fn duration() -> BoxedStrategy<Duration> {
    duration_unboxed().boxed()
}

fn duration_unboxed() -> impl Strategy<Value = Duration> {
    (
        opt(prop_oneof![Just(DurationUnit::S), Just(DurationUnit::Ms)]),
        opt(int()),
    )
        .prop_map(|(unit, value)| Duration { unit, value })
}

pub fn ip_preference() -> BoxedStrategy<IpPreference> {
    ip_preference_unboxed().boxed()
}

fn ip_preference_unboxed() -> impl Strategy<Value = IpPreference> {
    prop_oneof![
        Just(IpPreference::Ipv4Only),
        Just(IpPreference::Ipv6Only),
        Just(IpPreference::Ipv4Preferred),
        Just(IpPreference::Ipv6Preferred)
    ]
}

pub fn header_match() -> BoxedStrategy<HeaderMatch> {
    header_match_unboxed().boxed()
}

fn header_match_unboxed() -> impl Strategy<Value = HeaderMatch> {
    let method = (
        opt(text()),
        opt(text()),
        opt((int(), int())),
        opt(text()),
        opt(text()),
    )
        .prop_map(|(exact, prefix, range, regex, suffix)| HeaderMatchMethod {
            exact,
            prefix,
            range: range.map(|(start, end)| MatchRange { start, end }),
            regex,
            suffix,
        });
    (opt(any::<bool>()), opt(method), text()).prop_map(|(invert, match_, name)| HeaderMatch {
        invert,
        match_,
        name,
    })
}

pub fn http_timeout() -> BoxedStrategy<HttpTimeout> {
    http_timeout_unboxed().boxed()
}

fn http_timeout_unboxed() -> impl Strategy<Value = HttpTimeout> {
    (opt(duration()), opt(duration()))
        .prop_map(|(idle, per_request)| HttpTimeout { idle, per_request })
}

pub fn logging() -> BoxedStrategy<Logging> {
    logging_unboxed().boxed()
}

fn logging_unboxed() -> impl Strategy<Value = Logging> {
    let format =
        (opt(vec((text(), text()), 0..2)), opt(text())).prop_map(|(json, text)| LoggingFormat {
            json: json.map(|j| {
                j.into_iter()
                    .map(|(key, value)| JsonFormatRef { key, value })
                    .collect()
            }),
            text,
        });
    opt((opt(format), text())).prop_map(|file| Logging {
        access_log: Some(AccessLog {
            file: file.map(|(format, path)| FileAccessLog { format, path }),
        }),
    })
}

pub fn health_check() -> BoxedStrategy<HealthCheckPolicy> {
    health_check_unboxed().boxed()
}

fn health_check_unboxed() -> impl Strategy<Value = HealthCheckPolicy> {
    (
        int(),
        int(),
        opt(text()),
        opt(int()),
        protocol(),
        int(),
        int(),
    )
        .prop_map(
            |(
                healthy_threshold,
                interval_millis,
                path,
                port,
                protocol,
                timeout_millis,
                unhealthy_threshold,
            )| {
                HealthCheckPolicy {
                    healthy_threshold,
                    interval_millis,
                    path,
                    port,
                    protocol,
                    timeout_millis,
                    unhealthy_threshold,
                }
            },
        )
}

pub fn connection_pool() -> BoxedStrategy<ConnectionPool> {
    connection_pool_unboxed().boxed()
}

fn connection_pool_unboxed() -> impl Strategy<Value = ConnectionPool> {
    (opt(int()), opt((int(), opt(int()))), opt(int()), opt(int())).prop_map(
        |(grpc, http, http2, tcp)| ConnectionPool {
            grpc: grpc.map(|max_requests| RequestsPool { max_requests }),
            http: http.map(
                |(max_connections, max_pending_requests)| HttpConnectionPool {
                    max_connections,
                    max_pending_requests,
                },
            ),
            http2: http2.map(|max_requests| RequestsPool { max_requests }),
            tcp: tcp.map(|max_connections| TcpConnectionPool { max_connections }),
        },
    )
}

pub fn tls_certificate() -> BoxedStrategy<TlsCertificate> {
    tls_certificate_unboxed().boxed()
}

fn tls_certificate_unboxed() -> impl Strategy<Value = TlsCertificate> {
    (opt(text()), opt((text(), text())), opt(text())).prop_map(|(acm, file, sds)| TlsCertificate {
        acm: acm.map(|certificate_arn| AcmCertificate { certificate_arn }),
        file: file.map(|(certificate_chain, private_key)| FileCertificate {
            certificate_chain,
            private_key,
        }),
        sds: sds.map(|secret_name| SdsSecret { secret_name }),
    })
}

pub fn validation() -> BoxedStrategy<TlsValidationContext> {
    validation_unboxed().boxed()
}

fn validation_unboxed() -> impl Strategy<Value = TlsValidationContext> {
    (
        opt(vec(text(), 0..3)),
        opt(vec(text(), 0..2)),
        opt(text()),
        opt(text()),
    )
        .prop_map(|(sans, acm, file, sds)| TlsValidationContext {
            subject_alternative_names: sans.map(|exact| SubjectAlternativeNames {
                match_: SubjectAlternativeNameMatchers { exact },
            }),
            trust: TlsTrust {
                acm: acm.map(|certificate_authority_arns| AcmTrust {
                    certificate_authority_arns,
                }),
                file: file.map(|certificate_chain| FileTrust { certificate_chain }),
                sds: sds.map(|secret_name| SdsSecret { secret_name }),
            },
        })
}

pub fn listener_tls() -> BoxedStrategy<ListenerTls> {
    listener_tls_unboxed().boxed()
}

fn listener_tls_unboxed() -> impl Strategy<Value = ListenerTls> {
    let mode = prop_oneof![
        Just(TlsMode::Strict),
        Just(TlsMode::Permissive),
        Just(TlsMode::Disabled)
    ];
    (tls_certificate(), mode, opt(validation())).prop_map(|(certificate, mode, validation)| {
        ListenerTls {
            certificate,
            mode,
            validation,
        }
    })
}

pub fn client_policy() -> BoxedStrategy<ClientPolicy> {
    client_policy_unboxed().boxed()
}

fn client_policy_unboxed() -> impl Strategy<Value = ClientPolicy> {
    opt((
        opt(tls_certificate()),
        opt(any::<bool>()),
        opt(vec(int(), 0..3)),
        validation(),
    ))
    .prop_map(|tls| ClientPolicy {
        tls: tls.map(
            |(certificate, enforce, ports, validation)| ClientPolicyTls {
                certificate,
                enforce,
                ports,
                validation,
            },
        ),
    })
}

pub fn virtual_node() -> BoxedStrategy<VirtualNodeSpec> {
    virtual_node_unboxed().boxed()
}

fn virtual_node_unboxed() -> impl Strategy<Value = VirtualNodeSpec> {
    let listener = (
        opt(connection_pool()),
        opt(health_check()),
        opt((duration(), duration(), int(), int())),
        port_mapping(),
        opt((
            opt(http_timeout()),
            opt(http_timeout()),
            opt(opt(duration())),
        )),
        opt(listener_tls()),
    )
        .prop_map(
            |(connection_pool, health_check, outlier, port_mapping, timeout, tls)| Listener {
                connection_pool,
                health_check,
                outlier_detection: outlier.map(
                    |(
                        base_ejection_duration,
                        interval,
                        max_ejection_percent,
                        max_server_errors,
                    )| {
                        OutlierDetection {
                            base_ejection_duration,
                            interval,
                            max_ejection_percent,
                            max_server_errors,
                        }
                    },
                ),
                port_mapping,
                timeout: timeout.map(|(http, grpc, tcp)| ListenerTimeout {
                    grpc,
                    http,
                    http2: None,
                    tcp: tcp.map(|idle| TcpTimeout { idle }),
                }),
                tls,
            },
        );
    let backend =
        (opt(client_policy()), name()).prop_map(|(client_policy, virtual_service_name)| Backend {
            virtual_service: Some(VirtualServiceBackend {
                client_policy,
                virtual_service_name,
            }),
        });
    let dns = (
        text(),
        opt(ip_preference()),
        opt(prop_oneof![
            Just(DnsResponseType::LoadBalancer),
            Just(DnsResponseType::Endpoints)
        ]),
    )
        .prop_map(
            |(hostname, ip_preference, response_type)| DnsServiceDiscovery {
                hostname,
                ip_preference,
                response_type,
            },
        );
    let cloud_map = (
        opt(vec((text(), text()), 0..2)),
        opt(ip_preference()),
        text(),
        text(),
    )
        .prop_map(
            |(attributes, ip_preference, namespace_name, service_name)| {
                AwsCloudMapServiceDiscovery {
                    attributes: attributes.map(|a| {
                        a.into_iter()
                            .map(|(key, value)| AwsCloudMapInstanceAttribute { key, value })
                            .collect()
                    }),
                    ip_preference,
                    namespace_name,
                    service_name,
                }
            },
        );
    let discovery = (opt(cloud_map), opt(dns))
        .prop_map(|(aws_cloud_map, dns)| ServiceDiscovery { aws_cloud_map, dns });
    (
        opt(client_policy()),
        opt(vec(backend, 0..3)),
        opt(vec(listener, 0..3)),
        opt(logging()),
        opt(discovery),
    )
        .prop_map(
            |(client_policy, backends, listeners, logging, service_discovery)| VirtualNodeSpec {
                backend_defaults: client_policy.map(|c| BackendDefaults {
                    client_policy: Some(c),
                }),
                backends,
                listeners,
                logging,
                service_discovery,
            },
        )
}

pub fn virtual_service() -> BoxedStrategy<VirtualServiceSpec> {
    virtual_service_unboxed().boxed()
}

fn virtual_service_unboxed() -> impl Strategy<Value = VirtualServiceSpec> {
    opt((opt(name()), opt(name()))).prop_map(|p| VirtualServiceSpec {
        provider: p.map(|(node, router)| VirtualServiceProvider {
            virtual_node: node
                .map(|virtual_node_name| VirtualNodeServiceProvider { virtual_node_name }),
            virtual_router: router.map(|virtual_router_name| VirtualRouterServiceProvider {
                virtual_router_name,
            }),
        }),
    })
}

pub fn virtual_router() -> BoxedStrategy<VirtualRouterSpec> {
    virtual_router_unboxed().boxed()
}

fn virtual_router_unboxed() -> impl Strategy<Value = VirtualRouterSpec> {
    opt(vec(port_mapping(), 0..3)).prop_map(|l| VirtualRouterSpec {
        listeners: l.map(|l| {
            l.into_iter()
                .map(|port_mapping| VirtualRouterListener { port_mapping })
                .collect()
        }),
    })
}

fn action() -> BoxedStrategy<RouteAction> {
    action_unboxed().boxed()
}

fn action_unboxed() -> impl Strategy<Value = RouteAction> {
    vec((opt(int()), name(), int()), 0..3).prop_map(|t| RouteAction {
        weighted_targets: t
            .into_iter()
            .map(|(port, virtual_node, weight)| WeightedTarget {
                port,
                virtual_node,
                weight,
            })
            .collect(),
    })
}

fn http_route() -> BoxedStrategy<HttpRoute> {
    http_route_unboxed().boxed()
}

fn http_route_unboxed() -> impl Strategy<Value = HttpRoute> {
    let method = prop_oneof![
        Just(HttpMethod::GET),
        Just(HttpMethod::POST),
        Just(HttpMethod::PATCH)
    ];
    let scheme = prop_oneof![Just(HttpScheme::Http), Just(HttpScheme::Https)];
    let query = (opt(text()), text()).prop_map(|(exact, name)| HttpQueryParameter {
        match_: exact.map(|e| QueryParameterMatch { exact: Some(e) }),
        name,
    });
    let matcher = (
        opt(vec(header_match(), 0..2)),
        opt(method),
        opt((opt(text()), opt(text()))),
        opt(int()),
        opt(text()),
        opt(vec(query, 0..2)),
        opt(scheme),
    )
        .prop_map(
            |(headers, method, path, port, prefix, query_parameters, scheme)| HttpRouteMatch {
                headers,
                method,
                path: path.map(|(exact, regex)| HttpPathMatch { exact, regex }),
                port,
                prefix,
                query_parameters,
                scheme,
            },
        );
    let retry = (
        opt(vec(text(), 0..2)),
        int(),
        duration(),
        opt(vec(Just(TcpRetryEvent::ConnectionError), 0..2)),
    )
        .prop_map(
            |(http_retry_events, max_retries, per_retry_timeout, tcp_retry_events)| {
                HttpRetryPolicy {
                    http_retry_events,
                    max_retries,
                    per_retry_timeout,
                    tcp_retry_events,
                }
            },
        );
    (action(), matcher, opt(retry), opt(http_timeout())).prop_map(
        |(action, match_, retry_policy, timeout)| HttpRoute {
            action,
            match_,
            retry_policy,
            timeout,
        },
    )
}

pub fn route() -> BoxedStrategy<RouteSpec> {
    route_unboxed().boxed()
}

fn route_unboxed() -> impl Strategy<Value = RouteSpec> {
    let grpc = (
        action(),
        opt(vec(header_match(), 0..2)),
        opt(text()),
        opt(int()),
        opt(text()),
    )
        .prop_map(
            |(action, metadata, method_name, port, service_name)| GrpcRoute {
                action,
                match_: GrpcRouteMatch {
                    metadata,
                    method_name,
                    port,
                    service_name,
                },
                retry_policy: None,
                timeout: None,
            },
        );
    let tcp = (action(), opt(opt(int())), opt(opt(duration()))).prop_map(|(action, port, idle)| {
        TcpRoute {
            action,
            match_: port.map(|port| TcpRouteMatch { port }),
            timeout: idle.map(|idle| TcpTimeout { idle }),
        }
    });
    (
        opt(grpc),
        opt(http_route()),
        opt(http_route()),
        opt(int()),
        opt(tcp),
    )
        .prop_map(
            |(grpc_route, http2_route, http_route, priority, tcp_route)| RouteSpec {
                grpc_route,
                http2_route,
                http_route,
                priority,
                tcp_route,
            },
        )
}

pub fn virtual_gateway() -> BoxedStrategy<VirtualGatewaySpec> {
    virtual_gateway_unboxed().boxed()
}

fn virtual_gateway_unboxed() -> impl Strategy<Value = VirtualGatewaySpec> {
    let listener = (
        opt(connection_pool()),
        opt(health_check()),
        port_mapping(),
        opt(listener_tls()),
    )
        .prop_map(|(connection_pool, health_check, port_mapping, tls)| {
            VirtualGatewayListener {
                connection_pool,
                health_check,
                port_mapping,
                tls,
            }
        });
    (
        opt(client_policy()),
        opt(vec(listener, 0..2)),
        opt(logging()),
    )
        .prop_map(|(policy, listeners, logging)| VirtualGatewaySpec {
            backend_defaults: policy.map(|p| BackendDefaults {
                client_policy: Some(p),
            }),
            listeners,
            logging,
        })
}

pub fn gateway_route() -> BoxedStrategy<GatewayRouteSpec> {
    gateway_route_unboxed().boxed()
}

fn gateway_route_unboxed() -> impl Strategy<Value = GatewayRouteSpec> {
    let rewrite_kind = || {
        prop_oneof![
            Just(DefaultRewrite::Enabled),
            Just(DefaultRewrite::Disabled)
        ]
    };
    let hostname_match = || {
        (opt(text()), opt(text()))
            .prop_map(|(exact, suffix)| GatewayRouteHostnameMatch { exact, suffix })
    };
    let target = || {
        (opt(int()), name()).prop_map(|(port, virtual_service_name)| GatewayRouteTarget {
            port,
            virtual_service: GatewayRouteVirtualService {
                virtual_service_name,
            },
        })
    };
    let http = || {
        (
            target(),
            opt((
                opt(rewrite_kind()),
                opt(opt(text())),
                opt((opt(rewrite_kind()), opt(text()))),
            )),
            opt(vec(header_match(), 0..2)),
            opt(hostname_match()),
            opt(text()),
            opt(int()),
        )
            .prop_map(|(target, rewrite, headers, hostname, prefix, port)| {
                HttpGatewayRoute {
                    action: HttpGatewayRouteAction {
                        rewrite: rewrite.map(|(host, path, prefix)| HttpGatewayRouteRewrite {
                            hostname: host.map(|d| GatewayRouteHostnameRewrite {
                                default_target_hostname: Some(d),
                            }),
                            path: path.map(|exact| HttpGatewayRoutePathRewrite { exact }),
                            prefix: prefix.map(|(default_prefix, value)| {
                                HttpGatewayRoutePrefixRewrite {
                                    default_prefix,
                                    value,
                                }
                            }),
                        }),
                        target,
                    },
                    match_: HttpGatewayRouteMatch {
                        headers,
                        hostname,
                        method: None,
                        path: None,
                        port,
                        prefix,
                        query_parameters: None,
                    },
                }
            })
    };
    let grpc = (
        target(),
        opt(rewrite_kind()),
        opt(hostname_match()),
        opt(text()),
    )
        .prop_map(
            |(target, rewrite, hostname, service_name)| GrpcGatewayRoute {
                action: GrpcGatewayRouteAction {
                    rewrite: rewrite.map(|d| GrpcGatewayRouteRewrite {
                        hostname: Some(GatewayRouteHostnameRewrite {
                            default_target_hostname: Some(d),
                        }),
                    }),
                    target,
                },
                match_: GrpcGatewayRouteMatch {
                    hostname,
                    metadata: None,
                    port: None,
                    service_name,
                },
            },
        );
    (opt(grpc), opt(http()), opt(http()), opt(int())).prop_map(
        |(grpc_route, http2_route, http_route, priority)| GatewayRouteSpec {
            grpc_route,
            http2_route,
            http_route,
            priority,
        },
    )
}

pub fn mesh_spec() -> BoxedStrategy<MeshSpec> {
    mesh_spec_unboxed().boxed()
}

fn mesh_spec_unboxed() -> impl Strategy<Value = MeshSpec> {
    let filter = prop_oneof![
        Just(EgressFilterType::AllowAll),
        Just(EgressFilterType::DropAll)
    ];
    (opt(filter), opt(opt(ip_preference()))).prop_map(|(filter, discovery)| MeshSpec {
        egress_filter: filter.map(|type_| EgressFilter { type_ }),
        service_discovery: discovery.map(|ip_preference| MeshServiceDiscovery { ip_preference }),
    })
}

/// One mesh with up to `n` resources of each kind.
pub fn mesh_graph(mesh: String, n: usize) -> BoxedStrategy<MeshGraph> {
    mesh_graph_unboxed(mesh, n).boxed()
}

fn mesh_graph_unboxed(mesh: String, n: usize) -> impl Strategy<Value = MeshGraph> {
    let owner = prop_oneof![
        Just("111122223333".to_owned()),
        Just("000000000000".to_owned()),
        "[0-9]{12}"
    ];
    (
        owner,
        opt(mesh_spec()),
        btree_map(name(), virtual_service(), 0..=n),
        btree_map(name(), virtual_node(), 0..=n),
        btree_map(name(), virtual_router(), 0..=n),
        btree_map((name(), name()), route(), 0..=n),
        btree_map(name(), virtual_gateway(), 0..=n),
        btree_map((name(), name()), gateway_route(), 0..=n),
    )
        .prop_map(move |(owner, spec, vs, vn, vr, routes, vg, grs)| {
            let empty = vs.is_empty()
                && vn.is_empty()
                && vr.is_empty()
                && routes.is_empty()
                && vg.is_empty()
                && grs.is_empty();
            MeshGraph {
                name: mesh.clone(),
                owner,
                // A mesh with nothing in it exists only through its spec.
                spec: if empty {
                    Some(spec.unwrap_or_default())
                } else {
                    spec
                },
                virtual_services: arcs(vs),
                virtual_nodes: arcs(vn),
                virtual_routers: arcs(vr),
                routes: arcs(routes),
                virtual_gateways: arcs(vg),
                gateway_routes: arcs(grs),
            }
        })
}

/// A model of one to three meshes with a few resources of each kind.
pub fn mesh_model() -> BoxedStrategy<MeshModel> {
    mesh_model_unboxed().boxed()
}

fn mesh_model_unboxed() -> impl Strategy<Value = MeshModel> {
    proptest::collection::btree_set(name(), 1..=3)
        .prop_flat_map(|names| {
            names
                .into_iter()
                .map(|n| mesh_graph(n, 3))
                .collect::<Vec<_>>()
        })
        .prop_map(|graphs| MeshModel {
            meshes: graphs
                .into_iter()
                .map(|g| (g.name.clone(), g))
                .collect::<BTreeMap<_, _>>(),
        })
}

/// The model holds each spec behind an `Arc`.
fn arcs<K: Ord, V>(m: BTreeMap<K, V>) -> BTreeMap<K, std::sync::Arc<V>> {
    m.into_iter()
        .map(|(k, v)| (k, std::sync::Arc::new(v)))
        .collect()
}
