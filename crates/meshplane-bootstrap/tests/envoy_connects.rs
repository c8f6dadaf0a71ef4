//! The real Envoy, started on a generated bootstrap, opens its ADS stream to
//! the endpoint and presents the proxy's identity and token. The server here
//! only records the first request of each stream.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_server::{
    AggregatedDiscoveryService, AggregatedDiscoveryServiceServer,
};
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use meshplane_bootstrap::{bootstrap_from_env, LocalFiles};
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status, Streaming};

const ARN: &str = "arn:aws:appmesh:us-west-2:111122223333:mesh/shop/virtualNode/cart";
const TOKEN: &str = "6f1d2c3b4a5968778695a4b3c2d1e0f1";
/// Guards against a hang; never a timing assertion.
const HANG: Duration = Duration::from_secs(60);

/// What the first request of an ADS stream carried.
#[derive(Debug)]
struct Seen {
    authorization: Option<String>,
    node_id: String,
    node_cluster: String,
    type_url: String,
}

struct Recorder {
    seen: mpsc::Sender<Seen>,
}

#[tonic::async_trait]
impl AggregatedDiscoveryService for Recorder {
    type StreamAggregatedResourcesStream = ReceiverStream<Result<DiscoveryResponse, Status>>;
    type DeltaAggregatedResourcesStream = ReceiverStream<Result<DeltaDiscoveryResponse, Status>>;

    async fn stream_aggregated_resources(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
    ) -> Result<Response<Self::StreamAggregatedResourcesStream>, Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut inbound = request.into_inner();
        let seen = self.seen.clone();
        let (out, responses) = mpsc::channel(1);
        tokio::spawn(async move {
            if let Ok(Some(first)) = inbound.message().await {
                let node = first.node.unwrap_or_default();
                let _ = seen
                    .send(Seen {
                        authorization,
                        node_id: node.id,
                        node_cluster: node.cluster,
                        type_url: first.type_url,
                    })
                    .await;
            }
            // Hold the stream open (no responses) until Envoy goes away.
            while let Ok(Some(_)) = inbound.message().await {}
            drop(out);
        });
        Ok(Response::new(ReceiverStream::new(responses)))
    }

    async fn delta_aggregated_resources(
        &self,
        _request: Request<Streaming<DeltaDiscoveryRequest>>,
    ) -> Result<Response<Self::DeltaAggregatedResourcesStream>, Status> {
        Err(Status::unimplemented(
            "the generated bootstrap asks for state-of-the-world ADS",
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envoy_opens_ads_with_the_token_and_the_proxy_identity() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bootstrap-connects");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let token = dir.join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap_or_else(|e| panic!("{e}"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let (seen_tx, mut seen_rx) = mpsc::channel(8);
    let server = tonic::transport::Server::builder()
        .add_service(AggregatedDiscoveryServiceServer::new(Recorder {
            seen: seen_tx,
        }))
        .serve_with_incoming(TcpListenerStream::new(listener));
    tokio::spawn(server);

    let vars: BTreeMap<String, String> = [
        ("APPMESH_RESOURCE_ARN", ARN.to_owned()),
        ("APPMESH_RESOURCE_CLUSTER", "cart".to_owned()),
        ("APPMESH_XDS_ENDPOINT", addr.to_string()),
        ("MESHPLANE_XDS_TOKEN_FILE", token.display().to_string()),
        ("ENVOY_ADMIN_ACCESS_PORT", "0".to_owned()),
        (
            "ENVOY_ADMIN_ACCESS_LOG_FILE",
            dir.join("admin.log").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let bootstrap = bootstrap_from_env(&vars, &LocalFiles).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("bootstrap.yaml");
    std::fs::write(&file, bootstrap.to_yaml().unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_else(|e| panic!("{e}"));

    let mut envoy = tokio::process::Command::new(meshplane_testsupport::binaries::envoy())
        .args(["--disable-hot-restart", "--log-level", "warn", "-c"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start envoy: {e}"));

    let first = tokio::select! {
        seen = tokio::time::timeout(HANG, seen_rx.recv()) => seen,
        status = envoy.wait() => panic!("envoy exited before connecting: {status:?}"),
    };
    let _ = envoy.kill().await;
    let seen = match first {
        Ok(Some(seen)) => seen,
        other => panic!("Envoy never opened an ADS stream to {addr}: {other:?}"),
    };
    assert_eq!(
        seen.authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(seen.node_id, ARN);
    assert_eq!(seen.node_cluster, "cart");
    assert_eq!(
        seen.type_url,
        "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    );
}
