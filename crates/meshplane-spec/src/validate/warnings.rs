//! Warnings: configurations App Mesh accepts but that do not behave as users
//! expect (from the App Mesh troubleshooting guides and user guide notes).

use std::collections::BTreeMap;

use super::context::{Path, Sink};
use super::view::View;
use super::{references, routes};
use crate::common::{HttpTimeout, Protocol};
use crate::mesh::EgressFilterType;
use crate::route::RouteSpec;
use crate::virtual_node::{Listener, VirtualNodeSpec};

/// The per-request timeout App Mesh applies when none is set.
pub(crate) const DEFAULT_REQUEST_TIMEOUT_MS: i64 = 15_000;

fn fmt_ms(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}

/// Envoy routes TCP by destination port only: two TCP backends on one port
/// cannot be told apart (App Mesh roadmap issue 195).
pub(crate) fn tcp_port_conflict(s: &mut Sink, g: &View, node: &VirtualNodeSpec) {
    let mut seen: BTreeMap<i64, &str> = BTreeMap::new();
    let bp = Path::root().field("backends");
    for (i, b) in node.backends().iter().enumerate() {
        let Some(name) = b
            .virtual_service
            .as_ref()
            .map(|v| v.virtual_service_name.as_str())
        else {
            continue;
        };
        let Some(listeners) = g
            .virtual_service(name)
            .and_then(|vs| references::provider_listeners(g, vs))
        else {
            continue;
        };
        for (port, protocol) in listeners {
            if protocol != Protocol::Tcp {
                continue;
            }
            match seen.get(&port) {
                Some(first) if *first != name => s.warning(
                    "warn.tcp_port_conflict",
                    &bp.index(i).field("virtualService").field("virtualServiceName"),
                    format!(
                        "backends '{first}' and '{name}' are both TCP on port {port}; TCP traffic is routed by port alone, so one of them will receive the other's connections. Give each TCP destination its own port (a virtual router may listen on a different port than its nodes)"
                    ),
                ),
                Some(_) => {}
                None => {
                    seen.insert(port, name);
                }
            }
        }
    }
}

/// With ALLOW_ALL, App Mesh dropped the pass-through for everything a node
/// with backends did not list (user guide, mesh egress filter note); meshplane
/// keeps passing it through. Either way the behaviour differs from what a
/// user migrating from App Mesh may rely on, so it is worth a warning.
pub(crate) fn allow_all_backends(s: &mut Sink, g: &View, node: &VirtualNodeSpec) {
    let allow_all = g
        .mesh_spec()
        .is_some_and(|m| m.egress_filter_type() == EgressFilterType::AllowAll);
    if allow_all && !node.backends().is_empty() {
        s.warning(
            "warn.allow_all_backends",
            &Path::root().field("backends"),
            format!(
                "mesh '{}' allows all egress (ALLOW_ALL) and this node defines backends: under App Mesh, ALLOW_ALL stopped applying to a node with backends unless every egress destination was listed as a backend; meshplane keeps sending unlisted destinations to their original address, so egress that failed under App Mesh now succeeds. List every destination as a backend to keep App Mesh's behaviour explicit",
                g.name()
            ),
        );
    }
}

fn route_timeout(spec: &RouteSpec) -> Option<&HttpTimeout> {
    spec.http_route
        .as_ref()
        .or(spec.http2_route.as_ref())
        .and_then(|r| r.timeout.as_ref())
        .or_else(|| spec.grpc_route.as_ref().and_then(|r| r.timeout.as_ref()))
}

/// The effective per-request timeout of a route in ms (0: disabled).
fn route_request_timeout_ms(spec: &RouteSpec) -> i64 {
    route_timeout(spec)
        .and_then(|t| t.per_request.as_ref())
        .map_or(DEFAULT_REQUEST_TIMEOUT_MS, |d| d.as_millis())
}

/// The effective per-request timeout of a node listener in ms (0: disabled).
fn listener_request_timeout_ms(l: &Listener) -> Option<i64> {
    let t = l.timeout.as_ref();
    let http = match l.port_mapping.protocol {
        Protocol::Http => t.and_then(|t| t.http.as_ref()),
        Protocol::Http2 => t.and_then(|t| t.http2.as_ref()),
        Protocol::Grpc => t.and_then(|t| t.grpc.as_ref()),
        Protocol::Tcp => return None,
    };
    Some(
        http.and_then(|t| t.per_request.as_ref())
            .map_or(DEFAULT_REQUEST_TIMEOUT_MS, |d| d.as_millis()),
    )
}

/// A route timeout longer than a target listener's cuts requests short at the
/// target: the timeout must be raised on every participating resource.
pub(crate) fn route_timeout_exceeds_listener(s: &mut Sink, g: &View, spec: &RouteSpec) {
    let Some(protocol) = spec.protocol().filter(|p| p.is_http_family()) else {
        return;
    };
    let Some(per_request) = route_timeout(spec).and_then(|t| t.per_request.as_ref()) else {
        return;
    };
    let route_ms = per_request.as_millis();
    if route_ms <= 0 {
        return;
    }
    let path = Path::root()
        .field(routes::route_key(protocol))
        .field("timeout")
        .field("perRequest");
    for t in spec.weighted_targets() {
        let Some(node) = g.virtual_node(&t.virtual_node) else {
            continue;
        };
        let listener = match t.port {
            Some(port) => node
                .listeners()
                .iter()
                .find(|l| l.port_mapping.port == port),
            None if node.listeners().len() == 1 => node.listeners().first(),
            None => None,
        };
        let Some(l) = listener else { continue };
        let Some(listener_ms) = listener_request_timeout_ms(l) else {
            continue;
        };
        if listener_ms > 0 && route_ms > listener_ms {
            let kept = if l.timeout.is_none() {
                " (the default)"
            } else {
                ""
            };
            s.warning(
                "warn.route_timeout_exceeds_listener",
                &path,
                format!(
                    "the route allows {} per request, but the {} listener on port {} of target virtual node '{}' times requests out after {}{kept}; set that listener's timeout.{}.perRequest to at least {} as well",
                    fmt_ms(route_ms),
                    l.port_mapping.protocol,
                    l.port_mapping.port,
                    t.virtual_node,
                    fmt_ms(listener_ms),
                    l.port_mapping.protocol,
                    fmt_ms(route_ms),
                ),
            );
        }
    }
}

/// perRetryTimeout x maxRetries beyond the request timeout: the retries can
/// never all run.
pub(crate) fn retry_budget_exceeds_timeout(s: &mut Sink, spec: &RouteSpec) {
    let Some(protocol) = spec.protocol() else {
        return;
    };
    let (max_retries, per_retry) = if let Some(rp) = spec
        .http_route
        .as_ref()
        .or(spec.http2_route.as_ref())
        .and_then(|r| r.retry_policy.as_ref())
    {
        (rp.max_retries, &rp.per_retry_timeout)
    } else if let Some(rp) = spec
        .grpc_route
        .as_ref()
        .and_then(|r| r.retry_policy.as_ref())
    {
        (rp.max_retries, &rp.per_retry_timeout)
    } else {
        return;
    };
    let timeout_ms = route_request_timeout_ms(spec);
    let budget_ms = per_retry.as_millis().saturating_mul(max_retries.max(0));
    if timeout_ms > 0 && budget_ms > timeout_ms {
        let default = if route_timeout(spec)
            .and_then(|t| t.per_request.as_ref())
            .is_none()
        {
            " (the default)"
        } else {
            ""
        };
        s.warning(
            "warn.retry_budget_exceeds_timeout",
            &Path::root().field(routes::route_key(protocol)).field("retryPolicy"),
            format!(
                "perRetryTimeout x maxRetries = {} x {max_retries} = {}, more than the route's request timeout of {}{default}; the request times out before the retries finish. Raise timeout.perRequest to at least {} or retry less",
                fmt_ms(per_retry.as_millis()),
                fmt_ms(budget_ms),
                fmt_ms(timeout_ms),
                fmt_ms(budget_ms),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::validate::testing::{check, http_route, messages, node, router};

    const R: &str = "mesh/m/virtualRouter/r/route/web";

    fn timed_route(per_request_s: Option<i64>, retry: Option<(i64, i64)>) -> Value {
        let mut r = http_route(&[("a", 100)]);
        if let Some(s) = per_request_s {
            r["httpRoute"]["timeout"] = json!({"perRequest": {"value": s, "unit": "s"}});
        }
        if let Some((per_retry_s, max)) = retry {
            r["httpRoute"]["retryPolicy"] = json!({"maxRetries": max,
                "perRetryTimeout": {"value": per_retry_s, "unit": "s"}, "httpRetryEvents": ["gateway-error"]});
        }
        r
    }

    fn mesh(route: Value, target: Value) -> Vec<(&'static str, Value)> {
        vec![
            ("mesh/m/virtualRouter/r", router(80, "http")),
            ("mesh/m/virtualNode/a", target),
            (R, route),
        ]
    }

    #[test]
    fn route_timeout_above_the_target_listener() {
        check(&mesh(timed_route(Some(15), None), node(80, "http")), &[]);
        check(&mesh(timed_route(Some(30), None), node(80, "http")), &[
            "warning[warn.route_timeout_exceeds_listener] mesh/m/virtualRouter/r/route/web spec.httpRoute.timeout.perRequest",
        ]);
        let msgs = messages(
            &mesh(timed_route(Some(30), None), node(80, "http")),
            "warn.route_timeout_exceeds_listener",
        );
        assert!(
            msgs[0].contains("30 s") && msgs[0].contains("15 s (the default)"),
            "{}",
            msgs[0]
        );
        let mut raised = node(80, "http");
        raised["listeners"][0]["timeout"] =
            json!({"http": {"perRequest": {"value": 30, "unit": "s"}}});
        check(&mesh(timed_route(Some(30), None), raised), &[]);
        let mut disabled = node(80, "http");
        disabled["listeners"][0]["timeout"] =
            json!({"http": {"perRequest": {"value": 0, "unit": "s"}}});
        check(&mesh(timed_route(Some(30), None), disabled), &[]);
    }

    #[test]
    fn retries_that_cannot_finish_within_the_timeout() {
        check(
            &mesh(timed_route(None, Some((5, 3))), node(80, "http")),
            &[],
        );
        check(&mesh(timed_route(None, Some((5, 4))), node(80, "http")), &[
            "warning[warn.retry_budget_exceeds_timeout] mesh/m/virtualRouter/r/route/web spec.httpRoute.retryPolicy",
        ]);
        check(&mesh(timed_route(Some(10), Some((4, 3))), node(80, "http")), &[
            "warning[warn.retry_budget_exceeds_timeout] mesh/m/virtualRouter/r/route/web spec.httpRoute.retryPolicy",
        ]);
        check(
            &mesh(timed_route(Some(0), Some((60, 3))), node(80, "http")),
            &[],
        );
    }

    #[test]
    fn two_tcp_backends_on_one_port() {
        let a = json!({"backends": [
            {"virtualService": {"virtualServiceName": "db1.local"}},
            {"virtualService": {"virtualServiceName": "db2.local"}},
            {"virtualService": {"virtualServiceName": "web.local"}}
        ]});
        let resources = vec![
            ("mesh/m/virtualNode/a", a),
            (
                "mesh/m/virtualService/db1.local",
                json!({"provider": {"virtualNode": {"virtualNodeName": "db1"}}}),
            ),
            (
                "mesh/m/virtualService/db2.local",
                json!({"provider": {"virtualRouter": {"virtualRouterName": "db2"}}}),
            ),
            (
                "mesh/m/virtualService/web.local",
                json!({"provider": {"virtualNode": {"virtualNodeName": "web"}}}),
            ),
            ("mesh/m/virtualNode/db1", node(3306, "tcp")),
            ("mesh/m/virtualRouter/db2", router(3306, "tcp")),
            ("mesh/m/virtualNode/web", node(3306, "http")),
        ];
        check(&resources, &[
            "warning[warn.tcp_port_conflict] mesh/m/virtualNode/a spec.backends[1].virtualService.virtualServiceName",
        ]);
    }

    #[test]
    fn backends_in_an_allow_all_mesh() {
        let a = json!({"backends": [{"virtualService": {"virtualServiceName": "b.local"}}]});
        let allow_all = json!({"egressFilter": {"type": "ALLOW_ALL"}});
        check(
            &[
                ("mesh/m", allow_all.clone()),
                ("mesh/m/virtualNode/a", a.clone()),
                ("mesh/m/virtualService/b.local", json!({})),
            ],
            &["warning[warn.allow_all_backends] mesh/m/virtualNode/a spec.backends"],
        );
        check(
            &[("mesh/m", allow_all), ("mesh/m/virtualNode/a", json!({}))],
            &[],
        );
        check(
            &[
                ("mesh/m/virtualNode/a", a),
                ("mesh/m/virtualService/b.local", json!({})),
            ],
            &[],
        );
    }
}
