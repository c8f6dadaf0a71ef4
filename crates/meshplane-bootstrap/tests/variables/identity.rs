//! `node`: the proxy identity and its fallbacks.

use std::collections::BTreeMap;

use meshplane_bootstrap::{bootstrap_from_env, Bootstrap, MemoryFiles};
use serde_json::json;

use super::support::{build, error};

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
