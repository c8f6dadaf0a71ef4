//! A gateway listener's HTTP health check path (`healthCheck.path` with
//! protocol http or http2): the gateway answers it itself, unless a gateway
//! route takes that path.
//!
//! The gateway answers with Envoy's health check filter (200 while the
//! listener serves; 503 once Envoy is told to fail health checks, e.g. by
//! `POST /healthcheck/fail` on the admin interface before a shutdown, so a
//! load balancer stops sending). The filter is in the listener's HTTP
//! filters but disabled by default, and enabled only on one route per
//! virtual host, `<route configuration>_health_check`, matching `:path`
//! equal to the health check path, placed **after** the gateway routes.
//! So:
//!
//! - a request for that path that a gateway route of the request's virtual
//!   host matches goes to that route's target, as any request: the health
//!   check policy never shadows a gateway route (a load balancer's health
//!   checks then check that target too);
//! - otherwise the gateway answers it, whatever the host.
//!
//! App Mesh's observed gateway listeners carried no health check filter
//! (only the router), so a route on that path always reached its target
//! there; the answer for a path no route takes is meshplane's, for load
//! balancers pointed at the health check path. The user guide recommends a
//! TCP or TLS health check on the listener port instead, which needs none
//! of this.

use std::collections::HashMap;

use envoy_types::pb::envoy::config::route::v3::{
    route, route_match, DirectResponseAction, FilterConfig, Route, RouteMatch,
};
use envoy_types::pb::envoy::extensions::filters::http::health_check::v3::HealthCheck;
use envoy_types::pb::envoy::extensions::filters::network::http_connection_manager::v3::{
    http_filter, HttpFilter,
};
use envoy_types::pb::google::protobuf::BoolValue;
use meshplane_spec::common::Protocol;
use meshplane_spec::virtual_gateway::VirtualGatewayListener;

use crate::proto::any;
use crate::route_match::pseudo_header;

pub const HEALTH_CHECK_FILTER: &str = "envoy.filters.http.health_check";

/// The listener's HTTP health check path, if it has one.
pub fn path(l: &VirtualGatewayListener) -> Option<&str> {
    let hc = l.health_check.as_ref()?;
    if !matches!(hc.protocol, Protocol::Http | Protocol::Http2) {
        return None;
    }
    hc.path.as_deref().filter(|p| !p.is_empty())
}

/// The health check filter's configuration: it answers every request it
/// sees (the route that enables it matches the path).
fn config(path: &str) -> HealthCheck {
    HealthCheck {
        pass_through_mode: Some(BoolValue { value: false }),
        headers: vec![pseudo_header(":path", path)],
        ..Default::default()
    }
}

/// The health check filter, disabled unless a route enables it.
pub fn filter(path: &str) -> HttpFilter {
    HttpFilter {
        name: HEALTH_CHECK_FILTER.to_owned(),
        config_type: Some(http_filter::ConfigType::TypedConfig(any(&config(path)))),
        disabled: true,
        ..Default::default()
    }
}

/// The route, last in a virtual host, on which the filter answers `path`.
/// Its direct response is what the filter answers while healthy; the
/// filter answers first.
pub fn route(route_config: &str, path: &str) -> Route {
    // Envoy enables a disabled filter on a route that has a per-filter
    // config for it; the health check filter has no per-route settings, so
    // the config is its own, marked optional, which Envoy then ignores
    // (an empty `config` is refused, and proto JSON cannot show one).
    let enable = FilterConfig {
        config: Some(any(&config(path))),
        is_optional: true,
        disabled: false,
    };
    Route {
        name: format!("{route_config}_health_check"),
        r#match: Some(RouteMatch {
            path_specifier: Some(route_match::PathSpecifier::Prefix("/".to_owned())),
            headers: vec![pseudo_header(":path", path)],
            ..Default::default()
        }),
        action: Some(route::Action::DirectResponse(DirectResponseAction {
            status: 200,
            ..Default::default()
        })),
        typed_per_filter_config: HashMap::from([(HEALTH_CHECK_FILTER.to_owned(), any(&enable))]),
        ..Default::default()
    }
}
