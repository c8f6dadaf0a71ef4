//! Pieces shared by every cluster App Mesh configured.

use std::collections::HashMap;

use envoy_types::pb::envoy::config::cluster::v3::{circuit_breakers, CircuitBreakers};
use envoy_types::pb::envoy::config::core::v3::{
    Http1ProtocolOptions, Http2ProtocolOptions, HttpProtocolOptions as CommonHttpProtocolOptions,
};
use envoy_types::pb::envoy::config::endpoint::v3::{
    lb_endpoint, ClusterLoadAssignment, Endpoint, LbEndpoint, LocalityLbEndpoints,
};
use envoy_types::pb::envoy::extensions::upstreams::http::v3::{
    http_protocol_options, HttpProtocolOptions,
};
use envoy_types::pb::google::protobuf::Any;
use meshplane_spec::common::Protocol;

use crate::proto::{any, socket_address, u32_value};

/// App Mesh's circuit-breaker default: every threshold effectively unlimited
/// (user guide, "Default circuit breaker").
pub const UNLIMITED: u32 = 2_147_483_647;

pub const HTTP_PROTOCOL_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// Default-priority thresholds; `None` members take App Mesh's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub max_connections: Option<u32>,
    pub max_pending_requests: Option<u32>,
    pub max_requests: Option<u32>,
}

pub fn circuit_breakers(limits: Limits) -> CircuitBreakers {
    CircuitBreakers {
        thresholds: vec![circuit_breakers::Thresholds {
            max_connections: Some(u32_value(limits.max_connections.unwrap_or(UNLIMITED))),
            max_pending_requests: Some(u32_value(limits.max_pending_requests.unwrap_or(UNLIMITED))),
            max_requests: Some(u32_value(limits.max_requests.unwrap_or(UNLIMITED))),
            max_retries: Some(u32_value(UNLIMITED)),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// `typed_extension_protocol_options` making the upstream speak HTTP/2
/// (http2 and grpc listeners); empty for http and tcp.
pub fn upstream_protocol_options(protocol: Protocol) -> HashMap<String, Any> {
    http_protocol_options(protocol, None)
}

/// [`upstream_protocol_options`] plus connection limits (`common`) for
/// http, http2 and grpc listeners (an HTTP/1.1 upstream then says so
/// explicitly, as `HttpProtocolOptions` requires); tcp gets none.
pub fn http_protocol_options(
    protocol: Protocol,
    common: Option<CommonHttpProtocolOptions>,
) -> HashMap<String, Any> {
    use http_protocol_options::explicit_http_config::ProtocolConfig;
    let config = match (protocol, common.is_some()) {
        (Protocol::Http2 | Protocol::Grpc, _) => {
            ProtocolConfig::Http2ProtocolOptions(Http2ProtocolOptions::default())
        }
        (Protocol::Http, true) => {
            ProtocolConfig::HttpProtocolOptions(Http1ProtocolOptions::default())
        }
        (Protocol::Http, false) | (Protocol::Tcp, _) => return HashMap::new(),
    };
    let options = HttpProtocolOptions {
        common_http_protocol_options: common,
        upstream_protocol_options: Some(
            http_protocol_options::UpstreamProtocolOptions::ExplicitHttpConfig(
                http_protocol_options::ExplicitHttpConfig {
                    protocol_config: Some(config),
                },
            ),
        ),
        ..Default::default()
    };
    HashMap::from([(HTTP_PROTOCOL_OPTIONS.to_owned(), any(&options))])
}

/// A load assignment with one endpoint `host:port`.
pub fn single_endpoint(cluster: &str, host: &str, port: u32) -> ClusterLoadAssignment {
    ClusterLoadAssignment {
        cluster_name: cluster.to_owned(),
        endpoints: vec![LocalityLbEndpoints {
            lb_endpoints: vec![LbEndpoint {
                host_identifier: Some(lb_endpoint::HostIdentifier::Endpoint(Endpoint {
                    address: Some(socket_address(host, port)),
                    ..Default::default()
                })),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}
