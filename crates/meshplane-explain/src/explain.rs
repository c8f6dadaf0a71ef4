//! Following one request through a proxy's served configuration, hop by
//! hop: listener and filter chain, then either the TCP proxy's cluster or
//! the HTTP route configuration's virtual host and route, then the
//! clusters. A cluster that loops back into one of the proxy's own
//! listeners (a virtual gateway's self-redirect) is followed as the next
//! hop with the rewritten request.

use serde::Serialize;
use serde_json::Value;

use crate::action::{self, Target};
use crate::cluster::{self, ClusterFacts};
use crate::listener::{self, Miss};
use crate::request::Request;
use crate::served::{ServedProxy, Source};
use crate::{route_match, vhost};

/// Where the proxy takes the request in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// The application sends it out (a virtual node's egress listener).
    Outbound,
    /// It arrives from outside: a virtual gateway's listener on the
    /// request's port, or a virtual node's ingress listener.
    Inbound,
}

/// One pass through one listener.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    pub listener: Option<String>,
    pub filter_chain: Option<String>,
    /// `http_connection_manager` or `tcp_proxy`.
    pub filter: Option<String>,
    pub route_configuration: Option<String>,
    pub virtual_host: Option<String>,
    pub route: Option<String>,
    /// The request as this hop received it (HTTP: method, Host, path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    pub rewrites: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    pub clusters: Vec<ClusterFacts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<Value>,
    pub sources: Vec<Source>,
    pub near_misses: Vec<Miss>,
    /// Why the request stops here without reaching a cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// The whole answer; the top-level fields are those of the last hop.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub proxy: String,
    pub request: Request,
    /// The request reaches a cluster the proxy is served.
    pub matched: bool,
    pub listener: Option<String>,
    pub filter_chain: Option<String>,
    pub virtual_host: Option<String>,
    pub route: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<action::WeightedCluster>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<u32>,
    pub endpoints: Vec<String>,
    pub timeout: Option<String>,
    pub retry_policy: Option<Value>,
    pub tls: Option<Value>,
    pub outlier_detection: Option<Value>,
    /// Every App Mesh resource behind the hops, in order of appearance.
    pub sources: Vec<Source>,
    pub near_misses: Vec<Miss>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub hops: Vec<Hop>,
}

const MAX_HOPS: usize = 4;

pub fn explain(proxy: &ServedProxy, req: &Request, entry: Entry) -> Explanation {
    let mut hops = Vec::new();
    let mut current = req.clone();
    let mut listener = match entry {
        Entry::Outbound => listener::by_direction(proxy, "OUTBOUND"),
        Entry::Inbound => {
            listener::by_port(proxy, req.port).or_else(|| listener::by_direction(proxy, "INBOUND"))
        }
    };
    loop {
        let (hop, next) = one_hop(proxy, &current, listener, entry);
        hops.push(hop);
        match next {
            Some((port, r)) if hops.len() < MAX_HOPS => {
                current = r;
                current.port = port;
                listener = listener::by_port(proxy, port);
            }
            _ => break,
        }
    }
    summarize(proxy, req, hops)
}

fn empty_hop() -> Hop {
    Hop {
        listener: None,
        filter_chain: None,
        filter: None,
        route_configuration: None,
        virtual_host: None,
        route: None,
        request: None,
        rewrites: Vec::new(),
        target: None,
        clusters: Vec::new(),
        timeout: None,
        retry_policy: None,
        sources: Vec::new(),
        near_misses: Vec::new(),
        failure: None,
    }
}

fn push_sources(into: &mut Vec<Source>, from: &[Source]) {
    for s in from {
        if !into.contains(s) {
            into.push(s.clone());
        }
    }
}

/// One listener pass; the next hop's port and request when the target is a
/// loopback cluster into this proxy.
fn one_hop(
    proxy: &ServedProxy,
    req: &Request,
    listener: Option<&Value>,
    entry: Entry,
) -> (Hop, Option<(u32, Request)>) {
    let mut hop = empty_hop();
    let Some(l) = listener else {
        hop.failure = Some(match entry {
            Entry::Outbound => "the proxy is served no outbound listener".to_owned(),
            Entry::Inbound => format!("the proxy is served no listener on port {}", req.port),
        });
        return (hop, None);
    };
    let lname = l["name"].as_str().unwrap_or("").to_owned();
    push_sources(&mut hop.sources, proxy.sources_of("listeners", &lname));
    hop.listener = Some(lname.clone());
    let seen = listener::detected(l, req);
    let (chain, misses) = listener::select_chain(l, &seen);
    if chain.is_none() {
        hop.near_misses = misses;
    }
    let fc = match chain {
        None => {
            hop.failure = Some(format!(
                "no filter chain of {lname} takes a {} connection to port {}: Envoy closes it",
                seen.transport(),
                req.port
            ));
            return (hop, None);
        }
        Some(Some(i)) => {
            let fc = &l["filter_chains"][i];
            hop.filter_chain = Some(format!("#{i} ({})", listener::describe_chain(fc)));
            fc
        }
        Some(None) => {
            hop.filter_chain = Some("default filter chain".to_owned());
            &l["default_filter_chain"]
        }
    };
    let Some((filter, config)) = listener::network_filter(fc) else {
        hop.failure = Some("the filter chain has no network filter".to_owned());
        return (hop, None);
    };
    hop.filter = Some(filter.to_owned());
    match filter {
        "tcp_proxy" => {
            tcp(proxy, config, &mut hop);
            (hop, None)
        }
        "http_connection_manager" => http(proxy, req, config, hop),
        other => {
            hop.failure = Some(format!("network filter {other} is not one explain follows"));
            (hop, None)
        }
    }
}

fn tcp(proxy: &ServedProxy, config: &Value, hop: &mut Hop) {
    let t = action::target(&serde_json::json!({ "route": config }));
    hop.timeout = Some(config["idle_timeout"].as_str().map_or_else(
        || "1h idle (Envoy's default)".to_owned(),
        |t| format!("{t} idle"),
    ));
    set_target(proxy, t, hop);
}

fn set_target(proxy: &ServedProxy, t: Target, hop: &mut Hop) {
    let names: Vec<String> = match &t {
        Target::Cluster(c) => vec![c.clone()],
        Target::Clusters(list) => list.iter().map(|c| c.name.clone()).collect(),
        _ => Vec::new(),
    };
    for n in names {
        let f = cluster::facts(proxy, &n);
        push_sources(&mut hop.sources, &f.sources);
        if !f.defined {
            hop.failure = Some(format!(
                "cluster {n} is not served to this proxy: Envoy answers 503 (cluster not found)"
            ));
        }
        hop.clusters.push(f);
    }
    if matches!(t, Target::Unknown) {
        hop.failure = Some("the route has no action explain follows".to_owned());
    }
    hop.target = Some(t);
}

fn http(
    proxy: &ServedProxy,
    req: &Request,
    hcm: &Value,
    mut hop: Hop,
) -> (Hop, Option<(u32, Request)>) {
    let Some(h) = &req.http else {
        hop.failure = Some(
            "the filter chain speaks HTTP: explain an HTTP request (--request) to follow it"
                .to_owned(),
        );
        return (hop, None);
    };
    let rc = if let Some(name) = hcm["rds"]["route_config_name"].as_str() {
        hop.route_configuration = Some(name.to_owned());
        match proxy.get("routes", name) {
            Some(rc) => rc,
            None => {
                hop.failure = Some(format!(
                    "route configuration {name} is not served to this proxy: Envoy answers 404"
                ));
                return (hop, None);
            }
        }
    } else {
        &hcm["route_config"]
    };
    let rc_name = rc["name"].as_str().unwrap_or("").to_owned();
    hop.route_configuration = Some(rc_name.clone());
    hop.request = Some(format!(
        "{} {} (Host {})",
        h.method,
        h.header(":path").unwrap_or_default(),
        h.authority()
    ));
    let rc_sources = proxy.sources_of("routes", &rc_name);
    let (vi, misses) = vhost::select(rc, &h.authority());
    hop.near_misses.extend(misses);
    let Some(vi) = vi else {
        push_sources(&mut hop.sources, rc_sources);
        hop.failure = Some(format!(
            "no virtual host of {rc_name} has Host '{}' among its domains: Envoy answers 404",
            h.authority()
        ));
        return (hop, None);
    };
    let vh = &rc["virtual_hosts"][vi];
    hop.virtual_host = Some(vh["name"].as_str().unwrap_or("").to_owned());
    let routes = vh["routes"].as_array().map_or(&[][..], |v| v);
    let mut chosen = None;
    for (i, r) in routes.iter().enumerate() {
        match route_match::matches(&r["match"], h) {
            Ok(()) => {
                chosen = Some((i, r));
                break;
            }
            Err(why) => hop.near_misses.push(Miss {
                candidate: format!("route {}", route_label(r, i)),
                reason: why,
            }),
        }
    }
    let Some((i, route)) = chosen else {
        push_sources(&mut hop.sources, rc_sources);
        hop.failure = Some(format!(
            "no route of virtual host {} matches: Envoy answers 404",
            hop.virtual_host.as_deref().unwrap_or("")
        ));
        return (hop, None);
    };
    let label = route_label(route, i);
    hop.route = Some(label);
    push_sources(&mut hop.sources, &route_sources(rc_sources, route));
    hop.timeout = Some(action::timeout(route));
    hop.retry_policy = action::retry_policy(route, vh);
    let mut next = req.clone();
    if let Some(nh) = next.http.as_mut() {
        hop.rewrites = action::rewrite(route, vh, nh);
    }
    let t = action::target(route);
    set_target(proxy, t, &mut hop);
    let loopback = match hop.clusters.as_slice() {
        [only] => cluster::loopback_port(proxy, only),
        _ => None,
    };
    (hop, loopback.map(|p| (p, next)))
}

fn route_label(r: &Value, i: usize) -> String {
    match r["name"].as_str() {
        Some(n) => format!("{n} (#{i})"),
        None => format!("#{i}"),
    }
}

/// The App Mesh route (or gateway route) a route is named after, else every
/// source of its route configuration.
fn route_sources(rc_sources: &[Source], route: &Value) -> Vec<Source> {
    if let Some(name) = route["name"].as_str() {
        let own: Vec<Source> = rc_sources
            .iter()
            .filter(|s| {
                s.arn.ends_with(&format!("/route/{name}"))
                    || s.arn.ends_with(&format!("/gatewayRoute/{name}"))
            })
            .cloned()
            .collect();
        if !own.is_empty() {
            return own;
        }
    }
    rc_sources.to_vec()
}

fn summarize(proxy: &ServedProxy, req: &Request, hops: Vec<Hop>) -> Explanation {
    let mut sources = Vec::new();
    let mut near_misses = Vec::new();
    for h in &hops {
        push_sources(&mut sources, &h.sources);
        near_misses.extend(h.near_misses.iter().cloned());
    }
    let last = hops.last().cloned().unwrap_or_else(empty_hop);
    let (cluster, clusters, direct_response) = match &last.target {
        Some(Target::Cluster(c)) => (Some(c.clone()), None, None),
        Some(Target::Clusters(list)) => (None, Some(list.clone()), None),
        Some(Target::DirectResponse { status }) => (None, None, Some(*status)),
        _ => (None, None, None),
    };
    let endpoints = last
        .clusters
        .iter()
        .flat_map(|c| c.endpoints.iter().cloned())
        .collect();
    let first_tls = last.clusters.iter().find_map(|c| c.tls.clone());
    let outlier = last
        .clusters
        .iter()
        .find_map(|c| c.outlier_detection.clone());
    let matched = last.failure.is_none() && (cluster.is_some() || clusters.is_some());
    let failure = last
        .failure
        .clone()
        .or_else(|| direct_response.map(|s| format!("the proxy answers itself with status {s}")));
    Explanation {
        proxy: proxy.arn.clone(),
        request: req.clone(),
        matched,
        listener: last.listener.clone(),
        filter_chain: last.filter_chain.clone(),
        virtual_host: last.virtual_host.clone(),
        route: last.route.clone(),
        cluster,
        clusters,
        direct_response,
        endpoints,
        timeout: last.timeout.clone(),
        retry_policy: last.retry_policy.clone(),
        tls: first_tls,
        outlier_detection: outlier,
        sources,
        near_misses,
        failure,
        hops,
    }
}
