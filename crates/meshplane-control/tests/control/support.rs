//! Temp copies of the example specs, a server on loopback port 0, and an
//! ADS client that behaves like Envoy's first request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use meshplane_control::{PipelineSettings, QuotaConfig, Running, ServeConfig};
use meshplane_load::LoadOptions;
use meshplane_spec::ArnContext;
use meshplane_translate::TranslateOptions;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};

pub const LDS: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";

/// Guards against a hang; never a timing assertion.
pub const HANG: Duration = Duration::from_secs(20);

pub fn arn_ctx() -> ArnContext {
    ArnContext {
        partition: "aws".into(),
        region: "us-west-2".into(),
        account: "111122223333".into(),
    }
}

pub fn node_arn(name: &str) -> String {
    format!("arn:aws:appmesh:us-west-2:111122223333:mesh/apps/virtualNode/{name}")
}

pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/examples/apps/cli-json")
}

/// A temp dir holding a copy of the apps example (CLI JSON).
pub fn copy_examples() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(examples()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    dir
}

/// Replace `from` with `to` in a file, failing if `from` is not there.
pub fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.contains(from),
        "{} does not contain {from:?}",
        file.display()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

pub fn settings(paths: Vec<PathBuf>) -> PipelineSettings {
    PipelineSettings {
        paths,
        load: LoadOptions {
            arn: arn_ctx(),
            ..LoadOptions::default()
        },
        translate: TranslateOptions {
            default_retry_policy: true,
            app_mesh_dns_clusters: false,
            arn: arn_ctx(),
            held_certificates: Default::default(),
        },
    }
}

pub fn serve_config(paths: Vec<PathBuf>) -> ServeConfig {
    ServeConfig {
        pipeline: settings(paths),
        xds_listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        auth_config: None,
        certificates: None,
        tls: None,
        insecure_no_auth: false,
        max_stream_age: None,
        quota: QuotaConfig::default(),
        debounce: meshplane_control::Debounce {
            quiet: Duration::from_millis(200),
            max: Duration::from_secs(10),
        },
        reload_on_sighup: false,
        more_sources: Vec::new(),
        kubernetes: None,
        allocator: None,
        source: None,
    }
}

pub async fn start(config: ServeConfig) -> Running {
    tokio::time::timeout(HANG, meshplane_control::start(config))
        .await
        .unwrap()
        .unwrap()
}

/// An open ADS stream (state of the world).
pub struct Ads {
    pub tx: mpsc::Sender<DiscoveryRequest>,
    pub rx: Streaming<DiscoveryResponse>,
}

impl Ads {
    /// Open a stream as `node_id`, optionally with a bearer token, and
    /// subscribe to listeners. Returns the refusal status if refused.
    pub async fn open(
        addr: std::net::SocketAddr,
        node_id: &str,
        token: Option<&str>,
    ) -> Result<Ads, Status> {
        let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        Self::open_on(channel, node_id, token).await
    }

    /// The same on an already connected channel (e.g. over TLS).
    pub async fn open_on(
        channel: tonic::transport::Channel,
        node_id: &str,
        token: Option<&str>,
    ) -> Result<Ads, Status> {
        let mut client = AggregatedDiscoveryServiceClient::new(channel);
        let (tx, rx) = mpsc::channel(8);
        tx.send(DiscoveryRequest {
            node: Some(Node {
                id: node_id.into(),
                cluster: "test-cluster".into(),
                ..Default::default()
            }),
            type_url: LDS.into(),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut req = tonic::Request::new(ReceiverStream::new(rx));
        if let Some(t) = token {
            req.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        let fut = async {
            let rx = client.stream_aggregated_resources(req).await?.into_inner();
            Ok(Ads { tx, rx })
        };
        tokio::time::timeout(HANG, fut)
            .await
            .expect("no answer from the server")
    }

    /// The next response, or the status that ended the stream.
    pub async fn next(&mut self) -> Result<DiscoveryResponse, Status> {
        match tokio::time::timeout(HANG, self.rx.message())
            .await
            .expect("no response")
        {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(Status::ok("stream ended")),
            Err(s) => Err(s),
        }
    }
}

/// GET a path of the admin server; returns (status, body).
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        String::from_utf8(buf).unwrap()
    };
    let text = tokio::time::timeout(HANG, fut).await.unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let code = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (code, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

/// GET that tolerates a server not listening yet.
pub async fn try_http_get(addr: std::net::SocketAddr, path: &str) -> Option<(u16, String)> {
    tokio::net::TcpStream::connect(addr).await.ok()?;
    Some(http_get(addr, path).await)
}
