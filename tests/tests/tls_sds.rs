//! TLS scenario 5, SDS: serviceB's STRICT listener takes its certificate
//! from `certificate.sds.secretName`, which its Envoy fetches from a local
//! SDS server on a unix socket (`APPMESH_SDS_SOCKET_PATH`, like a SPIRE
//! agent). The server here is a real gRPC SecretDiscoveryService serving
//! the PEM certificate and key of `serviceb.tls.local` inline. serviceA
//! trusts the CA; its requests succeed over TLS.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use envoy_types::pb::envoy::config::core::v3::{data_source, DataSource};
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
    secret, Secret, TlsCertificate,
};
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use envoy_types::pb::envoy::service::secret::v3::secret_discovery_service_server::{
    SecretDiscoveryService, SecretDiscoveryServiceServer,
};
use envoy_types::pb::google::protobuf::Any;
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::tls::{
    TlsMesh, INGRESS_HANDSHAKES, SERVICE_B_EGRESS, SERVICE_B_TLS_URL,
};
use meshplane_e2e::harness::client::HttpLoad;
use prost::Message;
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, UnixListenerStream};
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

/// The secret name serviceB's listener asks for (tests/specs/tls-sds).
const SECRET_NAME: &str = "serviceb-certificate";
const SECRET_TYPE: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

type Out = Pin<Box<dyn Stream<Item = Result<DiscoveryResponse, Status>> + Send>>;
type DeltaOut = Pin<Box<dyn Stream<Item = Result<DeltaDiscoveryResponse, Status>> + Send>>;

/// Serves one TLS certificate secret; counts the responses it sent.
#[derive(Clone)]
struct Sds {
    secret: Any,
    served: Arc<AtomicU64>,
}

#[tonic::async_trait]
impl SecretDiscoveryService for Sds {
    type StreamSecretsStream = Out;
    type DeltaSecretsStream = DeltaOut;

    async fn stream_secrets(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<Out>, Status> {
        let mut requests = request.into_inner();
        let (tx, rx) = mpsc::channel(4);
        let (secret, served) = (self.secret.clone(), self.served.clone());
        tokio::spawn(async move {
            while let Some(Ok(req)) = requests.next().await {
                // Answer requests for our secret that are not ACKs.
                if !req.response_nonce.is_empty() && req.error_detail.is_none() {
                    continue;
                }
                if !req.resource_names.iter().any(|n| n == SECRET_NAME) {
                    continue;
                }
                let n = served.fetch_add(1, Ordering::Relaxed) + 1;
                let resp = DiscoveryResponse {
                    version_info: "1".into(),
                    resources: vec![secret.clone()],
                    type_url: SECRET_TYPE.into(),
                    nonce: n.to_string(),
                    ..Default::default()
                };
                if tx.send(Ok(resp)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn delta_secrets(
        &self,
        _request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<DeltaOut>, Status> {
        Err(Status::unimplemented(
            "this SDS server speaks state of the world only",
        ))
    }

    async fn fetch_secrets(
        &self,
        _request: Request<DiscoveryRequest>,
    ) -> Result<Response<DiscoveryResponse>, Status> {
        Err(Status::unimplemented("open a stream"))
    }
}

fn inline(path: &Path) -> anyhow::Result<DataSource> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(DataSource {
        specifier: Some(data_source::Specifier::InlineBytes(bytes)),
        ..Default::default()
    })
}

/// Removes the socket's directory when the test ends.
struct SocketDir(PathBuf);

impl Drop for SocketDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn listener_certificate_from_a_local_sds_server() -> anyhow::Result<()> {
    let start = Instant::now();
    // The socket lives outside the topology's directory: the SDS server
    // (like a SPIRE agent) is up before the sidecar starts.
    let dir = SocketDir(std::env::temp_dir().join(format!("mpe-sds-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0)?;
    std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755))?;
    let socket = dir.0.join("sds.sock");
    let _ = std::fs::remove_file(&socket);
    // Certificates: the same PKI layout the fixture writes, in our own
    // directory, so the secret exists before the mesh starts.
    let pki = meshplane_e2e::harness::certs::write_pki(
        &dir.0.join("pki"),
        meshplane_e2e::fixtures::tls::CERT_NAMES,
    )?;
    let (cert, key) = pki
        .server("serviceb.tls.local")
        .context("no serviceb.tls.local certificate")?;
    let secret = Secret {
        name: SECRET_NAME.into(),
        r#type: Some(secret::Type::TlsCertificate(TlsCertificate {
            certificate_chain: Some(inline(cert)?),
            private_key: Some(inline(key)?),
            ..Default::default()
        })),
    };
    let sds = Sds {
        secret: Any {
            type_url: SECRET_TYPE.into(),
            value: secret.encode_to_vec(),
        },
        served: Arc::new(AtomicU64::new(0)),
    };
    let served = sds.served.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let listener = rt.block_on(async { tokio::net::UnixListener::bind(&socket) })?;
    // Envoy runs as UID 1337 and must be allowed to connect.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o777))?;
    rt.spawn(
        tonic::transport::Server::builder()
            .add_service(SecretDiscoveryServiceServer::new(sds))
            .serve_with_incoming(UnixListenerStream::new(listener)),
    );

    let socket_path = socket.to_string_lossy().into_owned();
    let mesh = TlsMesh::start_with(
        "tls-sds",
        binaries!()?,
        "tls-sds",
        &["serviceA"],
        &[("APPMESH_SDS_SOCKET_PATH".into(), socket_path)],
        Some(pki.clone()),
    )?;
    let t = &mesh.t;
    let before = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let s = t.http("serviceA", SERVICE_B_TLS_URL, 100, &HttpLoad::default())?;
    let after = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let upstream = mesh.stat(
        "serviceA",
        &format!("cluster.{SERVICE_B_EGRESS}.ssl.handshake"),
    )?;
    let responses = served.load(Ordering::Relaxed);
    println!(
        "tls sds: {responses} SDS responses sent; 100 requests: {:?} (statuses {:?}, errors {:?}); serviceB handshakes {before} -> {after}; serviceA upstream handshakes {upstream}",
        s.by_backend, s.by_status, s.errors
    );
    assert!(
        responses > 0,
        "serviceB's Envoy never asked for {SECRET_NAME}"
    );
    assert_eq!(s.failed, 0, "failed requests: {s:?}");
    assert_eq!(s.count("serviceB"), 100, "{s:?}");
    assert!(after > before, "serviceB's Envoy counted no TLS handshake");
    assert!(upstream > 0, "serviceA's Envoy originated no TLS");
    drop(mesh);
    rt.shutdown_background();
    println!("tls sds wall time: {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}
