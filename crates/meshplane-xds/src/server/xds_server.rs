//! [`XdsServer`] and its settings: the handle every stream and service
//! shares (cache, authorizer, events, registry, quota, closing signal).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::auth::{Authorizer, StreamQuota, TlsPeer};
use crate::cache::SnapshotCache;
use crate::events::{EventSink, XdsEvent};
use crate::registry::ProxyRegistry;

/// Reads the verified client certificate from a request's extensions (set by
/// whatever TLS acceptor the binary uses).
pub type TlsPeerFn = Arc<dyn Fn(&tonic::Extensions) -> Option<TlsPeer> + Send + Sync>;

/// Server tuning.
#[derive(Clone)]
pub struct ServerConfig {
    /// Concurrent streams per proxy key unless the authorizer says otherwise
    /// (App Mesh's quota was 50 per virtual node or gateway).
    pub max_streams_per_key: usize,
    /// Close streams gracefully (status OK) after this long, so proxies
    /// reconnect and spread over server replicas. `None`: never.
    pub max_stream_age: Option<Duration>,
    /// Fraction of `max_stream_age` taken off at random per stream (0.0-1.0),
    /// so streams opened together do not all close together.
    pub max_stream_age_jitter: f64,
    /// Responses queued per stream before the stream stops building more.
    pub response_buffer: usize,
    /// Events kept for a slow event receiver before it misses some.
    pub event_buffer: usize,
    pub tls_peer: Option<TlsPeerFn>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_streams_per_key: 50,
            max_stream_age: None,
            max_stream_age_jitter: 0.1,
            response_buffer: 1,
            event_buffer: 4096,
            tls_peer: None,
        }
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("max_streams_per_key", &self.max_streams_per_key)
            .field("max_stream_age", &self.max_stream_age)
            .field("max_stream_age_jitter", &self.max_stream_age_jitter)
            .field("response_buffer", &self.response_buffer)
            .field("event_buffer", &self.event_buffer)
            .field("tls_peer", &self.tls_peer.is_some())
            .finish()
    }
}

/// The xDS server. Cheap to clone; every clone serves the same state.
#[derive(Clone)]
pub struct XdsServer {
    pub(super) inner: Arc<Inner>,
}

/// What every stream of the server shares.
pub(super) struct Inner {
    pub(super) cache: SnapshotCache,
    pub(super) authorizer: Arc<dyn Authorizer>,
    pub(super) config: ServerConfig,
    pub(super) events: EventSink,
    pub(super) registry: ProxyRegistry,
    pub(super) quota: StreamQuota,
    /// Set by [`XdsServer::close_all`]: every stream ends, none starts.
    pub(super) closing: watch::Sender<bool>,
}

impl fmt::Debug for XdsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XdsServer")
            .field("config", &self.inner.config)
            .finish()
    }
}

impl XdsServer {
    pub fn new(cache: SnapshotCache, authorizer: impl Authorizer, config: ServerConfig) -> Self {
        let events = EventSink::new(config.event_buffer);
        XdsServer {
            inner: Arc::new(Inner {
                cache,
                authorizer: Arc::new(authorizer),
                config,
                events,
                registry: ProxyRegistry::default(),
                quota: StreamQuota::default(),
                closing: watch::Sender::new(false),
            }),
        }
    }

    pub fn cache(&self) -> &SnapshotCache {
        &self.inner.cache
    }

    pub fn registry(&self) -> &ProxyRegistry {
        &self.inner.registry
    }

    /// Events from now on (connections, responses sent, ACKs, NACKs,
    /// refusals).
    pub fn subscribe_events(&self) -> broadcast::Receiver<XdsEvent> {
        self.inner.events.subscribe()
    }

    /// Events from now on except the per-response ones (`Sent`, `Ack`):
    /// connections, NACKs and refusals, which a change fanned out to every
    /// proxy does not push out of the channel. The exact counts of
    /// responses, ACKs and NACKs are in the registry's counters.
    pub fn subscribe_notable_events(&self) -> broadcast::Receiver<XdsEvent> {
        self.inner.events.subscribe_notable()
    }

    /// End every open stream with status OK and refuse new ones with
    /// UNAVAILABLE, for a shutdown: proxies then reconnect (to another
    /// replica) at once, and a graceful transport shutdown does not wait
    /// for long-lived streams. Streams end as soon as their tasks notice;
    /// [`XdsEvent::Disconnected`] reports each one.
    pub fn close_all(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Whether [`XdsServer::close_all`] was called.
    pub fn is_closing(&self) -> bool {
        *self.inner.closing.borrow()
    }
}
