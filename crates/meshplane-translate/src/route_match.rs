//! App Mesh route matches as Envoy `RouteMatch`es.
//!
//! | App Mesh                               | Envoy                                        |
//! |----------------------------------------|----------------------------------------------|
//! | `prefix`                               | `prefix`                                     |
//! | `path.exact` / `path.regex`            | `path` / `safe_regex` (RE2)                  |
//! | header `exact/prefix/suffix/regex`     | header `string_match` of the same kind       |
//! | header `range {start,end}`             | `range_match` (start inclusive, end exclusive) |
//! | header without `match`                 | `present_match: true`                        |
//! | header `invert`                        | `invert_match`                               |
//! | `queryParameters[].match.exact`        | query parameter `string_match.exact` (else `present_match`) |
//! | `method`                               | header `:method` exact                       |
//! | `scheme`                               | header `:scheme` exact                       |
//! | gRPC `serviceName` + `methodName`      | `path` `/<service>/<method>`                 |
//! | gRPC `serviceName`                     | `prefix` `/<service>/`                       |
//! | gRPC neither                           | `prefix` `/`                                 |
//! | gRPC `metadata`                        | header matches as above                      |
//!
//! `port` selects the router listener the route belongs to; it is not a
//! request match.

use envoy_types::pb::envoy::config::route::v3::{
    header_matcher, query_parameter_matcher, route_match, HeaderMatcher, QueryParameterMatcher,
    RouteMatch,
};
use envoy_types::pb::envoy::r#type::matcher::v3::{string_matcher, RegexMatcher, StringMatcher};
use envoy_types::pb::envoy::r#type::v3::Int64Range;
use meshplane_spec::common::{HeaderMatch, HttpPathMatch, HttpQueryParameter};
use meshplane_spec::route::{GrpcRouteMatch, HttpRouteMatch};

pub fn http(m: &HttpRouteMatch) -> RouteMatch {
    let path = if let Some(HttpPathMatch {
        exact: Some(exact), ..
    }) = &m.path
    {
        route_match::PathSpecifier::Path(exact.clone())
    } else if let Some(HttpPathMatch {
        regex: Some(regex), ..
    }) = &m.path
    {
        route_match::PathSpecifier::SafeRegex(regex_matcher(regex))
    } else {
        route_match::PathSpecifier::Prefix(m.prefix.clone().unwrap_or_else(|| "/".to_owned()))
    };
    let mut headers: Vec<HeaderMatcher> = m.headers.iter().flatten().map(header).collect();
    if let Some(method) = m.method {
        headers.push(pseudo_header(":method", method.as_str()));
    }
    if let Some(scheme) = m.scheme {
        let scheme = match scheme {
            meshplane_spec::common::HttpScheme::Http => "http",
            meshplane_spec::common::HttpScheme::Https => "https",
        };
        headers.push(pseudo_header(":scheme", scheme));
    }
    let query_parameters = m
        .query_parameters
        .iter()
        .flatten()
        .map(query_parameter)
        .collect();
    RouteMatch {
        path_specifier: Some(path),
        headers,
        query_parameters,
        ..Default::default()
    }
}

pub fn grpc(m: &GrpcRouteMatch) -> RouteMatch {
    let path = match (&m.service_name, &m.method_name) {
        (Some(service), Some(method)) => {
            route_match::PathSpecifier::Path(format!("/{service}/{method}"))
        }
        (Some(service), None) => route_match::PathSpecifier::Prefix(format!("/{service}/")),
        // A method without a service is refused by validation; match every call.
        (None, _) => route_match::PathSpecifier::Prefix("/".to_owned()),
    };
    RouteMatch {
        path_specifier: Some(path),
        headers: m.metadata.iter().flatten().map(header).collect(),
        ..Default::default()
    }
}

/// Every request (`prefix: /`).
pub fn everything() -> RouteMatch {
    RouteMatch {
        path_specifier: Some(route_match::PathSpecifier::Prefix("/".to_owned())),
        ..Default::default()
    }
}

pub(crate) fn query_parameter(q: &HttpQueryParameter) -> QueryParameterMatcher {
    QueryParameterMatcher {
        name: q.name.clone(),
        query_parameter_match_specifier: Some(
            match q.match_.as_ref().and_then(|m| m.exact.clone()) {
                Some(exact) => query_parameter_matcher::QueryParameterMatchSpecifier::StringMatch(
                    string_matcher(string_matcher::MatchPattern::Exact(exact)),
                ),
                None => query_parameter_matcher::QueryParameterMatchSpecifier::PresentMatch(true),
            },
        ),
    }
}

pub(crate) fn header(h: &HeaderMatch) -> HeaderMatcher {
    use header_matcher::HeaderMatchSpecifier as S;
    use string_matcher::MatchPattern as P;
    let m = h.match_.as_ref();
    let spec = if let Some(exact) = m.and_then(|m| m.exact.clone()) {
        S::StringMatch(string_matcher(P::Exact(exact)))
    } else if let Some(prefix) = m.and_then(|m| m.prefix.clone()) {
        S::StringMatch(string_matcher(P::Prefix(prefix)))
    } else if let Some(suffix) = m.and_then(|m| m.suffix.clone()) {
        S::StringMatch(string_matcher(P::Suffix(suffix)))
    } else if let Some(regex) = m.and_then(|m| m.regex.clone()) {
        S::StringMatch(string_matcher(P::SafeRegex(regex_matcher(&regex))))
    } else if let Some(range) = m.and_then(|m| m.range.clone()) {
        S::RangeMatch(Int64Range {
            start: range.start,
            end: range.end,
        })
    } else {
        S::PresentMatch(true)
    };
    HeaderMatcher {
        name: h.name.clone(),
        invert_match: h.invert.unwrap_or(false),
        header_match_specifier: Some(spec),
        ..Default::default()
    }
}

pub(crate) fn pseudo_header(name: &str, value: &str) -> HeaderMatcher {
    HeaderMatcher {
        name: name.to_owned(),
        header_match_specifier: Some(header_matcher::HeaderMatchSpecifier::StringMatch(
            string_matcher(string_matcher::MatchPattern::Exact(value.to_owned())),
        )),
        ..Default::default()
    }
}

pub(crate) fn string_matcher(pattern: string_matcher::MatchPattern) -> StringMatcher {
    StringMatcher {
        match_pattern: Some(pattern),
        ignore_case: false,
    }
}

pub(crate) fn regex_matcher(regex: &str) -> RegexMatcher {
    RegexMatcher {
        regex: regex.to_owned(),
        ..Default::default()
    }
}
