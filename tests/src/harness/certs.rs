//! Test PKI for the TLS backends: one CA, one server certificate per name.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

/// PEM files written by [`write_pki`].
#[derive(Debug, Clone)]
pub struct Pki {
    pub ca: PathBuf,
    /// (server name, certificate, key), in the order asked.
    pub servers: Vec<(String, PathBuf, PathBuf)>,
}

impl Pki {
    /// Certificate and key of `name`.
    pub fn server(&self, name: &str) -> Option<(&Path, &Path)> {
        self.servers
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, c, k)| (c.as_path(), k.as_path()))
    }
}

/// A CA and a certificate for each of `names`, as PEM files in `dir`
/// (readable by everyone: the backends run as other users in namespaces).
pub fn write_pki(dir: &Path, names: &[&str]) -> anyhow::Result<Pki> {
    std::fs::create_dir_all(dir)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "meshplane e2e CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).with_context(|| format!("writing {}", ca_path.display()))?;
    let mut servers = Vec::new();
    for name in names {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![(*name).to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, *name);
        let cert = params.signed_by(&key, &ca)?;
        let cert_path = dir.join(format!("{name}.pem"));
        let key_path = dir.join(format!("{name}.key"));
        std::fs::write(&cert_path, cert.pem())?;
        std::fs::write(&key_path, key.serialize_pem())?;
        servers.push(((*name).to_owned(), cert_path, key_path));
    }
    Ok(Pki {
        ca: ca_path,
        servers,
    })
}
