//! The names of a verified client certificate.

use meshplane_xds::TlsPeer;
use x509_parser::extensions::GeneralName;

/// The URI SANs, DNS SANs and subject CN of a DER certificate.
pub fn tls_peer_of(der: &[u8]) -> Option<TlsPeer> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut uris = Vec::new();
    let mut dns = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::URI(u) => uris.push((*u).to_owned()),
                GeneralName::DNSName(d) => dns.push((*d).to_owned()),
                _ => {}
            }
        }
    }
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);
    Some(TlsPeer {
        uri_sans: uris,
        dns_sans: dns,
        common_name,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    #[test]
    fn uri_and_dns_sans_are_kept_apart_in_certificate_order() {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = vec![
            SanType::DnsName("b.apps.svc".try_into().unwrap()),
            // A URI SAN without `//` is still a URI SAN.
            SanType::URI("urn:example:proxy-1".try_into().unwrap()),
            SanType::URI("spiffe://example.org/ns/apps/sa/b".try_into().unwrap()),
            SanType::DnsName("b".try_into().unwrap()),
        ];
        p.distinguished_name.push(DnType::CommonName, "proxy b");
        let cert = p.self_signed(&KeyPair::generate().unwrap()).unwrap();
        let peer = tls_peer_of(cert.der()).unwrap();
        assert_eq!(
            peer,
            TlsPeer {
                uri_sans: vec![
                    "urn:example:proxy-1".into(),
                    "spiffe://example.org/ns/apps/sa/b".into()
                ],
                dns_sans: vec!["b.apps.svc".into(), "b".into()],
                common_name: Some("proxy b".into()),
            }
        );
        assert_eq!(tls_peer_of(b"not DER"), None);
    }
}
