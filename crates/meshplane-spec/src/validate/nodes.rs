//! Virtual nodes: listeners, service discovery, backends.

use super::context::{Path, Sink};
use super::view::View;
use super::{common, fields, references, tls};
use crate::common::Protocol;
use crate::virtual_node::{Listener, ListenerTimeout, ServiceDiscovery, VirtualNodeSpec};

pub(crate) fn virtual_node(s: &mut Sink, g: &View, spec: &VirtualNodeSpec) {
    let root = Path::root();
    let ports: Vec<i64> = spec
        .listeners()
        .iter()
        .map(|l| l.port_mapping.port)
        .collect();
    let lp = root.field("listeners");
    for (i, l) in spec.listeners().iter().enumerate() {
        listener(s, &lp.index(i), l, &ports);
    }
    duplicate_ports(s, &lp, &ports);
    match &spec.service_discovery {
        Some(sd) => service_discovery(s, &root.field("serviceDiscovery"), sd),
        None if !ports.is_empty() => s.error(
            "service_discovery.required",
            &root.field("serviceDiscovery"),
            "a virtual node with listeners needs service discovery (dns or awsCloudMap) so clients can find its instances",
        ),
        None => {}
    }
    let bp = root.field("backends");
    for (i, b) in spec.backends().iter().enumerate() {
        let p = bp.index(i);
        fields::exactly_one(
            s,
            &p,
            "backend",
            &[("virtualService", b.virtual_service.is_some())],
        );
        let Some(vs) = &b.virtual_service else {
            continue;
        };
        let vp = p.field("virtualService");
        references::virtual_service(
            s,
            &vp.field("virtualServiceName"),
            g,
            &vs.virtual_service_name,
        );
        if let Some(cp) = &vs.client_policy {
            tls::client_policy(s, &vp.field("clientPolicy"), cp);
        }
    }
    tls::backend_defaults(
        s,
        &root.field("backendDefaults"),
        spec.backend_defaults.as_ref(),
    );
    common::logging(s, &root.field("logging"), spec.logging.as_ref());
}

fn listener(s: &mut Sink, p: &Path, l: &Listener, ports: &[i64]) {
    let protocol = l.port_mapping.protocol;
    common::port_mapping(s, &p.field("portMapping"), &l.port_mapping);
    if let Some(pool) = &l.connection_pool {
        common::connection_pool(s, &p.field("connectionPool"), pool, protocol, false);
    }
    if let Some(hc) = &l.health_check {
        common::health_check(s, &p.field("healthCheck"), hc, false, ports);
    }
    if let Some(od) = &l.outlier_detection {
        let op = p.field("outlierDetection");
        common::duration(
            s,
            &op.field("baseEjectionDuration"),
            &od.base_ejection_duration,
        );
        common::duration(s, &op.field("interval"), &od.interval);
        fields::range(
            s,
            &op.field("maxEjectionPercent"),
            od.max_ejection_percent,
            0,
            Some(100),
        );
        fields::range(
            s,
            &op.field("maxServerErrors"),
            od.max_server_errors,
            1,
            None,
        );
    }
    if let Some(t) = &l.timeout {
        listener_timeout(s, &p.field("timeout"), t, protocol);
    }
    if let Some(t) = &l.tls {
        tls::listener_tls(s, &p.field("tls"), t);
    }
}

fn listener_timeout(s: &mut Sink, p: &Path, t: &ListenerTimeout, protocol: Protocol) {
    let members = [
        ("grpc", t.grpc.is_some()),
        ("http", t.http.is_some()),
        ("http2", t.http2.is_some()),
        ("tcp", t.tcp.is_some()),
    ];
    if fields::exactly_one(s, p, "listener timeout", &members) {
        let key = members
            .iter()
            .find(|(_, on)| *on)
            .map(|(k, _)| *k)
            .unwrap_or_default();
        if key != protocol.as_str() {
            s.error(
                "timeout.protocol",
                &p.field(key),
                format!("'{key}' timeout on the {protocol} listener; the timeout's key must be the listener's protocol ('{protocol}')"),
            );
        }
    }
    for (key, t) in [("grpc", &t.grpc), ("http", &t.http), ("http2", &t.http2)] {
        if let Some(t) = t {
            common::http_timeout(s, &p.field(key), t);
        }
    }
    if let Some(t) = &t.tcp {
        common::tcp_timeout(s, &p.field("tcp"), t);
    }
}

/// Two listeners of one resource on the same port.
pub(crate) fn duplicate_ports(s: &mut Sink, p: &Path, ports: &[i64]) {
    for (i, port) in ports.iter().enumerate() {
        if let Some(first) = ports[..i].iter().position(|q| q == port) {
            s.error(
                "listener.duplicate_port",
                &p.index(i).field("portMapping").field("port"),
                format!("port {port} is already used by listeners[{first}]; each listener needs its own port"),
            );
        }
    }
}

fn service_discovery(s: &mut Sink, p: &Path, sd: &ServiceDiscovery) {
    fields::exactly_one(
        s,
        p,
        "service discovery",
        &[
            ("awsCloudMap", sd.aws_cloud_map.is_some()),
            ("dns", sd.dns.is_some()),
        ],
    );
    let Some(cm) = &sd.aws_cloud_map else { return };
    let cp = p.field("awsCloudMap");
    fields::length(s, &cp.field("namespaceName"), &cm.namespace_name, 1, 1024);
    fields::length(s, &cp.field("serviceName"), &cm.service_name, 1, 1024);
    for (i, a) in cm.attributes.iter().flatten().enumerate() {
        let ap = cp.field("attributes").index(i);
        fields::cloud_map_attribute_key(s, &ap.field("key"), &a.key);
        fields::cloud_map_attribute_value(s, &ap.field("value"), &a.value);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::validate::testing::{check, messages, node};

    const A: &str = "mesh/m/virtualNode/a";

    fn with_listener(extra: serde_json::Value) -> serde_json::Value {
        let mut l = json!({"portMapping": {"port": 8080, "protocol": "http"}});
        for (k, v) in extra.as_object().into_iter().flatten() {
            l[k] = v.clone();
        }
        json!({"listeners": [l], "serviceDiscovery": {"dns": {"hostname": "a.local"}}})
    }

    #[test]
    fn a_valid_node_has_no_findings() {
        check(&[(A, node(8080, "http"))], &[]);
        check(&[(A, json!({}))], &[]);
    }

    #[test]
    fn listener_fields() {
        check(
            &[(A, node(70000, "http"))],
            &["error[field.range] mesh/m/virtualNode/a spec.listeners[0].portMapping.port"],
        );
        check(
            &[(
                A,
                json!({
                    "listeners": [
                        {"portMapping": {"port": 80, "protocol": "http"}},
                        {"portMapping": {"port": 80, "protocol": "tcp"}}
                    ],
                    "serviceDiscovery": {"dns": {"hostname": "a.local"}}
                }),
            )],
            &["error[listener.duplicate_port] mesh/m/virtualNode/a spec.listeners[1].portMapping.port"],
        );
        check(
            &[(
                A,
                with_listener(json!({"outlierDetection": {
                "baseEjectionDuration": {"value": -1, "unit": "s"},
                "interval": {"value": 10, "unit": "s"},
                "maxEjectionPercent": 101, "maxServerErrors": 0}})),
            )],
            &[
                "error[field.range] mesh/m/virtualNode/a spec.listeners[0].outlierDetection.baseEjectionDuration.value",
                "error[field.range] mesh/m/virtualNode/a spec.listeners[0].outlierDetection.maxEjectionPercent",
                "error[field.range] mesh/m/virtualNode/a spec.listeners[0].outlierDetection.maxServerErrors",
            ],
        );
    }

    #[test]
    fn service_discovery() {
        check(
            &[(
                A,
                json!({"listeners": [{"portMapping": {"port": 80, "protocol": "http"}}]}),
            )],
            &["error[service_discovery.required] mesh/m/virtualNode/a spec.serviceDiscovery"],
        );
        check(
            &[(
                A,
                json!({"serviceDiscovery": {
                "dns": {"hostname": "a"},
                "awsCloudMap": {"namespaceName": "ns", "serviceName": "s"}}}),
            )],
            &["error[union.exactly_one] mesh/m/virtualNode/a spec.serviceDiscovery"],
        );
        check(
            &[(
                A,
                json!({"serviceDiscovery": {"awsCloudMap": {
                "namespaceName": "", "serviceName": "s",
                "attributes": [
                    {"key": "ok", "value": "fine value"},
                    {"key": "has space", "value": " leading"},
                    {"key": "k", "value": "tab\there"}
                ]}}}),
            )],
            &[
                "error[field.length] mesh/m/virtualNode/a spec.serviceDiscovery.awsCloudMap.namespaceName",
                "error[field.pattern] mesh/m/virtualNode/a spec.serviceDiscovery.awsCloudMap.attributes[1].key",
                "error[field.pattern] mesh/m/virtualNode/a spec.serviceDiscovery.awsCloudMap.attributes[1].value",
                "error[field.pattern] mesh/m/virtualNode/a spec.serviceDiscovery.awsCloudMap.attributes[2].value",
            ],
        );
    }

    #[test]
    fn health_checks() {
        let hc = |extra: serde_json::Value| {
            let mut h = json!({"healthyThreshold": 2, "unhealthyThreshold": 2, "intervalMillis": 5000,
                "timeoutMillis": 2000, "protocol": "http", "path": "/ping"});
            for (k, v) in extra.as_object().into_iter().flatten() {
                h[k] = v.clone();
            }
            with_listener(json!({"healthCheck": h}))
        };
        check(&[(A, hc(json!({})))], &[]);
        check(
            &[(
                A,
                hc(json!({"healthyThreshold": 1, "intervalMillis": 1000, "timeoutMillis": 70000})),
            )],
            &[
                "error[field.range] mesh/m/virtualNode/a spec.listeners[0].healthCheck.healthyThreshold",
                "error[field.range] mesh/m/virtualNode/a spec.listeners[0].healthCheck.intervalMillis",
                "error[field.range] mesh/m/virtualNode/a spec.listeners[0].healthCheck.timeoutMillis",
            ],
        );
        let mut no_path = hc(json!({}));
        no_path["listeners"][0]["healthCheck"]
            .as_object_mut()
            .map(|o| o.remove("path"));
        check(
            &[(A, no_path)],
            &["error[health_check.required] mesh/m/virtualNode/a spec.listeners[0].healthCheck.path"],
        );
        check(
            &[(A, hc(json!({"port": 9090})))],
            &["error[health_check.port] mesh/m/virtualNode/a spec.listeners[0].healthCheck.port"],
        );
        check(&[(A, hc(json!({"port": 8080, "protocol": "tcp"})))], &[]);
    }

    #[test]
    fn connection_pools_and_timeouts_follow_the_listener_protocol() {
        check(
            &[(
                A,
                with_listener(json!({"connectionPool": {"tcp": {"maxConnections": 10}}})),
            )],
            &["error[connection_pool.protocol] mesh/m/virtualNode/a spec.listeners[0].connectionPool.tcp"],
        );
        check(
            &[(
                A,
                with_listener(json!({"connectionPool": {
                "http": {"maxConnections": 0}, "http2": {"maxRequests": 1}}})),
            )],
            &[
                "error[union.exactly_one] mesh/m/virtualNode/a spec.listeners[0].connectionPool",
                "error[field.range] mesh/m/virtualNode/a spec.listeners[0].connectionPool.http.maxConnections",
            ],
        );
        check(
            &[(
                A,
                with_listener(
                    json!({"connectionPool": {"http": {"maxConnections": 5, "maxPendingRequests": 1}}}),
                ),
            )],
            &[],
        );
        check(
            &[(
                A,
                with_listener(
                    json!({"timeout": {"grpc": {"perRequest": {"value": 5, "unit": "s"}}}}),
                ),
            )],
            &["error[timeout.protocol] mesh/m/virtualNode/a spec.listeners[0].timeout.grpc"],
        );
        let msgs = messages(
            &[(A, with_listener(json!({"timeout": {"tcp": {}}})))],
            "timeout.protocol",
        );
        assert_eq!(msgs.len(), 1);
        assert!(msgs[0].contains("'http'"), "{}", msgs[0]);
    }

    #[test]
    fn backends_must_exist_and_logging_is_a_union() {
        check(
            &[(
                A,
                json!({"backends": [{"virtualService": {"virtualServiceName": "b.local"}}, {}]}),
            )],
            &[
                "error[reference.missing] mesh/m/virtualNode/a spec.backends[0].virtualService.virtualServiceName",
                "error[union.exactly_one] mesh/m/virtualNode/a spec.backends[1]",
            ],
        );
        let msgs = messages(
            &[(
                A,
                json!({"backends": [{"virtualService": {"virtualServiceName": "b.local"}}]}),
            )],
            "reference.missing",
        );
        assert!(
            msgs[0].contains("virtualService 'b.local'")
                && msgs[0].contains("mesh/m/virtualService/b.local"),
            "{}",
            msgs[0]
        );
        check(
            &[(
                A,
                json!({"logging": {"accessLog": {"file": {"path": "/dev/stdout",
                "format": {"text": "x", "json": [{"key": "", "value": "v"}]}}}}}),
            )],
            &[
                "error[union.exactly_one] mesh/m/virtualNode/a spec.logging.accessLog.file.format",
                "error[field.length] mesh/m/virtualNode/a spec.logging.accessLog.file.format.json[0].key",
            ],
        );
    }

    #[test]
    fn node_names_are_1_to_255_characters() {
        let long = format!("mesh/m/virtualNode/{}", "n".repeat(256));
        let diags = crate::validate::testing::run(&[(long.as_str(), json!({}))]);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].rule, "field.length");
        assert_eq!(diags[0].path, "virtualNodeName");
    }
}
