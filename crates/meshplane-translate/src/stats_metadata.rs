//! App Mesh's `aws.appmesh.aggregate_stats` metadata, which dashboards and
//! stats pipelines built on App Mesh's proxies read: a `config` string
//! holding `{"tags":[{"key":...,"value":...}]}`, exactly as observed
//! (compact JSON, tags in the given order).
//!
//! Where App Mesh put it (config dumps in
//! `appmesh-envoy-config-observed.md`): every listener (`{"tags":[]}`),
//! every egress cluster of a virtual node listener (`TargetVirtualNode`)
//! and every route of a virtual service's virtual host
//! (`TargetVirtualService`).

use std::collections::HashMap;

use envoy_types::pb::envoy::config::core::v3::Metadata;
use envoy_types::pb::google::protobuf::{value, Struct, Value};

pub const AGGREGATE_STATS: &str = "aws.appmesh.aggregate_stats";
pub const TARGET_VIRTUAL_NODE: &str = "TargetVirtualNode";
pub const TARGET_VIRTUAL_SERVICE: &str = "TargetVirtualService";

/// The metadata with these `(key, value)` tags.
pub fn aggregate_stats(tags: &[(&str, &str)]) -> Metadata {
    let tags: Vec<serde_json::Value> = tags
        .iter()
        .map(|(k, v)| serde_json::json!({ "key": k, "value": v }))
        .collect();
    let config = serde_json::json!({ "tags": tags }).to_string();
    let config = Value {
        kind: Some(value::Kind::StringValue(config)),
    };
    let fields = HashMap::from([("config".to_owned(), config)]);
    Metadata {
        filter_metadata: HashMap::from([(AGGREGATE_STATS.to_owned(), Struct { fields })]),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(m: &Metadata) -> &str {
        match &m.filter_metadata[AGGREGATE_STATS].fields["config"].kind {
            Some(value::Kind::StringValue(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_config_string_is_app_meshs() {
        assert_eq!(config(&aggregate_stats(&[])), r#"{"tags":[]}"#);
        assert_eq!(
            config(&aggregate_stats(&[(TARGET_VIRTUAL_NODE, "app-1_prod")])),
            r#"{"tags":[{"key":"TargetVirtualNode","value":"app-1_prod"}]}"#
        );
    }
}
