//! What a matched route does: the cluster (or weighted clusters) it sends
//! to, a direct response or a redirect, the request rewrites it applies on
//! the way (prefix and regex path rewrites, host rewrite, added headers),
//! and its effective timeout and retry policy.

use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::request::HttpRequest;
use crate::served::int;

/// One cluster a route sends to, with its weight in a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WeightedCluster {
    pub name: String,
    pub weight: u32,
}

/// Where a route sends the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Target {
    Cluster(String),
    Clusters(Vec<WeightedCluster>),
    DirectResponse { status: u32 },
    Redirect(Value),
    Unknown,
}

/// A route's target.
pub fn target(route: &Value) -> Target {
    if let Some(r) = route.get("route") {
        if let Some(c) = r["cluster"].as_str() {
            return Target::Cluster(c.to_owned());
        }
        if let Some(list) = r["weighted_clusters"]["clusters"].as_array() {
            return Target::Clusters(
                list.iter()
                    .map(|c| WeightedCluster {
                        name: c["name"].as_str().unwrap_or("").to_owned(),
                        weight: int(&c["weight"])
                            .and_then(|w| u32::try_from(w).ok())
                            .unwrap_or(0),
                    })
                    .collect(),
            );
        }
        return Target::Unknown;
    }
    if let Some(d) = route.get("direct_response") {
        return Target::DirectResponse {
            status: int(&d["status"])
                .and_then(|s| u32::try_from(s).ok())
                .unwrap_or(0),
        };
    }
    if let Some(r) = route.get("redirect") {
        return Target::Redirect(r.clone());
    }
    Target::Unknown
}

/// The route's timeout as configured; Envoy's default is 15 seconds.
pub fn timeout(route: &Value) -> String {
    route["route"]["timeout"]
        .as_str()
        .map_or_else(|| "15s (Envoy's default)".to_owned(), str::to_owned)
}

/// The route's retry policy, or the virtual host's.
pub fn retry_policy(route: &Value, vhost: &Value) -> Option<Value> {
    route["route"]
        .get("retry_policy")
        .or_else(|| vhost.get("retry_policy"))
        .cloned()
}

/// Applies the route's rewrites to the request the next hop sees; returns
/// what changed, in words.
pub fn rewrite(route: &Value, vhost: &Value, req: &mut HttpRequest) -> Vec<String> {
    let mut notes = Vec::new();
    let r = &route["route"];
    let m = &route["match"];
    if let Some(new) = r["prefix_rewrite"].as_str() {
        let old = req.path.clone();
        let path = if let Some(prefix) = m["prefix"].as_str() {
            format!("{new}{}", &old[prefix.len().min(old.len())..])
        } else if m.get("path").is_some() {
            new.to_owned()
        } else {
            old.clone()
        };
        if path != old {
            notes.push(format!("path rewritten from '{old}' to '{path}'"));
        }
        req.set_path(path);
    }
    if let Some(rr) = r.get("regex_rewrite") {
        let old = req.path.clone();
        if let (Some(re), Some(sub)) =
            (rr["pattern"]["regex"].as_str(), rr["substitution"].as_str())
        {
            if let Ok(re) = Regex::new(re) {
                let path = re.replace_all(&old, re2_substitution(sub)).into_owned();
                if path != old {
                    notes.push(format!("path rewritten from '{old}' to '{path}'"));
                }
                req.set_path(path);
            }
        }
    }
    if let Some(host) = r["host_rewrite_literal"].as_str() {
        notes.push(format!("Host rewritten to '{host}'"));
        req.set_header(":authority", host);
    }
    for add in vhost["request_headers_to_add"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            route["request_headers_to_add"]
                .as_array()
                .into_iter()
                .flatten(),
        )
    {
        let key = add["header"]["key"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        let value = add["header"]["value"].as_str().unwrap_or("");
        match add["append_action"]
            .as_str()
            .unwrap_or("APPEND_IF_EXISTS_OR_ADD")
        {
            "OVERWRITE_IF_EXISTS_OR_ADD" => req.set_header(&key, value),
            "ADD_IF_ABSENT" => {
                if req.header(&key).is_none() {
                    req.headers.push((key.clone(), value.to_owned()));
                }
            }
            "OVERWRITE_IF_EXISTS" => {
                if req.header(&key).is_some() {
                    req.set_header(&key, value);
                }
            }
            _ => req.headers.push((key.clone(), value.to_owned())),
        }
        notes.push(format!("header {key}: {value} added"));
    }
    notes
}

/// RE2 writes groups as `\1`; the regex crate as `${1}`.
fn re2_substitution(sub: &str) -> String {
    let mut out = String::new();
    let mut chars = sub.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(d) if d.is_ascii_digit() => {
                    out.push_str(&format!("${{{d}}}"));
                    chars.next();
                }
                Some('\\') => {
                    out.push('\\');
                    chars.next();
                }
                _ => out.push('\\'),
            },
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Request;
    use serde_json::json;

    #[test]
    fn prefix_rewrite_keeps_the_rest_and_the_query() {
        let mut r = Request::http("GET http://a/zzz/x?q=1", &[])
            .unwrap()
            .http
            .unwrap();
        let route = json!({"match": {"prefix": "/zzz/"}, "route": {"prefix_rewrite": "/", "host_rewrite_literal": "web"}});
        rewrite(&route, &json!({}), &mut r);
        assert_eq!(r.path, "/x");
        assert_eq!(r.header(":path").unwrap(), "/x?q=1");
        assert_eq!(r.authority(), "web");
    }

    #[test]
    fn regex_rewrite_groups() {
        assert_eq!(re2_substitution("/v\\1/$"), "/v${1}/$$");
    }
}
