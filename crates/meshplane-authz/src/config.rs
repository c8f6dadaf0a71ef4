//! The auth config file: tokens, mTLS principal rules, and the policies
//! attached to each principal.
//!
//! ```yaml
//! tokens:
//!   - principal: legacy-proxies
//!     sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! mtls:
//!   accept: [uriSan, dnsSan]
//!   trustDomains: [example.org]
//! principals:
//!   spiffe://example.org/ns/apps/sa/web:
//!     policies:
//!       - file: policies/web.json
//!   legacy-proxies:
//!     policies:
//!       - inline: {Version: "2012-10-17", Statement: {Effect: Allow, Action: "appmesh:*", Resource: "*"}}
//! ```

mod access_keys;
mod error;
mod principals;
mod raw;

pub use access_keys::{AccessKey, SecretKey};
pub use error::ConfigError;
pub use principals::PrincipalPolicies;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::glob::Pattern;
use crate::mtls::MtlsRules;
use crate::policy::PolicyDocument;
use crate::token::TokenHash;
use raw::{RawConfig, RawPolicyRef, SanKind};

/// A bearer token the config accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    pub principal: String,
    pub hash: TokenHash,
}

/// A checked auth config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// The file it was read from (for messages).
    pub file: PathBuf,
    pub tokens: Vec<TokenEntry>,
    /// `None`: client certificates do not authenticate anyone.
    pub mtls: Option<MtlsRules>,
    /// Sorted by key.
    pub principals: Vec<PrincipalPolicies>,
    /// SigV4 access keys of the App Mesh API.
    pub access_keys: Vec<AccessKey>,
    /// Index into `principals` of each key without wildcards, so a lookup
    /// scans only the wildcard keys.
    exact: BTreeMap<String, usize>,
    wildcard: Vec<usize>,
}

impl AuthConfig {
    /// Reads and checks a YAML config; policy files are resolved relative to it.
    pub fn from_file(path: impl AsRef<Path>) -> Result<AuthConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_owned(),
            path: String::new(),
            message: format!("cannot read the auth config: {e}"),
        })?;
        AuthConfig::from_yaml_str(&text, path)
    }

    /// Checks a config held in memory as if it were the file `path`.
    pub fn from_yaml_str(text: &str, path: &Path) -> Result<AuthConfig, ConfigError> {
        let at = |field: &str, message: String| ConfigError {
            file: path.to_owned(),
            path: field.to_owned(),
            message,
        };
        let value = meshplane_yaml::read_document(text).map_err(|e| at("", e.to_string()))?;
        let raw: RawConfig = serde_path_to_error::deserialize(value).map_err(|e| {
            let field = e.path().to_string();
            at(
                if field == "." { "" } else { &field },
                e.into_inner().to_string(),
            )
        })?;
        let base = path.parent().unwrap_or_else(|| Path::new(""));
        let mut loader = PolicyLoader {
            config_file: path,
            base,
            files: BTreeMap::new(),
        };

        let mut principals = Vec::new();
        for (key, entry) in &raw.principals {
            let field = format!("principals.{key}");
            if key.trim().is_empty() {
                return Err(at("principals", "a principal name is empty".to_owned()));
            }
            if entry.policies.is_empty() {
                return Err(at(
                    &format!("{field}.policies"),
                    "no policies: every request of this principal would be denied; attach a policy or remove the principal"
                        .to_owned(),
                ));
            }
            let policies = entry
                .policies
                .iter()
                .enumerate()
                .map(|(i, r)| loader.load(r, &format!("{field}.policies[{i}]")))
                .collect::<Result<Vec<_>, _>>()?;
            principals.push(PrincipalPolicies {
                pattern: Pattern::principal(key),
                policies,
            });
        }

        let mut tokens: Vec<TokenEntry> = Vec::new();
        for (i, token) in raw.tokens.iter().enumerate() {
            let field = format!("tokens[{i}]");
            if token.principal.trim().is_empty() {
                return Err(at(
                    &format!("{field}.principal"),
                    "the principal name is empty".to_owned(),
                ));
            }
            let hash = TokenHash::from_hex(token.sha256.trim())
                .map_err(|e| at(&format!("{field}.sha256"), e.to_string()))?;
            if let Some(j) = tokens.iter().position(|t| t.hash == hash) {
                return Err(at(
                    &format!("{field}.sha256"),
                    format!(
                        "the same token as tokens[{j}]: each token must identify one principal"
                    ),
                ));
            }
            if !principals
                .iter()
                .any(|p| p.pattern.matches(&token.principal))
            {
                return Err(at(
                    &format!("{field}.principal"),
                    format!(
                        "'{}' has no entry under `principals:`, so every request with this token would be denied; attach policies to it",
                        token.principal
                    ),
                ));
            }
            tokens.push(TokenEntry {
                principal: token.principal.clone(),
                hash,
            });
        }

        let mtls = match &raw.mtls {
            None => None,
            Some(m) => {
                if m.accept.is_empty() {
                    return Err(at(
                        "mtls.accept",
                        "no certificate name kinds accepted: list some of uriSan, dnsSan, subjectCn (or remove `mtls`)"
                            .to_owned(),
                    ));
                }
                for (i, td) in m.trust_domains.iter().enumerate() {
                    if td.is_empty() || td.contains('/') || td.contains(':') {
                        return Err(at(
                            &format!("mtls.trustDomains[{i}]"),
                            format!("'{td}' is not a trust domain name: write the bare name, e.g. 'example.org' for spiffe://example.org/..."),
                        ));
                    }
                }
                if !m.trust_domains.is_empty() && !m.accept.contains(&SanKind::UriSan) {
                    return Err(at(
                        "mtls.trustDomains",
                        "trust domains filter URI SANs, but uriSan is not in mtls.accept"
                            .to_owned(),
                    ));
                }
                Some(MtlsRules {
                    accept_uri_san: m.accept.contains(&SanKind::UriSan),
                    accept_dns_san: m.accept.contains(&SanKind::DnsSan),
                    accept_subject_cn: m.accept.contains(&SanKind::SubjectCn),
                    trust_domains: m.trust_domains.clone(),
                })
            }
        };

        let access_keys = access_keys::load(&raw.access_keys, path, base, |principal| {
            principals.iter().any(|p| p.pattern.matches(principal))
        })
        .map_err(|e| ConfigError {
            file: e.file,
            path: e.path,
            message: e.message,
        })?;
        if tokens.is_empty() && mtls.is_none() && access_keys.is_empty() {
            return Err(at(
                "",
                "no way to authenticate anyone: configure `tokens` or `mtls` (proxies), `accessKeys` (the App Mesh API), or several (see docs/authentication.md)".to_owned(),
            ));
        }
        let mut exact = BTreeMap::new();
        let mut wildcard = Vec::new();
        for (i, p) in principals.iter().enumerate() {
            if p.pattern.has_wildcard() {
                wildcard.push(i);
            } else {
                exact.insert(p.pattern.as_str().to_owned(), i);
            }
        }
        Ok(AuthConfig {
            file: path.to_owned(),
            tokens,
            mtls,
            principals,
            access_keys,
            exact,
            wildcard,
        })
    }

    /// The access key with this id, if the config lists it.
    pub fn access_key(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.access_keys
            .iter()
            .find(|k| k.access_key_id == access_key_id)
    }

    /// The policies attached to a principal id: those of every matching
    /// `principals:` key, in key order.
    pub fn policies_for(&self, principal_id: &str) -> Vec<&PolicyDocument> {
        let mut hits: Vec<usize> = self
            .wildcard
            .iter()
            .copied()
            .filter(|&i| self.principals[i].pattern.matches(principal_id))
            .chain(self.exact.get(principal_id).copied())
            .collect();
        hits.sort_unstable();
        hits.iter()
            .flat_map(|&i| self.principals[i].policies.iter().map(|d| d.as_ref()))
            .collect()
    }
}

/// Loads policy references, reading each policy file once.
struct PolicyLoader<'a> {
    config_file: &'a Path,
    base: &'a Path,
    files: BTreeMap<PathBuf, Arc<PolicyDocument>>,
}

impl PolicyLoader<'_> {
    fn load(
        &mut self,
        reference: &RawPolicyRef,
        field: &str,
    ) -> Result<Arc<PolicyDocument>, ConfigError> {
        let in_config = |path: String, message: String| ConfigError {
            file: self.config_file.to_owned(),
            path,
            message,
        };
        match (&reference.file, &reference.inline) {
            (Some(_), Some(_)) => Err(in_config(
                field.to_owned(),
                "give either `file` or `inline`, not both".to_owned(),
            )),
            (None, None) => Err(in_config(
                field.to_owned(),
                "give a policy: `file: <path relative to this config>` or `inline: <policy document>`".to_owned(),
            )),
            (None, Some(inline)) => {
                let inline_field = format!("{field}.inline");
                let source = format!("{} {inline_field}", self.config_file.display());
                let parsed = match inline {
                    serde_json::Value::String(text) => PolicyDocument::from_json(text, &source),
                    value => PolicyDocument::from_value(value, &source),
                };
                parsed.map(Arc::new).map_err(|e| {
                    let path = if e.path.is_empty() {
                        inline_field.clone()
                    } else {
                        format!("{inline_field}.{}", e.path)
                    };
                    in_config(path, e.message)
                })
            }
            (Some(file), None) => {
                let path = self.base.join(file);
                if let Some(doc) = self.files.get(&path) {
                    return Ok(doc.clone());
                }
                let referenced = format!(" (referenced by {} {field}.file)", self.config_file.display());
                let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                    file: path.clone(),
                    path: String::new(),
                    message: format!("cannot read the policy file: {e}{referenced}"),
                })?;
                let source = path.display().to_string();
                let is_yaml = matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                );
                let parsed = if is_yaml {
                    meshplane_yaml::read_document(&text)
                        .map_err(|e| crate::policy::PolicyError {
                            path: String::new(),
                            message: e.to_string(),
                        })
                        .and_then(|value| PolicyDocument::from_value(&value, &source))
                } else {
                    PolicyDocument::from_json(&text, &source)
                };
                let doc = Arc::new(parsed.map_err(|e| ConfigError {
                    file: path.clone(),
                    path: e.path,
                    message: format!("{}{referenced}", e.message),
                })?);
                self.files.insert(path, doc.clone());
                Ok(doc)
            }
        }
    }
}
