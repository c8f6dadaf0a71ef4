//! The resources one proxy receives over xDS, by type.

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;

/// The resources one proxy would receive over xDS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct XdsResources {
    pub listeners: Vec<Listener>,
    pub clusters: Vec<Cluster>,
    pub routes: Vec<RouteConfiguration>,
    pub endpoints: Vec<ClusterLoadAssignment>,
    pub secrets: Vec<Secret>,
}
