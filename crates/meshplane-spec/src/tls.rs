//! TLS shapes shared by virtual nodes and virtual gateways.
//!
//! The API has separate but structurally identical shapes for nodes and
//! gateways (`ListenerTls` / `VirtualGatewayListenerTls`, ...). One set of types
//! serves both; the members a given position may not hold (an `acm` client
//! certificate, `acm` trust on a listener) are rejected by validation.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TlsMode {
    #[serde(rename = "STRICT")]
    Strict,
    #[serde(rename = "PERMISSIVE")]
    Permissive,
    #[serde(rename = "DISABLED")]
    Disabled,
}

/// `ListenerTls` / `VirtualGatewayListenerTls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListenerTls {
    pub certificate: TlsCertificate,
    pub mode: TlsMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation: Option<TlsValidationContext>,
}

/// `ListenerTlsCertificate` (acm|file|sds) and `ClientTlsCertificate` (file|sds) unions.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsCertificate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acm: Option<AcmCertificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileCertificate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sds: Option<SdsSecret>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcmCertificate {
    pub certificate_arn: String,
}

/// `ListenerTlsFileCertificate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileCertificate {
    pub certificate_chain: String,
    pub private_key: String,
}

/// `ListenerTlsSdsCertificate` and `TlsValidationContextSdsTrust`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SdsSecret {
    pub secret_name: String,
}

/// `TlsValidationContext` and the listener/gateway variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsValidationContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_alternative_names: Option<SubjectAlternativeNames>,
    pub trust: TlsTrust,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubjectAlternativeNames {
    #[serde(rename = "match")]
    pub match_: SubjectAlternativeNameMatchers,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubjectAlternativeNameMatchers {
    pub exact: Vec<String>,
}

/// `TlsValidationContextTrust` (acm|file|sds union).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsTrust {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acm: Option<AcmTrust>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileTrust>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sds: Option<SdsSecret>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AcmTrust {
    pub certificate_authority_arns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileTrust {
    pub certificate_chain: String,
}

/// `ClientPolicy` / `VirtualGatewayClientPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ClientPolicyTls>,
}

/// `ClientPolicyTls` / `VirtualGatewayClientPolicyTls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientPolicyTls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<TlsCertificate>,
    /// Defaults to true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce: Option<bool>,
    /// Ports the policy applies to; absent or empty means every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<i64>>,
    pub validation: TlsValidationContext,
}

/// `BackendDefaults` / `VirtualGatewayBackendDefaults`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendDefaults {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_policy: Option<ClientPolicy>,
}
