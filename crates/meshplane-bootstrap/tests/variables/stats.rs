//! Stats tags, flush interval, sinks and the stats files.

use meshplane_bootstrap::MemoryFiles;
use serde_json::json;

use super::support::{build, build_with, error, error_with};

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
