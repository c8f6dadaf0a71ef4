//! The names a proxy subscribes to next: RDS names from its listeners' HTTP
//! connection managers, EDS names from its EDS clusters.

use envoy_types::pb::envoy::config::cluster::v3::cluster::{ClusterDiscoveryType, DiscoveryType};
use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::listener::v3::filter::ConfigType;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::http_connection_manager::RouteSpecifier;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;
use envoy_types::pb::google::protobuf::Any;
use prost::Message;

const HCM: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";

/// (listener name, route configuration names it references).
pub fn listener_routes(any: &Any) -> Result<(String, Vec<String>), prost::DecodeError> {
    let l = Listener::decode(any.value.as_slice())?;
    let mut routes = Vec::new();
    let chains = l.filter_chains.iter().chain(l.default_filter_chain.iter());
    for chain in chains {
        for f in &chain.filters {
            if let Some(ConfigType::TypedConfig(tc)) = &f.config_type {
                if tc.type_url == HCM {
                    let hcm = HttpConnectionManager::decode(tc.value.as_slice())?;
                    if let Some(RouteSpecifier::Rds(rds)) = hcm.route_specifier {
                        routes.push(rds.route_config_name);
                    }
                }
            }
        }
    }
    Ok((l.name, routes))
}

/// (cluster name, its EDS service name if it is an EDS cluster).
pub fn cluster_eds(any: &Any) -> Result<(String, Option<String>), prost::DecodeError> {
    let c = Cluster::decode(any.value.as_slice())?;
    let eds = matches!(
        c.cluster_discovery_type,
        Some(ClusterDiscoveryType::Type(t)) if t == DiscoveryType::Eds as i32
    );
    let service = eds.then(|| {
        c.eds_cluster_config
            .as_ref()
            .map(|e| e.service_name.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| c.name.clone())
    });
    Ok((c.name, service))
}
