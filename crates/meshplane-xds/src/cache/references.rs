//! Which EDS and RDS names a cluster or listener needs (for the consistency
//! check and for re-sending endpoints to a warming cluster).

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::listener::v3::{filter, FilterChain, Listener};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager::RouteSpecifier, HttpConnectionManager,
};
use envoy_types::pb::google::protobuf::Any;
use prost::{Message, Name};

use crate::ResourceType;

/// The names `any` (of type `resource_type`) references, sorted and unique.
pub(crate) fn references(
    resource_type: ResourceType,
    any: &Any,
) -> Result<Vec<String>, prost::DecodeError> {
    let mut names = match resource_type {
        ResourceType::Cluster => cluster_references(&Cluster::decode(any.value.as_slice())?),
        ResourceType::Listener => listener_references(&Listener::decode(any.value.as_slice())?)?,
        ResourceType::Endpoint | ResourceType::Route | ResourceType::Secret => Vec::new(),
    };
    names.sort();
    names.dedup();
    Ok(names)
}

/// An EDS cluster needs the ClusterLoadAssignment named by its
/// `eds_cluster_config.service_name`, or by its own name when that is empty.
fn cluster_references(c: &Cluster) -> Vec<String> {
    let is_eds = matches!(
        c.cluster_discovery_type,
        Some(cluster::ClusterDiscoveryType::Type(t)) if t == cluster::DiscoveryType::Eds as i32
    );
    if !is_eds {
        return Vec::new();
    }
    let service_name = c
        .eds_cluster_config
        .as_ref()
        .map(|e| e.service_name.as_str())
        .unwrap_or_default();
    vec![if service_name.is_empty() {
        c.name.clone()
    } else {
        service_name.to_owned()
    }]
}

/// A listener needs every RouteConfiguration named by an HTTP connection
/// manager that uses RDS, in any filter chain.
fn listener_references(l: &Listener) -> Result<Vec<String>, prost::DecodeError> {
    let hcm_url = HttpConnectionManager::type_url();
    let mut names = Vec::new();
    let chains: Vec<&FilterChain> = l
        .filter_chains
        .iter()
        .chain(&l.default_filter_chain)
        .collect();
    for chain in chains {
        for f in &chain.filters {
            let Some(filter::ConfigType::TypedConfig(typed)) = &f.config_type else {
                continue;
            };
            if typed.type_url != hcm_url {
                continue;
            }
            let hcm = HttpConnectionManager::decode(typed.value.as_slice())?;
            if let Some(RouteSpecifier::Rds(rds)) = hcm.route_specifier {
                names.push(rds.route_config_name);
            }
        }
    }
    Ok(names)
}
