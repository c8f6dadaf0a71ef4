//! The risky parts of a change to one proxy's configuration: a cluster
//! still referenced but no longer served, a route whose targets all weigh
//! nothing, a host no longer routed, traffic that starts or stops being
//! passed through under ALLOW_ALL, and TLS mode changes that break connected
//! clients (listeners) or servers (origination).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::listener::{describe_chain, listener_port, network_filter};
use crate::served::{int, ServedProxy};

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Risk {
    /// A stable id: `cluster.missing`, `route.no_targets`, `host.unrouted`,
    /// `passthrough.start`, `passthrough.stop`, `tls.listener_mode`, `tls.origination`.
    pub rule: String,
    pub message: String,
}

fn risk(rule: &str, message: String) -> Risk {
    Risk {
        rule: rule.to_owned(),
        message,
    }
}

pub fn assess(from: &ServedProxy, to: &ServedProxy) -> Vec<Risk> {
    let mut out = Vec::new();
    missing_clusters(from, to, &mut out);
    no_targets(from, to, &mut out);
    unrouted_hosts(from, to, &mut out);
    passthrough(from, to, &mut out);
    listener_tls(from, to, &mut out);
    origination(from, to, &mut out);
    out.sort();
    out.dedup();
    out
}

/// (where, cluster) for every cluster reference of the proxy.
fn references(p: &ServedProxy) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rc in p.list("routes") {
        let rc_name = rc["name"].as_str().unwrap_or("");
        for vh in rc["virtual_hosts"].as_array().into_iter().flatten() {
            for (i, r) in vh["routes"].as_array().into_iter().flatten().enumerate() {
                let at = format!(
                    "route {} of {rc_name} (virtual host {})",
                    r["name"]
                        .as_str()
                        .map_or_else(|| format!("#{i}"), str::to_owned),
                    vh["name"].as_str().unwrap_or("")
                );
                for c in action_clusters(&r["route"]) {
                    out.push((at.clone(), c));
                }
            }
        }
    }
    for l in p.list("listeners") {
        for fc in l["filter_chains"].as_array().into_iter().flatten() {
            if let Some(("tcp_proxy", cfg)) = network_filter(fc) {
                let at = format!(
                    "{} filter chain ({})",
                    l["name"].as_str().unwrap_or(""),
                    describe_chain(fc)
                );
                for c in action_clusters(cfg) {
                    out.push((at.clone(), c));
                }
            }
        }
    }
    out
}

fn action_clusters(a: &Value) -> Vec<String> {
    if let Some(c) = a["cluster"].as_str() {
        return vec![c.to_owned()];
    }
    a["weighted_clusters"]["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect()
}

fn missing_clusters(from: &ServedProxy, to: &ServedProxy, out: &mut Vec<Risk>) {
    let broken = |p: &ServedProxy| -> BTreeSet<(String, String)> {
        references(p)
            .into_iter()
            .filter(|(_, c)| p.get("clusters", c).is_none())
            .collect()
    };
    let before = broken(from);
    for (at, c) in broken(to) {
        if !before.contains(&(at.clone(), c.clone())) {
            out.push(risk(
                "cluster.missing",
                format!("{at} sends to cluster {c}, which would not be served: requests get 503"),
            ));
        }
    }
}

fn no_targets(from: &ServedProxy, to: &ServedProxy, out: &mut Vec<Risk>) {
    let zero = |p: &ServedProxy| -> BTreeSet<String> {
        let mut s = BTreeSet::new();
        for rc in p.list("routes") {
            for vh in rc["virtual_hosts"].as_array().into_iter().flatten() {
                for r in vh["routes"].as_array().into_iter().flatten() {
                    if let Some(list) = r["route"]["weighted_clusters"]["clusters"].as_array() {
                        let total: i64 = list.iter().map(|c| int(&c["weight"]).unwrap_or(0)).sum();
                        if total == 0 {
                            s.insert(format!(
                                "route {} of {} (virtual host {})",
                                r["name"].as_str().unwrap_or(""),
                                rc["name"].as_str().unwrap_or(""),
                                vh["name"].as_str().unwrap_or("")
                            ));
                        }
                    }
                }
            }
        }
        s
    };
    let before = zero(from);
    for at in zero(to).difference(&before) {
        out.push(risk(
            "route.no_targets",
            format!("{at} would have no target with a weight: requests get 503"),
        ));
    }
}

fn unrouted_hosts(from: &ServedProxy, to: &ServedProxy, out: &mut Vec<Risk>) {
    let hosts = |p: &ServedProxy| -> BTreeMap<(String, String), usize> {
        let mut m = BTreeMap::new();
        for rc in p.list("routes") {
            for vh in rc["virtual_hosts"].as_array().into_iter().flatten() {
                let n = vh["routes"].as_array().map_or(0, Vec::len);
                m.insert(
                    (
                        rc["name"].as_str().unwrap_or("").to_owned(),
                        vh["name"].as_str().unwrap_or("").to_owned(),
                    ),
                    n,
                );
            }
        }
        m
    };
    let (before, after) = (hosts(from), hosts(to));
    for ((rc, vh), n) in &before {
        if *n == 0 {
            continue;
        }
        let still_served = to.get("routes", rc).is_some();
        match after.get(&(rc.clone(), vh.clone())) {
            None if still_served => out.push(risk(
                "host.unrouted",
                format!("virtual host {vh} would leave {rc}: requests for it get 404"),
            )),
            Some(0) => out.push(risk(
                "route.no_targets",
                format!("virtual host {vh} of {rc} would keep no route: requests get 404"),
            )),
            _ => {}
        }
    }
}

/// The filter chains (listener, match) that pass traffic to its original
/// destination (an ORIGINAL_DST cluster: ALLOW_ALL).
fn passthrough_chains(p: &ServedProxy) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    for l in p.list("listeners") {
        let chains = l["filter_chains"].as_array().into_iter().flatten();
        for fc in chains.chain(l.get("default_filter_chain")) {
            if let Some(("tcp_proxy", cfg)) = network_filter(fc) {
                for c in action_clusters(cfg) {
                    if p.get("clusters", &c)
                        .is_some_and(|c| c["type"].as_str() == Some("ORIGINAL_DST"))
                    {
                        s.insert(format!(
                            "{} ({})",
                            l["name"].as_str().unwrap_or(""),
                            describe_chain(fc)
                        ));
                    }
                }
            }
        }
    }
    s
}

fn passthrough(from: &ServedProxy, to: &ServedProxy, out: &mut Vec<Risk>) {
    let (a, b) = (passthrough_chains(from), passthrough_chains(to));
    for c in b.difference(&a) {
        out.push(risk(
            "passthrough.start",
            format!("traffic matching {c} would start being passed through to its original destination (ALLOW_ALL)"),
        ));
    }
    for c in a.difference(&b) {
        out.push(risk(
            "passthrough.stop",
            format!("traffic matching {c} would stop being passed through (ALLOW_ALL no longer applies there)"),
        ));
    }
}

/// Per (listener, port): the TLS mode its chains give and whether client
/// certificates are required.
fn tls_modes(p: &ServedProxy) -> BTreeMap<(String, i64), (&'static str, bool)> {
    let mut by_port: BTreeMap<(String, i64), (bool, bool, bool)> = BTreeMap::new();
    for l in p.list("listeners") {
        let name = l["name"].as_str().unwrap_or("").to_owned();
        for fc in l["filter_chains"].as_array().into_iter().flatten() {
            let port = int(&fc["filter_chain_match"]["destination_port"])
                .or_else(|| listener_port(l).map(i64::from))
                .unwrap_or(0);
            let e = by_port.entry((name.clone(), port)).or_default();
            match fc.get("transport_socket") {
                Some(ts) => {
                    e.0 = true;
                    if ts["typed_config"]["require_client_certificate"]
                        .as_bool()
                        .unwrap_or(false)
                    {
                        e.2 = true;
                    }
                }
                None => e.1 = true,
            }
        }
    }
    by_port
        .into_iter()
        .map(|(k, (tls, plain, mtls))| {
            let mode = match (tls, plain) {
                (true, true) => "PERMISSIVE",
                (true, false) => "STRICT",
                _ => "DISABLED",
            };
            (k, (mode, mtls))
        })
        .collect()
}

fn listener_tls(from: &ServedProxy, to: &ServedProxy, out: &mut Vec<Risk>) {
    let (a, b) = (tls_modes(from), tls_modes(to));
    for (k, (mode_b, mtls_b)) in &b {
        let Some((mode_a, mtls_a)) = a.get(k) else {
            continue;
        };
        let (l, port) = k;
        if mode_a != mode_b {
            let effect = match *mode_b {
                "STRICT" => "clients that connect without TLS would be refused",
                "DISABLED" => "clients that originate TLS to it would fail their handshake",
                _ => "clients keep connecting either way",
            };
            out.push(risk(
                "tls.listener_mode",
                format!("{l} port {port}: TLS mode {mode_a} -> {mode_b}: {effect}"),
            ));
        }
        if mtls_a != mtls_b && *mode_b != "DISABLED" {
            let effect = if *mtls_b {
                "client certificates would be required: clients without one are refused"
            } else {
                "client certificates would no longer be required"
            };
            out.push(risk(
                "tls.listener_mode",
                format!("{l} port {port}: {effect}"),
            ));
        }
    }
}

fn origination(from: &ServedProxy, to: &ServedProxy, out: &mut Vec<Risk>) {
    for c in to.list("clusters") {
        let name = c["name"].as_str().unwrap_or("");
        let Some(old) = from.get("clusters", name) else {
            continue;
        };
        let (was, is) = (
            old.get("transport_socket").is_some(),
            c.get("transport_socket").is_some(),
        );
        if was != is {
            let effect = if is {
                "it would originate TLS: a backend that does not speak TLS would fail"
            } else {
                "it would stop originating TLS: a backend that requires TLS would refuse the connection"
            };
            out.push(risk("tls.origination", format!("cluster {name}: {effect}")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn proxy(resources: Value) -> ServedProxy {
        ServedProxy {
            arn: "p".into(),
            resources,
            sources: Default::default(),
        }
    }

    #[test]
    fn a_removed_cluster_still_routed_to_and_passthrough_changes() {
        let route = json!({"name": "rds", "virtual_hosts": [{"name": "h", "domains": ["h"],
            "routes": [{"name": "r", "match": {"prefix": "/"}, "route": {"cluster": "c"}}]}]});
        let passthrough = json!({"name": "l", "filter_chains": [{"filter_chain_match": {},
            "filters": [{"name": "envoy.filters.network.tcp_proxy", "typed_config": {"cluster": "all"}}]}]});
        let from = proxy(json!({"routes": [route], "clusters": [{"name": "c"}]}));
        let to = proxy(
            json!({"routes": [route], "clusters": [{"name": "all", "type": "ORIGINAL_DST"}],
            "listeners": [passthrough]}),
        );
        let rules: Vec<String> = assess(&from, &to).into_iter().map(|r| r.rule).collect();
        assert_eq!(rules, ["cluster.missing", "passthrough.start"]);
        let back: Vec<String> = assess(&to, &from).into_iter().map(|r| r.rule).collect();
        assert_eq!(back, ["passthrough.stop"]);
    }
}
