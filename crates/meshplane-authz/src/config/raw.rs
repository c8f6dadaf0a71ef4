//! The auth config file as written (YAML), before checking and compiling.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub tokens: Vec<RawToken>,
    #[serde(default)]
    pub mtls: Option<RawMtls>,
    #[serde(default)]
    pub principals: BTreeMap<String, RawPrincipal>,
    #[serde(default)]
    pub access_keys: Vec<RawAccessKey>,
}

/// An access key of the App Mesh API; the secret is in a file or a variable,
/// never in the config itself.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawAccessKey {
    pub access_key_id: String,
    pub principal: String,
    #[serde(default)]
    pub secret_file: Option<String>,
    #[serde(default)]
    pub secret_env: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawToken {
    pub principal: String,
    pub sha256: String,
    /// Free text for the operator (who holds the token, when it was issued).
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SanKind {
    UriSan,
    DnsSan,
    SubjectCn,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawMtls {
    #[serde(default = "default_accept")]
    pub accept: Vec<SanKind>,
    #[serde(default)]
    pub trust_domains: Vec<String>,
}

fn default_accept() -> Vec<SanKind> {
    vec![SanKind::UriSan]
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawPrincipal {
    pub policies: Vec<RawPolicyRef>,
}

/// Exactly one of `file` (relative to the config file) or `inline` (a policy
/// object, or its JSON text).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawPolicyRef {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub inline: Option<serde_json::Value>,
}
