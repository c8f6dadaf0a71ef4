//! Envoy resources for the tests, built with envoy-types.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::core::v3::{
    address, config_source, socket_address, Address, AggregatedConfigSource, ConfigSource,
    SocketAddress,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    lb_endpoint, ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints,
};
use envoy_types::pb::envoy::config::listener::v3::{filter, Filter, FilterChain, Listener};
use envoy_types::pb::envoy::config::route::v3::{
    route, route_action, route_match, Route, RouteAction, RouteConfiguration, RouteMatch,
    VirtualHost,
};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager::RouteSpecifier, HttpConnectionManager, Rds,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
use envoy_types::pb::google::protobuf::{Any, Duration};
use meshplane_xds::{ResourceType, Snapshot, SnapshotCache};
use prost::{Message, Name};

pub fn ads() -> ConfigSource {
    ConfigSource {
        config_source_specifier: Some(config_source::ConfigSourceSpecifier::Ads(
            AggregatedConfigSource {},
        )),
        resource_api_version: 2, // V3
        // As App Mesh's image did: wait for the server, never time out.
        initial_fetch_timeout: Some(Duration {
            seconds: 0,
            nanos: 0,
        }),
        ..Default::default()
    }
}

pub fn cluster(name: &str, timeout_secs: i64) -> Cluster {
    Cluster {
        name: name.into(),
        cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Eds as i32,
        )),
        eds_cluster_config: Some(cluster::EdsClusterConfig {
            eds_config: Some(ads()),
            service_name: String::new(),
        }),
        connect_timeout: Some(Duration {
            seconds: timeout_secs,
            nanos: 0,
        }),
        ..Default::default()
    }
}

pub fn endpoints(name: &str, port: u32) -> ClusterLoadAssignment {
    let address = Address {
        address: Some(address::Address::SocketAddress(SocketAddress {
            address: "127.0.0.1".into(),
            port_specifier: Some(socket_address::PortSpecifier::PortValue(port)),
            ..Default::default()
        })),
    };
    ClusterLoadAssignment {
        cluster_name: name.into(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints: vec![LbEndpoint {
                host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                    address: Some(address),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn listener(name: &str, route_name: &str) -> Listener {
    let hcm = HttpConnectionManager {
        stat_prefix: name.into(),
        route_specifier: Some(RouteSpecifier::Rds(Rds {
            config_source: Some(ads()),
            route_config_name: route_name.into(),
        })),
        ..Default::default()
    };
    Listener {
        name: name.into(),
        filter_chains: vec![FilterChain {
            filters: vec![Filter {
                name: "envoy.filters.network.http_connection_manager".into(),
                config_type: Some(filter::ConfigType::TypedConfig(Any {
                    type_url: HttpConnectionManager::type_url(),
                    value: hcm.encode_to_vec(),
                })),
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

pub fn route(name: &str, cluster: &str) -> RouteConfiguration {
    RouteConfiguration {
        name: name.into(),
        virtual_hosts: vec![VirtualHost {
            name: name.into(),
            domains: vec!["*".into()],
            routes: vec![Route {
                r#match: Some(RouteMatch {
                    path_specifier: Some(route_match::PathSpecifier::Prefix("/".into())),
                    ..Default::default()
                }),
                action: Some(route::Action::Route(RouteAction {
                    cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(
                        cluster.into(),
                    )),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A small proxy configuration that tests edit and turn into snapshots.
#[derive(Debug, Clone, Default)]
pub struct Mesh {
    /// Cluster name -> connect timeout (seconds; change it to change the cluster).
    pub clusters: BTreeMap<String, i64>,
    /// Endpoint name -> port.
    pub endpoints: BTreeMap<String, u32>,
    /// Listener name -> route name.
    pub listeners: BTreeMap<String, String>,
    /// Route name -> cluster name.
    pub routes: BTreeMap<String, String>,
    pub secrets: BTreeSet<String>,
}

impl Mesh {
    /// Clusters a and b with endpoints, listener `ingress` routing via `rt` to a.
    pub fn basic() -> Mesh {
        let mut m = Mesh::default();
        m.add_cluster("a", 8080);
        m.add_cluster("b", 8081);
        m.listeners.insert("ingress".into(), "rt".into());
        m.routes.insert("rt".into(), "a".into());
        m
    }

    pub fn add_cluster(&mut self, name: &str, port: u32) {
        self.clusters.insert(name.into(), 1);
        self.endpoints.insert(name.into(), port);
    }

    pub fn remove_cluster(&mut self, name: &str) {
        self.clusters.remove(name);
        self.endpoints.remove(name);
    }

    pub fn snapshot(&self, cache: &SnapshotCache) -> Snapshot {
        let mut b = Snapshot::builder(cache.interner());
        for (n, t) in &self.clusters {
            b.add_message(ResourceType::Cluster, n, &cluster(n, *t))
                .unwrap();
        }
        for (n, p) in &self.endpoints {
            b.add_message(ResourceType::Endpoint, n, &endpoints(n, *p))
                .unwrap();
        }
        for (n, r) in &self.listeners {
            b.add_message(ResourceType::Listener, n, &listener(n, r))
                .unwrap();
        }
        for (n, c) in &self.routes {
            b.add_message(ResourceType::Route, n, &route(n, c)).unwrap();
        }
        for n in &self.secrets {
            b.add_message(
                ResourceType::Secret,
                n,
                &Secret {
                    name: n.clone(),
                    ..Default::default()
                },
            )
            .unwrap();
        }
        b.build()
    }
}

/// The name inside an encoded resource.
pub fn name_of(any: &Any) -> String {
    let v = any.value.as_slice();
    match ResourceType::from_type_url(&any.type_url).unwrap() {
        ResourceType::Cluster => Cluster::decode(v).unwrap().name,
        ResourceType::Endpoint => ClusterLoadAssignment::decode(v).unwrap().cluster_name,
        ResourceType::Listener => Listener::decode(v).unwrap().name,
        ResourceType::Route => RouteConfiguration::decode(v).unwrap().name,
        ResourceType::Secret => Secret::decode(v).unwrap().name,
    }
}
