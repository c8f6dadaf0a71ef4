//! Assembles the bootstrap from its parts.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::admin::admin;
use crate::custom_config::{
    merge_file, FILE_VARIABLES, STATS_CONFIG_FILE, STATS_SINKS_CFG_FILE, TRACING_CFG_FILE,
};
use crate::env::Env;
use crate::error::BootstrapError;
use crate::files::FileReader;
use crate::ignored::warn_ignored;
use crate::node::{proxy_identity, ProxyIdentity};
use crate::runtime::{cluster_manager, layered_runtime};
use crate::sds::{sds_cluster, SDS_SOCKET_PATH};
use crate::stats::{dog_statsd_sink, flush_interval, stats_config, ENABLE_DOG_STATSD};
use crate::tracing::{enabled_drivers, tracing};
use crate::xds::xds_connection;

/// An Envoy v3 bootstrap, as proto3 JSON with snake_case field names.
#[derive(Debug, Clone, PartialEq)]
pub struct Bootstrap {
    config: Value,
    identity: ProxyIdentity,
    warnings: Vec<String>,
}

impl Bootstrap {
    /// The bootstrap as JSON.
    pub fn config(&self) -> &Value {
        &self.config
    }

    /// The proxy the bootstrap identifies.
    pub fn identity(&self) -> &ProxyIdentity {
        &self.identity
    }

    /// Settings that were accepted but ignored or are risky; worth showing
    /// the operator.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The bootstrap as a YAML document; the same bootstrap always renders to
    /// the same bytes.
    pub fn to_yaml(&self) -> Result<String, BootstrapError> {
        meshplane_yaml::to_yaml(&self.config).map_err(BootstrapError::Render)
    }
}

/// Builds the bootstrap from environment variables (see the crate docs for
/// each variable). Files named by variables are read through `files` only.
pub fn bootstrap_from_env(
    vars: &BTreeMap<String, String>,
    files: &dyn FileReader,
) -> Result<Bootstrap, BootstrapError> {
    let env = Env::new(vars);
    let mut warnings = Vec::new();
    let identity = proxy_identity(&env, &mut warnings)?;
    warn_ignored(&env, &mut warnings);
    let xds = xds_connection(&env, files, &mut warnings)?;

    let mut node = Map::new();
    node.insert("id".into(), json!(identity.node_id));
    node.insert("cluster".into(), json!(identity.cluster));

    let mut bootstrap = Map::new();
    bootstrap.insert("node".into(), Value::Object(node));
    bootstrap.insert("admin".into(), admin(&env)?);
    bootstrap.insert(
        "layered_runtime".into(),
        layered_runtime(&env, &mut warnings)?,
    );
    bootstrap.insert("cluster_manager".into(), cluster_manager(&env));
    bootstrap.insert("dynamic_resources".into(), xds.dynamic_resources);

    let mut clusters = vec![Value::Object(xds.cluster)];
    if let Some(path) = env.get(SDS_SOCKET_PATH) {
        clusters.push(Value::Object(sds_cluster(path)?));
    }
    let mut tracing_block = None;
    let drivers = enabled_drivers(&env)?;
    if env.get(TRACING_CFG_FILE).is_some() {
        if !drivers.is_empty() {
            warnings.push(format!(
                "{TRACING_CFG_FILE} is set, so {} is ignored",
                drivers.join(" and ")
            ));
        }
    } else if let Some(t) = tracing(&env, files, &identity)? {
        clusters.extend(t.cluster.map(Value::Object));
        tracing_block = Some(t.tracing);
    }
    bootstrap.insert("static_resources".into(), json!({ "clusters": clusters }));

    if env.get(STATS_CONFIG_FILE).is_none() {
        bootstrap.insert(
            "stats_config".into(),
            stats_config(&env, &identity, &mut warnings)?,
        );
    }
    if let Some(interval) = flush_interval(&env)? {
        bootstrap.insert("stats_flush_interval".into(), interval);
    }
    if env.flag(ENABLE_DOG_STATSD, false)? {
        if env.get(STATS_SINKS_CFG_FILE).is_some() {
            warnings.push(format!(
                "{STATS_SINKS_CFG_FILE} is set, so {ENABLE_DOG_STATSD} is ignored"
            ));
        } else {
            bootstrap.insert("stats_sinks".into(), json!([dog_statsd_sink(&env)?]));
        }
    }
    if let Some(t) = tracing_block {
        bootstrap.insert("tracing".into(), t);
    }
    for variable in FILE_VARIABLES {
        if let Some(path) = env.get(variable) {
            merge_file(&mut bootstrap, files, variable, path, &mut warnings)?;
        }
    }
    Ok(Bootstrap {
        config: Value::Object(bootstrap),
        identity,
        warnings,
    })
}
