//! Test server on 127.0.0.1:0 and ADS clients (SotW and delta) that behave
//! like Envoy: node on the first request only, ACK/NACK with the nonce.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use envoy_types::pb::google::rpc::Status as RpcStatus;
use meshplane_xds::{
    Authorizer, NodeIdAuthorizer, ProxyKey, ResourceType, ServerConfig, SnapshotCache, XdsServer,
};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::transport::{Channel, Server};
use tonic::{Status, Streaming};

use super::resources::{name_of, Mesh};

pub const CDS: ResourceType = ResourceType::Cluster;
pub const EDS: ResourceType = ResourceType::Endpoint;
pub const LDS: ResourceType = ResourceType::Listener;
pub const RDS: ResourceType = ResourceType::Route;
pub const SDS: ResourceType = ResourceType::Secret;

/// Guards against a hang; never a timing assertion.
const HANG: Duration = Duration::from_secs(20);

pub struct TestServer {
    pub addr: SocketAddr,
    pub cache: SnapshotCache,
    pub server: XdsServer,
    _shutdown: oneshot::Sender<()>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::with_config(ServerConfig::default()).await
    }

    pub async fn with_config(config: ServerConfig) -> TestServer {
        Self::with_authorizer(NodeIdAuthorizer, config).await
    }

    pub async fn with_authorizer(authorizer: impl Authorizer, config: ServerConfig) -> TestServer {
        let cache = SnapshotCache::new();
        let server = XdsServer::new(cache.clone(), authorizer, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let routes = server.routes();
        tokio::spawn(async move {
            Server::builder()
                .add_routes(routes)
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            addr,
            cache,
            server,
            _shutdown: tx,
        }
    }

    pub fn set(&self, key: &str, mesh: &Mesh) {
        self.cache
            .set(ProxyKey::new(key), mesh.snapshot(&self.cache))
            .unwrap();
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Open a SotW ADS stream whose first request subscribes `t` to `names`.
    pub async fn sotw(
        &self,
        node_id: &str,
        t: ResourceType,
        names: &[&str],
    ) -> Result<SotwClient, Status> {
        SotwClient::open(self.channel().await, node_id, t, names).await
    }

    pub async fn delta(
        &self,
        node_id: &str,
        t: ResourceType,
        subscribe: &[&str],
        initial: BTreeMap<String, String>,
    ) -> Result<DeltaClient, Status> {
        DeltaClient::open(self.channel().await, node_id, t, subscribe, initial).await
    }
}

fn node(id: &str) -> Option<Node> {
    Some(Node {
        id: id.into(),
        cluster: format!("{id}-cluster"),
        ..Default::default()
    })
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Names of the resources in a SotW response.
pub fn names(resp: &DiscoveryResponse) -> Vec<String> {
    resp.resources.iter().map(name_of).collect()
}

pub fn type_of(url: &str) -> ResourceType {
    ResourceType::from_type_url(url).unwrap()
}

pub struct SotwClient {
    tx: mpsc::Sender<DiscoveryRequest>,
    rx: Streaming<DiscoveryResponse>,
    subscribed: HashMap<ResourceType, Vec<String>>,
    last_nonce: HashMap<ResourceType, String>,
    acked: HashMap<ResourceType, String>,
}

impl SotwClient {
    pub async fn open(
        channel: Channel,
        node_id: &str,
        t: ResourceType,
        names: &[&str],
    ) -> Result<SotwClient, Status> {
        let (tx, rx) = mpsc::channel(16);
        tx.send(DiscoveryRequest {
            node: node(node_id),
            type_url: t.type_url().into(),
            resource_names: strings(names),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut client = AggregatedDiscoveryServiceClient::new(channel);
        let rx = client
            .stream_aggregated_resources(ReceiverStream::new(rx))
            .await?
            .into_inner();
        let mut subscribed = HashMap::new();
        subscribed.insert(t, strings(names));
        Ok(SotwClient {
            tx,
            rx,
            subscribed,
            last_nonce: HashMap::new(),
            acked: HashMap::new(),
        })
    }

    pub async fn send(&self, req: DiscoveryRequest) {
        self.tx.send(req).await.unwrap();
    }

    pub async fn recv(&mut self) -> DiscoveryResponse {
        let resp = tokio::time::timeout(HANG, self.rx.message())
            .await
            .expect("no response (hang guard)")
            .expect("stream error")
            .expect("stream ended");
        self.last_nonce
            .insert(type_of(&resp.type_url), resp.nonce.clone());
        resp
    }

    /// Receive a response and check its type and resource names.
    pub async fn expect(&mut self, t: ResourceType, expected: &[&str]) -> DiscoveryResponse {
        let resp = self.recv().await;
        assert_eq!(
            (type_of(&resp.type_url), names(&resp)),
            (t, strings(expected)),
            "unexpected response"
        );
        resp
    }

    /// How the stream ended.
    pub async fn end(&mut self) -> Result<(), Status> {
        loop {
            match tokio::time::timeout(HANG, self.rx.message())
                .await
                .expect("stream did not end (hang guard)")
            {
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(()),
                Err(s) => return Err(s),
            }
        }
    }

    /// Subscribe (SotW: the full list) like Envoy, with the latest nonce of the type.
    pub async fn subscribe(&mut self, t: ResourceType, names: &[&str]) {
        self.subscribed.insert(t, strings(names));
        self.send(DiscoveryRequest {
            type_url: t.type_url().into(),
            resource_names: strings(names),
            response_nonce: self.last_nonce.get(&t).cloned().unwrap_or_default(),
            version_info: self.acked.get(&t).cloned().unwrap_or_default(),
            ..Default::default()
        })
        .await;
    }

    pub async fn ack(&mut self, resp: &DiscoveryResponse) {
        let t = type_of(&resp.type_url);
        self.acked.insert(t, resp.version_info.clone());
        self.send(DiscoveryRequest {
            type_url: resp.type_url.clone(),
            version_info: resp.version_info.clone(),
            response_nonce: resp.nonce.clone(),
            resource_names: self.subscribed.get(&t).cloned().unwrap_or_default(),
            ..Default::default()
        })
        .await;
    }

    pub async fn nack(&mut self, resp: &DiscoveryResponse, message: &str) {
        let t = type_of(&resp.type_url);
        self.send(DiscoveryRequest {
            type_url: resp.type_url.clone(),
            version_info: self.acked.get(&t).cloned().unwrap_or_default(),
            response_nonce: resp.nonce.clone(),
            resource_names: self.subscribed.get(&t).cloned().unwrap_or_default(),
            error_detail: Some(RpcStatus {
                code: 3,
                message: message.into(),
                details: vec![],
            }),
            ..Default::default()
        })
        .await;
    }
}

/// Names of the upserted resources of a delta response.
pub fn delta_names(resp: &DeltaDiscoveryResponse) -> Vec<String> {
    resp.resources.iter().map(|r| r.name.clone()).collect()
}

pub struct DeltaClient {
    tx: mpsc::Sender<DeltaDiscoveryRequest>,
    rx: Streaming<DeltaDiscoveryResponse>,
}

impl DeltaClient {
    pub async fn open(
        channel: Channel,
        node_id: &str,
        t: ResourceType,
        subscribe: &[&str],
        initial: BTreeMap<String, String>,
    ) -> Result<DeltaClient, Status> {
        let (tx, rx) = mpsc::channel(16);
        tx.send(DeltaDiscoveryRequest {
            node: node(node_id),
            type_url: t.type_url().into(),
            resource_names_subscribe: strings(subscribe),
            initial_resource_versions: initial.into_iter().collect(),
            ..Default::default()
        })
        .await
        .unwrap();
        let mut client = AggregatedDiscoveryServiceClient::new(channel);
        let rx = client
            .delta_aggregated_resources(ReceiverStream::new(rx))
            .await?
            .into_inner();
        Ok(DeltaClient { tx, rx })
    }

    pub async fn send(&self, req: DeltaDiscoveryRequest) {
        self.tx.send(req).await.unwrap();
    }

    pub async fn recv(&mut self) -> DeltaDiscoveryResponse {
        tokio::time::timeout(HANG, self.rx.message())
            .await
            .expect("no response (hang guard)")
            .expect("stream error")
            .expect("stream ended")
    }

    /// Receive a response and check its type, upserted and removed names.
    pub async fn expect(
        &mut self,
        t: ResourceType,
        upserted: &[&str],
        removed: &[&str],
    ) -> DeltaDiscoveryResponse {
        let resp = self.recv().await;
        assert_eq!(
            (
                type_of(&resp.type_url),
                delta_names(&resp),
                resp.removed_resources.clone()
            ),
            (t, strings(upserted), strings(removed)),
            "unexpected response"
        );
        resp
    }

    /// How the stream ended.
    pub async fn end(&mut self) -> Result<(), Status> {
        loop {
            match tokio::time::timeout(HANG, self.rx.message())
                .await
                .expect("stream did not end (hang guard)")
            {
                Ok(Some(_)) => continue,
                Ok(None) => return Ok(()),
                Err(s) => return Err(s),
            }
        }
    }

    /// A spontaneous subscription change (no nonce).
    pub async fn subscribe(&self, t: ResourceType, subscribe: &[&str], unsubscribe: &[&str]) {
        self.send(DeltaDiscoveryRequest {
            type_url: t.type_url().into(),
            resource_names_subscribe: strings(subscribe),
            resource_names_unsubscribe: strings(unsubscribe),
            ..Default::default()
        })
        .await;
    }

    pub async fn ack(&self, resp: &DeltaDiscoveryResponse) {
        self.send(DeltaDiscoveryRequest {
            type_url: resp.type_url.clone(),
            response_nonce: resp.nonce.clone(),
            ..Default::default()
        })
        .await;
    }

    pub async fn nack(&self, resp: &DeltaDiscoveryResponse, message: &str) {
        self.send(DeltaDiscoveryRequest {
            type_url: resp.type_url.clone(),
            response_nonce: resp.nonce.clone(),
            error_detail: Some(RpcStatus {
                code: 3,
                message: message.into(),
                details: vec![],
            }),
            ..Default::default()
        })
        .await;
    }
}
