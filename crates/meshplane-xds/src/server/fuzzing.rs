//! One ADS stream without IO, for fuzzing (feature `fuzzing`, never
//! enabled by the server's users): the state of the world or delta state
//! machine the server runs per stream, fed requests and snapshots in any
//! order, with its responses drained as the stream loop would send them.

use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use tonic::Status;

use super::delta::DeltaStream;
use super::sotw::SotwStream;
use super::stream_loop::Protocol;
use super::stream_state::StreamCtx;
use crate::cache::{ProxyKey, Snapshot};
use crate::events::EventSink;
use crate::registry::{ProxyRegistry, StreamInfo};
use crate::Variant;

/// What one stream sent.
#[derive(Debug)]
pub enum Sent {
    Sotw(DiscoveryResponse),
    Delta(DeltaDiscoveryResponse),
}

/// One stream's state machine.
pub struct StreamDriver {
    stream: Stream,
    // Keeps the stream registered while it runs, as the server does.
    _registry: ProxyRegistry,
}

enum Stream {
    Sotw(SotwStream),
    Delta(DeltaStream),
}

impl StreamDriver {
    /// A stream of `variant` for proxy `key`, serving `snapshot`.
    pub fn new(variant: Variant, key: &str, snapshot: Snapshot) -> StreamDriver {
        let registry = ProxyRegistry::default();
        let id = registry.next_stream_id();
        let key = ProxyKey::new(key);
        let handle = registry.register(StreamInfo {
            stream: id,
            key: key.clone(),
            node_id: key.to_string(),
            node_cluster: String::new(),
            principal: None,
            remote_addr: None,
            variant,
            connected_since: std::time::SystemTime::UNIX_EPOCH,
            types: Default::default(),
        });
        let ctx = StreamCtx::new(id, key, EventSink::new(16), handle);
        let stream = match variant {
            Variant::Sotw => Stream::Sotw(SotwStream::new(ctx, snapshot, None)),
            Variant::Delta => Stream::Delta(DeltaStream::new(ctx, snapshot, None)),
        };
        StreamDriver {
            stream,
            _registry: registry,
        }
    }

    /// A state-of-the-world request (ignored by a delta stream); an error
    /// is the status that would end the stream.
    pub fn sotw_request(&mut self, req: DiscoveryRequest) -> Result<(), Status> {
        match &mut self.stream {
            Stream::Sotw(s) => s.on_request(req),
            Stream::Delta(_) => Ok(()),
        }
    }

    /// A delta request (ignored by a state-of-the-world stream).
    pub fn delta_request(&mut self, req: DeltaDiscoveryRequest) -> Result<(), Status> {
        match &mut self.stream {
            Stream::Delta(s) => s.on_request(req),
            Stream::Sotw(_) => Ok(()),
        }
    }

    /// A new snapshot from the cache.
    pub fn snapshot(&mut self, snapshot: Snapshot) {
        match &mut self.stream {
            Stream::Sotw(s) => s.on_snapshot(snapshot),
            Stream::Delta(s) => s.on_snapshot(snapshot),
        }
    }

    /// Up to `max` responses, as the stream loop sends them.
    pub fn drain(&mut self, max: usize) -> Vec<Sent> {
        let mut out = Vec::new();
        while out.len() < max {
            let next = match &mut self.stream {
                Stream::Sotw(s) if s.has_work() => s.next_response().map(Sent::Sotw),
                Stream::Delta(s) if s.has_work() => s.next_response().map(Sent::Delta),
                _ => None,
            };
            match next {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }
}
