//! Rewrites listeners and clusters so they need no xDS server: RDS becomes
//! an inline route_config, EDS clusters become STATIC with the matching load
//! assignment, and SDS references over ADS become references to static secrets.

use envoy_types::pb::envoy::config::cluster::v3::cluster::{ClusterDiscoveryType, DiscoveryType};
use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::core::v3::{transport_socket, TransportSocket};
use envoy_types::pb::envoy::config::listener::v3::{filter, FilterChain, Listener};
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_connection_manager::RouteSpecifier, HttpConnectionManager,
};
use prost::{Message, Name};

use meshplane_envoy::XdsResources;

use super::error::{decode, BootstrapError};
use super::tls;

pub(super) fn listener(l: &Listener, res: &XdsResources) -> Result<Listener, BootstrapError> {
    let mut l = l.clone();
    let owner = format!("listener `{}`", l.name);
    for chain in l
        .filter_chains
        .iter_mut()
        .chain(l.default_filter_chain.as_mut())
    {
        filter_chain(chain, &l.name, &owner, res)?;
    }
    Ok(l)
}

fn filter_chain(
    chain: &mut FilterChain,
    listener_name: &str,
    owner: &str,
    res: &XdsResources,
) -> Result<(), BootstrapError> {
    for f in &mut chain.filters {
        let Some(filter::ConfigType::TypedConfig(any)) = f.config_type.as_mut() else {
            continue;
        };
        if any.type_url != HttpConnectionManager::type_url() {
            continue;
        }
        let mut hcm: HttpConnectionManager = decode(any, owner)?;
        if let Some(RouteSpecifier::Rds(rds)) = &hcm.route_specifier {
            let route = res
                .routes
                .iter()
                .find(|r| r.name == rds.route_config_name)
                .ok_or_else(|| BootstrapError::MissingRoute {
                    listener: listener_name.to_owned(),
                    route: rds.route_config_name.clone(),
                })?;
            hcm.route_specifier = Some(RouteSpecifier::RouteConfig(route.clone()));
        }
        any.value = hcm.encode_to_vec();
    }
    if let Some(socket) = chain.transport_socket.as_mut() {
        transport_socket(socket, owner, res)?;
    }
    Ok(())
}

pub(super) fn cluster(c: &Cluster, res: &XdsResources) -> Result<Cluster, BootstrapError> {
    let mut c = c.clone();
    let owner = format!("cluster `{}`", c.name);
    if c.cluster_discovery_type == Some(ClusterDiscoveryType::Type(DiscoveryType::Eds as i32)) {
        let service = c
            .eds_cluster_config
            .as_ref()
            .map(|e| e.service_name.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or(&c.name)
            .to_owned();
        let mut cla = res
            .endpoints
            .iter()
            .find(|e| e.cluster_name == service)
            .cloned()
            .ok_or_else(|| BootstrapError::MissingEndpoints {
                cluster: c.name.clone(),
                service: service.clone(),
            })?;
        cla.cluster_name = c.name.clone();
        c.load_assignment = Some(cla);
        c.eds_cluster_config = None;
        c.cluster_discovery_type = Some(ClusterDiscoveryType::Type(DiscoveryType::Static as i32));
    }
    if let Some(socket) = c.transport_socket.as_mut() {
        transport_socket(socket, &owner, res)?;
    }
    for m in &mut c.transport_socket_matches {
        if let Some(socket) = m.transport_socket.as_mut() {
            transport_socket(socket, &owner, res)?;
        }
    }
    Ok(c)
}

fn transport_socket(
    socket: &mut TransportSocket,
    owner: &str,
    res: &XdsResources,
) -> Result<(), BootstrapError> {
    if let Some(transport_socket::ConfigType::TypedConfig(any)) = socket.config_type.as_mut() {
        tls::make_secrets_static(any, owner, res)?;
    }
    Ok(())
}
