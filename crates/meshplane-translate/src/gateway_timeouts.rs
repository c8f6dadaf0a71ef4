//! The timeouts a gateway route carries at the gateway layer.
//!
//! A request through a gateway passes two routes of the gateway's Envoy:
//! the gateway route (`rds_ingress_*`) and then the target virtual
//! service's route (`rds_egress_*_15001`). Envoy cuts a request at the
//! first route timeout that expires, so a gateway route cut at App Mesh's
//! default 15 s would cut every request the target allows longer. App Mesh
//! applied the target's route timeouts at the gateway layer (roadmap issue
//! aws/aws-app-mesh-roadmap#376 is the bug where it failed to, for routes
//! keeping the host name); so does meshplane, for every gateway route:
//!
//! - a virtual router provider: the routes of the router listener the
//!   gateway route targets (its `target.port`, or the only listener), each
//!   with its `timeout.perRequest` and `timeout.idle`;
//! - a virtual node provider: the node listener's `timeout.<protocol>`,
//!   which App Mesh applies to the route it builds for such a service.
//!
//! One gateway route can reach several routes of a router (which one
//! depends on the rewritten request, decided only in the second pass). The
//! gateway route takes the **largest** of their timeouts, each kind on its
//! own: the gateway layer must not cut what any target route allows, and
//! the target route's own (smaller or equal) timeout still cuts its
//! requests in the second pass. Unset `perRequest` counts as App Mesh's
//! 15 s; 0 disables the timeout (App Mesh and Envoy alike) and is larger
//! than any value. Unset `idle` counts as Envoy's stream idle timeout
//! (300 s, App Mesh's documented default) and stays unset when it is the
//! largest. A router without routes for the listener gives the defaults.

use meshplane_spec::common::{HttpTimeout, Protocol};
use meshplane_spec::route::RouteSpec;
use meshplane_spec::virtual_node::ListenerTimeout;

use crate::egress_plan::Provider;
use crate::egress_routes::DEFAULT_REQUEST_TIMEOUT_MS;

/// Envoy's stream idle timeout, which applies when a route sets none.
const DEFAULT_IDLE_TIMEOUT_MS: i64 = 300_000;

/// The route timeouts of a gateway route, in milliseconds (0: disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub per_request_ms: i64,
    /// `None`: Envoy's stream idle timeout.
    pub idle_ms: Option<i64>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            per_request_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            idle_ms: None,
        }
    }
}

impl Timeouts {
    fn of(t: Option<&HttpTimeout>) -> Self {
        Timeouts {
            per_request_ms: t
                .and_then(|t| t.per_request.as_ref())
                .map_or(DEFAULT_REQUEST_TIMEOUT_MS, |d| d.as_millis()),
            idle_ms: t.and_then(|t| t.idle.as_ref()).map(|d| d.as_millis()),
        }
    }

    /// Each kind of timeout the larger of the two.
    fn max(self, other: Timeouts) -> Timeouts {
        let per_request_ms = if length(other.per_request_ms) > length(self.per_request_ms) {
            other.per_request_ms
        } else {
            self.per_request_ms
        };
        let idle = |t: Option<i64>| length(t.unwrap_or(DEFAULT_IDLE_TIMEOUT_MS));
        let idle_ms = if idle(other.idle_ms) > idle(self.idle_ms) {
            other.idle_ms
        } else {
            self.idle_ms
        };
        Timeouts {
            per_request_ms,
            idle_ms,
        }
    }
}

/// How long a timeout lets a request run: 0 disables it (unbounded).
fn length(ms: i64) -> i64 {
    if ms == 0 {
        i64::MAX
    } else {
        ms
    }
}

/// The timeouts a gateway route targeting a service through `provider`
/// (on one of its ports) carries.
pub fn of_target(provider: &Provider<'_>) -> Timeouts {
    match provider {
        Provider::Router { routes, .. } => routes
            .iter()
            .map(|(_, r)| Timeouts::of(route_timeout(r)))
            .reduce(Timeouts::max)
            .unwrap_or_default(),
        Provider::Node { listener, .. } => Timeouts::of(listener_timeout(
            listener.port_mapping.protocol,
            listener.timeout.as_ref(),
        )),
    }
}

fn route_timeout(r: &RouteSpec) -> Option<&HttpTimeout> {
    r.http_route
        .as_ref()
        .or(r.http2_route.as_ref())
        .and_then(|h| h.timeout.as_ref())
        .or_else(|| r.grpc_route.as_ref().and_then(|g| g.timeout.as_ref()))
}

fn listener_timeout(protocol: Protocol, t: Option<&ListenerTimeout>) -> Option<&HttpTimeout> {
    let t = t?;
    match protocol {
        Protocol::Http => t.http.as_ref(),
        Protocol::Http2 => t.http2.as_ref(),
        Protocol::Grpc => t.grpc.as_ref(),
        Protocol::Tcp => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(per_request_ms: i64, idle_ms: Option<i64>) -> Timeouts {
        Timeouts {
            per_request_ms,
            idle_ms,
        }
    }

    #[test]
    fn the_largest_of_each_kind_wins() {
        assert_eq!(t(10_000, None).max(t(45_000, None)), t(45_000, None));
        assert_eq!(t(45_000, None).max(t(10_000, None)), t(45_000, None));
        assert_eq!(
            t(45_000, Some(1_000)).max(t(10_000, Some(600_000))),
            t(45_000, Some(600_000))
        );
    }

    #[test]
    fn zero_disables_and_is_the_largest() {
        assert_eq!(t(0, None).max(t(45_000, None)), t(0, None));
        assert_eq!(t(45_000, None).max(t(0, None)), t(0, None));
        assert_eq!(t(1, Some(0)).max(t(1, Some(900_000))), t(1, Some(0)));
    }

    #[test]
    fn unset_idle_counts_as_envoys_300_s() {
        assert_eq!(t(1, None).max(t(1, Some(60_000))), t(1, None));
        assert_eq!(t(1, Some(60_000)).max(t(1, None)), t(1, None));
        assert_eq!(t(1, None).max(t(1, Some(301_000))), t(1, Some(301_000)));
    }
}
