//! Settings of a translation that are not part of the App Mesh specs.

use std::collections::BTreeSet;

use meshplane_spec::ArnContext;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateOptions {
    /// App Mesh's default route retry policy (user guide, "Default route
    /// retry policy"). On by default; a mesh-wide setting turns it off for
    /// meshes created before it existed.
    pub default_retry_policy: bool,
    /// Serve DNS-discovered clusters exactly as App Mesh did, without
    /// meshplane's settings for following a name whose address changes
    /// (refresh rates, TCP keepalive and user timeout, upstream connection
    /// lifetime; see `dns_cluster.rs`). Off by default; for comparing the
    /// two shapes.
    pub app_mesh_dns_clusters: bool,
    /// Fills the parts of ARNs named in diagnostics.
    pub arn: ArnContext,
    /// ARNs of the ACM certificates and ACM Private CAs whose PEM material
    /// the control plane holds (`meshplane serve --certificates`). Only the
    /// names: the material itself never enters the translation.
    pub held_certificates: BTreeSet<String>,
}

impl Default for TranslateOptions {
    fn default() -> Self {
        TranslateOptions {
            default_retry_policy: true,
            app_mesh_dns_clusters: false,
            arn: ArnContext::default(),
            held_certificates: BTreeSet::new(),
        }
    }
}
