//! The route configuration of one gateway listener,
//! `rds_ingress_<protocol>_<port>`: one virtual host `self_redirect`
//! (domains `*`) holding the gateway routes of the listener's protocol whose
//! `match.port` is the listener's port (or unset), in this order:
//!
//! 1. `priority`, lowest number first; routes without a priority last;
//! 2. the path: exact path first, then prefixes, longest first (a gRPC
//!    service name is the prefix `/<service>/`), then regular expressions;
//! 3. the host name: exact before suffix (longer suffix first) before none;
//! 4. more conditions (headers, query parameters, method, metadata) first;
//! 5. the gateway route name (so the order never depends on load order).
//!
//! | App Mesh match                    | Envoy                                               |
//! |-----------------------------------|-----------------------------------------------------|
//! | `hostname.exact` / `.suffix`      | `:authority` RE2 `(?i)^<exact>(:[0-9]+)?$` / `(?i)^.*<suffix>(:[0-9]+)?$` |
//! | `prefix`, `path.exact`, `path.regex` | `prefix`, `path`, `safe_regex`                   |
//! | `headers`, `queryParameters`, `method` | as for routes (`route_match`)                  |
//! | gRPC `serviceName` / `metadata`   | `prefix` `/<service>/` / header matches             |
//!
//! Rewrites (user guide, gateway routes): the host becomes the target
//! virtual service's name (`host_rewrite_literal`) unless
//! `rewrite.hostname.defaultTargetHostname` is DISABLED, in which case the
//! host is kept and the target travels in `x-app-mesh-virtual-service`
//! (overwriting any value the client sent). A prefix match rewrites the
//! matched prefix to `/` (`prefix_rewrite`), to `rewrite.prefix.value` when
//! given, or keeps it (`prefix_rewrite` = the prefix, as App Mesh emitted)
//! with `defaultPrefix: DISABLED`. When the prefix has no trailing slash and
//! the replacement has one (`/chapter` -> `/`), a `regex_rewrite`
//! `^/chapter/?` is used instead, so `/chapter/1` becomes `/1`, not `//1`.
//! An exact path match with `rewrite.path.exact` replaces the path
//! (`prefix_rewrite` on a path match); a regular expression match replaces
//! the whole path (`regex_rewrite` `^.*$`). The query string is kept.
//! Every route sends to the listener's self-redirect cluster with App Mesh's
//! 15 s request timeout.

use std::cmp::Reverse;

use envoy_types::pb::envoy::config::core::v3::{
    header_value_option, HeaderValue, HeaderValueOption,
};
use envoy_types::pb::envoy::config::route::v3::{
    route, route_action, route_match, HeaderMatcher, Route, RouteAction, RouteConfiguration,
    RouteMatch, VirtualHost,
};
use envoy_types::pb::envoy::r#type::matcher::v3::{string_matcher, RegexMatchAndSubstitute};
use meshplane_spec::common::Protocol;
use meshplane_spec::gateway_route::{
    DefaultRewrite, GatewayRouteHostnameMatch, GatewayRouteSpec, GrpcGatewayRoute, HttpGatewayRoute,
};
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::virtual_gateway::VirtualGatewaySpec;
use meshplane_spec::ResourceId;

use crate::egress_routes::DEFAULT_REQUEST_TIMEOUT_MS;
use crate::emit::Emit;
use crate::gateway_egress::Reach;
use crate::proto::millis;
use crate::{names, route_match as matches};

/// The gateway's routes in the order of the module documentation.
pub fn ordered<'m>(emit: &Emit<'m>, gateway: &str) -> Vec<(&'m str, &'m GatewayRouteSpec)> {
    let mesh = emit.mesh;
    let mut routes: Vec<(&'m str, &'m GatewayRouteSpec)> = mesh
        .gateway_routes
        .iter()
        .filter(|((g, _), _)| g == gateway)
        .map(|((_, name), spec)| (name.as_str(), spec))
        .collect();
    routes.sort_by(|(an, a), (bn, b)| key(a).cmp(&key(b)).then_with(|| an.cmp(bn)));
    routes
}

type Key = (
    bool,
    i64,
    u8,
    Reverse<usize>,
    u8,
    Reverse<usize>,
    Reverse<usize>,
);

fn key(r: &GatewayRouteSpec) -> Key {
    let (path_rank, prefix_len, host, conditions) =
        if let Some(h) = r.http_route.as_ref().or(r.http2_route.as_ref()) {
            let m = &h.match_;
            let (rank, len) = match (&m.path, &m.prefix) {
                (Some(p), _) if p.exact.is_some() => (0, 0),
                (Some(p), _) if p.regex.is_some() => (2, 0),
                (_, Some(prefix)) => (1, prefix.len()),
                _ => (1, 1),
            };
            let conditions = m.headers.as_ref().map_or(0, Vec::len)
                + m.query_parameters.as_ref().map_or(0, Vec::len)
                + usize::from(m.method.is_some());
            (rank, len, m.hostname.as_ref(), conditions)
        } else if let Some(g) = &r.grpc_route {
            let m = &g.match_;
            let len = m.service_name.as_ref().map_or(1, |s| s.len() + 2);
            (
                1,
                len,
                m.hostname.as_ref(),
                m.metadata.as_ref().map_or(0, Vec::len),
            )
        } else {
            (3, 0, None, 0)
        };
    let (host_rank, host_len) = match host {
        Some(GatewayRouteHostnameMatch { exact: Some(_), .. }) => (0, 0),
        Some(GatewayRouteHostnameMatch {
            suffix: Some(s), ..
        }) => (1, s.len()),
        _ => (2, 0),
    };
    (
        r.priority.is_none(),
        r.priority.unwrap_or(0),
        path_rank,
        Reverse(prefix_len),
        host_rank,
        Reverse(host_len),
        Reverse(conditions),
    )
}

/// Whether the route keeps the request's host name.
pub fn keeps_hostname(r: &GatewayRouteSpec) -> bool {
    let rewrite = if let Some(h) = r.http_route.as_ref().or(r.http2_route.as_ref()) {
        h.action
            .rewrite
            .as_ref()
            .and_then(|rw| rw.hostname.as_ref())
    } else {
        r.grpc_route
            .as_ref()
            .and_then(|g| g.action.rewrite.as_ref())
            .and_then(|rw| rw.hostname.as_ref())
    };
    rewrite.and_then(|h| h.default_target_hostname) == Some(DefaultRewrite::Disabled)
}

fn fits(r: &GatewayRouteSpec, protocol: Protocol, port: u32) -> bool {
    r.protocol() == Some(protocol) && r.match_port().is_none_or(|p| p == i64::from(port))
}

/// Reports the gateway routes no listener of the gateway serves.
pub fn report_unserved(
    emit: &mut Emit<'_>,
    gateway: &str,
    spec: &VirtualGatewaySpec,
    routes: &[(&str, &GatewayRouteSpec)],
) {
    for (name, r) in routes {
        let served = spec.listeners().iter().any(|l| {
            fits(
                r,
                l.port_mapping.protocol,
                crate::proto::clamp_u32(l.port_mapping.port),
            )
        });
        if !served {
            let id = emit
                .mesh
                .child_id(ResourceKind::GatewayRoute, gateway, name);
            emit.warn(
                "translate.gateway-route.no-listener",
                &id,
                "spec",
                format!(
                    "no listener of virtual gateway '{gateway}' matches this route's protocol{}; the route is not served",
                    r.match_port().map(|p| format!(" and port {p}")).unwrap_or_default()
                ),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn build(
    emit: &mut Emit<'_>,
    gateway: &str,
    name: &str,
    protocol: Protocol,
    port: u32,
    routes: &[(&str, &GatewayRouteSpec)],
    cluster: &str,
    reach: &Reach,
) -> (RouteConfiguration, Vec<ResourceId>) {
    let mut sources = vec![emit.id(ResourceKind::VirtualGateway, gateway)];
    let mut out = Vec::new();
    for (route_name, r) in routes.iter().filter(|(_, r)| fits(r, protocol, port)) {
        let id = emit
            .mesh
            .child_id(ResourceKind::GatewayRoute, gateway, route_name);
        if let Some(route) = route(emit, &id, route_name, r, cluster, reach) {
            sources.push(id);
            out.push(route);
        }
    }
    let config = RouteConfiguration {
        name: name.to_owned(),
        virtual_hosts: vec![VirtualHost {
            name: names::SELF_REDIRECT_VIRTUAL_HOST.to_owned(),
            domains: vec!["*".to_owned()],
            routes: out,
            ..Default::default()
        }],
        ..Default::default()
    };
    (config, sources)
}

/// One gateway route; `None` (reported) when its target cannot be reached.
fn route(
    emit: &mut Emit<'_>,
    id: &ResourceId,
    name: &str,
    r: &GatewayRouteSpec,
    cluster: &str,
    reach: &Reach,
) -> Option<Route> {
    let (kind, target) = match (&r.http_route, &r.http2_route, &r.grpc_route) {
        (Some(h), _, _) => ("httpRoute", &h.action.target),
        (_, Some(h), _) => ("http2Route", &h.action.target),
        (_, _, Some(g)) => ("grpcRoute", &g.action.target),
        _ => return None,
    };
    let service = target.virtual_service.virtual_service_name.as_str();
    let tpath = format!("spec.{kind}.action.target");
    if !emit.mesh.virtual_services.contains_key(service) {
        emit.warn(
            "translate.gateway-route.target-missing",
            id,
            &format!("{tpath}.virtualService.virtualServiceName"),
            format!("virtual service '{service}' is not defined; the gateway route is not served"),
        );
        return None;
    }
    let Some(ports) = reach.ports.get(service) else {
        emit.warn(
            "translate.gateway-route.unreachable",
            id,
            &format!("{tpath}.virtualService.virtualServiceName"),
            format!("virtual service '{service}' has no HTTP, HTTP/2 or gRPC listener behind it; the gateway route is not served"),
        );
        return None;
    };
    let mut headers_to_add = Vec::new();
    if let Some(p) = target.port {
        if !ports.iter().any(|q| i64::from(*q) == p) {
            emit.warn(
                "translate.gateway-route.target-port",
                id,
                &format!("{tpath}.port"),
                format!("the provider of virtual service '{service}' has no listener on port {p}; the gateway route is not served"),
            );
            return None;
        }
    }
    if reach.needs_port(service) {
        let Some(p) = target.port else {
            emit.warn(
                "translate.gateway-route.target-port",
                id,
                &format!("{tpath}.port"),
                format!("the provider of virtual service '{service}' has several listeners; set the target port to choose one; the gateway route is not served"),
            );
            return None;
        };
        headers_to_add.push(set_header(names::TARGET_PORT_HEADER, &p.to_string()));
    }
    let keep_host = keeps_hostname(r);
    if keep_host {
        headers_to_add.insert(0, set_header(names::VIRTUAL_SERVICE_HEADER, service));
    }
    let mut action = RouteAction {
        cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(cluster.to_owned())),
        timeout: Some(millis(DEFAULT_REQUEST_TIMEOUT_MS)),
        host_rewrite_specifier: (!keep_host)
            .then(|| route_action::HostRewriteSpecifier::HostRewriteLiteral(service.to_owned())),
        ..Default::default()
    };
    let m = if let Some(h) = r.http_route.as_ref().or(r.http2_route.as_ref()) {
        path_rewrite(h, &mut action);
        http_match(h)
    } else {
        grpc_match(r.grpc_route.as_ref()?)
    };
    Some(Route {
        name: name.to_owned(),
        r#match: Some(m),
        action: Some(route::Action::Route(action)),
        request_headers_to_add: headers_to_add,
        ..Default::default()
    })
}

fn set_header(key: &str, value: &str) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key: key.to_owned(),
            value: value.to_owned(),
            ..Default::default()
        }),
        append_action: header_value_option::HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        ..Default::default()
    }
}

fn http_match(h: &HttpGatewayRoute) -> RouteMatch {
    let m = &h.match_;
    let path = if let Some(exact) = m.path.as_ref().and_then(|p| p.exact.clone()) {
        route_match::PathSpecifier::Path(exact)
    } else if let Some(regex) = m.path.as_ref().and_then(|p| p.regex.as_deref()) {
        route_match::PathSpecifier::SafeRegex(matches::regex_matcher(regex))
    } else {
        route_match::PathSpecifier::Prefix(m.prefix.clone().unwrap_or_else(|| "/".to_owned()))
    };
    let mut headers: Vec<HeaderMatcher> = hostname(m.hostname.as_ref()).into_iter().collect();
    headers.extend(m.headers.iter().flatten().map(matches::header));
    if let Some(method) = m.method {
        headers.push(matches::pseudo_header(":method", method.as_str()));
    }
    RouteMatch {
        path_specifier: Some(path),
        headers,
        query_parameters: m
            .query_parameters
            .iter()
            .flatten()
            .map(matches::query_parameter)
            .collect(),
        ..Default::default()
    }
}

fn grpc_match(g: &GrpcGatewayRoute) -> RouteMatch {
    let m = &g.match_;
    let prefix = m
        .service_name
        .as_ref()
        .map_or_else(|| "/".to_owned(), |s| format!("/{s}/"));
    let mut headers: Vec<HeaderMatcher> = hostname(m.hostname.as_ref()).into_iter().collect();
    headers.extend(m.metadata.iter().flatten().map(matches::header));
    RouteMatch {
        path_specifier: Some(route_match::PathSpecifier::Prefix(prefix)),
        headers,
        ..Default::default()
    }
}

/// A host name match on `:authority`, case-insensitive, with or without a port.
fn hostname(h: Option<&GatewayRouteHostnameMatch>) -> Option<HeaderMatcher> {
    let h = h?;
    let regex = if let Some(exact) = &h.exact {
        format!("(?i)^{}(:[0-9]+)?$", regex_escape(exact))
    } else {
        format!("(?i)^.*{}(:[0-9]+)?$", regex_escape(h.suffix.as_ref()?))
    };
    Some(HeaderMatcher {
        name: ":authority".to_owned(),
        header_match_specifier: Some(
            envoy_types::pb::envoy::config::route::v3::header_matcher::HeaderMatchSpecifier::StringMatch(
                matches::string_matcher(string_matcher::MatchPattern::SafeRegex(
                    matches::regex_matcher(&regex),
                )),
            ),
        ),
        ..Default::default()
    })
}

fn path_rewrite(h: &HttpGatewayRoute, action: &mut RouteAction) {
    let m = &h.match_;
    let rewrite = h.action.rewrite.as_ref();
    if let Some(path) = &m.path {
        let Some(value) = rewrite
            .and_then(|r| r.path.as_ref())
            .and_then(|p| p.exact.clone())
        else {
            return;
        };
        if path.regex.is_some() {
            action.regex_rewrite = Some(substitute("^.*$", &value));
        } else {
            action.prefix_rewrite = value;
        }
        return;
    }
    let prefix = m.prefix.clone().unwrap_or_else(|| "/".to_owned());
    let prefix_rw = rewrite.and_then(|r| r.prefix.as_ref());
    let value = match prefix_rw {
        Some(p) if p.value.is_some() => p.value.clone().unwrap_or_default(),
        Some(p) if p.default_prefix == Some(DefaultRewrite::Disabled) => prefix.clone(),
        _ => "/".to_owned(),
    };
    if prefix.ends_with('/') || !value.ends_with('/') || value == prefix {
        action.prefix_rewrite = value;
    } else {
        action.regex_rewrite = Some(substitute(&format!("^{}/?", regex_escape(&prefix)), &value));
    }
}

fn substitute(pattern: &str, value: &str) -> RegexMatchAndSubstitute {
    RegexMatchAndSubstitute {
        pattern: Some(matches::regex_matcher(pattern)),
        substitution: value.to_owned(),
    }
}

/// Escapes RE2 metacharacters so `s` matches literally.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_names_literal() {
        assert_eq!(regex_escape("a.example.com"), "a\\.example\\.com");
        assert_eq!(regex_escape("/v1/(x)"), "/v1/\\(x\\)");
    }
}
