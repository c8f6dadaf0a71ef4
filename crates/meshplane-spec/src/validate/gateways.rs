//! Virtual gateways (http/http2/grpc listeners only) and their gateway
//! routes (one route kind, a virtual service target, no reserved prefixes).

use super::context::{Path, Sink};
use super::view::View;
use super::{common, fields, nodes, references, routes, tls};
use crate::common::{HeaderMatch, Protocol};
use crate::gateway_route::{
    GatewayRouteHostnameMatch, GatewayRouteSpec, GatewayRouteTarget, GrpcGatewayRoute,
    HttpGatewayRoute,
};
use crate::identity::ResourceKind;
use crate::virtual_gateway::VirtualGatewaySpec;

pub(crate) fn virtual_gateway(s: &mut Sink, spec: &VirtualGatewaySpec) {
    let root = Path::root();
    let lp = root.field("listeners");
    fields::required(
        s,
        &lp,
        spec.listeners.as_ref(),
        "a virtual gateway needs at least one listener",
    );
    let ports: Vec<i64> = spec
        .listeners()
        .iter()
        .map(|l| l.port_mapping.port)
        .collect();
    for (i, l) in spec.listeners().iter().enumerate() {
        let p = lp.index(i);
        let protocol = l.port_mapping.protocol;
        common::port_mapping(s, &p.field("portMapping"), &l.port_mapping);
        if protocol == Protocol::Tcp {
            s.error(
                "field.enum",
                &p.field("portMapping").field("protocol"),
                "'tcp' is not an allowed protocol for a virtual gateway listener; allowed values are http, http2, grpc",
            );
        }
        if let Some(pool) = &l.connection_pool {
            common::connection_pool(s, &p.field("connectionPool"), pool, protocol, true);
        }
        if let Some(hc) = &l.health_check {
            common::health_check(s, &p.field("healthCheck"), hc, true, &ports);
        }
        if let Some(t) = &l.tls {
            tls::listener_tls(s, &p.field("tls"), t);
        }
    }
    nodes::duplicate_ports(s, &lp, &ports);
    tls::backend_defaults(
        s,
        &root.field("backendDefaults"),
        spec.backend_defaults.as_ref(),
    );
    common::logging(s, &root.field("logging"), spec.logging.as_ref());
}

pub(crate) fn gateway_route(s: &mut Sink, g: &View, gateway: &str, spec: &GatewayRouteSpec) {
    let root = Path::root();
    fields::range_opt(s, &root.field("priority"), spec.priority, 0, Some(1000));
    let one = fields::exactly_one(
        s,
        &root,
        "gateway route",
        &[
            ("grpcRoute", spec.grpc_route.is_some()),
            ("http2Route", spec.http2_route.is_some()),
            ("httpRoute", spec.http_route.is_some()),
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
    let parent_found = references::parent(s, g, ResourceKind::VirtualGateway, gateway);
    let (Some(protocol), true, true) = (spec.protocol(), one, parent_found) else {
        return;
    };
    let Some(gw) = g.virtual_gateway(gateway) else {
        return;
    };
    let kp = root.field(routes::route_key(protocol));
    let listeners: Vec<(i64, Protocol)> = gw
        .listeners()
        .iter()
        .map(|l| (l.port_mapping.port, l.port_mapping.protocol))
        .collect();
    let parent = format!("virtual gateway '{gateway}'");
    let port_path = kp.field("match").field("port");
    routes::listener_match(
        s,
        &kp,
        &port_path,
        protocol,
        spec.match_port(),
        &listeners,
        &parent,
        "gateway_route.port_missing",
    );
}

fn http_route(s: &mut Sink, g: &View, p: &Path, r: &HttpGatewayRoute) {
    let ap = p.field("action");
    target(s, g, &ap.field("target"), &r.action.target);
    if let Some(rw) = &r.action.rewrite {
        let rp = ap.field("rewrite");
        if let Some(path) = &rw.path {
            fields::length_opt(
                s,
                &rp.field("path").field("exact"),
                path.exact.as_ref(),
                1,
                255,
            );
        }
        if let Some(prefix) = &rw.prefix {
            fields::length_opt(
                s,
                &rp.field("prefix").field("value"),
                prefix.value.as_ref(),
                1,
                255,
            );
        }
        rewrite_fits_match(s, &rp, rw, &r.match_);
    }
    let mp = p.field("match");
    let m = &r.match_;
    fields::port(s, &mp.field("port"), m.port);
    common::prefix(s, &mp.field("prefix"), m.prefix.as_ref());
    reserved_path(s, &mp.field("prefix"), m.prefix.as_ref());
    reserved_path(
        s,
        &mp.field("path").field("exact"),
        m.path.as_ref().and_then(|pm| pm.exact.as_ref()),
    );
    common::header_matches(s, &mp.field("headers"), m.headers.as_ref());
    common::path_match(s, &mp.field("path"), m.path.as_ref());
    common::query_parameters(s, &mp.field("queryParameters"), m.query_parameters.as_ref());
    hostname(s, &mp.field("hostname"), m.hostname.as_ref());
}

fn grpc_route(s: &mut Sink, g: &View, p: &Path, r: &GrpcGatewayRoute) {
    target(s, g, &p.field("action").field("target"), &r.action.target);
    let mp = p.field("match");
    let m = &r.match_;
    fields::port(s, &mp.field("port"), m.port);
    let metadata: Option<&Vec<HeaderMatch>> = m.metadata.as_ref();
    common::header_matches(s, &mp.field("metadata"), metadata);
    routes::grpc_service_name(s, &mp.field("serviceName"), m.service_name.as_ref());
    hostname(s, &mp.field("hostname"), m.hostname.as_ref());
}

/// A prefix rewrite goes with a prefix match and a path rewrite with a path
/// match (user guide, gateway routes: rewrite configuration per match
/// type); a prefix rewrite is either `defaultPrefix` or `value`; rewritten
/// paths begin with `/`.
fn rewrite_fits_match(
    s: &mut Sink,
    rp: &Path,
    rw: &crate::gateway_route::HttpGatewayRouteRewrite,
    m: &crate::gateway_route::HttpGatewayRouteMatch,
) {
    if let Some(prefix) = &rw.prefix {
        let pp = rp.field("prefix");
        if m.prefix.is_none() {
            s.error(
                "gateway_route.rewrite_mismatch",
                &pp,
                "a prefix rewrite needs a prefix match (match.prefix); use rewrite.path with a path match",
            );
        }
        if prefix.default_prefix.is_some() && prefix.value.is_some() {
            s.error(
                "gateway_route.rewrite_mismatch",
                &pp,
                "set either defaultPrefix or value, not both",
            );
        }
        if let Some(v) = prefix.value.as_ref().filter(|v| !v.starts_with('/')) {
            s.error(
                "gateway_route.rewrite_path",
                &pp.field("value"),
                format!("'{v}': a rewritten prefix begins with '/'"),
            );
        }
    }
    if let Some(path) = &rw.path {
        let pp = rp.field("path");
        if m.path.is_none() {
            s.error(
                "gateway_route.rewrite_mismatch",
                &pp,
                "a path rewrite needs a path match (match.path.exact or match.path.regex); use rewrite.prefix with a prefix match",
            );
        }
        if let Some(v) = path.exact.as_ref().filter(|v| !v.starts_with('/')) {
            s.error(
                "gateway_route.rewrite_path",
                &pp.field("exact"),
                format!("'{v}': a rewritten path begins with '/'"),
            );
        }
    }
}

/// Paths under `/aws-appmesh` and `/aws-app-mesh` belong to App Mesh itself.
fn reserved_path(s: &mut Sink, p: &Path, value: Option<&String>) {
    let Some(v) = value else { return };
    if v.starts_with("/aws-appmesh") || v.starts_with("/aws-app-mesh") {
        s.error(
            "gateway_route.reserved_prefix",
            p,
            format!(
                "'{v}': paths beginning with /aws-appmesh or /aws-app-mesh are reserved by App Mesh; choose another"
            ),
        );
    }
}

fn hostname(s: &mut Sink, p: &Path, h: Option<&GatewayRouteHostnameMatch>) {
    let Some(h) = h else { return };
    fields::length_opt(s, &p.field("exact"), h.exact.as_ref(), 1, 253);
    fields::length_opt(s, &p.field("suffix"), h.suffix.as_ref(), 1, 253);
}

/// The target virtual service exists, and the port names one of its
/// provider's listeners where the provider has several.
fn target(s: &mut Sink, g: &View, p: &Path, t: &GatewayRouteTarget) {
    fields::port(s, &p.field("port"), t.port);
    let np = p.field("virtualService").field("virtualServiceName");
    let name = &t.virtual_service.virtual_service_name;
    fields::length(s, &np, name, 1, 255);
    let Some(vs) = references::virtual_service(s, &np, g, name) else {
        return;
    };
    let Some(listeners) = references::provider_listeners(g, vs) else {
        return;
    };
    let ports: Vec<i64> = listeners.iter().map(|(port, _)| *port).collect();
    let what = format!("the provider of virtual service '{name}'");
    routes::target_port(
        s,
        &p.field("port"),
        t.port,
        &ports,
        &what,
        "gateway_route.port_missing",
    );
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::validate::testing::{check, node, router};

    const GW: &str = "mesh/m/virtualGateway/gw";
    const GR: &str = "mesh/m/virtualGateway/gw/gatewayRoute/in";

    fn gateway(listeners: Value) -> Value {
        json!({"listeners": listeners})
    }

    fn http_gr(prefix: &str, service: &str) -> Value {
        json!({"httpRoute": {
            "match": {"prefix": prefix},
            "action": {"target": {"virtualService": {"virtualServiceName": service}}}
        }})
    }

    fn mesh(gr: Value) -> Vec<(&'static str, Value)> {
        vec![
            (
                GW,
                gateway(json!([{"portMapping": {"port": 8080, "protocol": "http"}}])),
            ),
            (
                "mesh/m/virtualService/svc.local",
                json!({"provider": {"virtualRouter": {"virtualRouterName": "r"}}}),
            ),
            (
                "mesh/m/virtualRouter/r",
                json!({"listeners": [
                    {"portMapping": {"port": 8080, "protocol": "http"}},
                    {"portMapping": {"port": 8081, "protocol": "http"}}
                ]}),
            ),
            (GR, gr),
        ]
    }

    #[test]
    fn a_valid_gateway_route() {
        let mut gr = http_gr("/", "svc.local");
        gr["httpRoute"]["action"]["target"]["port"] = json!(8081);
        check(&mesh(gr), &[]);
    }

    #[test]
    fn gateway_listeners() {
        check(
            &[(GW, json!({}))],
            &["error[field.required] mesh/m/virtualGateway/gw spec.listeners"],
        );
        check(
            &[(
                GW,
                gateway(json!([{"portMapping": {"port": 9000, "protocol": "tcp"},
                "connectionPool": {"tcp": {"maxConnections": 1}},
                "healthCheck": {"healthyThreshold": 2, "unhealthyThreshold": 2, "intervalMillis": 5000,
                    "timeoutMillis": 2000, "protocol": "tcp"}}])),
            )],
            &[
                "error[field.enum] mesh/m/virtualGateway/gw spec.listeners[0].portMapping.protocol",
                "error[connection_pool.protocol] mesh/m/virtualGateway/gw spec.listeners[0].connectionPool.tcp",
                "error[field.enum] mesh/m/virtualGateway/gw spec.listeners[0].healthCheck.protocol",
            ],
        );
    }

    #[test]
    fn reserved_prefixes_and_prefix_shape() {
        let mut gr = http_gr("/aws-appmesh/x", "svc.local");
        gr["httpRoute"]["action"]["target"]["port"] = json!(8081);
        check(&mesh(gr.clone()), &[
            "error[gateway_route.reserved_prefix] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.match.prefix",
        ]);
        gr["httpRoute"]["match"] = json!({"prefix": "api", "path": {"exact": "/aws-app-mesh"}});
        check(&mesh(gr), &[
            "error[match.prefix] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.match.prefix",
            "error[gateway_route.reserved_prefix] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.match.path.exact",
        ]);
    }

    #[test]
    fn rewrites_fit_the_match() {
        let mut gr = http_gr("/a/", "svc.local");
        gr["httpRoute"]["action"]["target"]["port"] = json!(8081);
        gr["httpRoute"]["action"]["rewrite"] =
            json!({"prefix": {"value": "/b/"}, "hostname": {"defaultTargetHostname": "DISABLED"}});
        check(&mesh(gr.clone()), &[]);
        gr["httpRoute"]["action"]["rewrite"] =
            json!({"prefix": {"value": "b/", "defaultPrefix": "DISABLED"}, "path": {"exact": "x"}});
        check(&mesh(gr.clone()), &[
            "error[gateway_route.rewrite_mismatch] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.rewrite.prefix",
            "error[gateway_route.rewrite_path] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.rewrite.prefix.value",
            "error[gateway_route.rewrite_mismatch] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.rewrite.path",
            "error[gateway_route.rewrite_path] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.rewrite.path.exact",
        ]);
        gr["httpRoute"]["match"] = json!({"path": {"exact": "/x"}});
        gr["httpRoute"]["action"]["rewrite"] = json!({"prefix": {"defaultPrefix": "DISABLED"}});
        check(&mesh(gr), &[
            "error[gateway_route.rewrite_mismatch] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.rewrite.prefix",
        ]);
    }

    #[test]
    fn targets_and_ports() {
        check(&mesh(http_gr("/", "svc.local")), &[
            "error[gateway_route.port_missing] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.target.port",
        ]);
        let mut gr = http_gr("/", "svc.local");
        gr["httpRoute"]["action"]["target"]["port"] = json!(9999);
        check(
            &mesh(gr),
            &["error[target.port_unknown] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.target.port"],
        );
        check(&mesh(http_gr("/", "nope.local")), &[
            "error[reference.missing] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.target.virtualService.virtualServiceName",
        ]);
    }

    #[test]
    fn kind_and_listener_of_the_gateway() {
        let grpc = json!({"grpcRoute": {
            "match": {"serviceName": "aws.app-mesh.Foo", "port": 8080},
            "action": {"target": {"virtualService": {"virtualServiceName": "n.local"}}}
        }});
        let resources = vec![
            (
                GW,
                gateway(json!([
                    {"portMapping": {"port": 8080, "protocol": "http"}},
                    {"portMapping": {"port": 8443, "protocol": "http2"}}
                ])),
            ),
            (
                "mesh/m/virtualService/n.local",
                json!({"provider": {"virtualNode": {"virtualNodeName": "n"}}}),
            ),
            ("mesh/m/virtualNode/n", node(50051, "grpc")),
            (GR, grpc),
        ];
        check(&resources, &[
            "error[grpc.reserved_service] mesh/m/virtualGateway/gw/gatewayRoute/in spec.grpcRoute.match.serviceName",
            "error[route.protocol_mismatch] mesh/m/virtualGateway/gw/gatewayRoute/in spec.grpcRoute",
        ]);
        let mut no_port = resources.clone();
        no_port[3].1["grpcRoute"]["match"] = json!({});
        check(
            &no_port,
            &[
                "error[gateway_route.port_missing] mesh/m/virtualGateway/gw/gatewayRoute/in spec.grpcRoute.match.port",
                "error[route.protocol_mismatch] mesh/m/virtualGateway/gw/gatewayRoute/in spec.grpcRoute",
            ],
        );
        let mut none = resources;
        none[3].1 = json!({});
        check(
            &none,
            &["error[union.exactly_one] mesh/m/virtualGateway/gw/gatewayRoute/in spec"],
        );
        check(&[(GR, http_gr("/", "x"))], &[
            "error[reference.missing] mesh/m/virtualGateway/gw/gatewayRoute/in spec",
            "error[reference.missing] mesh/m/virtualGateway/gw/gatewayRoute/in spec.httpRoute.action.target.virtualService.virtualServiceName",
        ]);
        let _ = router(1, "http");
    }
}
