//! The tracing drivers and the tracing config file.

use meshplane_bootstrap::MemoryFiles;
use serde_json::{json, Value};

use super::support::{build, build_with, cluster, error, error_with};

#[test]
fn xray_tracing() {
    let b = build(&[("ENABLE_ENVOY_XRAY_TRACING", "1")]);
    let t = &b.config()["tracing"]["http"];
    assert_eq!(t["name"], "envoy.tracers.xray");
    let cfg = &t["typed_config"];
    assert_eq!(
        cfg["daemon_endpoint"],
        json!({ "protocol": "UDP", "address": "127.0.0.1", "port_value": 2000 })
    );
    assert_eq!(cfg["segment_name"], "shop/cart");
    assert_eq!(
        cfg["segment_fields"]["aws"]["app_mesh"],
        json!({ "mesh_name": "shop", "virtual_node_name": "cart" })
    );
    assert!(cfg.get("sampling_rule_manifest").is_none());

    let b = build(&[
        ("ENABLE_ENVOY_XRAY_TRACING", "1"),
        ("XRAY_DAEMON_PORT", "3000"),
        ("XRAY_SAMPLING_RATE", "0.2"),
        ("XRAY_SEGMENT_NAME", "cart-svc"),
    ]);
    let cfg = &b.config()["tracing"]["http"]["typed_config"];
    assert_eq!(cfg["daemon_endpoint"]["port_value"], 3000);
    assert_eq!(cfg["segment_name"], "cart-svc");
    let manifest: Value = cfg["sampling_rule_manifest"]["inline_string"]
        .as_str()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or(Value::Null);
    assert_eq!(
        manifest,
        json!({ "version": 2, "default": { "fixed_target": 1, "rate": 0.2 }, "rules": [] })
    );

    let b = build(&[
        ("ENABLE_ENVOY_XRAY_TRACING", "1"),
        ("XRAY_SAMPLING_RATE", "0.05"),
    ]);
    assert!(b.config()["tracing"]["http"]["typed_config"]
        .get("sampling_rule_manifest")
        .is_none());
    let b = build(&[
        ("ENABLE_ENVOY_XRAY_TRACING", "1"),
        ("AWS_XRAY_DAEMON_ADDRESS", "10.0.0.5:2500"),
    ]);
    assert_eq!(
        b.config()["tracing"]["http"]["typed_config"]["daemon_endpoint"],
        json!({ "protocol": "UDP", "address": "10.0.0.5", "port_value": 2500 })
    );
    for (var, value) in [
        ("XRAY_SAMPLING_RATE", "1.5"),
        ("XRAY_DAEMON_PORT", "x"),
        ("AWS_XRAY_DAEMON_ADDRESS", "xray.local:2000"),
    ] {
        assert_eq!(
            error(&[("ENABLE_ENVOY_XRAY_TRACING", "1"), (var, value)]).variable(),
            Some(var),
            "{var}={value}"
        );
    }
}

#[test]
fn xray_sampling_rule_manifest_file() {
    let files = MemoryFiles::new()
        .with(
            "/etc/rules.json",
            r#"{"version": 2, "default": {"fixed_target": 1, "rate": 0.1}, "rules": []}"#,
        )
        .with(
            "/etc/v1.json",
            r#"{"version": 1, "default": {"fixed_target": 1, "rate": 0.1}}"#,
        );
    let b = build_with(
        &[
            ("ENABLE_ENVOY_XRAY_TRACING", "1"),
            ("XRAY_SAMPLING_RULE_MANIFEST", "/etc/rules.json"),
            ("XRAY_SAMPLING_RATE", "0.9"),
        ],
        &files,
    );
    assert_eq!(
        b.config()["tracing"]["http"]["typed_config"]["sampling_rule_manifest"],
        json!({ "filename": "/etc/rules.json" })
    );
    let e = error_with(
        &[
            ("ENABLE_ENVOY_XRAY_TRACING", "1"),
            ("XRAY_SAMPLING_RULE_MANIFEST", "/etc/v1.json"),
        ],
        &files,
    );
    assert!(e.to_string().contains("version 1 is not supported"), "{e}");
    let e = error_with(
        &[
            ("ENABLE_ENVOY_XRAY_TRACING", "1"),
            ("XRAY_SAMPLING_RULE_MANIFEST", "/missing.json"),
        ],
        &files,
    );
    assert_eq!(e.variable(), Some("XRAY_SAMPLING_RULE_MANIFEST"));
}

#[test]
fn datadog_tracing() {
    let b = build(&[("ENABLE_ENVOY_DATADOG_TRACING", "1")]);
    let t = &b.config()["tracing"]["http"];
    assert_eq!(t["name"], "envoy.tracers.datadog");
    assert_eq!(t["typed_config"]["service_name"], "envoy-shop/cart");
    assert_eq!(t["typed_config"]["collector_cluster"], "datadog_agent");
    let dd = cluster(&b, "datadog_agent");
    assert_eq!(
        dd["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"],
        json!({ "socket_address": { "address": "127.0.0.1", "port_value": 8126 } })
    );
    let b = build(&[
        ("ENABLE_ENVOY_DATADOG_TRACING", "1"),
        ("DATADOG_TRACER_ADDRESS", "datadog-agent.monitoring"),
        ("DATADOG_TRACER_PORT", "9126"),
        ("DD_SERVICE", "cart"),
    ]);
    assert_eq!(
        b.config()["tracing"]["http"]["typed_config"]["service_name"],
        "cart"
    );
    assert_eq!(cluster(&b, "datadog_agent")["type"], "STRICT_DNS");
    assert_eq!(
        error(&[
            ("ENABLE_ENVOY_DATADOG_TRACING", "1"),
            ("DATADOG_TRACER_PORT", "0")
        ])
        .variable(),
        Some("DATADOG_TRACER_PORT")
    );
}

#[test]
fn jaeger_tracing() {
    let b = build(&[("ENABLE_ENVOY_JAEGER_TRACING", "1")]);
    let t = &b.config()["tracing"]["http"];
    assert_eq!(t["name"], "envoy.tracers.zipkin");
    assert_eq!(t["typed_config"]["collector_endpoint"], "/api/v2/spans");
    assert_eq!(
        t["typed_config"]["collector_endpoint_version"],
        "HTTP_PROTO"
    );
    assert_eq!(
        cluster(&b, "jaeger")["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
            ["address"]["socket_address"]["port_value"],
        9411
    );
    let b = build(&[
        ("ENABLE_ENVOY_JAEGER_TRACING", "1"),
        ("JAEGER_TRACER_VERSION", "JSON"),
        ("JAEGER_TRACER_ADDRESS", "10.1.2.3"),
    ]);
    assert_eq!(
        b.config()["tracing"]["http"]["typed_config"]["collector_endpoint_version"],
        "HTTP_JSON"
    );
    assert_eq!(
        error(&[
            ("ENABLE_ENVOY_JAEGER_TRACING", "1"),
            ("JAEGER_TRACER_VERSION", "thrift")
        ])
        .variable(),
        Some("JAEGER_TRACER_VERSION")
    );
}

#[test]
fn tracing_drivers_are_mutually_exclusive() {
    let e = error(&[
        ("ENABLE_ENVOY_XRAY_TRACING", "1"),
        ("ENABLE_ENVOY_JAEGER_TRACING", "true"),
    ]);
    let msg = e.to_string();
    assert!(
        msg.contains("ENABLE_ENVOY_XRAY_TRACING") && msg.contains("ENABLE_ENVOY_JAEGER_TRACING"),
        "{msg}"
    );
}

#[test]
fn tracing_config_file_replaces_the_drivers() {
    let file = "tracing:\n  http:\n    name: envoy.tracers.zipkin\n    typed_config:\n      \"@type\": type.googleapis.com/envoy.config.trace.v3.ZipkinConfig\n      collector_cluster: zipkin\n      collector_endpoint: /api/v2/spans\n      collector_endpoint_version: HTTP_JSON\nstaticResources:\n  clusters:\n  - name: zipkin\n    type: STRICT_DNS\n    connect_timeout: 1s\n    load_assignment:\n      cluster_name: zipkin\n      endpoints:\n      - lb_endpoints:\n        - endpoint:\n            address:\n              socket_address: { address: zipkin.local, port_value: 9411 }\n";
    let files = MemoryFiles::new().with("/etc/tracing.yaml", file);
    let b = build_with(
        &[
            ("ENVOY_TRACING_CFG_FILE", "/etc/tracing.yaml"),
            ("ENABLE_ENVOY_XRAY_TRACING", "1"),
        ],
        &files,
    );
    assert_eq!(
        b.config()["tracing"]["http"]["typed_config"]["collector_cluster"],
        "zipkin"
    );
    assert_eq!(cluster(&b, "zipkin")["type"], "STRICT_DNS");
    assert!(
        b.warnings()
            .iter()
            .any(|w| w.contains("ENABLE_ENVOY_XRAY_TRACING is ignored")),
        "{:?}",
        b.warnings()
    );

    let dup = MemoryFiles::new().with(
        "/t.yaml",
        "static_resources:\n  clusters:\n  - name: meshplane_xds\n",
    );
    assert_eq!(
        error_with(&[("ENVOY_TRACING_CFG_FILE", "/t.yaml")], &dup).variable(),
        Some("ENVOY_TRACING_CFG_FILE")
    );
    let empty = MemoryFiles::new().with("/t.yaml", "");
    assert!(error_with(&[("ENVOY_TRACING_CFG_FILE", "/t.yaml")], &empty)
        .to_string()
        .contains("empty"));
    assert_eq!(
        error(&[("ENVOY_TRACING_CFG_FILE", "/none.yaml")]).variable(),
        Some("ENVOY_TRACING_CFG_FILE")
    );
}
