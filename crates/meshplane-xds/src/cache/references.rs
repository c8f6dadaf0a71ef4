//! Which EDS and RDS names a cluster or listener needs (for the consistency
//! check and for re-sending endpoints to a warming cluster), and which
//! secrets it asks for over ADS (for the consistency check).

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::core::v3::{config_source, transport_socket, TransportSocket};
use envoy_types::pb::envoy::config::listener::v3::{filter, FilterChain, Listener};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager::RouteSpecifier, HttpConnectionManager,
};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    common_tls_context, CommonTlsContext, DownstreamTlsContext, SdsSecretConfig, UpstreamTlsContext,
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

/// The secrets `any` (a cluster or listener) requests over ADS, sorted and
/// unique: SDS secret configs of its TLS transport sockets whose config
/// source is ADS. Secrets fetched from another SDS server (a local socket)
/// are not the snapshot's to hold.
pub(crate) fn secret_references(
    resource_type: ResourceType,
    any: &Any,
) -> Result<Vec<String>, prost::DecodeError> {
    let sockets: Vec<TransportSocket> = match resource_type {
        ResourceType::Cluster => {
            let c = Cluster::decode(any.value.as_slice())?;
            c.transport_socket
                .into_iter()
                .chain(
                    c.transport_socket_matches
                        .into_iter()
                        .filter_map(|m| m.transport_socket),
                )
                .collect()
        }
        ResourceType::Listener => {
            let l = Listener::decode(any.value.as_slice())?;
            l.filter_chains
                .into_iter()
                .chain(l.default_filter_chain)
                .filter_map(|c| c.transport_socket)
                .collect()
        }
        ResourceType::Endpoint | ResourceType::Route | ResourceType::Secret => Vec::new(),
    };
    let mut names = Vec::new();
    for socket in sockets {
        let Some(transport_socket::ConfigType::TypedConfig(typed)) = socket.config_type else {
            continue;
        };
        let common = if typed.type_url == UpstreamTlsContext::type_url() {
            UpstreamTlsContext::decode(typed.value.as_slice())?.common_tls_context
        } else if typed.type_url == DownstreamTlsContext::type_url() {
            DownstreamTlsContext::decode(typed.value.as_slice())?.common_tls_context
        } else {
            None
        };
        if let Some(common) = common {
            names.extend(ads_secrets(&common));
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

fn ads_secrets(c: &CommonTlsContext) -> Vec<String> {
    let mut configs: Vec<&SdsSecretConfig> = c.tls_certificate_sds_secret_configs.iter().collect();
    match &c.validation_context_type {
        Some(common_tls_context::ValidationContextType::ValidationContextSdsSecretConfig(s)) => {
            configs.push(s);
        }
        Some(common_tls_context::ValidationContextType::CombinedValidationContext(combined)) => {
            configs.extend(&combined.validation_context_sds_secret_config);
        }
        _ => {}
    }
    configs
        .into_iter()
        .filter(|s| {
            matches!(
                s.sds_config
                    .as_ref()
                    .and_then(|c| c.config_source_specifier.as_ref()),
                Some(config_source::ConfigSourceSpecifier::Ads(_))
            )
        })
        .map(|s| s.name.clone())
        .collect()
}
