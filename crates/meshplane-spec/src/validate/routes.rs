//! Routes of a virtual router: one route kind, matching the router's
//! listener protocol and port, weighted targets that resolve to node
//! listeners, and sound retry policies.

use super::context::{Path, Sink};
use super::view::View;
use super::{common, fields, references};
use crate::common::{Duration, Protocol};
use crate::identity::ResourceKind;
use crate::route::{GrpcRoute, GrpcRouteMatch, HttpRoute, RouteSpec, TcpRoute, WeightedTarget};

/// The HTTP retry events App Mesh documents.
pub(crate) const HTTP_RETRY_EVENTS: [&str; 4] = [
    "server-error",
    "gateway-error",
    "client-error",
    "stream-error",
];

pub(crate) fn route(s: &mut Sink, g: &View, router: &str, spec: &RouteSpec) {
    let root = Path::root();
    fields::range_opt(s, &root.field("priority"), spec.priority, 0, Some(1000));
    let one = fields::exactly_one(
        s,
        &root,
        "route",
        &[
            ("grpcRoute", spec.grpc_route.is_some()),
            ("http2Route", spec.http2_route.is_some()),
            ("httpRoute", spec.http_route.is_some()),
            ("tcpRoute", spec.tcp_route.is_some()),
        ],
    );
    if let Some(r) = &spec.http_route {
        http_route(s, g, &root.field("httpRoute"), r);
    }
    if let Some(r) = &spec.http2_route {
        http_route(s, g, &root.field("http2Route"), r);
    }
    if let Some(r) = &spec.grpc_route {
        grpc_route(s, g, &root.field("grpcRoute"), r);
    }
    if let Some(r) = &spec.tcp_route {
        tcp_route(s, g, &root.field("tcpRoute"), r);
    }
    let parent_found = references::parent(s, g, ResourceKind::VirtualRouter, router);
    let (Some(protocol), true, true) = (spec.protocol(), one, parent_found) else {
        return;
    };
    let Some(router_spec) = g.virtual_router(router) else {
        return;
    };
    let key = route_key(protocol);
    let kp = root.field(key);
    let port_path = kp.field("match").field("port");
    let listeners = references::router_listeners(router_spec);
    let parent = format!("virtual router '{router}'");
    listener_match(
        s,
        &kp,
        &port_path,
        protocol,
        spec.match_port(),
        &listeners,
        &parent,
        "route.port_missing",
    );
}

/// The route member that serves `protocol`.
pub(crate) fn route_key(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Http => "httpRoute",
        Protocol::Http2 => "http2Route",
        Protocol::Grpc => "grpcRoute",
        Protocol::Tcp => "tcpRoute",
    }
}

/// A route's kind and match port against its parent's listeners.
#[allow(clippy::too_many_arguments)]
pub(crate) fn listener_match(
    s: &mut Sink,
    kind_path: &Path,
    port_path: &Path,
    protocol: Protocol,
    match_port: Option<i64>,
    listeners: &[(i64, Protocol)],
    parent: &str,
    missing_rule: &'static str,
) {
    if listeners.is_empty() {
        return;
    }
    let key = route_key(protocol);
    let mismatch = |s: &mut Sink, port: i64, proto: Protocol| {
        s.error(
            "route.protocol_mismatch",
            kind_path,
            format!(
                "{key} cannot serve the {proto} listener on port {port} of {parent}; use {} or a {protocol} listener",
                route_key(proto)
            ),
        );
    };
    let ports: Vec<i64> = listeners.iter().map(|(p, _)| *p).collect();
    match match_port {
        Some(port) => match listeners.iter().find(|(p, _)| *p == port) {
            Some((_, proto)) if *proto != protocol => mismatch(s, port, *proto),
            Some(_) => {}
            None => s.error(
                "match.port_unknown",
                port_path,
                format!(
                    "port {port} is not a listener port of {parent}; use one of {}",
                    common::ports_list(&ports)
                ),
            ),
        },
        None if listeners.len() > 1 => {
            s.error(
                missing_rule,
                port_path,
                format!(
                    "{parent} has {} listeners (ports {}), so the match must name the port",
                    listeners.len(),
                    common::ports_list(&ports)
                ),
            );
            if !listeners.iter().any(|(_, proto)| *proto == protocol) {
                let (port, proto) = listeners[0];
                mismatch(s, port, proto);
            }
        }
        None => {
            let (port, proto) = listeners[0];
            if proto != protocol {
                mismatch(s, port, proto);
            }
        }
    }
}

fn http_route(s: &mut Sink, g: &View, p: &Path, r: &HttpRoute) {
    weighted_targets(
        s,
        g,
        &p.field("action").field("weightedTargets"),
        &r.action.weighted_targets,
    );
    let mp = p.field("match");
    let m = &r.match_;
    fields::port(s, &mp.field("port"), m.port);
    common::prefix(s, &mp.field("prefix"), m.prefix.as_ref());
    common::header_matches(s, &mp.field("headers"), m.headers.as_ref());
    common::path_match(s, &mp.field("path"), m.path.as_ref());
    common::query_parameters(s, &mp.field("queryParameters"), m.query_parameters.as_ref());
    if let Some(rp) = &r.retry_policy {
        let pp = p.field("retryPolicy");
        http_retry_events(
            s,
            &pp.field("httpRetryEvents"),
            rp.http_retry_events.as_ref(),
        );
        let lists = [
            (
                "httpRetryEvents",
                rp.http_retry_events.as_ref().map_or(0, Vec::len),
            ),
            (
                "tcpRetryEvents",
                rp.tcp_retry_events.as_ref().map_or(0, Vec::len),
            ),
        ];
        fields::list_size_opt(
            s,
            &pp.field("tcpRetryEvents"),
            rp.tcp_retry_events.as_ref(),
            1,
            Some(1),
        );
        retry_policy(s, &pp, rp.max_retries, &rp.per_retry_timeout, &lists);
    }
    if let Some(t) = &r.timeout {
        common::http_timeout(s, &p.field("timeout"), t);
    }
}

fn grpc_route(s: &mut Sink, g: &View, p: &Path, r: &GrpcRoute) {
    weighted_targets(
        s,
        g,
        &p.field("action").field("weightedTargets"),
        &r.action.weighted_targets,
    );
    grpc_match(s, &p.field("match"), &r.match_);
    if let Some(rp) = &r.retry_policy {
        let pp = p.field("retryPolicy");
        http_retry_events(
            s,
            &pp.field("httpRetryEvents"),
            rp.http_retry_events.as_ref(),
        );
        fields::list_size_opt(
            s,
            &pp.field("tcpRetryEvents"),
            rp.tcp_retry_events.as_ref(),
            1,
            Some(1),
        );
        fields::list_size_opt(
            s,
            &pp.field("grpcRetryEvents"),
            rp.grpc_retry_events.as_ref(),
            1,
            Some(5),
        );
        let lists = [
            (
                "grpcRetryEvents",
                rp.grpc_retry_events.as_ref().map_or(0, Vec::len),
            ),
            (
                "httpRetryEvents",
                rp.http_retry_events.as_ref().map_or(0, Vec::len),
            ),
            (
                "tcpRetryEvents",
                rp.tcp_retry_events.as_ref().map_or(0, Vec::len),
            ),
        ];
        retry_policy(s, &pp, rp.max_retries, &rp.per_retry_timeout, &lists);
    }
    if let Some(t) = &r.timeout {
        common::http_timeout(s, &p.field("timeout"), t);
    }
}

fn grpc_match(s: &mut Sink, p: &Path, m: &GrpcRouteMatch) {
    fields::port(s, &p.field("port"), m.port);
    common::header_matches(s, &p.field("metadata"), m.metadata.as_ref());
    fields::length_opt(s, &p.field("methodName"), m.method_name.as_ref(), 1, 50);
    if m.method_name.is_some() && m.service_name.is_none() {
        s.error(
            "grpc.method_without_service",
            &p.field("methodName"),
            "a methodName match needs a serviceName: name the fully qualified gRPC service the method belongs to",
        );
    }
    grpc_service_name(s, &p.field("serviceName"), m.service_name.as_ref());
}

/// gRPC service names in the `aws.appmesh` namespace are reserved.
pub(crate) fn grpc_service_name(s: &mut Sink, p: &Path, name: Option<&String>) {
    let Some(name) = name else { return };
    if name.starts_with("aws.appmesh") || name.starts_with("aws.app-mesh") {
        s.error(
            "grpc.reserved_service",
            p,
            format!("'{name}': gRPC service names beginning with aws.appmesh or aws.app-mesh are reserved by App Mesh"),
        );
    }
}

fn tcp_route(s: &mut Sink, g: &View, p: &Path, r: &TcpRoute) {
    weighted_targets(
        s,
        g,
        &p.field("action").field("weightedTargets"),
        &r.action.weighted_targets,
    );
    if let Some(m) = &r.match_ {
        fields::port(s, &p.field("match").field("port"), m.port);
    }
    if let Some(t) = &r.timeout {
        common::tcp_timeout(s, &p.field("timeout"), t);
    }
}

fn http_retry_events(s: &mut Sink, p: &Path, events: Option<&Vec<String>>) {
    let Some(events) = events else { return };
    fields::list_size(s, p, events.len(), 1, Some(25));
    for (i, e) in events.iter().enumerate() {
        fields::length(s, &p.index(i), e, 1, 25);
        if !e.is_empty() {
            fields::one_of(s, &p.index(i), e, &HTTP_RETRY_EVENTS);
        }
    }
}

/// maxRetries, a complete perRetryTimeout, and at least one event.
fn retry_policy(
    s: &mut Sink,
    p: &Path,
    max_retries: i64,
    per_retry: &Duration,
    lists: &[(&str, usize)],
) {
    fields::range(s, &p.field("maxRetries"), max_retries, 0, None);
    let tp = p.field("perRetryTimeout");
    common::duration(s, &tp, per_retry);
    if per_retry.value.is_none() || per_retry.unit.is_none() {
        s.error(
            "retry_policy.required",
            &tp,
            "perRetryTimeout needs both a value and a unit (s or ms)",
        );
    }
    if lists.iter().all(|(_, n)| *n == 0) {
        let names: Vec<&str> = lists.iter().map(|(n, _)| *n).collect();
        s.error(
            "retry_policy.required",
            p,
            format!(
                "a retry policy needs at least one retry event in {}",
                names.join(" or ")
            ),
        );
    }
}

fn weighted_targets(s: &mut Sink, g: &View, p: &Path, targets: &[WeightedTarget]) {
    fields::list_size(s, p, targets.len(), 1, Some(10));
    let mut total = 0i64;
    for (i, t) in targets.iter().enumerate() {
        let tp = p.index(i);
        fields::port(s, &tp.field("port"), t.port);
        fields::length(s, &tp.field("virtualNode"), &t.virtual_node, 1, 255);
        fields::range(s, &tp.field("weight"), t.weight, 0, Some(100));
        total = total.saturating_add(t.weight.max(0));
        let Some(node) = references::virtual_node(s, &tp.field("virtualNode"), g, &t.virtual_node)
        else {
            continue;
        };
        let ports: Vec<i64> = node
            .listeners()
            .iter()
            .map(|l| l.port_mapping.port)
            .collect();
        let parent = format!("virtual node '{}'", t.virtual_node);
        target_port(
            s,
            &tp.field("port"),
            t.port,
            &ports,
            &parent,
            "route.port_missing",
        );
    }
    if total > 100 {
        s.error(
            "route.weight_total",
            p,
            format!("the target weights add up to {total}; the total may be at most 100"),
        );
    } else if total == 0 && !targets.is_empty() {
        s.error(
            "route.weight_total",
            p,
            "every target has weight 0, so no traffic can be routed; give at least one target a weight above 0",
        );
    }
}

/// A target's port against the listener ports of what it targets.
pub(crate) fn target_port(
    s: &mut Sink,
    p: &Path,
    port: Option<i64>,
    ports: &[i64],
    target: &str,
    missing_rule: &'static str,
) {
    match port {
        Some(port) if (1..=65535).contains(&port) && !ports.contains(&port) => s.error(
            "target.port_unknown",
            p,
            format!(
                "port {port} is not a listener port of {target}; use one of {}",
                common::ports_list(ports)
            ),
        ),
        None if ports.len() > 1 => s.error(
            missing_rule,
            p,
            format!(
                "{target} has {} listeners (ports {}), so the target must name the port",
                ports.len(),
                common::ports_list(ports)
            ),
        ),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::validate::testing::{check, http_route, messages, node, router};

    const R: &str = "mesh/m/virtualRouter/r/route/web";

    /// Router `r` on 8080/http, nodes `a` (8080/http) and `b` (two listeners).
    fn mesh(route: Value) -> Vec<(&'static str, Value)> {
        vec![
            ("mesh/m/virtualRouter/r", router(8080, "http")),
            ("mesh/m/virtualNode/a", node(8080, "http")),
            (
                "mesh/m/virtualNode/b",
                json!({
                    "listeners": [
                        {"portMapping": {"port": 8080, "protocol": "http"}},
                        {"portMapping": {"port": 9090, "protocol": "http"}}
                    ],
                    "serviceDiscovery": {"dns": {"hostname": "b.local"}}
                }),
            ),
            (R, route),
        ]
    }

    #[test]
    fn a_valid_route_has_no_findings() {
        check(&mesh(http_route(&[("a", 100)])), &[]);
    }

    #[test]
    fn exactly_one_route_kind() {
        let mut two = http_route(&[("a", 1)]);
        two["tcpRoute"] =
            json!({"action": {"weightedTargets": [{"virtualNode": "a", "weight": 1}]}});
        check(
            &mesh(two),
            &["error[union.exactly_one] mesh/m/virtualRouter/r/route/web spec"],
        );
        check(
            &mesh(json!({"priority": 1001})),
            &[
                "error[union.exactly_one] mesh/m/virtualRouter/r/route/web spec",
                "error[field.range] mesh/m/virtualRouter/r/route/web spec.priority",
            ],
        );
    }

    #[test]
    fn route_kind_matches_the_router_listener() {
        let tcp = json!({"tcpRoute": {"action": {"weightedTargets": [{"virtualNode": "a", "weight": 1}]}}});
        check(
            &mesh(tcp.clone()),
            &["error[route.protocol_mismatch] mesh/m/virtualRouter/r/route/web spec.tcpRoute"],
        );
        let msgs = messages(&mesh(tcp), "route.protocol_mismatch");
        assert!(msgs[0].contains("use httpRoute"), "{}", msgs[0]);
    }

    #[test]
    fn ports_with_several_listeners() {
        let mut resources = mesh(http_route(&[("b", 100)]));
        resources[0].1 = json!({"listeners": [
            {"portMapping": {"port": 8080, "protocol": "http"}},
            {"portMapping": {"port": 9000, "protocol": "grpc"}}
        ]});
        check(&resources, &[
            "error[route.port_missing] mesh/m/virtualRouter/r/route/web spec.httpRoute.match.port",
            "error[route.port_missing] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets[0].port",
        ]);
        resources[3].1["httpRoute"]["match"]["port"] = json!(9000);
        resources[3].1["httpRoute"]["action"]["weightedTargets"][0]["port"] = json!(7000);
        check(&resources, &[
            "error[route.protocol_mismatch] mesh/m/virtualRouter/r/route/web spec.httpRoute",
            "error[target.port_unknown] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets[0].port",
        ]);
        resources[3].1["httpRoute"]["match"]["port"] = json!(1234);
        resources[3].1["httpRoute"]["action"]["weightedTargets"][0]["port"] = json!(9090);
        check(
            &resources,
            &["error[match.port_unknown] mesh/m/virtualRouter/r/route/web spec.httpRoute.match.port"],
        );
    }

    #[test]
    fn targets_and_weights() {
        check(
            &mesh(http_route(&[("a", 60), ("a", 50)])),
            &["error[route.weight_total] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets"],
        );
        check(
            &mesh(http_route(&[("a", 0)])),
            &["error[route.weight_total] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets"],
        );
        check(&mesh(http_route(&[("ghost", 101)])), &[
            "error[field.range] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets[0].weight",
            "error[reference.missing] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets[0].virtualNode",
            "error[route.weight_total] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets",
        ]);
        check(
            &mesh(http_route(&[])),
            &["error[field.list_size] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets"],
        );
        let eleven: Vec<(&str, i64)> = (0..11).map(|_| ("a", 1)).collect();
        check(
            &mesh(http_route(&eleven)),
            &["error[field.list_size] mesh/m/virtualRouter/r/route/web spec.httpRoute.action.weightedTargets"],
        );
    }

    #[test]
    fn the_router_must_exist() {
        let mut resources = mesh(http_route(&[("a", 1)]));
        resources.remove(0);
        check(
            &resources,
            &["error[reference.missing] mesh/m/virtualRouter/r/route/web spec"],
        );
    }

    #[test]
    fn http_match_fields() {
        let mut r = http_route(&[("a", 1)]);
        r["httpRoute"]["match"] = json!({
            "prefix": "api",
            "headers": [{"name": "", "match": {"exact": "x", "prefix": "y"}}],
            "path": {"exact": ""},
            "queryParameters": []
        });
        check(
            &mesh(r),
            &[
                "error[match.prefix] mesh/m/virtualRouter/r/route/web spec.httpRoute.match.prefix",
                "error[field.length] mesh/m/virtualRouter/r/route/web spec.httpRoute.match.headers[0].name",
                "error[union.exactly_one] mesh/m/virtualRouter/r/route/web spec.httpRoute.match.headers[0].match",
                "error[field.length] mesh/m/virtualRouter/r/route/web spec.httpRoute.match.path.exact",
                "error[field.list_size] mesh/m/virtualRouter/r/route/web spec.httpRoute.match.queryParameters",
            ],
        );
    }

    #[test]
    fn retry_policies() {
        let mut r = http_route(&[("a", 1)]);
        r["httpRoute"]["retryPolicy"] = json!({"maxRetries": 2, "perRetryTimeout": {"value": 1, "unit": "s"},
            "httpRetryEvents": ["server-error", "teapot"]});
        check(
            &mesh(r.clone()),
            &["error[field.enum] mesh/m/virtualRouter/r/route/web spec.httpRoute.retryPolicy.httpRetryEvents[1]"],
        );
        r["httpRoute"]["retryPolicy"] = json!({"maxRetries": -1, "perRetryTimeout": {"unit": "s"}});
        check(&mesh(r), &[
            "error[field.range] mesh/m/virtualRouter/r/route/web spec.httpRoute.retryPolicy.maxRetries",
            "error[retry_policy.required] mesh/m/virtualRouter/r/route/web spec.httpRoute.retryPolicy.perRetryTimeout",
            "error[retry_policy.required] mesh/m/virtualRouter/r/route/web spec.httpRoute.retryPolicy",
        ]);
    }

    #[test]
    fn grpc_matches() {
        let grpc = json!({"grpcRoute": {
            "match": {"methodName": "Get", "metadata": []},
            "action": {"weightedTargets": [{"virtualNode": "g", "weight": 1}]},
            "retryPolicy": {"maxRetries": 1, "perRetryTimeout": {"value": 1, "unit": "s"}, "grpcRetryEvents": ["unavailable"]}
        }});
        let resources = vec![
            ("mesh/m/virtualRouter/r", router(50051, "grpc")),
            ("mesh/m/virtualNode/g", node(50051, "grpc")),
            (R, grpc.clone()),
        ];
        check(
            &resources,
            &[
                "error[grpc.method_without_service] mesh/m/virtualRouter/r/route/web spec.grpcRoute.match.methodName",
                "error[field.list_size] mesh/m/virtualRouter/r/route/web spec.grpcRoute.match.metadata",
            ],
        );
        let mut reserved = grpc;
        reserved["grpcRoute"]["match"] = json!({"serviceName": "aws.appmesh.Internal"});
        let mut resources = resources;
        resources[2].1 = reserved;
        check(
            &resources,
            &["error[grpc.reserved_service] mesh/m/virtualRouter/r/route/web spec.grpcRoute.match.serviceName"],
        );
    }
}
