//! What a cluster is: its discovery type, endpoints (inline or from EDS),
//! TLS origination, outlier detection and connect timeout.

use serde::Serialize;
use serde_json::Value;

use crate::served::{int, ServedProxy, Source};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFacts {
    pub name: String,
    /// `false` when the proxy is served no cluster of that name (Envoy
    /// answers 503 "no healthy upstream"/"cluster not found").
    pub defined: bool,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub discovery: Option<String>,
    pub endpoints: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
    /// The upstream TLS context (client side), when the cluster originates TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<Value>,
    pub sources: Vec<Source>,
}

pub fn facts(proxy: &ServedProxy, name: &str) -> ClusterFacts {
    let Some(c) = proxy.get("clusters", name) else {
        return ClusterFacts {
            name: name.to_owned(),
            defined: false,
            discovery: None,
            endpoints: Vec::new(),
            connect_timeout: None,
            tls: None,
            outlier_detection: None,
            sources: Vec::new(),
        };
    };
    let discovery = c["type"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| c.get("eds_cluster_config").map(|_| "EDS".to_owned()));
    let assignment = if c.get("load_assignment").is_some() {
        Some(&c["load_assignment"])
    } else {
        proxy.get("endpoints", name)
    };
    let mut endpoints: Vec<String> = assignment.map(addresses).unwrap_or_default();
    if discovery.as_deref() == Some("ORIGINAL_DST") {
        endpoints = vec!["the connection's original destination".to_owned()];
    }
    let mut sources = proxy.sources_of("clusters", name).to_vec();
    for s in proxy.sources_of("endpoints", name) {
        if !sources.contains(s) {
            sources.push(s.clone());
        }
    }
    ClusterFacts {
        name: name.to_owned(),
        defined: true,
        discovery,
        endpoints,
        connect_timeout: c["connect_timeout"].as_str().map(str::to_owned),
        tls: c.get("transport_socket").map(|t| t["typed_config"].clone()),
        outlier_detection: c.get("outlier_detection").cloned(),
        sources,
    }
}

/// `address:port` of every endpoint of a `ClusterLoadAssignment`.
pub fn addresses(cla: &Value) -> Vec<String> {
    cla["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|l| l["lb_endpoints"].as_array().into_iter().flatten())
        .filter_map(|e| {
            let sa = &e["endpoint"]["address"]["socket_address"];
            let addr = sa["address"].as_str()?;
            let port = int(&sa["port_value"]).unwrap_or(0);
            Some(format!("{addr}:{port}"))
        })
        .collect()
}

/// The port of the proxy's own listener a loopback cluster sends to (a
/// virtual gateway's self-redirect), if that is what the cluster is.
pub fn loopback_port(proxy: &ServedProxy, facts: &ClusterFacts) -> Option<u32> {
    let [only] = facts.endpoints.as_slice() else {
        return None;
    };
    let (addr, port) = only.rsplit_once(':')?;
    if addr != "127.0.0.1" && addr != "::1" && addr != "[::1]" {
        return None;
    }
    let port: u32 = port.parse().ok()?;
    crate::listener::by_port(proxy, port).map(|_| port)
}
