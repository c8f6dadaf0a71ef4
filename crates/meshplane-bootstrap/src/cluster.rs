//! Static clusters of the bootstrap (the xDS server, the SDS socket, trace
//! collectors).

use serde_json::{json, Map, Value};

use crate::address::Target;

pub const HTTP_PROTOCOL_OPTIONS: &str = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

/// How a static cluster speaks to its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstream {
    /// Envoy's default for the cluster (HTTP/1.1 for HTTP users, raw TCP/UDP otherwise).
    Default,
    /// HTTP/2 (gRPC), with PINGs every `interval_s`, dropping the connection
    /// after `timeout_s` without an answer.
    Http2 { keepalive: Option<(u32, u32)> },
}

/// A static cluster with a single endpoint.
pub fn static_cluster(
    name: &str,
    target: &Target,
    connect_timeout: &str,
    upstream: Upstream,
) -> Map<String, Value> {
    static_cluster_of(
        name,
        std::slice::from_ref(target),
        connect_timeout,
        upstream,
    )
}

/// A static cluster with one endpoint per target (round-robin between
/// them). STRICT_DNS when any target is a DNS name (Envoy resolves IP
/// literals in such a cluster too), STATIC otherwise.
pub fn static_cluster_of(
    name: &str,
    targets: &[Target],
    connect_timeout: &str,
    upstream: Upstream,
) -> Map<String, Value> {
    let any_dns = targets.iter().any(|t| t.dns_name().is_some());
    let cluster_type = targets
        .iter()
        .map(Target::cluster_type)
        .find(|t| *t == "STRICT_DNS")
        .unwrap_or("STATIC");
    let mut cluster = Map::new();
    cluster.insert("name".into(), json!(name));
    cluster.insert("type".into(), json!(cluster_type));
    cluster.insert("connect_timeout".into(), json!(connect_timeout));
    if any_dns {
        // Envoy's default (AUTO) takes only the IPv6 addresses of a name that
        // has both, so `localhost` would mean ::1 alone; prefer IPv4 as most
        // deployments listen there, falling back to IPv6.
        cluster.insert("dns_lookup_family".into(), json!("V4_PREFERRED"));
    }
    if let Upstream::Http2 { keepalive } = upstream {
        let mut http2 = Map::new();
        if let Some((interval, timeout)) = keepalive {
            http2.insert(
                "connection_keepalive".into(),
                json!({ "interval": format!("{interval}s"), "timeout": format!("{timeout}s") }),
            );
        }
        cluster.insert(
            "typed_extension_protocol_options".into(),
            json!({
                HTTP_PROTOCOL_OPTIONS: {
                    "@type": format!("type.googleapis.com/{HTTP_PROTOCOL_OPTIONS}"),
                    "explicit_http_config": { "http2_protocol_options": Value::Object(http2) }
                }
            }),
        );
    }
    let lb_endpoints: Vec<Value> = targets
        .iter()
        .map(|t| json!({ "endpoint": { "address": t.address() } }))
        .collect();
    cluster.insert(
        "load_assignment".into(),
        json!({
            "cluster_name": name,
            "endpoints": [{ "lb_endpoints": lb_endpoints }]
        }),
    );
    cluster
}
