//! Settings of a translation that are not part of the App Mesh specs.

use std::collections::BTreeSet;

use meshplane_spec::ArnContext;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateOptions {
    /// App Mesh's default route retry policy (user guide, "Default route
    /// retry policy"). On by default; a mesh-wide setting turns it off for
    /// meshes created before it existed.
    pub default_retry_policy: bool,
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
            arn: ArnContext::default(),
            held_certificates: BTreeSet::new(),
        }
    }
}
