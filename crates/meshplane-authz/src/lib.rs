//! Who may receive which proxy's configuration.
//!
//! App Mesh's Envoy signed its xDS stream with SigV4 and IAM allowed
//! `appmesh:StreamAggregatedResources` on the virtual node or gateway ARN.
//! Stock Envoy cannot sign SigV4, so meshplane authenticates proxies by
//! mutual-TLS client certificate or bearer token ([`PeerCredentials`] ->
//! [`Principal`]) and authorizes them with the same IAM policy JSON App Mesh
//! users already wrote ([`policy`]), attached to principals in a YAML config
//! ([`AuthConfig`]). [`AccessControl`] ties the two together.
//!
//! Architecture invariant: this crate knows nothing of gRPC, tonic or App
//! Mesh specs; the xDS server adapts its own trait to [`AccessControl`] and
//! passes full ARNs.

pub mod access;
pub mod config;
pub mod credentials;
pub mod error;
pub mod glob;
pub mod mtls;
pub mod policy;
pub mod token;

pub use access::AccessControl;
pub use config::{AccessKey, AuthConfig, ConfigError, SecretKey};
pub use credentials::{bearer_token_from_header, PeerCredentials, Principal, PrincipalSource};
pub use error::AuthError;
pub use mtls::MtlsRules;
pub use policy::{PolicyDocument, PolicyError, STREAM_AGGREGATED_RESOURCES};
pub use token::{hash_token, token_config_entry, TokenError, TokenHash};
