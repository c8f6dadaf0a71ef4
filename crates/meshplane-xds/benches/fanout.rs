//! Fan-out figures: N proxies (one key and one SotW ADS stream each) over
//! loopback, every proxy served 50 clusters with endpoints, a listener and a
//! route. Prints the time to sync every stream, the time for one endpoint
//! change to reach every stream, and the memory per stream (server and
//! clients share this process, so it is an upper bound for the server).
//!
//! `cargo bench -p meshplane-xds --bench fanout` (FANOUT_STREAMS=N, default
//! 2000). `cargo test` runs it at a smoke size (20 streams by default).
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest;
use meshplane_xds::{
    NodeIdAuthorizer, ProxyKey, ResourceType, ServerConfig, Snapshot, SnapshotCache, XdsServer,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::transport::{Channel, Server};

const CLUSTERS: usize = 50;
const STREAMS_PER_CONNECTION: usize = 100;

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary
/// too, without it: then a smoke size proves the bench still works, quickly.
fn full_size() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn snapshot(cache: &SnapshotCache, endpoint_generation: u32, proxy: usize) -> Snapshot {
    let mut b = Snapshot::builder(cache.interner());
    for i in 0..CLUSTERS {
        let name = format!("cds_egress_mesh_svc{i}_http_8080");
        let c = Cluster {
            name: name.clone(),
            cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
                cluster::DiscoveryType::Eds as i32,
            )),
            ..Default::default()
        };
        b.add_message(ResourceType::Cluster, &name, &c).unwrap();
        let mut cla = ClusterLoadAssignment {
            cluster_name: name.clone(),
            ..Default::default()
        };
        // Generation changes the first cluster's endpoints only.
        cla.policy = None;
        if i == 0 {
            cla.named_endpoints
                .insert(format!("gen{endpoint_generation}"), Default::default());
        }
        b.add_message(ResourceType::Endpoint, &name, &cla).unwrap();
    }
    // One listener per proxy (its own name), so snapshots are not all identical.
    let l = Listener {
        name: format!("lds_ingress_{proxy}"),
        ..Default::default()
    };
    b.add_message(ResourceType::Listener, &l.name, &l).unwrap();
    b.build()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

async fn proxy(channel: Channel, id: String, eds_seen: Arc<AtomicUsize>) {
    let (tx, rx) = mpsc::channel(8);
    let node = Some(Node {
        id,
        ..Default::default()
    });
    tx.send(DiscoveryRequest {
        node,
        type_url: ResourceType::Cluster.type_url().into(),
        ..Default::default()
    })
    .await
    .unwrap();
    tx.send(DiscoveryRequest {
        type_url: ResourceType::Listener.type_url().into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut client = AggregatedDiscoveryServiceClient::new(channel);
    let mut inbound = client
        .stream_aggregated_resources(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let eds_names: Vec<String> = (0..CLUSTERS)
        .map(|i| format!("cds_egress_mesh_svc{i}_http_8080"))
        .collect();
    while let Ok(Some(resp)) = inbound.message().await {
        let names = if resp.type_url == ResourceType::Endpoint.type_url() {
            eds_seen.fetch_add(1, Ordering::Relaxed);
            eds_names.clone()
        } else if resp.type_url == ResourceType::Cluster.type_url() {
            // Like Envoy: ACK CDS, then subscribe to the endpoints.
            let ack = DiscoveryRequest {
                type_url: resp.type_url.clone(),
                version_info: resp.version_info.clone(),
                response_nonce: resp.nonce.clone(),
                ..Default::default()
            };
            tx.send(ack).await.unwrap();
            tx.send(DiscoveryRequest {
                type_url: ResourceType::Endpoint.type_url().into(),
                resource_names: eds_names.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
            continue;
        } else {
            Vec::new()
        };
        let ack = DiscoveryRequest {
            type_url: resp.type_url,
            version_info: resp.version_info,
            response_nonce: resp.nonce,
            resource_names: names,
            ..Default::default()
        };
        if tx.send(ack).await.is_err() {
            return;
        }
    }
}

/// Client mode: open `streams` proxies against `addr` and run until killed.
async fn clients(addr: String, streams: usize) {
    let eds_seen = Arc::new(AtomicUsize::new(0));
    let mut channel = None;
    for p in 0..streams {
        if p % STREAMS_PER_CONNECTION == 0 {
            channel = Some(
                Channel::from_shared(format!("http://{addr}"))
                    .unwrap()
                    .connect()
                    .await
                    .unwrap(),
            );
        }
        tokio::spawn(proxy(
            channel.clone().unwrap(),
            format!("proxy-{p}"),
            eds_seen.clone(),
        ));
    }
    std::future::pending::<()>().await;
}

/// Wait until every stream ACKed `eds_version` for EDS.
async fn wait_for_eds_ack(
    registry: &meshplane_xds::ProxyRegistry,
    streams: usize,
    eds_version: &str,
) {
    loop {
        let acked = registry
            .streams()
            .iter()
            .filter(|s| {
                s.types
                    .get(&ResourceType::Endpoint)
                    .and_then(|t| t.last_acked_version.as_deref())
                    == Some(eds_version)
            })
            .count();
        if acked >= streams {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn main() {
    let streams: usize = std::env::var("FANOUT_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full_size() { 2000 } else { 20 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Ok(addr) = std::env::var("FANOUT_CLIENTS_OF") {
        rt.block_on(clients(addr, streams));
        return;
    }
    rt.block_on(async move {
        let rss_start = rss_kib();
        let cache = SnapshotCache::new();
        let t = Instant::now();
        for p in 0..streams {
            cache.set(ProxyKey::new(format!("proxy-{p}")), snapshot(&cache, 0, p)).unwrap();
        }
        let set_all = t.elapsed();
        let rss_snapshots = rss_kib();
        let server = XdsServer::new(cache.clone(), NodeIdAuthorizer, ServerConfig::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let routes = server.routes();
        tokio::spawn(Server::builder().add_routes(routes).serve_with_incoming(TcpListenerStream::new(listener)));

        // The proxies run in a child process, so this process's memory is the server's.
        let t = Instant::now();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env("FANOUT_CLIENTS_OF", addr.to_string())
            .env("FANOUT_STREAMS", streams.to_string())
            .spawn()
            .unwrap();
        let eds_v0 = cache.get(&ProxyKey::new("proxy-0")).unwrap().of_type(ResourceType::Endpoint).version().clone();
        wait_for_eds_ack(server.registry(), streams, &eds_v0).await;
        let sync_all = t.elapsed();
        let rss_synced = rss_kib();

        let t = Instant::now();
        for p in 0..streams {
            cache.set(ProxyKey::new(format!("proxy-{p}")), snapshot(&cache, 1, p)).unwrap();
        }
        let set_change = t.elapsed();
        let eds_v1 = cache.get(&ProxyKey::new("proxy-0")).unwrap().of_type(ResourceType::Endpoint).version().clone();
        wait_for_eds_ack(server.registry(), streams, &eds_v1).await;
        let propagate = t.elapsed();
        let _ = child.kill();
        let _ = child.wait();

        println!("fanout: {streams} proxies, {CLUSTERS} clusters + {CLUSTERS} endpoints + 1 listener each, {STREAMS_PER_CONNECTION} streams per connection");
        println!("  set {streams} snapshots:                  {set_all:?}");
        println!("  memory for the snapshots:              {} KiB ({} B per proxy)", rss_snapshots.saturating_sub(rss_start), (rss_snapshots.saturating_sub(rss_start)) * 1024 / streams as u64);
        println!("  all streams synced and ACKed (CDS, EDS, LDS): {sync_all:?}");
        println!("  server memory per open stream:         {} B", (rss_synced.saturating_sub(rss_snapshots)) * 1024 / streams as u64);
        println!("  one endpoint change, set all keys:     {set_change:?}");
        println!("  ... ACKed by every stream:             {propagate:?}");
        println!("  interned resources:                    {}", cache.interner().len());
    });
}
