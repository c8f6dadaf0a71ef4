//! The policies of one `principals:` key.

use std::sync::Arc;

use crate::glob::Pattern;
use crate::policy::PolicyDocument;

/// The policies attached to the principals matching one `principals:` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalPolicies {
    /// The key as written; `*` matches any run of characters.
    pub pattern: Pattern,
    pub policies: Vec<Arc<PolicyDocument>>,
}
