//! Admitting a stream (identity, authorization, quota) and running it.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::BuildHasher;
use std::time::{Duration, Instant, SystemTime};

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::{DeltaDiscoveryRequest, DiscoveryRequest};
use tonic::{Request, Status, Streaming};

use super::responses::{self, Responses};
use super::stream_loop::{run, EndReason, Protocol, StreamParts};
use super::stream_state::StreamCtx;
use super::xds_server::XdsServer;
use crate::auth::{PeerInfo, QuotaPlace};
use crate::cache::{ProxyKey, Snapshot};
use crate::events::{EventSink, StreamId, Variant, XdsEvent};
use crate::registry::StreamInfo;

/// How long a new stream may wait before its first request.
const FIRST_REQUEST_WAIT: Duration = Duration::from_secs(60);

/// A request that may carry the node (only the first one must).
pub(crate) trait FirstRequest: Send + 'static {
    fn node(&self) -> Option<&Node>;
}

impl FirstRequest for DiscoveryRequest {
    fn node(&self) -> Option<&Node> {
        self.node.as_ref()
    }
}

impl FirstRequest for DeltaDiscoveryRequest {
    fn node(&self) -> Option<&Node> {
        self.node.as_ref()
    }
}

/// Admit the stream and start the task serving it with the protocol `make` builds.
pub(crate) async fn serve<Req, P>(
    server: &XdsServer,
    request: Request<Streaming<Req>>,
    variant: Variant,
    make: impl FnOnce(StreamCtx, Snapshot) -> P,
) -> Result<Responses<P::Response>, Status>
where
    Req: FirstRequest,
    P: Protocol<Request = Req>,
{
    let inner = &server.inner;
    let mut peer = PeerInfo::from_request(&request);
    if let Some(f) = &inner.config.tls_peer {
        peer.tls = f(request.extensions());
    }
    let mut inbound = request.into_inner();
    let first = tokio::time::timeout(FIRST_REQUEST_WAIT, inbound.message())
        .await
        .map_err(|_| Status::deadline_exceeded("no request within 60 s of opening the stream"))??
        .ok_or_else(|| Status::invalid_argument("the stream ended before its first request"))?;
    let node = first.node().cloned().unwrap_or_default();
    let refuse = |status: Status| {
        inner.events.emit(XdsEvent::Refused {
            node_id: node.id.clone(),
            code: status.code(),
            message: status.message().to_owned(),
        });
        tracing::info!(node_id = node.id, code = ?status.code(), message = status.message(), "xDS stream refused");
        status
    };
    // Subscribe before checking, so that a close_all after the check is seen.
    let closing = inner.closing.subscribe();
    if *closing.borrow() {
        return Err(refuse(Status::unavailable(
            "the xDS server is shutting down; reconnect to another replica or retry",
        )));
    }
    if node.id.is_empty() {
        return Err(refuse(Status::invalid_argument(
            "the first request of a stream must carry node.id (the proxy's identity)",
        )));
    }
    let admission = inner.authorizer.authorize(&node, &peer).map_err(refuse)?;
    let key = admission.key;
    let unknown = |key: &ProxyKey| {
        Status::not_found(format!(
            "no configuration for proxy `{key}` (node.id `{}`): the identity is unknown or was deleted",
            node.id
        ))
    };
    let mut watch = inner
        .cache
        .watch(&key)
        .ok_or_else(|| refuse(unknown(&key)))?;
    let snapshot = watch
        .borrow_and_update()
        .clone()
        .ok_or_else(|| refuse(unknown(&key)))?;
    let limit = inner
        .authorizer
        .max_streams(&key)
        .unwrap_or(inner.config.max_streams_per_key);
    let place = inner.quota.acquire(&key, limit).map_err(refuse)?;

    let id = inner.registry.next_stream_id();
    let connected_at = SystemTime::now();
    let registry = inner.registry.register(StreamInfo {
        stream: id,
        key: key.clone(),
        node_id: node.id.clone(),
        node_cluster: node.cluster.clone(),
        principal: admission.principal.clone(),
        remote_addr: peer.remote_addr,
        variant,
        connected_since: connected_at,
        types: BTreeMap::new(),
    });
    inner.events.emit(XdsEvent::Connected {
        stream: id,
        key: key.clone(),
        node_id: node.id.clone(),
        principal: admission.principal,
        variant,
        at: connected_at,
    });
    let not_found_message = unknown(&key).message().to_owned();
    let ctx = StreamCtx::new(id, key.clone(), inner.events.clone(), registry);
    let mut protocol = make(ctx, snapshot);
    let (tx, rx) = responses::channel(inner.config.response_buffer);
    let ended = Ended {
        stream: id,
        key,
        node_id: node.id,
        events: inner.events.clone(),
        started: Instant::now(),
        place,
    };
    if let Err(status) = protocol.on_request(first) {
        // The channel is new and has room: the status is queued at once.
        let _ = tx.try_send(Box::new(Err(status.clone())));
        ended.report(EndReason::Protocol(status));
        return Ok(rx);
    }
    let max_age = inner
        .config
        .max_stream_age
        .map(|a| jittered(a, inner.config.max_stream_age_jitter));
    let parts = Box::new(StreamParts {
        not_found_message,
        protocol,
        inbound,
        watch,
        closing,
        tx,
        max_age,
    });
    tokio::spawn(async move {
        let end = run(parts).await;
        ended.report(end);
    });
    Ok(rx)
}

/// What is reported when a stream ends; holding it holds the stream's
/// place in its proxy's quota.
struct Ended {
    stream: StreamId,
    key: ProxyKey,
    node_id: String,
    events: EventSink,
    started: Instant,
    place: QuotaPlace,
}

impl Ended {
    fn report(self, end: EndReason) {
        drop(self.place);
        tracing::debug!(key = %self.key, stream = self.stream, reason = end.describe(), "xDS stream ended");
        self.events.emit(XdsEvent::Disconnected {
            stream: self.stream,
            key: self.key,
            node_id: self.node_id,
            connected_for: self.started.elapsed(),
            reason: end.describe(),
        });
    }
}

/// `age` minus a random part of up to `jitter` of it.
fn jittered(age: Duration, jitter: f64) -> Duration {
    let jitter = jitter.clamp(0.0, 1.0);
    let random = RandomState::new().hash_one(Instant::now()) as f64 / u64::MAX as f64;
    age.mul_f64(1.0 - jitter * random)
}
