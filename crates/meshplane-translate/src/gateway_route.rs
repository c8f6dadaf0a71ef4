//! One gateway route as an Envoy route of its listener's route
//! configuration: matches, rewrites, timeouts. The host name is not part of
//! the route: it chooses the virtual host (`gateway_hosts`).
//!
//! | App Mesh match                    | Envoy                                               |
//! |-----------------------------------|-----------------------------------------------------|
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
//!
//! Every route sends to the listener's self-redirect cluster with the
//! timeouts of its target (`gateway_timeouts`).

use envoy_types::pb::envoy::config::core::v3::{
    header_value_option, HeaderValue, HeaderValueOption,
};
use envoy_types::pb::envoy::config::route::v3::{
    route, route_action, route_match, HeaderMatcher, Route, RouteAction, RouteMatch,
};
use envoy_types::pb::envoy::r#type::matcher::v3::RegexMatchAndSubstitute;
use meshplane_spec::gateway_route::{
    DefaultRewrite, GatewayRouteSpec, GrpcGatewayRoute, HttpGatewayRoute,
};
use meshplane_spec::ResourceId;

use crate::emit::Emit;
use crate::gateway_egress::Reach;
use crate::proto::millis;
use crate::{names, route_match as matches};

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

/// One gateway route; `None` (reported) when its target cannot be reached.
pub fn route(
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
    let port = match (target.port, ports.as_slice()) {
        (Some(p), _) => crate::proto::clamp_u32(p),
        (None, [only]) => *only,
        (None, _) => {
            emit.warn(
                "translate.gateway-route.target-port",
                id,
                &format!("{tpath}.port"),
                format!("the provider of virtual service '{service}' has several listeners; set the target port to choose one; the gateway route is not served"),
            );
            return None;
        }
    };
    if reach.needs_port(service) {
        headers_to_add.push(set_header(names::TARGET_PORT_HEADER, &port.to_string()));
    }
    let keep_host = keeps_hostname(r);
    if keep_host {
        headers_to_add.insert(0, set_header(names::VIRTUAL_SERVICE_HEADER, service));
    }
    let timeouts = reach
        .timeouts
        .get(&(service.to_owned(), port))
        .copied()
        .unwrap_or_default();
    let mut action = RouteAction {
        cluster_specifier: Some(route_action::ClusterSpecifier::Cluster(cluster.to_owned())),
        timeout: Some(millis(timeouts.per_request_ms)),
        idle_timeout: timeouts.idle_ms.map(millis),
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
    let mut headers: Vec<HeaderMatcher> = m.headers.iter().flatten().map(matches::header).collect();
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
    RouteMatch {
        path_specifier: Some(route_match::PathSpecifier::Prefix(prefix)),
        headers: m.metadata.iter().flatten().map(matches::header).collect(),
        ..Default::default()
    }
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
