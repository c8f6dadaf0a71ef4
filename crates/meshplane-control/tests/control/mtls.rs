//! Mutual TLS on the xDS port: certificate principals through a real TLS
//! handshake, refusals, and a renewed server certificate picked up on reload.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use meshplane_control::tls::TlsFiles;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, SanType};
use serde_json::Value;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tonic::transport::{Channel, Endpoint};
use tonic::Code;

use super::envoy::{dynamic_names, spawn_envoy, wait_for, ENVOY_LISTENER_PORTS};
use super::support::{copy_examples, http_get, node_arn, serve_config, start, Ads, HANG, LDS};

const SPIFFE: &str = "spiffe://example.org/ns/apps/sa/servicea";

struct Ca(CertifiedIssuer<'static, KeyPair>);

impl Ca {
    fn new(name: &str) -> Ca {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        Ca(CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap())
    }

    /// (cert PEM, key PEM) of a leaf with these SANs.
    fn leaf(&self, sans: Vec<SanType>) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.subject_alt_names = sans;
        let cert = p.signed_by(&key, &self.0).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn pem(&self) -> String {
        self.0.pem()
    }
}

fn server_sans() -> Vec<SanType> {
    vec![SanType::IpAddress("127.0.0.1".parse().unwrap())]
}

fn client_sans() -> Vec<SanType> {
    vec![SanType::URI(SPIFFE.try_into().unwrap())]
}

/// A channel over TLS trusting `ca_pem`, with an optional client certificate.
async fn tls_channel(
    addr: SocketAddr,
    ca_pem: &str,
    client: Option<&(String, String)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let mut config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                CertificateDer::pem_slice_iter(cert.as_bytes())
                    .map(|c| c.unwrap())
                    .collect(),
                PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_| {
            let connector = connector.clone();
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let name = ServerName::IpAddress(addr.ip().into());
                let tls = connector.connect(name, tcp).await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
}

async fn status_of(channel: Channel, node: &str) -> (Code, String) {
    match Ads::open_on(channel, node, None).await {
        Ok(mut ads) => match ads.next().await {
            Ok(r) => (Code::Ok, r.type_url),
            Err(s) => (s.code(), s.message().to_owned()),
        },
        Err(s) => (s.code(), s.message().to_owned()),
    }
}

/// Certificates of the SPIFFE ID may stream serviceA.
fn auth_yaml() -> String {
    format!(
        "mtls:\n  accept: [uriSan]\n  trustDomains: [example.org]\nprincipals:\n  {SPIFFE}:\n    policies:\n      - inline:\n          Version: \"2012-10-17\"\n          Statement:\n            - Effect: Allow\n              Action: appmesh:StreamAggregatedResources\n              Resource: {}\n",
        node_arn("serviceA")
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

#[tokio::test]
async fn client_certificates_authenticate_proxies_and_server_certificates_reload() {
    let ca = Ca::new("meshplane test CA");
    let rogue_ca = Ca::new("someone else's CA");
    let client = ca.leaf(client_sans());
    let rogue = rogue_ca.leaf(client_sans());
    let (server_cert, server_key) = ca.leaf(server_sans());

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "server.pem", &server_cert);
    write(dir.path(), "server.key", &server_key);
    write(dir.path(), "client-ca.pem", &ca.pem());
    write(dir.path(), "auth.yaml", &auth_yaml());
    let specs = copy_examples();
    let mut config = serve_config(vec![specs.path().to_owned()]);
    config.auth_config = Some(dir.path().join("auth.yaml"));
    config.tls = Some(TlsFiles {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server.key"),
        client_ca: Some(dir.path().join("client-ca.pem")),
    });
    let running = start(config).await;
    let addr = running.xds_addr;

    // The certificate's SPIFFE ID is the principal.
    let channel = tls_channel(addr, &ca.pem(), Some(&client)).await.unwrap();
    let mut ads = Ads::open_on(channel.clone(), &node_arn("serviceA"), None)
        .await
        .unwrap();
    assert_eq!(ads.next().await.unwrap().type_url, LDS);
    let (_, body) = http_get(running.admin_addr, "/debug/proxies").await;
    let proxies: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(proxies["proxies"][0]["principal"]["id"], SPIFFE, "{body}");
    assert_eq!(
        proxies["proxies"][0]["principal"]["source"], "certificate URI SAN",
        "{body}"
    );

    let (code, message) = status_of(channel, &node_arn("serviceB")).await;
    assert_eq!(code, Code::PermissionDenied, "{message}");
    assert!(message.contains(SPIFFE), "{message}");

    // TLS without a client certificate: no credentials.
    let anonymous = tls_channel(addr, &ca.pem(), None).await.unwrap();
    let (code, message) = status_of(anonymous, &node_arn("serviceA")).await;
    assert_eq!(code, Code::Unauthenticated, "{message}");
    assert!(message.contains("no credentials"), "{message}");

    // A certificate from another CA fails the handshake.
    let refused = match tls_channel(addr, &ca.pem(), Some(&rogue)).await {
        Err(_) => true,
        Ok(ch) => status_of(ch, &node_arn("serviceA")).await.0 != Code::Ok,
    };
    assert!(refused, "a certificate of an untrusted CA was accepted");

    // A renewed server certificate (new CA) is served after the reload.
    let new_ca = Ca::new("renewed CA");
    let (cert, key) = new_ca.leaf(server_sans());
    write(dir.path(), "server.key", &key);
    write(dir.path(), "server.pem", &cert);
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        if let Ok(ch) = tls_channel(addr, &new_ca.pem(), Some(&client)).await {
            if status_of(ch, &node_arn("serviceA")).await.0 == Code::Ok {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the renewed server certificate was never served"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The real Envoy, with the bootstrap's TLS variables, authenticates with
/// its client certificate and gets serviceA's configuration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_envoy_connects_with_a_client_certificate() {
    let ca = Ca::new("meshplane test CA");
    let (server_cert, server_key) = ca.leaf(server_sans());
    let (client_cert, client_key) = ca.leaf(client_sans());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, text) in [
        ("server.pem", &server_cert),
        ("server.key", &server_key),
        ("ca.pem", &ca.pem()),
        ("client.pem", &client_cert),
        ("client.key", &client_key),
    ] {
        write(d, name, text);
    }
    write(d, "auth.yaml", &auth_yaml());
    let specs = copy_examples();
    let mut config = serve_config(vec![specs.path().to_owned()]);
    config.auth_config = Some(d.join("auth.yaml"));
    config.tls = Some(TlsFiles {
        cert: d.join("server.pem"),
        key: d.join("server.key"),
        client_ca: Some(d.join("ca.pem")),
    });
    let running = start(config).await;

    let _ports = ENVOY_LISTENER_PORTS.lock().await;
    let path = |n: &str| d.join(n).display().to_string();
    let (mut envoy, admin) = spawn_envoy(
        d,
        running.xds_addr,
        &[
            ("MESHPLANE_XDS_CA", path("ca.pem")),
            ("MESHPLANE_XDS_CLIENT_CERT", path("client.pem")),
            ("MESHPLANE_XDS_CLIENT_KEY", path("client.key")),
        ],
    )
    .await;
    wait_for(
        &mut envoy,
        admin,
        "serviceA's listeners over mutual TLS",
        |dump| {
            let names = dynamic_names(dump);
            names.contains("lds_ingress_0.0.0.0_15000")
                && names.contains("lds_egress_0.0.0.0_15001")
        },
    )
    .await;
    let (_, body) = http_get(running.admin_addr, "/debug/proxies").await;
    let proxies: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(proxies["proxies"][0]["principal"]["id"], SPIFFE, "{body}");
    assert_eq!(
        proxies["proxies"][0]["node_id"], "mesh/apps/virtualNode/serviceA",
        "{body}"
    );
}
