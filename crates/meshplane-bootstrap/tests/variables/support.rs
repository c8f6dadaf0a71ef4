//! Builds bootstraps from a few variables (plus the ARN) and files in memory.

use std::collections::BTreeMap;

use meshplane_bootstrap::{bootstrap_from_env, Bootstrap, BootstrapError, MemoryFiles};
use serde_json::Value;

pub const ARN: &str = "arn:aws:appmesh:us-west-2:111122223333:mesh/shop/virtualNode/cart";
pub const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
pub const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

pub fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut v: BTreeMap<String, String> = BTreeMap::new();
    v.insert("APPMESH_RESOURCE_ARN".into(), ARN.into());
    for (k, val) in pairs {
        v.insert((*k).into(), (*val).into());
    }
    v
}

pub fn build(pairs: &[(&str, &str)]) -> Bootstrap {
    build_with(pairs, &MemoryFiles::new())
}

pub fn build_with(pairs: &[(&str, &str)], files: &MemoryFiles) -> Bootstrap {
    match bootstrap_from_env(&vars(pairs), files) {
        Ok(b) => b,
        Err(e) => panic!("bootstrap failed: {e}"),
    }
}

pub fn error(pairs: &[(&str, &str)]) -> BootstrapError {
    error_with(pairs, &MemoryFiles::new())
}

pub fn error_with(pairs: &[(&str, &str)], files: &MemoryFiles) -> BootstrapError {
    match bootstrap_from_env(&vars(pairs), files) {
        Ok(b) => panic!("expected an error, got {}", b.config()),
        Err(e) => e,
    }
}

pub fn cluster<'a>(b: &'a Bootstrap, name: &str) -> &'a Value {
    b.config()["static_resources"]["clusters"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or(&Value::Null)
}

pub fn grpc_service(b: &Bootstrap) -> &Value {
    &b.config()["dynamic_resources"]["ads_config"]["grpc_services"][0]
}
