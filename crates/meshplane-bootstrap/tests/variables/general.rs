//! Defaults, admin, SDS, rendering, the Envoy command line and documentation.

use meshplane_bootstrap::BootstrapError;
use serde_json::json;

use super::support::{build, cluster, error, grpc_service, vars, ARN};

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
    assert_eq!(
        tags,
        [
            "appmesh.listener_protocol",
            "appmesh.listener_port",
            "envoy_rds_route_config"
        ]
    );
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
