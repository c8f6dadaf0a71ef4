//! The timeouts a gateway route carries at the gateway layer.
//!
//! A request through a gateway passes two routes of the gateway's Envoy:
//! the gateway route (`rds_ingress_*`) and then a route of the target
//! virtual service's virtual host (`rds_egress_*_15001`). Envoy cuts a
//! request at the first route timeout that expires, so a gateway route cut
//! at App Mesh's default 15 s would cut every request the target allows
//! longer. App Mesh applied the target's route timeouts at the gateway
//! layer (roadmap issue aws/aws-app-mesh-roadmap#376 is the bug where it
//! failed to, for routes keeping the host name); so does meshplane, for
//! every gateway route, taking them from the target's egress routes as
//! `egress_routes` builds them:
//!
//! - a virtual router provider: the routes of the router listener the
//!   gateway route targets (its `target.port`, or the only listener), each
//!   with its `timeout.perRequest` (15 s when unset) and `timeout.idle`;
//! - a virtual node provider: the one route App Mesh builds for it, with
//!   App Mesh's route defaults (15 s, no idle timeout); the node
//!   listener's `timeout` governs only the node's own ingress, as for any
//!   client (`egress_routes` warns where the listener allows longer).
//!
//! One gateway route can reach several routes of a router (which one
//! depends on the rewritten request, decided only in the second pass). The
//! gateway route takes the **largest** of their timeouts, each kind on its
//! own: the gateway layer must not cut what any target route allows, and
//! the target route's own (smaller or equal) timeout still cuts its
//! requests in the second pass. A timeout of 0 is disabled (App Mesh and
//! Envoy alike) and larger than any value. An unset idle timeout counts as
//! Envoy's stream idle timeout (300 s, App Mesh's documented default) and
//! stays unset when it is the largest. A target without routes gives the
//! defaults.

use envoy_types::pb::envoy::config::route::v3::{route, Route};
use envoy_types::pb::google::protobuf::Duration;

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

fn ms(d: &Duration) -> i64 {
    d.seconds
        .saturating_mul(1000)
        .saturating_add(i64::from(d.nanos) / 1_000_000)
}

/// The timeouts a gateway route carries to a target whose virtual host
/// holds `routes` (Envoy's 15 s where a route sets no timeout).
pub fn of_target(routes: &[Route]) -> Timeouts {
    routes
        .iter()
        .filter_map(|r| match &r.action {
            Some(route::Action::Route(a)) => Some(Timeouts {
                per_request_ms: a.timeout.as_ref().map_or(DEFAULT_REQUEST_TIMEOUT_MS, ms),
                idle_ms: a.idle_timeout.as_ref().map(ms),
            }),
            _ => None,
        })
        .reduce(Timeouts::max)
        .unwrap_or_default()
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
    fn of_target_reads_the_egress_routes() {
        use envoy_types::pb::envoy::config::route::v3::RouteAction;
        let r = |timeout: Option<i64>, idle: Option<i64>| Route {
            action: Some(route::Action::Route(RouteAction {
                timeout: timeout.map(crate::proto::millis),
                idle_timeout: idle.map(crate::proto::millis),
                ..Default::default()
            })),
            ..Default::default()
        };
        assert_eq!(of_target(&[]), Timeouts::default());
        assert_eq!(of_target(&[r(None, None)]), t(15_000, None));
        assert_eq!(
            of_target(&[r(Some(10_000), None), r(Some(45_500), Some(400_000))]),
            t(45_500, Some(400_000))
        );
    }

    #[test]
    fn unset_idle_counts_as_envoys_300_s() {
        assert_eq!(t(1, None).max(t(1, Some(60_000))), t(1, None));
        assert_eq!(t(1, Some(60_000)).max(t(1, None)), t(1, None));
        assert_eq!(t(1, None).max(t(1, Some(301_000))), t(1, Some(301_000)));
    }
}
