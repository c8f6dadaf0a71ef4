//! Settings of the control layer that do not come from the spec files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use meshplane_load::LoadOptions;
use meshplane_translate::TranslateOptions;
use meshplane_xds::ProxyKey;

/// What the pipeline reads and how it translates.
#[derive(Debug, Clone)]
pub struct PipelineSettings {
    /// Spec files and directories.
    pub paths: Vec<PathBuf>,
    pub load: LoadOptions,
    pub translate: TranslateOptions,
}

/// How many proxies may stream one virtual node's (or gateway's)
/// configuration at once. App Mesh's quota was 50.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaConfig {
    pub default: usize,
    /// Per resource, by full ARN (the proxy key).
    pub per_resource: BTreeMap<String, usize>,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            default: 50,
            per_resource: BTreeMap::new(),
        }
    }
}

impl QuotaConfig {
    pub fn limit_for(&self, key: &ProxyKey) -> usize {
        self.per_resource
            .get(key.as_str())
            .copied()
            .unwrap_or(self.default)
    }
}
