//! Stats: the tags the image added (`appmesh.mesh`, `appmesh.virtual_node`
//! or `appmesh.virtual_gateway`, the listener protocol and port of
//! per-listener ingress stats, and their route configuration), the flush
//! interval, and DogStatsD sinks.

use serde_json::{json, Value};

use crate::address::{pipe, udp_socket_address, Target};
use crate::duration::parse_go_duration;
use crate::env::Env;
use crate::error::BootstrapError;
use crate::node::ProxyIdentity;

pub const ENABLE_STATS_TAGS: &str = "ENABLE_ENVOY_STATS_TAGS";
pub const STATS_FLUSH_INTERVAL: &str = "ENVOY_STATS_FLUSH_INTERVAL";
pub const ENABLE_DOG_STATSD: &str = "ENABLE_ENVOY_DOG_STATSD";
pub const STATSD_ADDRESS: &str = "STATSD_ADDRESS";
pub const STATSD_PORT: &str = "STATSD_PORT";
pub const STATSD_SOCKET_PATH: &str = "STATSD_SOCKET_PATH";
pub const METRIC_EXTENSION_VERSION: &str = "APPMESH_METRIC_EXTENSION_VERSION";

/// Ingress stats of a listener are prefixed `ingress.<protocol>.<port>`; these
/// tags lift the protocol and the port out of the stat name.
const LISTENER_PROTOCOL_REGEX: &str = r"^(?:[^.]+\.)+?ingress\.((http2|http|grpc|tcp)\.)[0-9]+\.";
const LISTENER_PORT_REGEX: &str = r"^(?:[^.]+\.)+?ingress\.(?:http2|http|grpc|tcp)\.(([0-9]+)\.)";
/// Envoy's own `envoy.rds_route_config` tag (Prometheus label
/// `envoy_rds_route_config`) lifts the route configuration out of
/// `http.<prefix>.rds.<name>.*` only when the prefix has no dot; per-listener
/// ingress prefixes have two, so App Mesh's image added this tag, under the
/// label name dashboards query, for `http.ingress.<protocol>.<port>.rds.<name>.*`.
pub const RDS_ROUTE_CONFIG_TAG: &str = "envoy_rds_route_config";
const RDS_ROUTE_CONFIG_REGEX: &str =
    r"^http\.ingress\.(?:http2|http|grpc|tcp)\.[0-9]+\.rds\.(([^.]+)\.)";

pub(crate) fn stats_config(
    env: &Env<'_>,
    id: &ProxyIdentity,
    warnings: &mut Vec<String>,
) -> Result<Value, BootstrapError> {
    let mut tags = Vec::new();
    if env.flag(ENABLE_STATS_TAGS, false)? {
        tags.push(json!({ "tag_name": "appmesh.mesh", "fixed_value": id.resource.mesh }));
        tags.push(json!({ "tag_name": format!("appmesh.{}", id.kind_snake()), "fixed_value": id.resource.name }));
    }
    tags.push(json!({ "tag_name": "appmesh.listener_protocol", "regex": LISTENER_PROTOCOL_REGEX }));
    tags.push(json!({ "tag_name": "appmesh.listener_port", "regex": LISTENER_PORT_REGEX }));
    tags.push(json!({ "tag_name": RDS_ROUTE_CONFIG_TAG, "regex": RDS_ROUTE_CONFIG_REGEX }));
    match env.get(METRIC_EXTENSION_VERSION) {
        None | Some("0") => {}
        Some(v) => warnings.push(format!(
            "{METRIC_EXTENSION_VERSION}={v} is ignored: the App Mesh metrics extension was part of App Mesh's \
             Envoy build and does not exist in stock Envoy"
        )),
    }
    Ok(json!({ "stats_tags": tags }))
}

/// `stats_flush_interval` from a Go duration (`10s`, `1m30s`, `500ms`).
pub(crate) fn flush_interval(env: &Env<'_>) -> Result<Option<Value>, BootstrapError> {
    let Some(v) = env.get(STATS_FLUSH_INTERVAL) else {
        return Ok(None);
    };
    let nanos = parse_go_duration(v).ok_or_else(|| {
        BootstrapError::invalid(
            STATS_FLUSH_INTERVAL,
            v,
            "expected a duration such as 10s, 500ms or 1m",
        )
    })?;
    if !(1_000_000..=300_000_000_000).contains(&nanos) {
        return Err(BootstrapError::invalid(
            STATS_FLUSH_INTERVAL,
            v,
            "Envoy accepts 1ms to 300s",
        ));
    }
    Ok(Some(json!(crate::duration::proto_duration(nanos))))
}

/// The DogStatsD sink: a Unix socket when `STATSD_SOCKET_PATH` is set, else
/// UDP to `STATSD_ADDRESS:STATSD_PORT` (127.0.0.1:8125).
pub(crate) fn dog_statsd_sink(env: &Env<'_>) -> Result<Value, BootstrapError> {
    let address =
        match env.get(STATSD_SOCKET_PATH) {
            Some(path) => {
                if !path.starts_with('/') && !path.starts_with('@') {
                    return Err(BootstrapError::invalid(
                        STATSD_SOCKET_PATH,
                        path,
                        "expected an absolute socket path (or an abstract socket @name)",
                    ));
                }
                pipe(path)
            }
            None => {
                let port = env.port(STATSD_PORT, 8125)?;
                let host = env.get_or(STATSD_ADDRESS, "127.0.0.1");
                match Target::host_port(STATSD_ADDRESS, host, port)? {
                    Target::Ip { ip, port } => udp_socket_address(&ip.to_string(), port),
                    _ => return Err(BootstrapError::invalid(
                        STATSD_ADDRESS,
                        host,
                        "expected an IP address (Envoy's DogStatsD sink does not resolve names)",
                    )),
                }
            }
        };
    Ok(json!({
        "name": "envoy.stat_sinks.dog_statsd",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.config.metrics.v3.DogStatsdSink",
            "address": address
        }
    }))
}
