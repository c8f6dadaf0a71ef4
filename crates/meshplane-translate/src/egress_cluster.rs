//! The cluster of one backend virtual node listener:
//! `cds_egress_<mesh>_<node>_<protocol>_<port>`.
//!
//! DNS service discovery gives a LOGICAL_DNS cluster (responseType
//! LOADBALANCER, the default) or a STRICT_DNS cluster (ENDPOINTS) resolving
//! the hostname as a fully qualified name (trailing dot, as App Mesh did);
//! Cloud Map gives an EDS cluster over ADS whose endpoints a discovery source
//! fills. Connect timeout 1 s, App Mesh's circuit-breaker defaults, HTTP/2
//! upstream for http2/grpc, active health checks and outlier detection from
//! the target listener, App Mesh's `TargetVirtualNode` aggregate-stats
//! metadata. With active health checks, `ignore_health_on_host_removal`:
//! a host that discovery (Cloud Map, DNS) no longer returns is removed at
//! once instead of staying while it still passes its health checks.
//!
//! DNS clusters also get meshplane's settings for following a name whose
//! address changes (`dns_cluster.rs`: refresh rates, TCP keepalive and
//! user timeout, upstream HTTP connection lifetime), unless
//! `TranslateOptions::app_mesh_dns_clusters` asks for App Mesh's shape.
//!
//! DNS clusters use `type` and `dns_lookup_family` as App Mesh did; Envoy
//! 1.40 still accepts them (it prefers the `envoy.clusters.dns` extension,
//! which a later change can switch to without changing behaviour).

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster, OutlierDetection};
use envoy_types::pb::envoy::config::core::v3::{health_check, HealthCheck, TransportSocket};
use envoy_types::pb::envoy::r#type::v3::CodecClientType;
use meshplane_spec::common::{HealthCheckPolicy, Protocol};
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::virtual_node::{
    DnsResponseType, Listener as NodeListener, OutlierDetection as SpecOutlier, VirtualNodeSpec,
};

use crate::cluster_common::{circuit_breakers, http_protocol_options, single_endpoint, Limits};
use crate::emit::Emit;
use crate::output::CloudMapQuery;
use crate::proto::{ads_config_source, clamp_u32, millis, u32_value};
use crate::stats_metadata::{aggregate_stats, TARGET_VIRTUAL_NODE};
use crate::{dns_cluster, ip, names};

pub const CONNECT_TIMEOUT_MS: i64 = 1000;

/// Why a virtual node listener cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unroutable {
    NoServiceDiscovery,
}

/// Which client TLS policy asked for a cluster's transport socket.
#[derive(Debug, Clone, Copy)]
pub struct TlsOrigin<'a> {
    /// The proxy's node or gateway.
    pub client: &'a meshplane_spec::ResourceId,
    /// The field path of the client policy (`None`: no policy applies).
    pub policy_path: Option<&'a str>,
}

impl TlsOrigin<'_> {
    fn describe(&self) -> String {
        match self.policy_path {
            Some(path) => format!("the client policy at {path}"),
            None => "no client policy".to_owned(),
        }
    }
}

/// Emits (once) the cluster of `node`'s `listener` and returns its name.
///
/// Two backends of one proxy can reach the same node listener under
/// different client TLS policies (a backend's own policy and the backend
/// defaults, say). The first keeps App Mesh's cluster name; another TLS
/// setting gets its own cluster, named with a `_tls<hash>` suffix, and a
/// warning naming both policies, so neither backend silently takes the
/// other's TLS.
pub fn ensure(
    emit: &mut Emit<'_>,
    node_name: &str,
    node: &VirtualNodeSpec,
    listener: &NodeListener,
    transport_socket: Option<TransportSocket>,
    origin: TlsOrigin<'_>,
) -> Result<String, Unroutable> {
    let protocol = listener.port_mapping.protocol;
    let port = clamp_u32(listener.port_mapping.port);
    let mut name = names::egress_cluster(&emit.mesh.name, node_name, protocol, port);
    if let Some((existing, first)) = emit.cluster_tls(&name) {
        if existing == transport_socket.as_ref() {
            return Ok(name);
        }
        let first = first.to_owned();
        name = format!("{name}_tls{}", tls_digest(transport_socket.as_ref()));
        if emit.has_cluster(&name) {
            return Ok(name);
        }
        emit.warn(
            "translate.cluster.tls-variant",
            origin.client,
            origin.policy_path.unwrap_or("spec.backends"),
            format!(
                "virtual node '{node_name}' (port {port}) is reached under {first} and under {}, which set different TLS; each gets its own cluster, this one '{name}'",
                origin.describe()
            ),
        );
    }
    emit.note_cluster_tls(&name, origin.describe());
    let sd = node.service_discovery.as_ref();
    let pref = ip::effective(node, emit.mesh.spec.as_ref());
    let node_id = emit.id(ResourceKind::VirtualNode, node_name);
    let mut c = Cluster {
        name: name.clone(),
        connect_timeout: Some(millis(CONNECT_TIMEOUT_MS)),
        circuit_breakers: Some(circuit_breakers(Limits::default())),
        typed_extension_protocol_options: http_protocol_options(protocol, None),
        health_checks: listener
            .health_check
            .iter()
            .map(|h| health_check(h, port, host_of(node)))
            .collect(),
        outlier_detection: listener.outlier_detection.as_ref().map(outlier_detection),
        // Hosts that discovery removed stop taking requests at once, even
        // while their last health check passed (App Mesh served the v2
        // name of this, `drain_connections_on_host_removal`).
        ignore_health_on_host_removal: listener.health_check.is_some(),
        metadata: Some(aggregate_stats(&[(TARGET_VIRTUAL_NODE, node_name)])),
        transport_socket,
        ..Default::default()
    };
    if let Some(dns) = sd.and_then(|s| s.dns.as_ref()) {
        let ty = match dns.response_type {
            Some(DnsResponseType::Endpoints) => cluster::DiscoveryType::StrictDns,
            None | Some(DnsResponseType::LoadBalancer) => cluster::DiscoveryType::LogicalDns,
        };
        c.cluster_discovery_type = Some(cluster::ClusterDiscoveryType::Type(ty as i32));
        c.dns_lookup_family = ip::dns_lookup_family(pref) as i32;
        c.load_assignment = Some(single_endpoint(&name, &fqdn(&dns.hostname), port));
        if !emit.opts.app_mesh_dns_clusters {
            dns_cluster::follow_name_changes(&mut c);
            c.typed_extension_protocol_options =
                http_protocol_options(protocol, Some(dns_cluster::connection_lifetime()));
        }
    } else if let Some(cm) = sd.and_then(|s| s.aws_cloud_map.as_ref()) {
        c.cluster_discovery_type = Some(cluster::ClusterDiscoveryType::Type(
            cluster::DiscoveryType::Eds as i32,
        ));
        c.eds_cluster_config = Some(cluster::EdsClusterConfig {
            eds_config: Some(ads_config_source()),
            service_name: String::new(),
        });
        let mut attributes: Vec<(String, String)> = cm
            .attributes
            .iter()
            .flatten()
            .map(|a| (a.key.clone(), a.value.clone()))
            .collect();
        attributes.sort();
        let query = CloudMapQuery {
            namespace_name: cm.namespace_name.clone(),
            service_name: cm.service_name.clone(),
            attributes,
            ip_preference: pref,
            port,
            virtual_node: node_id.clone(),
        };
        emit.eds_endpoints(query, &name);
    } else {
        return Err(Unroutable::NoServiceDiscovery);
    }
    emit.cluster(c, [node_id]);
    Ok(name)
}

/// A short, stable digest of a transport socket (cluster name suffix).
fn tls_digest(socket: Option<&TransportSocket>) -> String {
    let bytes = socket
        .map(prost::Message::encode_to_vec)
        .unwrap_or_default();
    // FNV-1a: stable across builds and platforms, which is all a name needs.
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{h:08x}")
}

/// A DNS name made absolute with a trailing dot (as App Mesh served it), so
/// the resolver's search list is not applied; IP literals stay as they are.
fn fqdn(hostname: &str) -> String {
    if hostname.ends_with('.') || hostname.parse::<std::net::IpAddr>().is_ok() {
        hostname.to_owned()
    } else {
        format!("{hostname}.")
    }
}

/// The authority HTTP health checks send: the name the node is discovered by.
pub fn host_of(node: &VirtualNodeSpec) -> Option<String> {
    let sd = node.service_discovery.as_ref()?;
    if let Some(dns) = &sd.dns {
        return Some(dns.hostname.trim_end_matches('.').to_owned());
    }
    sd.aws_cloud_map
        .as_ref()
        .map(|c| format!("{}.{}", c.service_name, c.namespace_name))
}

fn health_check(h: &HealthCheckPolicy, listener_port: u32, host: Option<String>) -> HealthCheck {
    let port = h.port.map_or(listener_port, clamp_u32);
    let checker = match h.protocol {
        Protocol::Http | Protocol::Http2 => {
            health_check::HealthChecker::HttpHealthCheck(health_check::HttpHealthCheck {
                host: host.map(|h| format!("{h}:{port}")).unwrap_or_default(),
                path: h.path.clone().unwrap_or_else(|| "/".to_owned()),
                codec_client_type: if h.protocol == Protocol::Http2 {
                    CodecClientType::Http2 as i32
                } else {
                    CodecClientType::Http1 as i32
                },
                ..Default::default()
            })
        }
        Protocol::Grpc => {
            health_check::HealthChecker::GrpcHealthCheck(health_check::GrpcHealthCheck::default())
        }
        Protocol::Tcp => {
            health_check::HealthChecker::TcpHealthCheck(health_check::TcpHealthCheck::default())
        }
    };
    HealthCheck {
        timeout: Some(millis(h.timeout_millis)),
        interval: Some(millis(h.interval_millis)),
        unhealthy_threshold: Some(u32_value(clamp_u32(h.unhealthy_threshold))),
        healthy_threshold: Some(u32_value(clamp_u32(h.healthy_threshold))),
        alt_port: Some(u32_value(port)),
        health_checker: Some(checker),
        ..Default::default()
    }
}

fn outlier_detection(o: &SpecOutlier) -> OutlierDetection {
    OutlierDetection {
        consecutive_5xx: Some(u32_value(clamp_u32(o.max_server_errors))),
        interval: Some(millis(o.interval.as_millis())),
        base_ejection_time: Some(millis(o.base_ejection_duration.as_millis())),
        max_ejection_percent: Some(u32_value(clamp_u32(o.max_ejection_percent))),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::fqdn;

    #[test]
    fn hostnames_become_absolute_but_ip_literals_do_not() {
        assert_eq!(fqdn("serviceb.apps.local"), "serviceb.apps.local.");
        assert_eq!(fqdn("github.com."), "github.com.");
        assert_eq!(fqdn("10.0.0.7"), "10.0.0.7");
        assert_eq!(fqdn("::1"), "::1");
    }
}
