//! The names of a verified client certificate.

use meshplane_xds::TlsPeer;
use x509_parser::extensions::GeneralName;

/// URI SANs, then DNS SANs, and the subject CN of a DER certificate.
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
    uris.extend(dns);
    Some(TlsPeer {
        sans: uris,
        common_name,
    })
}
