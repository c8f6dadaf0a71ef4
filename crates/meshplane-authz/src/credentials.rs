//! What a proxy presents, and who it turns out to be.

use std::fmt;

/// The credentials of one proxy connection or stream, as the transport saw them.
///
/// The TLS fields come from the verified client certificate (empty when the
/// connection is not mutual TLS); `bearer_token` is the token of the gRPC
/// initial metadata `authorization: Bearer <token>` (see
/// [`bearer_token_from_header`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerCredentials {
    pub tls_uri_sans: Vec<String>,
    pub tls_dns_sans: Vec<String>,
    pub tls_subject_cn: Option<String>,
    pub bearer_token: Option<String>,
}

impl PeerCredentials {
    /// Whether a client certificate was presented at all.
    pub fn has_certificate(&self) -> bool {
        !self.tls_uri_sans.is_empty()
            || !self.tls_dns_sans.is_empty()
            || self.tls_subject_cn.is_some()
    }
}

/// Where a principal's identity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalSource {
    /// A URI SAN of the client certificate (typically a SPIFFE ID).
    UriSan,
    /// A DNS SAN of the client certificate.
    DnsSan,
    /// The subject common name of the client certificate.
    SubjectCn,
    /// A bearer token listed in the auth config.
    BearerToken,
    /// An App Mesh API request signed (SigV4) with an access key listed in
    /// the auth config.
    AccessKey,
    /// Insecure mode: nobody was authenticated.
    Anonymous,
}

impl fmt::Display for PrincipalSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PrincipalSource::UriSan => "certificate URI SAN",
            PrincipalSource::DnsSan => "certificate DNS SAN",
            PrincipalSource::SubjectCn => "certificate subject CN",
            PrincipalSource::BearerToken => "bearer token",
            PrincipalSource::AccessKey => "access key",
            PrincipalSource::Anonymous => "no authentication",
        })
    }
}

/// An authenticated caller. `id` is the name policies are attached to in the
/// auth config (`principals:` keys): a SPIFFE ID, a DNS name, a CN, or the
/// principal named next to a token.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal {
    pub id: String,
    pub source: PrincipalSource,
}

impl Principal {
    /// The id of the principal every caller becomes in insecure mode.
    pub const ANONYMOUS_ID: &'static str = "anonymous";

    pub fn new(id: impl Into<String>, source: PrincipalSource) -> Principal {
        Principal {
            id: id.into(),
            source,
        }
    }

    pub fn anonymous() -> Principal {
        Principal::new(Principal::ANONYMOUS_ID, PrincipalSource::Anonymous)
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}' ({})", self.id, self.source)
    }
}

/// Extracts the token from an `authorization` header value `Bearer <token>`
/// (scheme case-insensitive, as HTTP defines it).
pub fn bearer_token_from_header(value: &str) -> Result<String, crate::AuthError> {
    let value = value.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(crate::AuthError::Unauthenticated(format!(
            "the authorization metadata must be 'Bearer <token>', got scheme '{}'",
            scheme.chars().take(20).collect::<String>()
        )));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(crate::AuthError::Unauthenticated(
            "the authorization metadata 'Bearer' carries no token".to_owned(),
        ));
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_parsing() {
        assert_eq!(bearer_token_from_header("Bearer abc").as_deref(), Ok("abc"));
        assert_eq!(
            bearer_token_from_header("bearer   abc ").as_deref(),
            Ok("abc")
        );
        assert!(
            matches!(bearer_token_from_header("Basic dXNlcjpwYXNz"), Err(crate::AuthError::Unauthenticated(m)) if m.contains("'Basic'"))
        );
        assert!(bearer_token_from_header("Bearer").is_err());
        assert!(bearer_token_from_header("Bearer   ").is_err());
        assert!(bearer_token_from_header("").is_err());
    }
}
