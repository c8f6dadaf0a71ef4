//! Renders every proxy of a generated mesh of 1,000 virtual nodes with 10
//! backends each and prints the time taken (goal: under 1 s on one core).
//!
//! `cargo bench -p meshplane-translate --bench render_mesh`. `cargo test`
//! runs it at a smoke size (10 nodes, one pass): those figures only show it works.

use std::time::Instant;

use meshplane_spec::common::{PortMapping, Protocol};
use meshplane_spec::route::{HttpRoute, HttpRouteMatch, RouteAction, RouteSpec, WeightedTarget};
use meshplane_spec::virtual_node::{
    Backend, DnsServiceDiscovery, Listener, ServiceDiscovery, VirtualNodeSpec,
    VirtualServiceBackend,
};
use meshplane_spec::virtual_router::{VirtualRouterListener, VirtualRouterSpec};
use meshplane_spec::virtual_service::{
    VirtualRouterServiceProvider, VirtualServiceProvider, VirtualServiceSpec,
};
use meshplane_spec::MeshGraph;
use meshplane_translate::{translate_virtual_node, TranslateOptions};

/// Virtual nodes generated: 1,000 under `cargo bench`, 10 under `cargo test`.
fn nodes() -> usize {
    if full_size() {
        1_000
    } else {
        10
    }
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary
/// too, without it: then a smoke size proves the bench still works, quickly.
fn full_size() -> bool {
    std::env::args().any(|a| a == "--bench")
}
const BACKENDS: usize = 10;

fn port(protocol: Protocol) -> PortMapping {
    PortMapping {
        port: 8080,
        protocol,
    }
}

fn mesh() -> MeshGraph {
    let mut g = MeshGraph {
        name: "bench".into(),
        owner: "000000000000".into(),
        ..MeshGraph::default()
    };
    for i in 0..nodes() {
        let backends = (1..=BACKENDS)
            .map(|k| Backend {
                virtual_service: Some(VirtualServiceBackend {
                    client_policy: None,
                    virtual_service_name: format!("svc-{}.bench.local", (i + k) % nodes()),
                }),
            })
            .collect();
        g.virtual_nodes.insert(
            format!("node-{i}"),
            VirtualNodeSpec {
                listeners: Some(vec![Listener {
                    connection_pool: None,
                    health_check: None,
                    outlier_detection: None,
                    port_mapping: port(Protocol::Http),
                    timeout: None,
                    tls: None,
                }]),
                service_discovery: Some(ServiceDiscovery {
                    dns: Some(DnsServiceDiscovery {
                        hostname: format!("node-{i}.bench.local"),
                        ip_preference: None,
                        response_type: None,
                    }),
                    aws_cloud_map: None,
                }),
                backends: Some(backends),
                ..VirtualNodeSpec::default()
            }
            .into(),
        );
        g.virtual_services.insert(
            format!("svc-{i}.bench.local"),
            VirtualServiceSpec {
                provider: Some(VirtualServiceProvider {
                    virtual_router: Some(VirtualRouterServiceProvider {
                        virtual_router_name: format!("router-{i}"),
                    }),
                    virtual_node: None,
                }),
            }
            .into(),
        );
        g.virtual_routers.insert(
            format!("router-{i}"),
            VirtualRouterSpec {
                listeners: Some(vec![VirtualRouterListener {
                    port_mapping: port(Protocol::Http),
                }]),
            }
            .into(),
        );
        let target = |n: usize, weight: i64| WeightedTarget {
            port: None,
            virtual_node: format!("node-{}", n % nodes()),
            weight,
        };
        for (name, prefix) in [("api", "/api"), ("default", "/")] {
            g.routes.insert(
                (format!("router-{i}"), name.to_owned()),
                RouteSpec {
                    http_route: Some(HttpRoute {
                        action: RouteAction {
                            weighted_targets: vec![target(i, 75), target(i + 1, 25)],
                        },
                        match_: HttpRouteMatch {
                            prefix: Some(prefix.to_owned()),
                            ..HttpRouteMatch::default()
                        },
                        retry_policy: None,
                        timeout: None,
                    }),
                    ..RouteSpec::default()
                }
                .into(),
            );
        }
    }
    g
}

fn main() {
    let graph = mesh();
    let opts = TranslateOptions::default();
    let names: Vec<String> = graph.virtual_nodes.keys().cloned().collect();
    // One warm-up pass, then the measured passes.
    let mut resources = 0usize;
    for n in &names {
        let t = translate_virtual_node(&graph, n, &opts);
        assert!(t.diagnostics.is_empty(), "{:?}", t.diagnostics);
        resources += t.resources.names().len();
    }
    let runs = if full_size() { 3 } else { 1 };
    let mut best = f64::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        for n in &names {
            std::hint::black_box(translate_virtual_node(&graph, n, &opts));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "render_mesh: {} virtual nodes x {BACKENDS} backends: {resources} Envoy resources; best of {runs}: {:.3} s total, {:.1} us per proxy (one thread)",
        nodes(),
        best,
        best * 1e6 / nodes() as f64
    );
}
