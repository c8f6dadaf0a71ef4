//! Which virtual host of a gateway listener's route configuration a
//! gateway route belongs to: host names are matched first, as App Mesh's
//! Envoy did, by virtual host domains.
//!
//! Precedence, for a request to a gateway listener:
//!
//! 1. The request's host (`Host` / `:authority`, any `:port` ignored,
//!    case-insensitive) selects one virtual host, by Envoy's domain
//!    matching: an exact host name first, then host name suffixes, the
//!    longest first, then `*`.
//! 2. Only the routes of that virtual host decide the request, in the
//!    order of `gateway_routes` (priority, then path, then conditions).
//!    If none matches, the answer is 404: a request whose host has routes
//!    never falls back to routes of a shorter suffix or without a host
//!    name.
//!
//! | gateway route `match.hostname` | virtual host (name = domain)       |
//! |--------------------------------|------------------------------------|
//! | `exact: Api.Example.com`       | `api.example.com`                  |
//! | `suffix: .example.com`         | `*.example.com`                    |
//! | `suffix: example.com`          | `*.example.com`                    |
//! | none                           | `self_redirect`, domain `*`        |
//!
//! Why this and not one list ordered by path: App Mesh's Envoy matched
//! gateway route host names as virtual host domains (roadmap
//! aws/aws-app-mesh-roadmap#384 asks for more of Envoy's domain wildcards
//! for `GatewayRouteHostnameMatch`), so a hostname-less route with a
//! longer prefix never took a request for a host that has routes of its
//! own, and giving one route a host name took that host's requests away
//! from the hostname-less routes (#403: a user who added `hostname.exact`
//! to routes one at a time, expecting the others to keep serving, was
//! surprised and asked for host matching to be documented).
//! Hostname-less routes therefore are **not** copied into the host-name
//! virtual hosts: give such a host a route of its own for what it should
//! keep reaching. An exact host name wins over a suffix whatever the
//! routes' priorities, since the virtual host is chosen before any route.
//!
//! Suffixes follow App Mesh's rule (roadmap #384): a suffix matches whole
//! DNS labels, `*.example.com`, so `.example.com` and `example.com` are
//! the same suffix, they match `a.example.com` and `a.b.example.com` but
//! neither `example.com` nor `myexample.com`; App Mesh offered no
//! hyphen-separated wildcard (`*-example.com`). A port in the request's
//! host is ignored (`ignore_port_in_host_matching`, roadmap #365, where a
//! `Host: name:80` missed the route for `name`); the host is not changed.

use std::cmp::Reverse;

use meshplane_spec::gateway_route::{GatewayRouteHostnameMatch, GatewayRouteSpec};

/// The virtual host domain of a gateway route; `*` without a host name.
pub fn domain(r: &GatewayRouteSpec) -> String {
    let hostname = r
        .http_route
        .as_ref()
        .or(r.http2_route.as_ref())
        .and_then(|h| h.match_.hostname.as_ref())
        .or_else(|| {
            r.grpc_route
                .as_ref()
                .and_then(|g| g.match_.hostname.as_ref())
        });
    match hostname {
        Some(GatewayRouteHostnameMatch {
            exact: Some(exact), ..
        }) => exact.to_ascii_lowercase(),
        Some(GatewayRouteHostnameMatch {
            suffix: Some(suffix),
            ..
        }) => format!("*.{}", suffix.trim_start_matches('.').to_ascii_lowercase()),
        _ => ANY.to_owned(),
    }
}

/// The domain of the virtual host of routes without a host name.
pub const ANY: &str = "*";

/// Sort key of virtual hosts, in Envoy's order of precedence: exact
/// domains, then suffixes (longest first), then `*`; by name within.
pub fn order(domain: &str) -> (u8, Reverse<usize>, String) {
    let rank = if domain == ANY {
        2
    } else if domain.starts_with('*') {
        1
    } else {
        0
    };
    (rank, Reverse(domain.len()), domain.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(hostname: serde_json::Value) -> GatewayRouteSpec {
        serde_json::from_value(serde_json::json!({
            "httpRoute": {
                "match": {"prefix": "/", "hostname": hostname},
                "action": {"target": {"virtualService": {"virtualServiceName": "s"}}}
            }
        }))
        .expect("gateway route")
    }

    #[test]
    fn suffixes_match_whole_labels() {
        let d = |s: &str| domain(&route(serde_json::json!({ "suffix": s })));
        assert_eq!(d(".example.com"), "*.example.com");
        assert_eq!(d("example.com"), "*.example.com");
        assert_eq!(d(".Example.COM"), "*.example.com");
    }

    #[test]
    fn exact_host_names_are_lowercase() {
        assert_eq!(
            domain(&route(serde_json::json!({"exact": "Api.Example.com"}))),
            "api.example.com"
        );
    }

    #[test]
    fn exact_before_longer_suffix_before_any() {
        let mut v = vec!["*", "*.com", "b.com", "*.a.com", "a.com"];
        v.sort_by_key(|d| order(d));
        assert_eq!(v, ["a.com", "b.com", "*.a.com", "*.com", "*"]);
    }
}
