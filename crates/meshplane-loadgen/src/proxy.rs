//! The simulated Envoys: one ADS stream each, subscribing and ACKing like
//! Envoy, recording when they first held a complete configuration and when
//! they ACKed each later update. With [`Fleet::reconnect`] set, a broken
//! stream is reopened after Envoy's jittered backoff, resending the
//! versions the proxy holds (SotW `version_info`, delta
//! `initial_resource_versions`).

pub mod backoff;
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
    /// Streams the server accepted (response headers received).
    pub streams: AtomicU64,
    /// When the current stream first held a complete configuration (SotW:
    /// every type answered and ACKed again; delta after a reconnect: the
    /// stream accepted with the versions the proxy holds); 0 = not yet.
    pub stream_synced_ns: AtomicU64,
    /// Responses received on streams after the first.
    pub resent: AtomicU64,
}

/// How a stream ended, for the reconnect figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// Refused for lack of resources: RESOURCE_EXHAUSTED (the stream quota),
    /// an HTTP/2 REFUSED_STREAM or ENHANCE_YOUR_CALM.
    Resource,
    /// The connection broke or could not be made (UNAVAILABLE, transport
    /// errors): the server is down or going down.
    Connection,
    /// The server ended the stream (status OK or end of stream).
    Closed,
    /// Any other status (a refusal of the proxy's identity, a protocol error).
    Other,
}

impl StreamEnd {
    pub const ALL: [StreamEnd; 4] = [
        StreamEnd::Resource,
        StreamEnd::Connection,
        StreamEnd::Closed,
        StreamEnd::Other,
    ];

    pub fn of(result: &Result<(), tonic::Status>) -> StreamEnd {
        // RESOURCE_EXHAUSTED and the HTTP/2 refusals first, then the code.
        let Err(status) = result else {
            return StreamEnd::Closed;
        };
        let text = status.message().to_ascii_lowercase();
        match status.code() {
            tonic::Code::ResourceExhausted => StreamEnd::Resource,
            _ if text.contains("refused_stream")
                || text.contains("refused stream")
                || text.contains("enhance_your_calm") =>
            {
                StreamEnd::Resource
            }
            tonic::Code::Ok => StreamEnd::Closed,
            tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled => {
                StreamEnd::Connection
            }
            // A connection that broke mid-stream (h2 or io errors).
            tonic::Code::Internal
                if ["h2", "connection", "transport", "broken pipe", "reset"]
                    .iter()
                    .any(|w| text.contains(w)) =>
            {
                StreamEnd::Connection
            }
            _ => StreamEnd::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            StreamEnd::Resource => "resource",
            StreamEnd::Connection => "connection",
            StreamEnd::Closed => "closed",
            StreamEnd::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Stream ends counted by [`StreamEnd`], in [`StreamEnd::ALL`] order.
pub type EndCounts = [u64; 4];

/// Every proxy of a run.
#[derive(Debug)]
pub struct Fleet {
    pub start: Instant,
    pub proxies: Vec<ProxySpec>,
    pub stats: Vec<ProxyStats>,
    /// The first few stream failures, for the report.
    pub errors: Mutex<Vec<String>>,
    /// Reopen broken streams (after Envoy's backoff) instead of failing.
    pub reconnect: AtomicBool,
    ends: [AtomicU64; 4],
    /// Stream ends while reconnecting by kind and status (the first 20
    /// different ones), for the report.
    pub end_samples: Mutex<std::collections::BTreeMap<String, u64>>,
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
            reconnect: AtomicBool::new(false),
            ends: Default::default(),
            end_samples: Mutex::new(Default::default()),
        })
    }

    /// Stream ends so far, by kind.
    pub fn ends(&self) -> EndCounts {
        let mut out = [0; 4];
        for (o, e) in out.iter_mut().zip(&self.ends) {
            *o = e.load(Ordering::Relaxed);
        }
        out
    }

    fn ended(&self, result: &Result<(), tonic::Status>) {
        let kind = StreamEnd::of(result);
        self.ends[kind.index()].fetch_add(1, Ordering::Relaxed);
        let why = match result {
            Ok(()) => "the server ended the stream".to_owned(),
            Err(status) => format!("{}: {}", status.code(), status.message()),
        };
        if let Ok(mut e) = self.end_samples.lock() {
            let key = format!("{}: {why}", kind.name());
            if e.len() < 20 || e.contains_key(&key) {
                *e.entry(key).or_default() += 1;
            }
        }
    }

    /// Proxy `idx`'s stream was accepted by the server.
    fn stream_accepted(&self, idx: usize, reconnected: bool) {
        let s = &self.stats[idx];
        s.streams.fetch_add(1, Ordering::Release);
        if reconnected {
            s.stream_synced_ns.store(self.now_ns(), Ordering::Release);
        }
    }

    /// Proxies whose stream count exceeds `before` and whose new stream holds
    /// a complete configuration: their `stream_synced_ns`.
    pub fn resynced_since(&self, before: &[u64]) -> Vec<Option<u64>> {
        self.stats
            .iter()
            .zip(before)
            .map(|(s, b)| {
                let at = s.stream_synced_ns.load(Ordering::Acquire);
                (s.streams.load(Ordering::Acquire) > *b && at != 0).then_some(at)
            })
            .collect()
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
        if s.streams.load(Ordering::Relaxed) > 1 {
            s.resent.fetch_add(1, Ordering::Relaxed);
        }
        if complete && s.stream_synced_ns.load(Ordering::Relaxed) == 0 {
            s.stream_synced_ns.store(self.now_ns(), Ordering::Release);
        }
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

/// Run proxy `idx` on `channel` until its stream ends; with
/// [`Fleet::reconnect`] set, reopen it after Envoy's backoff, forever.
pub async fn run(fleet: Arc<Fleet>, idx: usize, channel: Channel) {
    let spec = fleet.proxies[idx].clone();
    let mut sotw_held = sotw::Held::default();
    let mut delta_held = delta::Held::default();
    let mut attempt = 0;
    loop {
        let streams = fleet.stats[idx].streams.load(Ordering::Relaxed);
        fleet.stats[idx]
            .stream_synced_ns
            .store(0, Ordering::Release);
        let result = match spec.variant {
            Variant::Sotw => {
                sotw::run(&fleet, idx, &spec.node_id, channel.clone(), &mut sotw_held).await
            }
            Variant::Delta => {
                delta::run(&fleet, idx, &spec.node_id, channel.clone(), &mut delta_held).await
            }
        };
        if !fleet.reconnect.load(Ordering::Relaxed) {
            match result {
                Ok(()) => fleet.fail(idx, "the server ended the stream".to_owned()),
                Err(status) => fleet.fail(idx, format!("{}: {}", status.code(), status.message())),
            }
            return;
        }
        fleet.ended(&result);
        if fleet.stats[idx].streams.load(Ordering::Relaxed) > streams {
            attempt = 0;
        }
        tokio::time::sleep(backoff::delay(attempt, backoff::unit_random(idx))).await;
        attempt = attempt.saturating_add(1);
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

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::{Code, Status};

    #[test]
    fn stream_ends_are_classified() {
        let end = |code, msg: &str| StreamEnd::of(&Err(Status::new(code, msg)));
        assert_eq!(end(Code::ResourceExhausted, "quota"), StreamEnd::Resource);
        assert_eq!(
            end(
                Code::Unavailable,
                "refused stream before processing any application logic"
            ),
            StreamEnd::Resource
        );
        assert_eq!(
            end(
                Code::Unavailable,
                "tcp connect error: Connection refused (os error 111)"
            ),
            StreamEnd::Connection
        );
        assert_eq!(
            end(
                Code::Internal,
                "h2 protocol error: error reading a body from connection"
            ),
            StreamEnd::Connection
        );
        assert_eq!(end(Code::NotFound, "no configuration"), StreamEnd::Other);
        assert_eq!(StreamEnd::of(&Ok(())), StreamEnd::Closed);
    }
}
