//! Who is connecting: the peer's credentials, the [`Authorizer`] hook that
//! admits a proxy ([`Admission`]: its [`ProxyKey`] and principal), and the
//! per-key stream quota.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use envoy_types::pb::envoy::config::core::v3::Node;
use tonic::Status;

use crate::cache::ProxyKey;

/// What the transport tells about the peer of a stream.
#[derive(Debug, Clone, Default)]
pub struct PeerInfo {
    pub remote_addr: Option<SocketAddr>,
    /// The token of an `authorization: Bearer <token>` request header.
    pub bearer_token: Option<String>,
    /// The verified client certificate, when the stream came over mutual TLS
    /// (filled by [`crate::ServerConfig::tls_peer`]).
    pub tls: Option<TlsPeer>,
}

/// Names from a verified client certificate, each kind in certificate order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsPeer {
    /// URI subject alternative names (SPIFFE IDs).
    pub uri_sans: Vec<String>,
    /// DNS subject alternative names.
    pub dns_sans: Vec<String>,
    /// The subject's common name.
    pub common_name: Option<String>,
}

impl PeerInfo {
    pub(crate) fn from_request<T>(req: &tonic::Request<T>) -> Self {
        let bearer_token = req
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            })
            .filter(|t| !t.is_empty());
        PeerInfo {
            remote_addr: req.remote_addr(),
            bearer_token,
            tls: None,
        }
    }

    /// The client certificate's strongest name: its first URI SAN, else its
    /// first DNS SAN, else its common name (what [`NodeIdAuthorizer`] reports
    /// as the principal).
    pub fn principal(&self) -> Option<String> {
        let tls = self.tls.as_ref()?;
        tls.uri_sans
            .first()
            .or(tls.dns_sans.first())
            .or(tls.common_name.as_ref())
            .cloned()
    }
}

/// Who a stream authenticated as, in the authorizer's own terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamPrincipal {
    /// The name policies are attached to (a SPIFFE ID, a token's name, ...).
    pub id: String,
    /// Where the name came from ("bearer token", "certificate URI SAN", ...).
    pub source: String,
}

/// An admitted stream: the snapshot it is served and who it authenticated as.
/// The principal is kept in the stream's [`crate::StreamInfo`] and sent on
/// [`crate::XdsEvent::Connected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub key: ProxyKey,
    pub principal: Option<StreamPrincipal>,
}

impl Admission {
    /// Admitted as `key`, no principal known.
    pub fn key(key: ProxyKey) -> Self {
        Admission {
            key,
            principal: None,
        }
    }

    pub fn with_principal(mut self, id: impl Into<String>, source: impl Into<String>) -> Self {
        self.principal = Some(StreamPrincipal {
            id: id.into(),
            source: source.into(),
        });
        self
    }
}

/// Decides, on a stream's first request, which snapshot the proxy gets.
///
/// Return NOT_FOUND (3) for an identity the server does not know,
/// PERMISSION_DENIED (7) when the credentials may not act as that identity and
/// UNAUTHENTICATED (16) when there are no valid credentials.
pub trait Authorizer: Send + Sync + 'static {
    fn authorize(&self, node: &Node, peer: &PeerInfo) -> Result<Admission, Status>;

    /// Concurrent streams allowed for `key`; `None` uses the server default.
    fn max_streams(&self, _key: &ProxyKey) -> Option<usize> {
        None
    }
}

/// Takes `node.id` as the key without checking credentials. Only for a
/// transport that is already trusted (loopback, a private socket). The
/// principal is the client certificate's first name, if one was presented.
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeIdAuthorizer;

impl Authorizer for NodeIdAuthorizer {
    fn authorize(&self, node: &Node, peer: &PeerInfo) -> Result<Admission, Status> {
        let admission = Admission::key(ProxyKey::new(node.id.as_str()));
        Ok(match peer.principal() {
            Some(name) => admission.with_principal(name, "client certificate"),
            None => admission,
        })
    }
}

/// Counts open streams per key.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamQuota {
    open: Arc<Mutex<HashMap<ProxyKey, usize>>>,
}

impl StreamQuota {
    /// Take one of `limit` places for `key`, or RESOURCE_EXHAUSTED.
    pub(crate) fn acquire(&self, key: &ProxyKey, limit: usize) -> Result<QuotaPlace, Status> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key.clone()).or_insert(0);
        if *n >= limit {
            return Err(Status::resource_exhausted(format!(
                "proxy `{key}` already has {n} open xDS streams (limit {limit}); \
                 close unused proxies or raise the per-proxy stream limit"
            )));
        }
        *n += 1;
        Ok(QuotaPlace {
            quota: self.clone(),
            key: key.clone(),
        })
    }
}

/// One open stream's place in the quota, given back on drop.
#[derive(Debug)]
pub(crate) struct QuotaPlace {
    quota: StreamQuota,
    key: ProxyKey,
}

impl Drop for QuotaPlace {
    fn drop(&mut self) {
        let mut open = self.quota.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_counts_places_and_gives_them_back() {
        let q = StreamQuota::default();
        let k = ProxyKey::new("mesh/m/virtualNode/a");
        let a = q.acquire(&k, 2).unwrap();
        let _b = q.acquire(&k, 2).unwrap();
        let err = q.acquire(&k, 2).unwrap_err();
        assert_eq!(err.code(), tonic::Code::ResourceExhausted);
        assert!(err.message().contains("mesh/m/virtualNode/a"));
        drop(a);
        assert!(q.acquire(&k, 2).is_ok());
    }

    #[test]
    fn certificate_principal_prefers_uri_then_dns_then_cn() {
        let peer = |uri: &[&str], dns: &[&str], cn: Option<&str>| PeerInfo {
            tls: Some(TlsPeer {
                uri_sans: uri.iter().map(|s| s.to_string()).collect(),
                dns_sans: dns.iter().map(|s| s.to_string()).collect(),
                common_name: cn.map(str::to_owned),
            }),
            ..PeerInfo::default()
        };
        let spiffe = "spiffe://example.org/ns/a/sa/b";
        assert_eq!(
            peer(&[spiffe], &["b.a.svc"], Some("cn"))
                .principal()
                .as_deref(),
            Some(spiffe)
        );
        assert_eq!(
            peer(&[], &["b.a.svc", "c"], Some("cn"))
                .principal()
                .as_deref(),
            Some("b.a.svc")
        );
        assert_eq!(
            peer(&[], &[], Some("cn")).principal().as_deref(),
            Some("cn")
        );
        assert_eq!(peer(&[], &[], None).principal(), None);
        assert_eq!(PeerInfo::default().principal(), None);
    }

    #[test]
    fn bearer_token_is_read_from_authorization_metadata() {
        let mut req = tonic::Request::new(());
        req.metadata_mut()
            .insert("authorization", "Bearer abc.def".parse().unwrap());
        assert_eq!(
            PeerInfo::from_request(&req).bearer_token.as_deref(),
            Some("abc.def")
        );
        let mut req = tonic::Request::new(());
        req.metadata_mut()
            .insert("authorization", "Basic x".parse().unwrap());
        assert_eq!(PeerInfo::from_request(&req).bearer_token, None);
    }
}
