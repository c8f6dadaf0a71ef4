//! TLS backend: a certificate for its server name (signed by the test CA),
//! then the TCP backend's greeting and echo inside the TLS session.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

use super::tcp::greet_and_echo;

/// Serve until the process is killed.
pub async fn serve(
    name: String,
    listen: SocketAddr,
    cert: &Path,
    key: &Path,
) -> anyhow::Result<()> {
    let acceptor = acceptor(cert, key)?;
    let listener = TcpListener::bind(listen).await?;
    eprintln!("e2e-backend tls {name} listening on {listen}");
    loop {
        let (stream, _) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let name = name.clone();
        tokio::spawn(async move {
            if let Ok(tls) = acceptor.accept(stream).await {
                let _ = greet_and_echo(tls, &name).await;
            }
        });
    }
}

/// A TLS acceptor presenting the PEM certificate chain `cert` and key `key`.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading {}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
