//! Each variable's effect on the bootstrap, and the errors bad values give.

use std::collections::BTreeMap;

use meshplane_bootstrap::{bootstrap_from_env, Bootstrap, BootstrapError, MemoryFiles};
use serde_json::{json, Value};

const ARN: &str = "arn:aws:appmesh:us-west-2:111122223333:mesh/shop/virtualNode/cart";
const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut v: BTreeMap<String, String> = BTreeMap::new();
    v.insert("APPMESH_RESOURCE_ARN".into(), ARN.into());
    for (k, val) in pairs {
        v.insert((*k).into(), (*val).into());
    }
    v
}

fn build(pairs: &[(&str, &str)]) -> Bootstrap {
    build_with(pairs, &MemoryFiles::new())
}

fn build_with(pairs: &[(&str, &str)], files: &MemoryFiles) -> Bootstrap {
    match bootstrap_from_env(&vars(pairs), files) {
        Ok(b) => b,
        Err(e) => panic!("bootstrap failed: {e}"),
    }
}

fn error(pairs: &[(&str, &str)]) -> BootstrapError {
    error_with(pairs, &MemoryFiles::new())
}

fn error_with(pairs: &[(&str, &str)], files: &MemoryFiles) -> BootstrapError {
    match bootstrap_from_env(&vars(pairs), files) {
        Ok(b) => panic!("expected an error, got {}", b.config()),
        Err(e) => e,
    }
}

fn cluster<'a>(b: &'a Bootstrap, name: &str) -> &'a Value {
    b.config()["static_resources"]["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or(&Value::Null)
}

fn grpc_service(b: &Bootstrap) -> &Value {
    &b.config()["dynamic_resources"]["ads_config"]["grpc_services"][0]
}

#[test]
fn defaults_match_the_image() {
    let b = build(&[]);
    let c = b.config();
    assert_eq!(c["node"], json!({ "id": ARN, "cluster": ARN }));
    assert_eq!(
        c["admin"]["address"],
        json!({ "socket_address": { "address": "0.0.0.0", "port_value": 9901 } })
    );
    assert_eq!(
        c["admin"]["access_log"][0]["typed_config"]["path"],
        "/tmp/envoy_admin_access.log"
    );
    let ads = &c["dynamic_resources"];
    assert_eq!(
        ads["lds_config"],
        json!({ "ads": {}, "initial_fetch_timeout": "0s", "resource_api_version": "V3" })
    );
    assert_eq!(ads["cds_config"], ads["lds_config"]);
    assert_eq!(ads["ads_config"]["api_type"], "GRPC");
    assert_eq!(ads["ads_config"]["transport_api_version"], "V3");
    assert_eq!(
        grpc_service(&b),
        &json!({ "envoy_grpc": { "cluster_name": "meshplane_xds" } })
    );
    let xds = cluster(&b, "meshplane_xds");
    assert_eq!(xds["type"], "STATIC");
    assert!(xds.get("dns_lookup_family").is_none());
    assert_eq!(
        xds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"],
        json!({ "socket_address": { "address": "127.0.0.1", "port_value": 15010 } })
    );
    let http2 = &xds["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]["explicit_http_config"]
        ["http2_protocol_options"];
    assert_eq!(
        http2["connection_keepalive"],
        json!({ "interval": "10s", "timeout": "20s" })
    );
    assert!(xds.get("transport_socket").is_none());
    assert!(c.get("tracing").is_none() && c.get("stats_sinks").is_none());
    let tags: Vec<&str> = c["stats_config"]["stats_tags"]
        .as_array()
        .map(|t| t.iter().filter_map(|t| t["tag_name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(tags, ["appmesh.listener_protocol", "appmesh.listener_port"]);
    assert_eq!(
        c["cluster_manager"]["outlier_detection"]["event_log_path"],
        "/dev/stdout"
    );
    assert_eq!(
        c["layered_runtime"]["layers"][0]["static_layer"]["re2.max_program_size.error_level"],
        1000
    );
    assert!(b.warnings().is_empty(), "{:?}", b.warnings());
}

#[test]
fn short_form_and_gateway_identities() {
    let mut v = BTreeMap::new();
    v.insert(
        "APPMESH_RESOURCE_ARN".to_string(),
        "mesh/app-mesh/virtualGateway/gw_prod".to_string(),
    );
    v.insert("ENABLE_ENVOY_STATS_TAGS".to_string(), "1".to_string());
    let b = bootstrap_from_env(&v, &MemoryFiles::new()).map_err(|e| e.to_string());
    let b = b.as_ref().map(Bootstrap::config);
    let tags = b.map(|c| c["stats_config"]["stats_tags"].clone());
    assert_eq!(
        tags.map(|t| t.as_array().map(|a| a[..2].to_vec())),
        Ok(Some(vec![
            json!({ "tag_name": "appmesh.mesh", "fixed_value": "app-mesh" }),
            json!({ "tag_name": "appmesh.virtual_gateway", "fixed_value": "gw_prod" }),
        ]))
    );
}

#[test]
fn resource_arn_is_required_and_must_name_a_node_or_gateway() {
    let err = bootstrap_from_env(&BTreeMap::new(), &MemoryFiles::new())
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.starts_with("APPMESH_RESOURCE_ARN is not set")),
        "{err:?}"
    );
    for bad in [
        "arn:aws:s3:::bucket",
        "mesh/shop/virtualNode",
        "mesh/shop/widget/x",
        "shop/cart",
    ] {
        let e = error(&[("APPMESH_RESOURCE_ARN", bad)]);
        assert_eq!(e.variable(), Some("APPMESH_RESOURCE_ARN"), "{bad}: {e}");
    }
    let e = error(&[("APPMESH_RESOURCE_ARN", "mesh/shop/virtualService/cart.shop")]);
    assert!(
        e.to_string().contains("virtualNode or a virtualGateway"),
        "{e}"
    );
}

#[test]
fn deprecated_names_and_cluster_fallbacks() {
    let mut v = BTreeMap::new();
    v.insert(
        "APPMESH_VIRTUAL_NODE_NAME".to_string(),
        "mesh/shop/virtualNode/cart".to_string(),
    );
    v.insert(
        "APPMESH_VIRTUAL_NODE_CLUSTER".to_string(),
        "cart-old".to_string(),
    );
    let b = bootstrap_from_env(&v, &MemoryFiles::new()).ok();
    assert_eq!(
        b.as_ref().map(|b| b.config()["node"].clone()),
        Some(json!({ "id": "mesh/shop/virtualNode/cart", "cluster": "cart-old" }))
    );
    assert!(b.as_ref().is_some_and(|b| b
        .warnings()
        .iter()
        .any(|w| w.contains("APPMESH_VIRTUAL_NODE_NAME is deprecated"))));
    let b = build(&[
        ("APPMESH_RESOURCE_CLUSTER", "cart"),
        ("APPMESH_VIRTUAL_NODE_CLUSTER", "ignored"),
    ]);
    assert_eq!(b.config()["node"]["cluster"], "cart");
}

#[test]
fn xds_endpoint_dns_name_and_fetch_timeout() {
    let b = build(&[
        ("APPMESH_XDS_ENDPOINT", "meshplane.internal:443"),
        ("ENVOY_INITIAL_FETCH_TIMEOUT", "30"),
    ]);
    let xds = cluster(&b, "meshplane_xds");
    assert_eq!(xds["type"], "STRICT_DNS");
    assert_eq!(xds["dns_lookup_family"], "V4_PREFERRED");
    assert_eq!(
        grpc_service(&b)["envoy_grpc"]["authority"],
        "meshplane.internal"
    );
    assert_eq!(
        b.config()["dynamic_resources"]["cds_config"]["initial_fetch_timeout"],
        "30s"
    );
    let b = build(&[("APPMESH_XDS_ENDPOINT", "unix:///run/meshplane.sock")]);
    assert_eq!(
        cluster(&b, "meshplane_xds")["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
            ["endpoint"]["address"],
        json!({ "pipe": { "path": "/run/meshplane.sock" } })
    );
    assert_eq!(
        error(&[("APPMESH_XDS_ENDPOINT", "meshplane")]).variable(),
        Some("APPMESH_XDS_ENDPOINT")
    );
    assert_eq!(
        error(&[("ENVOY_INITIAL_FETCH_TIMEOUT", "soon")]).variable(),
        Some("ENVOY_INITIAL_FETCH_TIMEOUT")
    );
}

#[test]
fn admin_variables() {
    let b = build(&[
        ("ENVOY_ADMIN_ACCESS_PORT", "9902"),
        ("ENVOY_ADMIN_ACCESS_LOG_FILE", "/dev/null"),
        ("ENVOY_ADMIN_ACCESS_ENABLE_IPV6", "true"),
    ]);
    let admin = &b.config()["admin"];
    assert_eq!(
        admin["address"],
        json!({ "socket_address": { "address": "::", "port_value": 9902, "ipv4_compat": true } })
    );
    assert_eq!(admin["access_log"][0]["typed_config"]["path"], "/dev/null");
    let e = error(&[("ENVOY_ADMIN_ACCESS_PORT", "nine")]);
    assert!(
        e.to_string()
            .starts_with("ENVOY_ADMIN_ACCESS_PORT=\"nine\" is invalid"),
        "{e}"
    );
    assert_eq!(
        error(&[("ENVOY_ADMIN_ACCESS_ENABLE_IPV6", "maybe")]).variable(),
        Some("ENVOY_ADMIN_ACCESS_ENABLE_IPV6")
    );
}

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

#[test]
fn stats_variables() {
    let b = build(&[
        ("ENABLE_ENVOY_STATS_TAGS", "1"),
        ("ENVOY_STATS_FLUSH_INTERVAL", "1m30s"),
    ]);
    let tags = &b.config()["stats_config"]["stats_tags"];
    assert_eq!(
        tags[0],
        json!({ "tag_name": "appmesh.mesh", "fixed_value": "shop" })
    );
    assert_eq!(
        tags[1],
        json!({ "tag_name": "appmesh.virtual_node", "fixed_value": "cart" })
    );
    assert_eq!(b.config()["stats_flush_interval"], "90s");
    assert_eq!(
        error(&[("ENVOY_STATS_FLUSH_INTERVAL", "10")]).variable(),
        Some("ENVOY_STATS_FLUSH_INTERVAL")
    );
    assert_eq!(
        error(&[("ENVOY_STATS_FLUSH_INTERVAL", "10m")]).variable(),
        Some("ENVOY_STATS_FLUSH_INTERVAL")
    );

    let b = build(&[("ENABLE_ENVOY_DOG_STATSD", "1")]);
    assert_eq!(
        b.config()["stats_sinks"][0]["typed_config"]["address"],
        json!({ "socket_address": { "protocol": "UDP", "address": "127.0.0.1", "port_value": 8125 } })
    );
    let b = build(&[
        ("ENABLE_ENVOY_DOG_STATSD", "1"),
        ("STATSD_ADDRESS", "10.0.0.9"),
        ("STATSD_PORT", "9125"),
    ]);
    assert_eq!(
        b.config()["stats_sinks"][0]["typed_config"]["address"]["socket_address"]["address"],
        "10.0.0.9"
    );
    let b = build(&[
        ("ENABLE_ENVOY_DOG_STATSD", "1"),
        ("STATSD_SOCKET_PATH", "/var/run/datadog/dsd.socket"),
    ]);
    assert_eq!(
        b.config()["stats_sinks"][0]["typed_config"]["address"],
        json!({ "pipe": { "path": "/var/run/datadog/dsd.socket" } })
    );
    assert_eq!(
        error(&[("ENABLE_ENVOY_DOG_STATSD", "1"), ("STATSD_PORT", "abc")]).variable(),
        Some("STATSD_PORT")
    );
}

#[test]
fn stats_files_replace_the_generated_stats() {
    let files = MemoryFiles::new()
        .with("/stats.yaml", "statsConfig:\n  use_all_default_tags: false\n")
        .with("/sinks.json", r#"{"stats_sinks": [{"name": "envoy.stat_sinks.statsd", "typed_config": {"@type": "type.googleapis.com/envoy.config.metrics.v3.StatsdSink", "tcp_cluster_name": "statsd"}}]}"#)
        .with("/nosinks.yaml", "stats_config: {}\n");
    let b = build_with(
        &[
            ("ENVOY_STATS_CONFIG_FILE", "/stats.yaml"),
            ("ENVOY_STATS_SINKS_CFG_FILE", "/sinks.json"),
            ("ENABLE_ENVOY_DOG_STATSD", "1"),
        ],
        &files,
    );
    assert_eq!(
        b.config()["stats_config"],
        json!({ "use_all_default_tags": false })
    );
    assert_eq!(b.config()["stats_sinks"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        b.config()["stats_sinks"][0]["name"],
        "envoy.stat_sinks.statsd"
    );
    assert!(b
        .warnings()
        .iter()
        .any(|w| w.contains("ENABLE_ENVOY_DOG_STATSD is ignored")));
    let e = error_with(&[("ENVOY_STATS_SINKS_CFG_FILE", "/nosinks.yaml")], &files);
    assert!(e.to_string().contains("no stats_sinks"), "{e}");
    let e = error_with(&[("ENVOY_RESOURCES_CONFIG_FILE", "/stats.yaml")], &files);
    assert!(
        e.to_string().contains("stats_config is already defined"),
        "{e}"
    );
}

#[test]
fn sds_socket_cluster() {
    let b = build(&[("APPMESH_SDS_SOCKET_PATH", "/run/spire/sockets/agent.sock")]);
    let sds = cluster(&b, "static_cluster_sds_unix_socket");
    assert_eq!(sds["type"], "STATIC");
    assert_eq!(
        sds["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"],
        json!({ "pipe": { "path": "/run/spire/sockets/agent.sock" } })
    );
    assert!(sds["typed_extension_protocol_options"]
        ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]["explicit_http_config"]
        .get("http2_protocol_options")
        .is_some());
    assert_eq!(
        error(&[("APPMESH_SDS_SOCKET_PATH", "agent.sock")]).variable(),
        Some("APPMESH_SDS_SOCKET_PATH")
    );
}

#[test]
fn token_is_sent_as_initial_metadata() {
    let files = MemoryFiles::new()
        .with("/run/token", "eyJhbGciOi.payload.sig-0123456789abcdef\n")
        .with("/run/short", "abc")
        .with("/run/empty", "\n")
        .with("/run/spaced", "two words");
    let b = build_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/token")], &files);
    assert_eq!(
        grpc_service(&b)["initial_metadata"],
        json!([{ "key": "authorization", "value": "Bearer eyJhbGciOi.payload.sig-0123456789abcdef" }])
    );
    assert!(
        b.warnings().is_empty(),
        "loopback plaintext is fine: {:?}",
        b.warnings()
    );
    let e = error_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/missing")], &files);
    assert!(
        matches!(e, BootstrapError::Unreadable { .. })
            && e.variable() == Some("MESHPLANE_XDS_TOKEN_FILE"),
        "{e}"
    );
    assert!(
        error_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/empty")], &files)
            .to_string()
            .contains("empty")
    );
    assert_eq!(
        error_with(&[("MESHPLANE_XDS_TOKEN_FILE", "/run/spaced")], &files).variable(),
        Some("MESHPLANE_XDS_TOKEN_FILE")
    );
    let b = build_with(
        &[
            ("MESHPLANE_XDS_TOKEN_FILE", "/run/token"),
            ("APPMESH_XDS_ENDPOINT", "10.0.0.1:15010"),
        ],
        &files,
    );
    assert!(
        b.warnings().iter().any(|w| w.contains("cleartext")),
        "{:?}",
        b.warnings()
    );
}

#[test]
fn tls_to_meshplane() {
    let files = MemoryFiles::new()
        .with("/tls/ca.pem", CERT_PEM)
        .with("/tls/cert.pem", CERT_PEM)
        .with("/tls/key.pem", KEY_PEM);
    let b = build_with(&[("MESHPLANE_XDS_CA", "/tls/ca.pem")], &files);
    let ts = &cluster(&b, "meshplane_xds")["transport_socket"];
    assert_eq!(ts["name"], "envoy.transport_sockets.tls");
    let ctx = &ts["typed_config"];
    assert!(ctx.get("sni").is_none());
    assert_eq!(ctx["common_tls_context"]["alpn_protocols"], json!(["h2"]));
    assert_eq!(
        ctx["common_tls_context"]["validation_context"],
        json!({
            "trusted_ca": { "filename": "/tls/ca.pem" },
            "match_typed_subject_alt_names": [{ "san_type": "IP_ADDRESS", "matcher": { "exact": "127.0.0.1" } }]
        })
    );
    assert!(ctx["common_tls_context"].get("tls_certificates").is_none());

    let b = build_with(
        &[
            ("APPMESH_XDS_ENDPOINT", "10.0.0.1:15010"),
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
            ("MESHPLANE_XDS_CLIENT_KEY", "/tls/key.pem"),
            ("MESHPLANE_XDS_TLS_SERVER_NAME", "meshplane.internal"),
        ],
        &files,
    );
    let ctx = &cluster(&b, "meshplane_xds")["transport_socket"]["typed_config"];
    assert_eq!(ctx["sni"], "meshplane.internal");
    assert_eq!(
        ctx["common_tls_context"]["tls_certificates"],
        json!([{ "certificate_chain": { "filename": "/tls/cert.pem" }, "private_key": { "filename": "/tls/key.pem" } }])
    );
    assert_eq!(
        ctx["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"],
        json!([{ "san_type": "DNS", "matcher": { "exact": "meshplane.internal" } }])
    );
    assert_eq!(
        grpc_service(&b)["envoy_grpc"]["authority"],
        "meshplane.internal"
    );

    let b = build_with(
        &[
            ("APPMESH_XDS_ENDPOINT", "meshplane.internal:443"),
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
        ],
        &files,
    );
    assert_eq!(
        cluster(&b, "meshplane_xds")["transport_socket"]["typed_config"]["sni"],
        "meshplane.internal"
    );
}

#[test]
fn contradictory_tls_settings() {
    let files = MemoryFiles::new()
        .with("/tls/ca.pem", CERT_PEM)
        .with("/tls/cert.pem", CERT_PEM)
        .with("/tls/key.pem", KEY_PEM);
    let e = error_with(
        &[
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
        ],
        &files,
    );
    assert!(
        e.to_string()
            .contains("MESHPLANE_XDS_CLIENT_CERT and MESHPLANE_XDS_CLIENT_KEY go together"),
        "{e}"
    );
    let e = error_with(
        &[
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
            ("MESHPLANE_XDS_CLIENT_KEY", "/tls/key.pem"),
        ],
        &files,
    );
    assert!(e.to_string().contains("needs MESHPLANE_XDS_CA"), "{e}");
    let e = error_with(
        &[("MESHPLANE_XDS_TLS_SERVER_NAME", "meshplane.internal")],
        &files,
    );
    assert!(
        e.to_string()
            .contains("MESHPLANE_XDS_TLS_SERVER_NAME needs MESHPLANE_XDS_CA"),
        "{e}"
    );
    let e = error_with(&[("MESHPLANE_XDS_CA", "/tls/key.pem")], &files);
    assert_eq!(e.variable(), Some("MESHPLANE_XDS_CA"));
    let e = error_with(&[("MESHPLANE_XDS_CA", "/tls/nope.pem")], &files);
    assert!(matches!(e, BootstrapError::Unreadable { .. }), "{e}");
}

#[test]
fn client_certificate_from_sds() {
    let files = MemoryFiles::new()
        .with("/tls/ca.pem", CERT_PEM)
        .with("/tls/cert.pem", CERT_PEM)
        .with("/tls/key.pem", KEY_PEM);
    let sds = ("APPMESH_SDS_SOCKET_PATH", "/run/spire/sockets/agent.sock");
    let b = build_with(
        &[
            sds,
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default"),
        ],
        &files,
    );
    let common =
        &cluster(&b, "meshplane_xds")["transport_socket"]["typed_config"]["common_tls_context"];
    assert_eq!(
        common["tls_certificate_sds_secret_configs"][0]["name"],
        "default"
    );
    assert_eq!(
        common["tls_certificate_sds_secret_configs"][0]["sds_config"]["api_config_source"]
            ["grpc_services"][0],
        json!({ "envoy_grpc": { "cluster_name": "static_cluster_sds_unix_socket" } })
    );
    assert!(common.get("tls_certificates").is_none());
    let e = error_with(
        &[
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default"),
        ],
        &files,
    );
    assert!(
        e.to_string().contains("needs APPMESH_SDS_SOCKET_PATH"),
        "{e}"
    );
    let e = error_with(
        &[sds, ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default")],
        &files,
    );
    assert!(e.to_string().contains("needs MESHPLANE_XDS_CA"), "{e}");
    let e = error_with(
        &[
            sds,
            ("MESHPLANE_XDS_CA", "/tls/ca.pem"),
            ("MESHPLANE_XDS_CLIENT_SDS_SECRET", "default"),
            ("MESHPLANE_XDS_CLIENT_CERT", "/tls/cert.pem"),
            ("MESHPLANE_XDS_CLIENT_KEY", "/tls/key.pem"),
        ],
        &files,
    );
    assert!(e.to_string().contains("keep one"), "{e}");
}

#[test]
fn yaml_rendering_is_deterministic() {
    let pairs = [
        ("ENABLE_ENVOY_XRAY_TRACING", "1"),
        ("ENABLE_ENVOY_STATS_TAGS", "1"),
        ("APPMESH_SDS_SOCKET_PATH", "/run/sds.sock"),
    ];
    let a = build(&pairs).to_yaml().ok();
    let b = build(&pairs).to_yaml().ok();
    assert!(a.is_some());
    assert_eq!(a, b);
    let text = a.unwrap_or_default();
    assert!(
        text.starts_with("---\nnode:\n  id: \"arn:aws:appmesh:"),
        "{text}"
    );
    assert!(
        text.contains("\"@type\": type.googleapis.com/envoy.config.trace.v3.XRayConfig"),
        "{text}"
    );
}

#[test]
fn envoy_command_line() {
    use std::ffi::OsString;
    use std::path::Path;
    let v = vars(&[("ENVOY_LOG_LEVEL", "DEBUG"), ("ENVOY_CONCURRENCY", "2")]);
    let args = meshplane_bootstrap::envoy_args(
        &v,
        Path::new("/tmp/b.yaml"),
        &[OsString::from("--drain-time-s"), OsString::from("5")],
    );
    let args: Vec<String> = args
        .unwrap_or_default()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        args,
        [
            "-c",
            "/tmp/b.yaml",
            "--log-level",
            "debug",
            "--concurrency",
            "2",
            "--drain-time-s",
            "5"
        ]
    );
    let bad = vars(&[("ENVOY_LOG_LEVEL", "loud")]);
    let e = meshplane_bootstrap::envoy_args(&bad, Path::new("/b"), &[]).err();
    assert_eq!(
        e.as_ref().and_then(BootstrapError::variable),
        Some("ENVOY_LOG_LEVEL")
    );
    let bad = vars(&[("ENVOY_CONCURRENCY", "0")]);
    let e = meshplane_bootstrap::envoy_args(&bad, Path::new("/b"), &[]).err();
    assert_eq!(
        e.as_ref().and_then(BootstrapError::variable),
        Some("ENVOY_CONCURRENCY")
    );
    assert_eq!(meshplane_bootstrap::envoy_binary(&v), Path::new("envoy"));
}

#[test]
fn variables_without_meaning_here_give_warnings() {
    let b = build(&[
        ("APPMESH_DUALSTACK_ENDPOINT", "1"),
        ("APPNET_ENVOY_RESTART_COUNT", "3"),
    ]);
    let w = b.warnings();
    assert!(
        w.iter()
            .any(|w| w.starts_with("APPMESH_DUALSTACK_ENDPOINT is ignored")),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.starts_with("APPNET_ENVOY_RESTART_COUNT is ignored")),
        "{w:?}"
    );
    let b = build(&[("APPMESH_SET_TRACING_DECISION", "false")]);
    assert!(
        b.warnings().iter().any(|w| w.contains("runtime guard")),
        "{:?}",
        b.warnings()
    );
    assert_eq!(
        error(&[("APPMESH_SET_TRACING_DECISION", "nope")]).variable(),
        Some("APPMESH_SET_TRACING_DECISION")
    );
}

/// VARIABLES.md documents every variable the crate reads or ignores.
#[test]
fn every_variable_is_documented() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(dir.join("VARIABLES.md")).unwrap_or_default();
    let mut names: Vec<String> = meshplane_bootstrap::vars::IGNORED
        .iter()
        .map(|(v, _)| v.to_string())
        .collect();
    for entry in std::fs::read_dir(dir.join("src"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
        for line in source.lines() {
            // `pub const NAME: &str = "VARIABLE";` with an upper-case value.
            if let Some((_, value)) = line
                .trim()
                .strip_prefix("pub const ")
                .and_then(|l| l.split_once(": &str = \""))
            {
                let value = value.trim_end_matches("\";");
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                    names.push(value.to_owned());
                }
            }
        }
    }
    assert!(names.len() > 40, "found only {names:?}");
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| !doc.contains(&format!("`{n}`")))
        .collect();
    assert!(missing.is_empty(), "not in VARIABLES.md: {missing:?}");
}
