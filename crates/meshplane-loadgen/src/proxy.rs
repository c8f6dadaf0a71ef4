//! The simulated Envoys: one ADS stream each, subscribing and ACKing like
//! Envoy, recording when they first held a complete configuration and when
//! they ACKed each later update.

mod delta;
mod names;
mod sotw;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic::transport::{Channel, Endpoint};

pub const CDS: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
pub const EDS: &str = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
pub const LDS: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
pub const RDS: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

/// Which ADS variant a proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Sotw,
    Delta,
}

/// What one proxy recorded, readable while it runs. Times are nanoseconds
/// since [`Fleet::start`]; 0 means "not yet".
#[derive(Debug, Default)]
pub struct ProxyStats {
    pub synced_ns: AtomicU64,
    /// Responses received after the initial sync.
    pub updates: AtomicU64,
    /// When the ACK of the latest such response was sent.
    pub last_update_ns: AtomicU64,
    pub responses: AtomicU64,
    pub failed: AtomicBool,
    /// Set: the proxy stops reading its stream (a stuck Envoy) until cleared.
    pub stuck: AtomicBool,
}

/// Every proxy of a run.
#[derive(Debug)]
pub struct Fleet {
    pub start: Instant,
    pub proxies: Vec<ProxySpec>,
    pub stats: Vec<ProxyStats>,
    /// The first few stream failures, for the report.
    pub errors: Mutex<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct ProxySpec {
    pub node_id: String,
    pub variant: Variant,
}

impl Fleet {
    pub fn new(proxies: Vec<ProxySpec>) -> Arc<Self> {
        let stats = proxies.iter().map(|_| ProxyStats::default()).collect();
        Arc::new(Fleet {
            start: Instant::now(),
            proxies,
            stats,
            errors: Mutex::new(Vec::new()),
        })
    }

    pub fn now_ns(&self) -> u64 {
        // At least 1, so that 0 keeps meaning "not yet".
        (self.start.elapsed().as_nanos() as u64).max(1)
    }

    pub fn ns_of(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_nanos() as u64
    }

    pub fn synced(&self) -> usize {
        self.stats
            .iter()
            .filter(|s| s.synced_ns.load(Ordering::Relaxed) != 0)
            .count()
    }

    pub fn failed(&self) -> usize {
        self.stats
            .iter()
            .filter(|s| s.failed.load(Ordering::Relaxed))
            .count()
    }

    fn fail(&self, idx: usize, why: String) {
        self.stats[idx].failed.store(true, Ordering::Relaxed);
        if let Ok(mut e) = self.errors.lock() {
            if e.len() < 5 {
                e.push(format!(
                    "proxy {idx} ({}): {why}",
                    self.proxies[idx].node_id
                ));
            }
        }
    }

    /// Returns once proxy `idx` is not stuck.
    pub async fn wait_while_stuck(&self, idx: usize) {
        while self.stats[idx].stuck.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn fail_connect(&self, idx: usize, e: &tonic::transport::Error) {
        self.fail(idx, format!("connect: {e}"));
    }

    /// Record a response just ACKed; `complete` says whether the proxy now
    /// holds every resource it asked for.
    fn acked(&self, idx: usize, complete: bool) {
        let s = &self.stats[idx];
        s.responses.fetch_add(1, Ordering::Relaxed);
        if s.synced_ns.load(Ordering::Relaxed) != 0 {
            s.last_update_ns.store(self.now_ns(), Ordering::Relaxed);
            s.updates.fetch_add(1, Ordering::Release);
        } else if complete {
            s.synced_ns.store(self.now_ns(), Ordering::Release);
        }
    }
}

/// A loopback HTTP/2 connection to the xDS server.
pub async fn connect(xds: std::net::SocketAddr) -> Result<Channel, tonic::transport::Error> {
    let endpoint = Endpoint::from_shared(format!("http://{xds}"))
        .unwrap_or_else(|_| Endpoint::from_static("http://127.0.0.1:15010"))
        .connect_timeout(Duration::from_secs(20))
        .tcp_nodelay(true);
    endpoint.connect().await
}

/// Run proxy `idx` on `channel` until its stream ends.
pub async fn run(fleet: Arc<Fleet>, idx: usize, channel: Channel) {
    let spec = fleet.proxies[idx].clone();
    let result = match spec.variant {
        Variant::Sotw => sotw::run(&fleet, idx, &spec.node_id, channel).await,
        Variant::Delta => delta::run(&fleet, idx, &spec.node_id, channel).await,
    };
    match result {
        Ok(()) => fleet.fail(idx, "the server ended the stream".to_owned()),
        Err(status) => fleet.fail(idx, format!("{}: {}", status.code(), status.message())),
    }
}

/// What a proxy asked for by name and whether the latest answer covers it.
/// Nothing is requested until a name is wanted (an empty first request
/// would be a wildcard subscription).
#[derive(Debug, Default)]
struct ByName {
    names: Vec<String>,
    /// A response arrived after the latest request.
    answered: bool,
}

impl ByName {
    /// New names wanted; true if they differ from the last request.
    fn want(&mut self, mut names: Vec<String>) -> bool {
        names.sort();
        names.dedup();
        if names == self.names {
            return false;
        }
        self.names = names;
        self.answered = false;
        true
    }

    fn done(&self) -> bool {
        self.names.is_empty() || self.answered
    }
}
