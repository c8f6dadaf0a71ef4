//! TCP and TLS connections: connect, read the backend's greeting line, send
//! a line and check it comes back; or, for a client that speaks first (as
//! HTTP, TLS and most client protocols do), send the line before reading.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::TlsConnector;

use super::report::{now_ms, Outcome};

/// TLS settings of a connection.
#[derive(Clone)]
pub struct TlsSpec {
    pub connector: TlsConnector,
    pub server_name: ServerName<'static>,
}

impl TlsSpec {
    /// Trust the certificates of `ca` (PEM) and send `sni`.
    pub fn new(ca: &Path, sni: &str) -> anyhow::Result<TlsSpec> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca)
            .with_context(|| format!("reading {}", ca.display()))?
        {
            roots.add(cert?)?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(TlsSpec {
            connector: TlsConnector::from(Arc::new(config)),
            server_name: ServerName::try_from(sni.to_owned())?,
        })
    }
}

/// One connection to `addr` (`host:port`, resolved by the system resolver).
pub async fn connect_once(
    addr: &str,
    tls: Option<&TlsSpec>,
    client_first: bool,
    i: u64,
    timeout: Duration,
) -> Outcome {
    let t_ms = now_ms();
    let start = Instant::now();
    let result = tokio::time::timeout(timeout, exchange(addr, tls, client_first)).await;
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    let (backend, error) = match result {
        Err(_) => (None, Some(format!("timeout after {timeout:?}"))),
        Ok(Err(e)) => (None, Some(format!("{e:#}"))),
        Ok(Ok(name)) => (Some(name), None),
    };
    Outcome {
        i,
        t_ms,
        status: None,
        grpc_status: None,
        backend,
        error,
        latency_ms,
    }
}

async fn exchange(addr: &str, tls: Option<&TlsSpec>, client_first: bool) -> anyhow::Result<String> {
    let tcp = TcpStream::connect(addr).await.context("connect")?;
    tcp.set_nodelay(true)?;
    match tls {
        None if client_first => ping_then_greeting(tcp).await,
        None => greeting_and_echo(tcp).await,
        Some(t) => {
            let stream = t
                .connector
                .connect(t.server_name.clone(), tcp)
                .await
                .context("TLS handshake")?;
            greeting_and_echo(stream).await
        }
    }
}

async fn greeting_and_echo<S: AsyncRead + AsyncWrite + Unpin>(stream: S) -> anyhow::Result<String> {
    let mut reader = BufReader::new(stream);
    let greeting = read_line(&mut reader, "the greeting").await?;
    reader
        .get_mut()
        .write_all(b"ping\n")
        .await
        .context("sending")?;
    expect_echo(&mut reader).await?;
    Ok(greeting)
}

/// One line (without its end), failing when the peer closed first.
async fn read_line<S: AsyncRead + Unpin>(
    reader: &mut BufReader<S>,
    what: &str,
) -> anyhow::Result<String> {
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .await
        .with_context(|| format!("reading {what}"))?;
    if line.is_empty() {
        anyhow::bail!("connection closed before {what}");
    }
    Ok(line.trim_end().to_owned())
}

async fn expect_echo<S: AsyncRead + Unpin>(reader: &mut BufReader<S>) -> anyhow::Result<()> {
    let echo = read_line(reader, "the echo").await?;
    if echo != "ping" {
        anyhow::bail!("echo was {echo:?}");
    }
    Ok(())
}

/// Send the line first, then read the greeting and the echo.
async fn ping_then_greeting<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
) -> anyhow::Result<String> {
    stream.write_all(b"ping\n").await.context("sending")?;
    let mut reader = BufReader::new(stream);
    let greeting = read_line(&mut reader, "the greeting").await?;
    expect_echo(&mut reader).await?;
    Ok(greeting)
}
