//! Golden tests: `tests/golden/<case>/spec/*.json` (App Mesh CLI-input JSON
//! documents; a file may also hold an array of them) -> for each virtual
//! node and virtual gateway, one file per xDS type it has
//! (`<name>.listeners.json`, `.routes.json`, `.clusters.json`,
//! `.endpoints.json`, `.secrets.json`: the `meshplane render` output split,
//! so that a change shows in the files of the type it touches) and, when
//! there are findings, `<name>.diagnostics.txt`. A mismatch prints a
//! unified diff; a file no proxy produces any more fails the run.
//! `options.json` in a case sets `{"defaultRetryPolicy": false}` and the ACM
//! material meshplane holds: `{"certificates": {"<arn>": {"chain": "<pem>",
//! "key": "<pem>", "ca": "<pem>"}}}` (paths relative to the case; a CA
//! ARN has only `chain`). The secrets a translation requests over ADS are
//! built from it for the Envoy check, as the control layer builds them.
//!
//! Every rendered configuration is also validated by the real Envoy
//! (`envoy --mode validate`).
//!
//! Regenerate with `MESHPLANE_BLESS=1 cargo test -p meshplane-translate --test golden`
//! (refused when `CI` is set); outputs no case produces any more are removed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use meshplane_spec::identity::ResourceKind;
use meshplane_translate::{
    render, translate_virtual_gateway, translate_virtual_node, NeededSecret, Translation,
};
mod cases;
use cases::{case, load_case, material, Material};

const SDS_CLUSTER: &str = "static_cluster_sds_unix_socket";

/// The local SDS server's cluster, as the proxy's bootstrap defines it
/// (APPMESH_SDS_SOCKET_PATH); Envoy needs it to accept SDS references.
fn local_sds_cluster() -> envoy_types::pb::envoy::config::cluster::v3::Cluster {
    use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
    use envoy_types::pb::envoy::config::core::v3::{address, Address, Pipe};
    use envoy_types::pb::envoy::config::endpoint::v3::{
        lb_endpoint, ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints,
    };
    let endpoint = LbEndpoint {
        host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
            address: Some(Address {
                address: Some(address::Address::Pipe(Pipe {
                    path: "/run/spire/sockets/agent.sock".into(),
                    mode: 0,
                })),
            }),
            ..Default::default()
        })),
        ..Default::default()
    };
    let mut c = Cluster {
        name: SDS_CLUSTER.into(),
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Static as i32,
        )),
        load_assignment: Some(ClusterLoadAssignment {
            cluster_name: SDS_CLUSTER.into(),
            endpoints: vec![LocalityLbEndpoints {
                lb_endpoints: vec![endpoint],
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    // gRPC needs HTTP/2 to the SDS server.
    let h2 = meshplane_envoy::any_from_json(&serde_json::json!({
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config": {"http2_protocol_options": {}}
    }))
    .expect("http protocol options");
    c.typed_extension_protocol_options.insert(
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions".into(),
        h2,
    );
    c
}

/// The `Secret`s a translation requests over ADS, with inline PEM.
fn secrets(
    t: &Translation,
    material: &Material,
) -> Vec<envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret> {
    use envoy_types::pb::envoy::config::core::v3::{data_source, DataSource};
    use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
        secret, CertificateValidationContext, Secret, TlsCertificate,
    };
    let pem = |arn: &str, role: &str| -> Vec<u8> {
        let path = &material[arn][role];
        fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let inline = |bytes: Vec<u8>| DataSource {
        specifier: Some(data_source::Specifier::InlineBytes(bytes)),
        ..Default::default()
    };
    let trust = |bytes: Vec<u8>| {
        secret::Type::ValidationContext(CertificateValidationContext {
            trusted_ca: Some(inline(bytes)),
            ..Default::default()
        })
    };
    t.secrets_needed
        .iter()
        .map(|(name, needed)| {
            let ty = match needed {
                NeededSecret::Certificate { arn } => secret::Type::TlsCertificate(TlsCertificate {
                    certificate_chain: Some(inline(pem(arn, "chain"))),
                    private_key: Some(inline(pem(arn, "key"))),
                    ..Default::default()
                }),
                NeededSecret::Trust { authorities } => {
                    trust(authorities.iter().flat_map(|a| pem(a, "chain")).collect())
                }
                NeededSecret::IssuerOf { arn } => trust(pem(arn, "ca")),
            };
            Secret {
                name: name.clone(),
                r#type: Some(ty),
            }
        })
        .collect()
}

/// One proxy's outputs: a file per non-empty xDS type, the findings, and
/// the resources the real Envoy must accept.
struct Rendered {
    files: Vec<(String, String)>,
    xds: meshplane_envoy::XdsResources,
    /// Whether the proxy refers to the local SDS server's cluster.
    uses_local_sds: bool,
}

/// `<proxy>.<type>.json` for each xDS type the proxy has, and
/// `<proxy>.diagnostics.txt` when there are findings.
fn render_proxy(name: &str, t: &Translation, material: &Material) -> Rendered {
    let json = render::to_json(&t.resources).expect("render json");
    let mut files = Vec::new();
    for ty in XDS_TYPES {
        let items = &json[ty];
        if items.as_array().is_some_and(|a| !a.is_empty()) {
            let mut text = serde_json::to_string_pretty(items).expect("pretty");
            text.push('\n');
            files.push((format!("{name}.{ty}.json"), text));
        }
    }
    if !t.diagnostics.is_empty() {
        let lines: String = t.diagnostics.iter().map(|d| format!("{d}\n")).collect();
        files.push((format!("{name}.diagnostics.txt"), lines));
    }
    let mut xds = t.resources.to_xds();
    xds.secrets.extend(secrets(t, material));
    Rendered {
        files,
        xds,
        uses_local_sds: json.to_string().contains(SDS_CLUSTER),
    }
}

/// The xDS types, each golden file's suffix (`render::to_json`'s keys).
const XDS_TYPES: [&str; 5] = ["listeners", "routes", "clusters", "endpoints", "secrets"];

/// Every proxy of one case, by name.
fn render_case(dir: &Path) -> Vec<(String, Rendered)> {
    let (model, opts) = load_case(dir);
    let material = material(dir);
    let mut out = Vec::new();
    for graph in model.meshes.values() {
        for node in graph.virtual_nodes.keys() {
            let t = translate_virtual_node(graph, node, &opts);
            out.push((node.clone(), render_proxy(node, &t, &material)));
        }
        for gateway in graph.virtual_gateways.keys() {
            let t = translate_virtual_gateway(graph, gateway, &opts);
            out.push((gateway.clone(), render_proxy(gateway, &t, &material)));
        }
    }
    out
}

/// `MESHPLANE_BLESS=1` rewrites the goldens (every golden harness of the
/// workspace reads this one variable); refused under CI, where a golden
/// must be what a reviewer accepted, not what the code produced.
fn bless() -> bool {
    let bless = std::env::var_os("MESHPLANE_BLESS").is_some_and(|v| v == "1");
    assert!(
        !(bless && std::env::var_os("CI").is_some()),
        "MESHPLANE_BLESS=1 is refused when CI is set: goldens change in a reviewed commit, never in CI"
    );
    bless
}

/// A unified diff from the golden to the rendered text.
fn unified_diff(name: &str, expected: &str, actual: &str) -> String {
    similar::TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(&format!("golden {name}"), &format!("rendered {name}"))
        .to_string()
}

#[test]
fn golden() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let bless = bless();
    let mut cases: Vec<PathBuf> = fs::read_dir(&root)
        .expect("golden dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        !cases.is_empty(),
        "no golden cases under {}",
        root.display()
    );
    let mut failures = Vec::new();
    let mut to_validate = Vec::new();
    for case in &cases {
        let case_name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let proxies = render_case(case);
        let produced: BTreeSet<&str> = proxies
            .iter()
            .flat_map(|(_, r)| r.files.iter().map(|(n, _)| n.as_str()))
            .collect();
        for entry in fs::read_dir(case).expect("case dir") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            if path.is_dir() || name == "options.json" || produced.contains(name.as_str()) {
                continue;
            }
            if bless {
                fs::remove_file(&path).expect("remove stale output");
            } else {
                failures.push(format!(
                    "{case_name}/{name}: stale golden file (no proxy of the case produces it; MESHPLANE_BLESS=1 removes it)"
                ));
            }
        }
        for (proxy, rendered) in proxies {
            for (name, text) in &rendered.files {
                let path = case.join(name);
                if bless {
                    fs::write(&path, text).expect("write golden");
                    continue;
                }
                match fs::read_to_string(&path) {
                    Ok(expected) if &expected == text => {}
                    Ok(expected) => failures.push(format!(
                        "{case_name}/{name}: differs from the rendered output:\n{}",
                        unified_diff(&format!("{case_name}/{name}"), &expected, text)
                    )),
                    Err(_) => failures.push(format!("{case_name}/{name}: missing")),
                }
            }
            let mut xds = rendered.xds;
            if rendered.uses_local_sds {
                xds.clusters.push(local_sds_cluster());
            }
            to_validate.push((format!("{case_name}/{proxy}"), xds));
        }
    }
    // The real Envoy accepts every rendered configuration (two at a time).
    let chunks: Vec<_> = to_validate
        .chunks(to_validate.len().div_ceil(2).max(1))
        .collect();
    let envoy_failures: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|(name, xds)| {
                            meshplane_testsupport::envoy_check::check(xds)
                                .err()
                                .map(|e| format!("{name}: Envoy rejects it: {e}"))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("validator thread"))
            .collect()
    });
    failures.extend(envoy_failures);
    assert!(
        failures.is_empty(),
        "golden failures (regenerate with MESHPLANE_BLESS=1 cargo test -p meshplane-translate --test golden):\n{}",
        failures.join("\n")
    );
}

/// The Envoy check is real: a configuration whose routes name clusters that
/// do not exist is refused.
#[test]
fn envoy_refuses_routes_to_missing_clusters() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/apps");
    let (model, opts) = load_case(&dir);
    let graph = model.mesh("apps").expect("apps mesh");
    let t = translate_virtual_node(graph, "serviceA", &opts);
    let mut xds = t.resources.to_xds();
    assert!(meshplane_testsupport::envoy_check::check(&xds).is_ok());
    xds.clusters
        .retain(|c| !c.name.starts_with("cds_egress_apps_serviceB"));
    let err = meshplane_testsupport::envoy_check::check(&xds).expect_err("Envoy must refuse");
    assert!(
        err.to_string().contains("cds_egress_apps_serviceB"),
        "{err}"
    );
}

#[test]
fn provenance_names_the_app_mesh_resources_of_every_envoy_resource() {
    use meshplane_translate::ResourceType;
    let (model, opts) = case("apps");
    let graph = model.mesh("apps").expect("mesh");
    let t = translate_virtual_node(graph, "serviceA", &opts);
    // Every emitted resource has provenance, and nothing else has.
    let emitted: BTreeSet<(ResourceType, String)> = t
        .resources
        .names()
        .into_iter()
        .map(|(ty, n)| (ty, n.to_owned()))
        .collect();
    let noted: BTreeSet<(ResourceType, String)> = t.provenance.keys().cloned().collect();
    assert_eq!(emitted, noted);
    let id = |kind, name: &str| graph.id(kind, name);
    let routes = &t.provenance[&(ResourceType::Route, "rds_egress_http2_80".to_owned())];
    for expected in [
        id(ResourceKind::VirtualNode, "serviceA"),
        id(ResourceKind::VirtualService, "serviceb.apps.local"),
        id(ResourceKind::VirtualRouter, "serviceB"),
        graph.child_id(ResourceKind::Route, "serviceB", "serviceB"),
    ] {
        assert!(
            routes.contains(&expected),
            "{expected:?} missing from {routes:?}"
        );
    }
    assert_eq!(
        t.provenance[&(
            ResourceType::Cluster,
            "cds_egress_apps_serviceBv2_http2_80".to_owned()
        )],
        vec![id(ResourceKind::VirtualNode, "serviceBv2")]
    );
}

#[test]
fn cloud_map_clusters_expose_their_query_and_an_empty_assignment() {
    use meshplane_spec::common::IpPreference;
    let (model, opts) = case("cloud-map");
    let graph = model.mesh("cm").expect("mesh");
    let t = translate_virtual_node(graph, "frontend", &opts);
    let name = "cds_egress_cm_orders_http_8080";
    let q = &t.cloud_map[name];
    assert_eq!(
        (q.namespace_name.as_str(), q.service_name.as_str(), q.port),
        ("cm.local", "orders", 8080)
    );
    assert_eq!(
        q.attributes,
        vec![
            ("ECS_TASK_DEFINITION_FAMILY".to_owned(), "orders".to_owned()),
            ("stage".to_owned(), "prod".to_owned())
        ]
    );
    assert_eq!(q.ip_preference, Some(IpPreference::Ipv6Preferred));
    assert_eq!(
        q.virtual_node,
        graph.id(ResourceKind::VirtualNode, "orders")
    );
    let cla: Vec<_> = t
        .resources
        .endpoints
        .iter()
        .map(|e| (e.cluster_name.as_str(), e.endpoints.len()))
        .collect();
    assert_eq!(cla, vec![(name, 0)]);
}

#[test]
fn translation_is_deterministic_and_sorted() {
    for name in ["matches", "tcp-allow-all", "diagnostics"] {
        let (model, opts) = case(name);
        for graph in model.meshes.values() {
            for node in graph.virtual_nodes.keys() {
                let a = translate_virtual_node(graph, node, &opts);
                let b = translate_virtual_node(graph, node, &opts);
                assert_eq!(a, b);
                let names: Vec<&str> = a
                    .resources
                    .clusters
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect();
                let mut sorted = names.clone();
                sorted.sort_unstable();
                assert_eq!(names, sorted);
            }
        }
    }
}

#[test]
fn an_unknown_node_is_an_error_and_renders_nothing() {
    let (model, opts) = case("apps");
    let t = translate_virtual_node(model.mesh("apps").expect("mesh"), "ghost", &opts);
    assert_eq!(t.resources, meshplane_translate::ProxyResources::default());
    assert_eq!(t.diagnostics.len(), 1);
    assert_eq!(t.diagnostics[0].rule, "translate.node.missing");
    assert_eq!(
        t.diagnostics[0].resource.as_deref(),
        Some("arn:aws:appmesh:us-east-1:000000000000:mesh/apps/virtualNode/ghost")
    );
}

#[test]
fn an_unknown_gateway_is_an_error_and_renders_nothing() {
    let (model, opts) = case("gateway-http");
    let t = translate_virtual_gateway(model.mesh("gw").expect("mesh"), "ghost", &opts);
    assert_eq!(t.resources, meshplane_translate::ProxyResources::default());
    assert_eq!(t.diagnostics.len(), 1);
    assert_eq!(t.diagnostics[0].rule, "translate.gateway.missing");
    assert_eq!(
        t.diagnostics[0].resource.as_deref(),
        Some("arn:aws:appmesh:us-east-1:000000000000:mesh/gw/virtualGateway/ghost")
    );
}

#[test]
fn gateway_provenance_names_its_gateway_routes_and_services() {
    use meshplane_translate::ResourceType;
    let (model, opts) = case("gateway-http");
    let graph = model.mesh("gw").expect("mesh");
    let t = translate_virtual_gateway(graph, "ingress-gw", &opts);
    assert_eq!(t, translate_virtual_gateway(graph, "ingress-gw", &opts));
    let emitted: BTreeSet<(ResourceType, String)> = t
        .resources
        .names()
        .into_iter()
        .map(|(ty, n)| (ty, n.to_owned()))
        .collect();
    let noted: BTreeSet<(ResourceType, String)> = t.provenance.keys().cloned().collect();
    assert_eq!(emitted, noted);
    let ingress = &t.provenance[&(ResourceType::Route, "rds_ingress_http_8088".to_owned())];
    assert!(ingress.contains(&graph.child_id(ResourceKind::GatewayRoute, "ingress-gw", "web")));
    let egress = &t.provenance[&(ResourceType::Route, "rds_egress_http_15001".to_owned())];
    assert!(egress.contains(&graph.id(ResourceKind::VirtualService, "api.gw.local")));
    assert!(egress.contains(&graph.child_id(ResourceKind::Route, "api", "split")));
}
