//! What happens on streams, for the admin and metrics layers.

use std::time::{Duration, SystemTime};

use tokio::sync::broadcast;

use crate::auth::StreamPrincipal;
use crate::cache::ProxyKey;
use crate::ResourceType;

/// Which protocol variant a stream speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variant {
    /// State of the world (`Stream*` methods).
    Sotw,
    /// Incremental (`Delta*` methods).
    Delta,
}

/// Identifies one stream for the life of the server process.
pub type StreamId = u64;

/// An event on an xDS stream.
#[derive(Debug, Clone, PartialEq)]
pub enum XdsEvent {
    Connected {
        stream: StreamId,
        key: ProxyKey,
        node_id: String,
        /// Who the stream authenticated as (from the [`crate::Authorizer`]).
        principal: Option<StreamPrincipal>,
        variant: Variant,
        at: SystemTime,
    },
    Disconnected {
        stream: StreamId,
        key: ProxyKey,
        node_id: String,
        connected_for: Duration,
        /// Why the stream ended ("client closed", "max age", "identity removed", ...).
        reason: String,
    },
    /// A stream was refused before it started (authorization, quota, unknown key).
    Refused {
        node_id: String,
        code: tonic::Code,
        message: String,
    },
    /// A response left for the proxy (every response, both variants).
    Sent {
        stream: StreamId,
        key: ProxyKey,
        resource_type: ResourceType,
        version: String,
        nonce: String,
        /// Resources named in the response: those sent, plus (delta) the
        /// names in `removed_resources`.
        resources: usize,
    },
    Ack {
        stream: StreamId,
        key: ProxyKey,
        resource_type: ResourceType,
        version: String,
        nonce: String,
        /// Time from sending the response to receiving the ACK.
        latency: Duration,
    },
    Nack {
        stream: StreamId,
        key: ProxyKey,
        resource_type: ResourceType,
        /// Names of the resources in the rejected response.
        names: Vec<String>,
        /// The version the proxy still uses.
        version: String,
        nonce: String,
        message: String,
    },
}

impl XdsEvent {
    /// `Sent` and `Ack`: one per response, tens of thousands per change.
    pub fn is_per_response(&self) -> bool {
        matches!(self, XdsEvent::Sent { .. } | XdsEvent::Ack { .. })
    }
}

/// Fan-out of events on two channels: every event, and every event but the
/// per-response ones. Sending never waits: a receiver that falls behind
/// loses the oldest events (`RecvError::Lagged`); one that only wants
/// connections and NACKs subscribes to the second, which a change fanned
/// out to every proxy does not flood.
#[derive(Debug, Clone)]
pub(crate) struct EventSink {
    all: broadcast::Sender<XdsEvent>,
    notable: broadcast::Sender<XdsEvent>,
}

impl EventSink {
    pub(crate) fn new(capacity: usize) -> Self {
        EventSink {
            all: broadcast::Sender::new(capacity.max(1)),
            notable: broadcast::Sender::new(capacity.max(1)),
        }
    }

    /// Send an event that is not per-response.
    pub(crate) fn emit(&self, event: XdsEvent) {
        debug_assert!(!event.is_per_response());
        // No receiver is not an error: events are optional.
        if self.notable.receiver_count() > 0 {
            let _ = self.notable.send(event.clone());
        }
        let _ = self.all.send(event);
    }

    /// Send a per-response event, built only when someone subscribed to
    /// every event.
    pub(crate) fn emit_per_response(&self, event: impl FnOnce() -> XdsEvent) {
        if self.all.receiver_count() > 0 {
            let _ = self.all.send(event());
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<XdsEvent> {
        self.all.subscribe()
    }

    pub(crate) fn subscribe_notable(&self) -> broadcast::Receiver<XdsEvent> {
        self.notable.subscribe()
    }
}
