//! Proto3 JSON conversion of Envoy messages through the descriptor pool.

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::core::v3::{
    address, socket_address, Address, RoutingPriority, SocketAddress,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    lb_endpoint, ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints,
};
use envoy_types::pb::envoy::config::listener::v3::{filter, Filter, FilterChain, Listener};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager, HttpConnectionManager, Rds,
};
use envoy_types::pb::google::protobuf::{Any, Duration};
use envoy_types::util::pack_any;
use meshplane_envoy::{any_from_json, any_to_json, from_json, to_json, JsonError};
use serde_json::json;

fn socket(address: &str, port: u32) -> Address {
    Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: address.to_owned(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ..Default::default()
        })),
    }
}

fn static_cluster() -> Cluster {
    Cluster {
        name: "cds_ingress_mesh_node_http_8080".to_owned(),
        connect_timeout: Some(Duration {
            seconds: 0,
            nanos: 250_000_000,
        }),
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Static as i32,
        )),
        load_assignment: Some(ClusterLoadAssignment {
            cluster_name: "cds_ingress_mesh_node_http_8080".to_owned(),
            endpoints: vec![LocalityLbEndpoints {
                lb_endpoints: vec![LbEndpoint {
                    host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                        address: Some(socket("127.0.0.1", 8080)),
                        ..Default::default()
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[test]
fn cluster_round_trips_with_envoy_field_names() {
    let c = static_cluster();
    let v = to_json(&c).expect("to_json");
    assert_eq!(
        v,
        json!({
            "name": "cds_ingress_mesh_node_http_8080",
            "type": "STATIC",
            "connect_timeout": "0.250s",
            "load_assignment": {
                "cluster_name": "cds_ingress_mesh_node_http_8080",
                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {
                    "socket_address": {"address": "127.0.0.1", "port_value": 8080}
                }}}]}]
            }
        })
    );
    let back: Cluster = from_json(&v).expect("from_json");
    assert_eq!(back, c);
}

fn hcm_listener() -> Listener {
    let hcm = HttpConnectionManager {
        stat_prefix: "ingress".to_owned(),
        route_specifier: Some(http_connection_manager::RouteSpecifier::Rds(Rds {
            route_config_name: "rds_ingress_http_8080".to_owned(),
            ..Default::default()
        })),
        ..Default::default()
    };
    Listener {
        name: "lds_ingress_0.0.0.0_15000".to_owned(),
        address: Some(socket("0.0.0.0", 15000)),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".to_owned(),
                config_type: Some(filter::ConfigType::TypedConfig(pack_any(hcm))),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn listener_with_hcm_any_prints_at_type_and_round_trips() {
    let l = hcm_listener();
    let v = to_json(&l).expect("to_json");
    let typed = &v["filter_chains"][0]["filters"][0]["typed_config"];
    assert_eq!(
        typed["@type"],
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    );
    assert_eq!(typed["stat_prefix"], "ingress");
    assert_eq!(typed["rds"]["route_config_name"], "rds_ingress_http_8080");
    let back: Listener = from_json(&v).expect("from_json");
    assert_eq!(back, l);

    let any = match &l.filter_chains[0].filters[0].config_type {
        Some(filter::ConfigType::TypedConfig(any)) => any.clone(),
        other => panic!("unexpected config type {other:?}"),
    };
    let any_json = any_to_json(&any).expect("any_to_json");
    assert_eq!(&any_json, typed);
    assert_eq!(any_from_json(&any_json).expect("any_from_json"), any);
}

#[test]
fn duration_uses_the_proto3_string_form() {
    let d = Duration {
        seconds: 15,
        nanos: 0,
    };
    assert_eq!(to_json(&d).expect("to_json"), json!("15s"));
    let back: Duration = from_json(&json!("1.500s")).expect("from_json");
    assert_eq!(
        back,
        Duration {
            seconds: 1,
            nanos: 500_000_000
        }
    );
    let packed = any_to_json(&pack_any(d)).expect("any_to_json");
    assert_eq!(
        packed,
        json!({"@type": "type.googleapis.com/google.protobuf.Duration", "value": "15s"})
    );
}

#[test]
fn enums_print_by_name_and_parse_by_name_or_number() {
    let c = Cluster {
        name: "c".to_owned(),
        lb_policy: cluster::LbPolicy::LeastRequest as i32,
        ..Default::default()
    };
    let v = to_json(&c).expect("to_json");
    assert_eq!(v, json!({"name": "c", "lb_policy": "LEAST_REQUEST"}));
    let by_number: Cluster = from_json(&json!({"name": "c", "lb_policy": 1})).expect("number");
    assert_eq!(by_number, c);
    // A top-level enum type from core, through a message field.
    let priority: serde_json::Value = json!({"thresholds": [{"priority": "HIGH"}]});
    let cb: envoy_types::pb::envoy::config::cluster::v3::CircuitBreakers =
        from_json(&priority).expect("circuit breakers");
    assert_eq!(cb.thresholds[0].priority, RoutingPriority::High as i32);
}

#[test]
fn bad_json_names_the_message_and_field_path() {
    let err = from_json::<Cluster>(&json!({"name": "c", "connect_timeout": "soon"}))
        .expect_err("bad duration");
    match &err {
        JsonError::Deserialize { message, path, .. } => {
            assert_eq!(message, "envoy.config.cluster.v3.Cluster");
            assert_eq!(path, "connect_timeout");
        }
        other => panic!("unexpected error {other:?}"),
    }
    let err = from_json::<Cluster>(&json!({"nmae": "c"})).expect_err("unknown field");
    assert!(err.to_string().contains("nmae"), "{err}");
}

#[test]
fn unknown_any_types_are_typed_errors() {
    let any = Any {
        type_url: "type.googleapis.com/not.a.Message".to_owned(),
        value: Vec::new(),
    };
    assert!(
        matches!(any_to_json(&any), Err(JsonError::UnknownMessage(name)) if name == "not.a.Message")
    );
    assert!(matches!(
        any_from_json(&json!({"name": "x"})),
        Err(JsonError::MissingAnyType)
    ));
    assert!(matches!(
        any_to_json(&Any {
            type_url: "nonsense".to_owned(),
            value: Vec::new()
        }),
        Err(JsonError::BadTypeUrl(_))
    ));
}

#[test]
fn map_and_struct_keys_come_out_sorted() {
    // Metadata is a map of Structs; prost-reflect keeps both in hash maps.
    let keys: Vec<String> = (0..24).map(|i| format!("key{:02}", (i * 7) % 24)).collect();
    let mut fields = serde_json::Map::new();
    for k in &keys {
        fields.insert(k.clone(), json!({"z": 1, "a": [{"y": true, "b": false}]}));
    }
    let mut filter_metadata = serde_json::Map::new();
    for k in keys.iter().rev() {
        filter_metadata.insert(format!("ns.{k}"), serde_json::Value::Object(fields.clone()));
    }
    let input = json!({"name": "c", "metadata": {"filter_metadata": filter_metadata}});
    let c: Cluster = from_json(&input).expect("from_json");
    let v = to_json(&c).expect("to_json");
    let printed = serde_json::to_string(&v).expect("print");

    let namespaces: Vec<&String> = v["metadata"]["filter_metadata"]
        .as_object()
        .expect("object")
        .keys()
        .collect();
    let mut sorted = namespaces.clone();
    sorted.sort();
    assert_eq!(namespaces, sorted);
    let inner: Vec<&String> = v["metadata"]["filter_metadata"]["ns.key05"]
        .as_object()
        .expect("object")
        .keys()
        .collect();
    let mut sorted = inner.clone();
    sorted.sort();
    assert_eq!(inner, sorted);
    assert!(
        printed.contains(r#"{"a":[{"b":false,"y":true}],"z":1}"#),
        "{printed}"
    );
    // The same message prints identically every time.
    for _ in 0..5 {
        let again: Cluster = from_json(&input).expect("from_json");
        assert_eq!(
            serde_json::to_string(&to_json(&again).expect("to_json")).expect("print"),
            printed
        );
    }
}

#[test]
fn integral_doubles_print_as_integers_like_envoy() {
    let input = json!({
        "name": "c",
        "common_lb_config": {"healthy_panic_threshold": {"value": 50}},
        "metadata": {"filter_metadata": {"m": {"whole": 3, "half": 0.5, "neg": -2}}}
    });
    let c: Cluster = from_json(&input).expect("from_json");
    let v = to_json(&c).expect("to_json");
    let printed = serde_json::to_string(&v).expect("print");
    assert!(
        printed.contains(r#""healthy_panic_threshold":{"value":50}"#),
        "{printed}"
    );
    assert!(
        printed.contains(r#"{"half":0.5,"neg":-2,"whole":3}"#),
        "{printed}"
    );
    let back: Cluster = from_json(&v).expect("from_json");
    assert_eq!(back, c);
}
