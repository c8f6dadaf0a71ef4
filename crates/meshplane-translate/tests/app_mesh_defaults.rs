//! The behaviours a migrating user relies on, asserted on their own so that
//! blessing a golden file cannot change them unseen: App Mesh's names and
//! ports, its route, retry, cluster and circuit-breaker defaults, the
//! aggregate-stats metadata, and the egress filter's passthrough.

use std::time::Duration as StdDuration;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::core::v3::{address, socket_address};
use envoy_types::pb::envoy::config::listener::v3::{filter, Listener};
use envoy_types::pb::envoy::config::route::v3::{route, route_action, RouteAction};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
use envoy_types::pb::envoy::extensions::filters::network::tcp_proxy::v3::{tcp_proxy, TcpProxy};
use envoy_types::pb::google::protobuf::Duration;
use meshplane_translate::{translate_virtual_node, Translation};
use prost::{Message, Name};

mod cases;

fn node(case: &str, mesh: &str, name: &str) -> Translation {
    let (model, opts) = cases::case(case);
    let graph = model.mesh(mesh).expect("mesh");
    let t = translate_virtual_node(graph, name, &opts);
    assert!(
        t.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        t.diagnostics
    );
    t
}

fn secs(d: &Option<Duration>) -> StdDuration {
    let d = d.as_ref().expect("duration set");
    StdDuration::new(d.seconds as u64, d.nanos as u32)
}

fn port(l: &Listener) -> u32 {
    let Some(address::Address::SocketAddress(a)) =
        l.address.as_ref().and_then(|a| a.address.as_ref())
    else {
        panic!("{} has no socket address", l.name)
    };
    match a.port_specifier {
        Some(socket_address::PortSpecifier::PortValue(p)) => p,
        _ => panic!("{} has no port", l.name),
    }
}

fn cluster<'a>(t: &'a Translation, name: &str) -> &'a Cluster {
    t.resources
        .clusters
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no cluster {name}"))
}

fn aggregate_stats(m: &Option<envoy_types::pb::envoy::config::core::v3::Metadata>) -> String {
    use envoy_types::pb::google::protobuf::value::Kind;
    let m = m.as_ref().expect("metadata");
    match &m.filter_metadata["aws.appmesh.aggregate_stats"].fields["config"].kind {
        Some(Kind::StringValue(s)) => s.clone(),
        other => panic!("{other:?}"),
    }
}

fn hcm_stat_prefixes(l: &Listener) -> Vec<String> {
    l.filter_chains
        .iter()
        .flat_map(|c| &c.filters)
        .filter_map(|f| match &f.config_type {
            Some(filter::ConfigType::TypedConfig(a))
                if a.type_url == HttpConnectionManager::type_url() =>
            {
                Some(
                    HttpConnectionManager::decode(a.value.as_slice())
                        .expect("hcm")
                        .stat_prefix,
                )
            }
            _ => None,
        })
        .collect()
}

#[test]
fn names_and_ports_are_app_meshs() {
    let t = node("apps", "apps", "serviceA");
    let listeners: Vec<(&str, u32)> = t
        .resources
        .listeners
        .iter()
        .map(|l| (l.name.as_str(), port(l)))
        .collect();
    assert_eq!(
        listeners,
        [
            ("lds_egress_0.0.0.0_15001", 15001),
            ("lds_ingress_0.0.0.0_15000", 15000)
        ]
    );
    for l in &t.resources.listeners {
        assert_eq!(aggregate_stats(&l.metadata), r#"{"tags":[]}"#, "{}", l.name);
        let expected = if l.name.starts_with("lds_ingress") {
            "ingress"
        } else {
            "egress"
        };
        assert!(
            hcm_stat_prefixes(l).iter().all(|p| p == expected),
            "{}: {:?}",
            l.name,
            hcm_stat_prefixes(l)
        );
    }
    let routes: Vec<&str> = t.resources.routes.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(routes, ["rds_egress_http2_80", "rds_ingress_http2_80"]);
    let clusters: Vec<&str> = t
        .resources
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        clusters,
        [
            "cds_egress_apps_amazonaws",
            "cds_egress_apps_serviceB_http2_80",
            "cds_egress_apps_serviceBv2_http2_80",
            "cds_ingress_apps_serviceA_http2_80"
        ]
    );
}

#[test]
fn cluster_defaults_are_app_meshs() {
    let t = node("apps", "apps", "serviceA");
    let egress = cluster(&t, "cds_egress_apps_serviceB_http2_80");
    assert_eq!(secs(&egress.connect_timeout), StdDuration::from_secs(1));
    assert_eq!(
        aggregate_stats(&egress.metadata),
        r#"{"tags":[{"key":"TargetVirtualNode","value":"serviceB"}]}"#
    );
    let ingress = cluster(&t, "cds_ingress_apps_serviceA_http2_80");
    assert_eq!(
        secs(&ingress.connect_timeout),
        StdDuration::from_millis(250)
    );
    for c in [egress, ingress] {
        let th = &c
            .circuit_breakers
            .as_ref()
            .expect("circuit breakers")
            .thresholds[0];
        for v in [
            &th.max_connections,
            &th.max_pending_requests,
            &th.max_requests,
            &th.max_retries,
        ] {
            assert_eq!(
                v.as_ref().map(|v| v.value),
                Some(2_147_483_647),
                "{}",
                c.name
            );
        }
    }
}

/// The `HttpProtocolOptions` of a cluster, if any.
fn http_options(
    c: &Cluster,
) -> Option<envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions> {
    use envoy_types::pb::envoy::extensions::upstreams::http::v3::HttpProtocolOptions;
    c.typed_extension_protocol_options
        .get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
        .map(|a| HttpProtocolOptions::decode(a.value.as_slice()).expect("HttpProtocolOptions"))
}

// Not App Mesh's: what meshplane adds to DNS clusters so that traffic follows
// a name whose address changes (docs/migrating-from-app-mesh.md).
#[test]
#[allow(deprecated)]
fn dns_clusters_follow_address_changes() {
    let http = node("matches", "matches", "client");
    let tcp = node("tcp-drop-all", "closed", "app");
    for c in [
        cluster(&http, "cds_egress_matches_web-v1_http_8080"),
        cluster(&http, "cds_egress_matches_h2_http2_9090"),
        cluster(&http, "cds_egress_matches_greeter_grpc_50051"),
        cluster(&tcp, "cds_egress_closed_github_tcp_443"),
    ] {
        assert_eq!(
            secs(&c.dns_refresh_rate),
            StdDuration::from_secs(5),
            "{}",
            c.name
        );
        assert!(!c.respect_dns_ttl, "{}", c.name);
        let failure = c
            .dns_failure_refresh_rate
            .as_ref()
            .expect("failure refresh");
        assert_eq!(secs(&failure.base_interval), StdDuration::from_secs(1));
        assert_eq!(secs(&failure.max_interval), StdDuration::from_secs(5));
        let keepalive = c
            .upstream_connection_options
            .as_ref()
            .and_then(|o| o.tcp_keepalive.as_ref())
            .unwrap_or_else(|| panic!("{} has no TCP keepalive", c.name));
        assert_eq!(keepalive.keepalive_time.map(|v| v.value), Some(10));
        assert_eq!(keepalive.keepalive_interval.map(|v| v.value), Some(5));
        assert_eq!(keepalive.keepalive_probes.map(|v| v.value), Some(3));
        let options = &c
            .upstream_bind_config
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no socket options", c.name))
            .socket_options;
        assert_eq!(options.len(), 1, "{}", c.name);
        // IPPROTO_TCP, TCP_USER_TIMEOUT, 10 s.
        assert_eq!((options[0].level, options[0].name), (6, 18));
        assert_eq!(
            options[0].value,
            Some(envoy_types::pb::envoy::config::core::v3::socket_option::Value::IntValue(10_000))
        );
        let common = http_options(c).and_then(|o| o.common_http_protocol_options);
        if c.name.contains("_tcp_") {
            assert_eq!(common, None, "{}: tcp_proxy has no HTTP pool", c.name);
            continue;
        }
        let common = common.unwrap_or_else(|| panic!("{} has no HTTP options", c.name));
        assert_eq!(
            secs(&common.max_connection_duration),
            StdDuration::from_secs(30)
        );
        assert_eq!(secs(&common.idle_timeout), StdDuration::from_secs(30));
    }

    // The shape App Mesh served, on request: Envoy's defaults throughout.
    let (model, mut opts) = cases::case("matches");
    opts.app_mesh_dns_clusters = true;
    let t = translate_virtual_node(model.mesh("matches").expect("mesh"), "client", &opts);
    let c = cluster(&t, "cds_egress_matches_web-v1_http_8080");
    assert_eq!(c.dns_refresh_rate, None);
    assert_eq!(c.dns_failure_refresh_rate, None);
    assert_eq!(c.upstream_connection_options, None);
    assert_eq!(c.upstream_bind_config, None);
    assert!(c.typed_extension_protocol_options.is_empty());
}

fn egress_action(t: &Translation, config: &str) -> (RouteAction, String) {
    let rc = t
        .resources
        .routes
        .iter()
        .find(|r| r.name == config)
        .expect("route config");
    let r = rc
        .virtual_hosts
        .iter()
        .flat_map(|vh| &vh.routes)
        .next()
        .expect("a route");
    let Some(route::Action::Route(a)) = &r.action else {
        panic!("not a route action")
    };
    (a.clone(), aggregate_stats(&r.metadata))
}

#[test]
fn route_defaults_are_app_meshs() {
    let t = node("apps", "apps", "serviceA");
    let (a, stats) = egress_action(&t, "rds_egress_http2_80");
    assert_eq!(secs(&a.timeout), StdDuration::from_secs(15));
    assert_eq!(
        stats,
        r#"{"tags":[{"key":"TargetVirtualService","value":"serviceb.apps.local"}]}"#
    );
    let p = a.retry_policy.expect("the default retry policy");
    let mut on: Vec<&str> = p.retry_on.split(',').collect();
    on.sort_unstable();
    assert_eq!(
        on,
        [
            "connect-failure",
            "refused-stream",
            "reset",
            "retriable-status-codes",
            "unavailable"
        ]
    );
    assert_eq!(p.num_retries.map(|n| n.value), Some(2));
    assert_eq!(p.retriable_status_codes, [503]);
    assert!(matches!(
        a.cluster_specifier,
        Some(route_action::ClusterSpecifier::WeightedClusters(_))
    ));

    let t = node("apps-no-default-retry", "apps", "serviceA");
    let (a, _) = egress_action(&t, "rds_egress_http2_80");
    assert_eq!(a.retry_policy, None, "--no-default-retry-policy");
}

/// Under ALLOW_ALL every port whose chains match on SNI (443 here) still
/// passes other connections through; the port-less chain catches the rest.
#[test]
fn allow_all_passes_through_on_443() {
    let t = node("tcp-allow-all", "external", "api");
    let egress = t
        .resources
        .listeners
        .iter()
        .find(|l| l.name == "lds_egress_0.0.0.0_15001")
        .expect("egress listener");
    let target = |port: Option<u32>, sni: &[&str]| {
        let chain = egress
            .filter_chains
            .iter()
            .find(|c| {
                let m = c.filter_chain_match.clone().unwrap_or_default();
                m.destination_port.map(|p| p.value) == port && m.server_names == sni
            })
            .unwrap_or_else(|| panic!("no chain for port {port:?} SNI {sni:?}"));
        let Some(filter::ConfigType::TypedConfig(a)) = &chain.filters[0].config_type else {
            panic!("untyped filter")
        };
        match TcpProxy::decode(a.value.as_slice())
            .expect("tcp proxy")
            .cluster_specifier
        {
            Some(tcp_proxy::ClusterSpecifier::Cluster(c)) => c,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        target(Some(443), &["*.amazonaws.com"]),
        "cds_egress_external_amazonaws"
    );
    assert_eq!(target(Some(443), &[]), "cds_egress_external_mesh-allow-all");
    assert_eq!(target(None, &[]), "cds_egress_external_mesh-allow-all");
}
