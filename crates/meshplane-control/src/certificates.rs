//! The ACM material meshplane holds in place of AWS Certificate Manager
//! (`meshplane serve --certificates DIR`).
//!
//! App Mesh sent ACM certificates and ACM Private CA trust to the owning
//! proxy as SDS secrets over ADS. meshplane does the same from PEM files
//! named in `DIR/certificates.yaml` (or `.yml`, `.json`):
//!
//! ```yaml
//! certificates:            # listener certificate.acm.certificateArn
//!   - arn: arn:aws:acm:us-east-1:111122223333:certificate/abc
//!     chain: server.pem    # certificate chain, leaf first
//!     key: server.key      # its private key
//!     ca: root.pem         # optional: the CA the chain ends in (clients
//!                          # without a client policy validate against it;
//!                          # default: the chain itself)
//! certificateAuthorities:  # validation.trust.acm.certificateAuthorityArns
//!   - arn: arn:aws:acm-pca:us-east-1:111122223333:certificate-authority/x
//!     chain: ca.pem
//! ```
//!
//! Paths are relative to the file. The translation only learns which ARNs
//! are held ([`CertificateStore::arns`]); the material becomes `Secret`
//! resources only in the snapshot of a proxy whose translation requests
//! them ([`CertificateStore::secrets`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use envoy_types::pb::envoy::config::core::v3::{data_source, DataSource};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    secret, CertificateValidationContext, Secret, TlsCertificate,
};
use meshplane_translate::NeededSecret;
use serde_json::Value;

/// The file names looked for in the certificates directory, in order.
pub const FILE_NAMES: [&str; 3] = ["certificates.yaml", "certificates.yml", "certificates.json"];

#[derive(Debug, thiserror::Error)]
pub enum CertificatesError {
    #[error("{}: no certificates.yaml, certificates.yml or certificates.json in this directory", dir.display())]
    NoFile { dir: PathBuf },
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", file.display())]
    Parse { file: PathBuf, message: String },
    #[error("{}: {field}: {message}", file.display())]
    Field {
        file: PathBuf,
        field: String,
        message: String,
    },
}

/// One ACM certificate's PEM material.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HeldCertificate {
    chain: Vec<u8>,
    key: Vec<u8>,
    ca: Option<Vec<u8>>,
}

/// ACM certificates and Private CAs by ARN, with their PEM material.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertificateStore {
    certificates: BTreeMap<String, HeldCertificate>,
    authorities: BTreeMap<String, Vec<u8>>,
}

impl CertificateStore {
    /// Reads `dir`'s certificates file (or `dir` itself when it is a file)
    /// and every PEM file it names.
    pub fn load(dir: &Path) -> Result<CertificateStore, CertificatesError> {
        let file = if dir.is_file() {
            dir.to_path_buf()
        } else {
            FILE_NAMES
                .iter()
                .map(|n| dir.join(n))
                .find(|p| p.is_file())
                .ok_or_else(|| CertificatesError::NoFile {
                    dir: dir.to_path_buf(),
                })?
        };
        let text = std::fs::read_to_string(&file).map_err(|source| CertificatesError::Read {
            path: file.clone(),
            source,
        })?;
        let doc = if file.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))
        } else {
            meshplane_yaml::read_document(&text).map_err(|e| e.to_string())
        }
        .map_err(|message| CertificatesError::Parse {
            file: file.clone(),
            message,
        })?;
        Parser { file: &file }.store(&doc)
    }

    /// Every ARN held (certificates and CAs).
    pub fn arns(&self) -> BTreeSet<String> {
        self.certificates
            .keys()
            .chain(self.authorities.keys())
            .cloned()
            .collect()
    }

    /// The `Secret` resources a translation requests, with inline PEM;
    /// a name whose ARN is not held (the translation reported it) is left out.
    pub fn secrets(&self, needed: &BTreeMap<String, NeededSecret>) -> Vec<Secret> {
        needed
            .iter()
            .filter_map(|(name, n)| {
                let ty = match n {
                    NeededSecret::Certificate { arn } => {
                        let c = self.certificates.get(arn)?;
                        secret::Type::TlsCertificate(TlsCertificate {
                            certificate_chain: Some(inline(c.chain.clone())),
                            private_key: Some(inline(c.key.clone())),
                            ..Default::default()
                        })
                    }
                    NeededSecret::Trust { authorities } => {
                        let mut pem = Vec::new();
                        for a in authorities {
                            pem.extend_from_slice(self.authorities.get(a)?);
                        }
                        trust(pem)
                    }
                    NeededSecret::IssuerOf { arn } => {
                        let c = self.certificates.get(arn)?;
                        trust(c.ca.clone().unwrap_or_else(|| c.chain.clone()))
                    }
                };
                Some(Secret {
                    name: name.clone(),
                    r#type: Some(ty),
                })
            })
            .collect()
    }
}

fn inline(bytes: Vec<u8>) -> DataSource {
    DataSource {
        specifier: Some(data_source::Specifier::InlineBytes(bytes)),
        ..Default::default()
    }
}

fn trust(pem: Vec<u8>) -> secret::Type {
    secret::Type::ValidationContext(CertificateValidationContext {
        trusted_ca: Some(inline(pem)),
        ..Default::default()
    })
}

/// A YAML/JSON mapping.
type Entry = serde_json::Map<String, Value>;

struct Parser<'a> {
    file: &'a Path,
}

impl Parser<'_> {
    fn err(&self, field: &str, message: impl Into<String>) -> CertificatesError {
        CertificatesError::Field {
            file: self.file.to_path_buf(),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn store(&self, doc: &Value) -> Result<CertificateStore, CertificatesError> {
        let top = doc
            .as_object()
            .ok_or_else(|| self.err("(top level)", "expected a mapping"))?;
        for key in top.keys() {
            if key != "certificates" && key != "certificateAuthorities" {
                return Err(self.err(
                    key,
                    "unknown field; expected certificates or certificateAuthorities",
                ));
            }
        }
        let mut store = CertificateStore::default();
        for (i, entry) in self.list(top.get("certificates"), "certificates")? {
            let field = format!("certificates[{i}]");
            let arn = self.arn(
                entry,
                &field,
                "arn:aws:acm:",
                &["arn", "chain", "key", "ca"],
            )?;
            let held = HeldCertificate {
                chain: self.pem(entry, &field, "chain", "CERTIFICATE")?,
                key: self.pem(entry, &field, "key", "PRIVATE KEY")?,
                ca: match entry.get("ca") {
                    None => None,
                    Some(_) => Some(self.pem(entry, &field, "ca", "CERTIFICATE")?),
                },
            };
            if store.certificates.insert(arn.clone(), held).is_some() {
                return Err(self.err(&format!("{field}.arn"), format!("{arn} is listed twice")));
            }
        }
        for (i, entry) in self.list(top.get("certificateAuthorities"), "certificateAuthorities")? {
            let field = format!("certificateAuthorities[{i}]");
            let arn = self.arn(entry, &field, "arn:aws:acm-pca:", &["arn", "chain"])?;
            let chain = self.pem(entry, &field, "chain", "CERTIFICATE")?;
            if store.authorities.insert(arn.clone(), chain).is_some() {
                return Err(self.err(&format!("{field}.arn"), format!("{arn} is listed twice")));
            }
        }
        Ok(store)
    }

    fn list<'v>(
        &self,
        v: Option<&'v Value>,
        field: &str,
    ) -> Result<Vec<(usize, &'v Entry)>, CertificatesError> {
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(Vec::new());
        };
        let items = v
            .as_array()
            .ok_or_else(|| self.err(field, "expected a list"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_object()
                    .map(|o| (i, o))
                    .ok_or_else(|| self.err(&format!("{field}[{i}]"), "expected a mapping"))
            })
            .collect()
    }

    fn arn(
        &self,
        entry: &Entry,
        field: &str,
        prefix: &str,
        known: &[&str],
    ) -> Result<String, CertificatesError> {
        if let Some(k) = entry.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(self.err(
                &format!("{field}.{k}"),
                format!("unknown field; expected {}", known.join(", ")),
            ));
        }
        let arn = self.string(entry, field, "arn")?;
        if !arn.starts_with(prefix) {
            return Err(self.err(
                &format!("{field}.arn"),
                format!("'{arn}' is not an ARN starting with {prefix}"),
            ));
        }
        Ok(arn.to_owned())
    }

    fn string<'v>(
        &self,
        entry: &'v Entry,
        field: &str,
        key: &str,
    ) -> Result<&'v str, CertificatesError> {
        entry
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.err(&format!("{field}.{key}"), "required: a non-empty string"))
    }

    /// Reads the PEM file at `entry[key]` and checks it holds a `label` block.
    fn pem(
        &self,
        entry: &Entry,
        field: &str,
        key: &str,
        label: &str,
    ) -> Result<Vec<u8>, CertificatesError> {
        let rel = self.string(entry, field, key)?;
        let path = self.file.parent().unwrap_or(Path::new(".")).join(rel);
        let bytes = std::fs::read(&path).map_err(|e| {
            self.err(
                &format!("{field}.{key}"),
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        let text = String::from_utf8_lossy(&bytes);
        let holds_label = text.lines().any(|l| {
            l.starts_with("-----BEGIN ") && l.trim_end().ends_with(&format!("{label}-----"))
        });
        if !holds_label {
            return Err(self.err(
                &format!("{field}.{key}"),
                format!("{} holds no PEM {label} block", path.display()),
            ));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
#[path = "certificates/tests.rs"]
mod tests;
