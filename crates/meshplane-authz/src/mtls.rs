//! Turning a verified client certificate into a principal.
//!
//! The TLS layer has already verified the chain against the configured CA;
//! this decides which name of the certificate is the principal: its URI SAN
//! (e.g. a SPIFFE ID), else its DNS SAN, else its subject CN, among the kinds
//! the config accepts. A kind that is accepted and present decides: a
//! certificate whose SPIFFE ID is outside the trusted trust domains is
//! refused, not identified by its DNS name instead.

use crate::{AuthError, PeerCredentials, Principal, PrincipalSource};

/// Which certificate names identify a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtlsRules {
    pub accept_uri_san: bool,
    pub accept_dns_san: bool,
    pub accept_subject_cn: bool,
    /// When not empty, a URI SAN must be `spiffe://<one of these>/...`.
    pub trust_domains: Vec<String>,
}

impl Default for MtlsRules {
    /// URI SANs only, any trust domain.
    fn default() -> Self {
        MtlsRules {
            accept_uri_san: true,
            accept_dns_san: false,
            accept_subject_cn: false,
            trust_domains: Vec::new(),
        }
    }
}

impl MtlsRules {
    pub fn accepted_kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.accept_uri_san {
            kinds.push("URI SAN");
        }
        if self.accept_dns_san {
            kinds.push("DNS SAN");
        }
        if self.accept_subject_cn {
            kinds.push("subject CN");
        }
        kinds
    }

    /// The principal of a client certificate.
    pub fn principal(&self, creds: &PeerCredentials) -> Result<Principal, AuthError> {
        let unauthenticated = |m: String| Err(AuthError::Unauthenticated(m));
        if self.accept_uri_san && !creds.tls_uri_sans.is_empty() {
            let mut uris: Vec<&String> = creds.tls_uri_sans.iter().collect();
            uris.dedup();
            if uris.len() > 1 {
                return unauthenticated(format!(
                    "the client certificate has {} URI SANs ({}); a proxy certificate must carry exactly one (as a SPIFFE SVID does)",
                    uris.len(),
                    quoted(&uris)
                ));
            }
            let uri = uris[0];
            if !self.trust_domains.is_empty() && !self.in_trust_domain(uri) {
                return unauthenticated(format!(
                    "the client certificate's URI SAN '{uri}' is not in a trusted SPIFFE trust domain (trusted: {})",
                    quoted(&self.trust_domains.iter().collect::<Vec<_>>())
                ));
            }
            return Ok(Principal::new(uri.clone(), PrincipalSource::UriSan));
        }
        if self.accept_dns_san {
            if let Some(dns) = creds.tls_dns_sans.first() {
                return Ok(Principal::new(dns.clone(), PrincipalSource::DnsSan));
            }
        }
        if self.accept_subject_cn {
            if let Some(cn) = creds.tls_subject_cn.as_ref().filter(|cn| !cn.is_empty()) {
                return Ok(Principal::new(cn.clone(), PrincipalSource::SubjectCn));
            }
        }
        unauthenticated(format!(
            "the client certificate has no name this server accepts as a principal (accepted: {}; the certificate has {} URI SAN(s), {} DNS SAN(s), {} subject CN)",
            self.accepted_kinds().join(", "),
            creds.tls_uri_sans.len(),
            creds.tls_dns_sans.len(),
            if creds.tls_subject_cn.is_some() { "a" } else { "no" },
        ))
    }

    fn in_trust_domain(&self, uri: &str) -> bool {
        let Some(rest) = uri.strip_prefix("spiffe://") else {
            return false;
        };
        let domain = rest.split('/').next().unwrap_or("");
        self.trust_domains
            .iter()
            .any(|td| td.eq_ignore_ascii_case(domain))
    }
}

fn quoted(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}
