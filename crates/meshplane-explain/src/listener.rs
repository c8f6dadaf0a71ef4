//! Which listener takes a connection, and which of its filter chains, by
//! Envoy's filter chain match order: destination port, destination IP,
//! server name (SNI), transport protocol, application protocols. At each
//! step the most specific chains that match are kept, else the chains that
//! leave the field unset; Envoy never backtracks to an earlier step.

use std::net::IpAddr;

use serde_json::Value;

use crate::request::Request;
use crate::served::{int, ServedProxy};

/// A chain that was considered and why it lost.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Miss {
    pub candidate: String,
    pub reason: String,
}

/// The listener bound to `port` (any address).
pub fn by_port(proxy: &ServedProxy, port: u32) -> Option<&Value> {
    proxy
        .list("listeners")
        .iter()
        .find(|l| listener_port(l) == Some(port))
}

/// The listener with `traffic_direction` `dir` that takes redirected
/// traffic (original destination), if any.
pub fn by_direction<'a>(proxy: &'a ServedProxy, dir: &str) -> Option<&'a Value> {
    proxy
        .list("listeners")
        .iter()
        .find(|l| l["traffic_direction"].as_str() == Some(dir))
}

pub fn listener_port(l: &Value) -> Option<u32> {
    int(&l["address"]["socket_address"]["port_value"]).and_then(|p| u32::try_from(p).ok())
}

/// A filter chain's match, as written in the text output.
pub fn describe_chain(fc: &Value) -> String {
    let m = &fc["filter_chain_match"];
    let mut parts = Vec::new();
    if let Some(p) = int(&m["destination_port"]) {
        parts.push(format!("destination port {p}"));
    }
    if let Some(r) = m["prefix_ranges"].as_array() {
        let ranges: Vec<String> = r
            .iter()
            .map(|c| {
                format!(
                    "{}/{}",
                    c["address_prefix"].as_str().unwrap_or(""),
                    int(&c["prefix_len"]).unwrap_or(0)
                )
            })
            .collect();
        parts.push(format!("destination IP in {}", ranges.join(", ")));
    }
    if let Some(n) = strings(&m["server_names"]) {
        parts.push(format!("server names {}", n.join(", ")));
    }
    if let Some(t) = m["transport_protocol"].as_str() {
        parts.push(format!("transport {t}"));
    }
    if let Some(a) = strings(&m["application_protocols"]) {
        parts.push(format!("ALPN {}", a.join(", ")));
    }
    if parts.is_empty() {
        "any connection".to_owned()
    } else {
        parts.join(", ")
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    let a = v.as_array()?;
    (!a.is_empty()).then(|| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    })
}

/// How well a chain's value for one field fits the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fit {
    /// The field is unset: a fallback.
    Unset,
    /// A match; larger is more specific.
    Match(u32),
    No,
}

type Step = (&'static str, fn(&Value, &Request) -> (Fit, String));

const STEPS: [Step; 5] = [
    ("destination port", port_fit),
    ("destination IP", ip_fit),
    ("server name", sni_fit),
    ("transport protocol", transport_fit),
    ("application protocols", alpn_fit),
];

/// The chain (index into `filter_chains`, or `None` for the default chain)
/// that takes the connection, and the chains that did not, with why.
pub fn select_chain(listener: &Value, req: &Request) -> (Option<Option<usize>>, Vec<Miss>) {
    let chains = listener["filter_chains"].as_array().map_or(&[][..], |v| v);
    let mut alive: Vec<usize> = (0..chains.len()).collect();
    let mut misses = Vec::new();
    for (field, fit) in STEPS {
        let fits: Vec<(usize, Fit, String)> = alive
            .iter()
            .map(|&i| {
                let (f, why) = fit(&chains[i]["filter_chain_match"], req);
                (i, f, why)
            })
            .collect();
        let best = fits
            .iter()
            .filter_map(|(_, f, _)| match f {
                Fit::Match(n) => Some(*n),
                _ => None,
            })
            .max();
        let keep: Vec<usize> = fits
            .iter()
            .filter(|(_, f, _)| match best {
                Some(b) => *f == Fit::Match(b),
                None => *f == Fit::Unset,
            })
            .map(|(i, _, _)| *i)
            .collect();
        for (i, f, why) in &fits {
            if !keep.contains(i) {
                let reason = match f {
                    Fit::No => why.clone(),
                    _ => format!("a chain with a more specific {field} matches"),
                };
                misses.push(Miss {
                    candidate: format!("filter chain #{i} ({})", describe_chain(&chains[*i])),
                    reason,
                });
            }
        }
        alive = keep;
    }
    match alive.first() {
        Some(&i) => (Some(Some(i)), misses),
        None if listener.get("default_filter_chain").is_some() => (Some(None), misses),
        None => (None, misses),
    }
}

fn port_fit(m: &Value, req: &Request) -> (Fit, String) {
    match int(&m["destination_port"]) {
        None => (Fit::Unset, String::new()),
        Some(p) if p == i64::from(req.port) => (Fit::Match(1), String::new()),
        Some(p) => (
            Fit::No,
            format!("destination port is {}, the chain takes {p}", req.port),
        ),
    }
}

fn ip_fit(m: &Value, req: &Request) -> (Fit, String) {
    let Some(ranges) = m["prefix_ranges"].as_array().filter(|r| !r.is_empty()) else {
        return (Fit::Unset, String::new());
    };
    let Ok(ip) = req.host.parse::<IpAddr>() else {
        return (
            Fit::No,
            format!(
                "the chain matches destination IPs and '{}' is a name (explain its IP address with --tcp IP:PORT)",
                req.host
            ),
        );
    };
    let best = ranges
        .iter()
        .filter_map(|c| {
            let prefix: IpAddr = c["address_prefix"].as_str()?.parse().ok()?;
            let len = int(&c["prefix_len"]).unwrap_or(0);
            let len = u32::try_from(len).ok()?;
            in_cidr(ip, prefix, len).then_some(len + 1)
        })
        .max();
    match best {
        Some(n) => (Fit::Match(n), String::new()),
        None => (
            Fit::No,
            format!("destination IP {ip} is in none of the chain's ranges"),
        ),
    }
}

fn in_cidr(ip: IpAddr, prefix: IpAddr, len: u32) -> bool {
    match (ip, prefix) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len.min(32))
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len.min(128))
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

fn sni_fit(m: &Value, req: &Request) -> (Fit, String) {
    let Some(names) = strings(&m["server_names"]) else {
        return (Fit::Unset, String::new());
    };
    let Some(sni) = &req.sni else {
        return (
            Fit::No,
            format!(
                "the chain takes TLS server names {} and the connection sends none",
                names.join(", ")
            ),
        );
    };
    let sni = sni.to_ascii_lowercase();
    let mut best = None;
    for n in &names {
        let n = n.to_ascii_lowercase();
        let fit = if n == sni {
            Some(u32::MAX)
        } else if let Some(suffix) = n.strip_prefix('*') {
            // `*.example.com` matches a name with at least one more label.
            (sni.ends_with(suffix) && sni.len() > suffix.len())
                .then(|| u32::try_from(suffix.len()).unwrap_or(0))
        } else {
            None
        };
        best = best.max(fit);
    }
    match best {
        Some(n) => (Fit::Match(n), String::new()),
        None => (
            Fit::No,
            format!(
                "server name '{sni}' is not among the chain's {}",
                names.join(", ")
            ),
        ),
    }
}

fn transport_fit(m: &Value, req: &Request) -> (Fit, String) {
    match m["transport_protocol"].as_str().filter(|t| !t.is_empty()) {
        None => (Fit::Unset, String::new()),
        Some(t) if t == req.transport() => (Fit::Match(1), String::new()),
        Some(t) => (
            Fit::No,
            format!(
                "the chain takes transport {t}, the connection is {}",
                req.transport()
            ),
        ),
    }
}

fn alpn_fit(m: &Value, _req: &Request) -> (Fit, String) {
    match strings(&m["application_protocols"]) {
        None => (Fit::Unset, String::new()),
        Some(a) => (
            Fit::No,
            format!(
                "the chain takes ALPN {} and the connection offers none",
                a.join(", ")
            ),
        ),
    }
}

/// The first network filter of a chain: its short name and its config.
pub fn network_filter(fc: &Value) -> Option<(&str, &Value)> {
    let f = fc["filters"].as_array()?.first()?;
    let name = f["name"].as_str()?;
    let short = name.rsplit('.').next().unwrap_or(name);
    Some((short, &f["typed_config"]))
}

/// The connection as the listener's filters see it: without a TLS
/// inspector running for this port, no server name or TLS is detected.
pub fn detected(listener: &Value, req: &Request) -> Request {
    let inspects = listener["listener_filters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|f| {
            f["name"].as_str() == Some("envoy.filters.listener.tls_inspector")
                && !predicate(&f["filter_disabled"], req.port).unwrap_or(false)
        });
    let mut out = req.clone();
    if !inspects {
        out.sni = None;
    }
    out
}

/// A `ListenerFilterChainMatchPredicate` (`None` when absent).
fn predicate(p: &Value, port: u32) -> Option<bool> {
    let obj = p.as_object()?;
    let (kind, v) = obj.iter().next()?;
    Some(match kind.as_str() {
        "any_match" => true,
        "not_match" => !predicate(v, port).unwrap_or(false),
        "or_match" => v["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| predicate(r, port).unwrap_or(false)),
        "and_match" => v["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|r| predicate(r, port).unwrap_or(false)),
        "destination_port_range" => {
            let start = int(&v["start"]).unwrap_or(0);
            let end = int(&v["end"]).unwrap_or(0);
            (start..end).contains(&i64::from(port))
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn listener() -> Value {
        json!({"name": "l", "filter_chains": [
            {"filter_chain_match": {"destination_port": 443, "server_names": ["*.example.com"]}},
            {"filter_chain_match": {"destination_port": 443, "server_names": ["api.example.com"]}},
            {"filter_chain_match": {"destination_port": 443}},
            {"filter_chain_match": {"destination_port": 80, "transport_protocol": "tls"}},
            {"filter_chain_match": {"destination_port": 80, "transport_protocol": "raw_buffer"}},
            {"filter_chain_match": {}}
        ]})
    }

    fn chain(req: &Request) -> Option<Option<usize>> {
        select_chain(&listener(), req).0
    }

    #[test]
    fn most_specific_first_then_unset_fallback() {
        let tls = |h: &str, p| Request::tcp(&format!("{h}:{p}"), Some(h)).unwrap();
        assert_eq!(chain(&tls("api.example.com", 443)), Some(Some(1)));
        assert_eq!(chain(&tls("web.example.com", 443)), Some(Some(0)));
        assert_eq!(chain(&tls("example.org", 443)), Some(Some(2)));
        assert_eq!(chain(&Request::tcp("a:443", None).unwrap()), Some(Some(2)));
        assert_eq!(chain(&tls("a", 80)), Some(Some(3)));
        assert_eq!(chain(&Request::tcp("a:80", None).unwrap()), Some(Some(4)));
        assert_eq!(chain(&Request::tcp("a:9", None).unwrap()), Some(Some(5)));
    }

    #[test]
    fn no_backtracking_after_a_port_match() {
        let l = json!({"name": "l", "filter_chains": [
            {"filter_chain_match": {"destination_port": 443, "server_names": ["a.com"]}},
            {"filter_chain_match": {}}
        ]});
        let (c, misses) = select_chain(&l, &Request::tcp("b.com:443", Some("b.com")).unwrap());
        assert_eq!(c, None);
        assert_eq!(misses.len(), 2);
    }

    #[test]
    fn the_tls_inspector_only_runs_where_enabled() {
        let l = json!({"listener_filters": [{"name": "envoy.filters.listener.tls_inspector",
            "filter_disabled": {"not_match": {"destination_port_range": {"start": 443, "end": 444}}}}]});
        let r = Request::tcp("a:8443", Some("a")).unwrap();
        assert_eq!(detected(&l, &r).sni, None);
        let r = Request::tcp("a:443", Some("a")).unwrap();
        assert_eq!(detected(&l, &r).sni.as_deref(), Some("a"));
    }
}
