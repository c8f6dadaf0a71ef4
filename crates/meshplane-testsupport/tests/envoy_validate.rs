//! The bootstrap check against the real Envoy binary. These tests need Envoy
//! (scripts/test.sh installs it) and fail, never skip, when it is missing.

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use meshplane_envoy::from_json;
use meshplane_testsupport::envoy_check::{
    check, static_bootstrap, BootstrapError, CheckError, EnvoyError, XdsResources,
};
use serde_json::{json, Value};

fn require_envoy() {
    meshplane_testsupport::binaries::envoy();
}

fn listener() -> Value {
    json!({
        "name": "lds_ingress_0.0.0.0_15000",
        "address": {"socket_address": {"address": "0.0.0.0", "port_value": 15000}},
        "filter_chains": [{
            "filter_chain_match": {"destination_port": 8080},
            "filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    "stat_prefix": "ingress",
                    "rds": {
                        "config_source": {"ads": {}, "resource_api_version": "V3"},
                        "route_config_name": "rds_ingress_http_8080"
                    },
                    "http_filters": [{
                        "name": "envoy.filters.http.router",
                        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}
                    }]
                }
            }]
        }],
        "listener_filters": [{
            "name": "envoy.filters.listener.original_dst",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst"}
        }],
        "traffic_direction": "INBOUND"
    })
}

fn static_cluster() -> Value {
    json!({
        "name": "cds_ingress_mesh_node_http_8080",
        "type": "STATIC",
        "connect_timeout": "0.250s",
        "load_assignment": {
            "cluster_name": "cds_ingress_mesh_node_http_8080",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address":
                {"socket_address": {"address": "127.0.0.1", "port_value": 8080}}}}]}]
        }
    })
}

fn eds_cluster() -> Value {
    json!({
        "name": "cds_egress_mesh_backend_http_8080",
        "type": "EDS",
        "connect_timeout": "1s",
        "eds_cluster_config": {"eds_config": {"ads": {}, "resource_api_version": "V3"}}
    })
}

/// App Mesh's DNS service discovery; validate mode must not need a resolver.
fn dns_cluster() -> Value {
    json!({
        "name": "cds_egress_mesh_dns-backend_http_8080",
        "type": "LOGICAL_DNS",
        "connect_timeout": "1s",
        "dns_lookup_family": "V4_ONLY",
        "load_assignment": {
            "cluster_name": "cds_egress_mesh_dns-backend_http_8080",
            "endpoints": [{"lb_endpoints": [{"endpoint": {"address":
                {"socket_address": {"address": "backend.prod.svc.cluster.local.", "port_value": 8080}}}}]}]
        }
    })
}

fn load_assignment() -> Value {
    json!({
        "cluster_name": "cds_egress_mesh_backend_http_8080",
        "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": {"socket_address": {"address": "127.0.0.2", "port_value": 8080}}}},
            {"endpoint": {"address": {"socket_address": {"address": "127.0.0.3", "port_value": 8080}}}}
        ]}]
    })
}

fn route_config(second_cluster: &str) -> Value {
    json!({
        "name": "rds_ingress_http_8080",
        "virtual_hosts": [{
            "name": "backend.mesh",
            "domains": ["*"],
            "routes": [{
                "match": {"prefix": "/"},
                "route": {
                    "weighted_clusters": {"clusters": [
                        {"name": "cds_ingress_mesh_node_http_8080", "weight": 50},
                        {"name": second_cluster, "weight": 50}
                    ]},
                    "timeout": "15s",
                    "retry_policy": {
                        "retry_on": "reset,refused-stream",
                        "num_retries": 1,
                        "retry_host_predicate": [{
                            "name": "envoy.retry_host_predicates.previous_hosts",
                            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"}
                        }]
                    }
                }
            }]
        }]
    })
}

fn resources(second_cluster: &str) -> XdsResources {
    XdsResources {
        listeners: vec![from_json::<Listener>(&listener()).expect("listener JSON")],
        clusters: vec![
            from_json::<Cluster>(&static_cluster()).expect("static cluster JSON"),
            from_json::<Cluster>(&eds_cluster()).expect("EDS cluster JSON"),
            from_json::<Cluster>(&dns_cluster()).expect("DNS cluster JSON"),
        ],
        routes: vec![
            from_json::<RouteConfiguration>(&route_config(second_cluster)).expect("route JSON"),
        ],
        endpoints: vec![from_json::<ClusterLoadAssignment>(&load_assignment()).expect("CLA JSON")],
        secrets: Vec::new(),
    }
}

#[test]
fn hand_written_config_passes_envoy_validate() {
    require_envoy();
    let res = resources("cds_egress_mesh_backend_http_8080");
    let bootstrap = static_bootstrap(&res).expect("static bootstrap");

    // RDS was inlined and EDS turned into a static load assignment.
    let hcm = &bootstrap["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
        ["typed_config"];
    assert!(hcm.get("rds").is_none(), "{hcm}");
    assert_eq!(hcm["route_config"]["name"], "rds_ingress_http_8080");
    let eds = &bootstrap["static_resources"]["clusters"][1];
    assert_eq!(eds["type"], "STATIC");
    assert!(eds.get("eds_cluster_config").is_none(), "{eds}");
    assert_eq!(
        eds["load_assignment"]["endpoints"][0]["lb_endpoints"][1]["endpoint"]["address"]
            ["socket_address"]["address"],
        "127.0.0.3"
    );

    if let Err(e) = check(&res) {
        panic!("Envoy should accept the hand-written config: {e}");
    }
}

#[test]
fn envoy_rejects_a_route_to_an_unknown_cluster_with_its_own_message() {
    require_envoy();
    let res = resources("cds_egress_mesh_nowhere_http_8080");
    match check(&res) {
        Err(CheckError::Envoy(EnvoyError::Rejected { output, .. })) => {
            assert!(
                output.contains("unknown weighted cluster 'cds_egress_mesh_nowhere_http_8080'"),
                "Envoy's message should name the cluster:\n{output}"
            );
        }
        other => panic!("expected Envoy to reject the config, got {other:?}"),
    }
}

#[test]
fn missing_rds_and_eds_resources_are_reported_before_envoy_runs() {
    let mut res = resources("cds_egress_mesh_backend_http_8080");
    res.routes.clear();
    match static_bootstrap(&res) {
        Err(BootstrapError::MissingRoute { listener, route }) => {
            assert_eq!(listener, "lds_ingress_0.0.0.0_15000");
            assert_eq!(route, "rds_ingress_http_8080");
        }
        other => panic!("expected MissingRoute, got {other:?}"),
    }
    let mut res = resources("cds_egress_mesh_backend_http_8080");
    res.endpoints.clear();
    match static_bootstrap(&res) {
        Err(BootstrapError::MissingEndpoints { cluster, service }) => {
            assert_eq!(cluster, "cds_egress_mesh_backend_http_8080");
            assert_eq!(service, "cds_egress_mesh_backend_http_8080");
        }
        other => panic!("expected MissingEndpoints, got {other:?}"),
    }
}
