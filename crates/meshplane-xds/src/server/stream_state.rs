//! State shared by both protocol variants: what a proxy subscribed to, nonce
//! bookkeeping, and ACK/NACK reporting.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use envoy_types::pb::google::rpc::Status as RpcStatus;

use crate::cache::ProxyKey;
use crate::events::{EventSink, StreamId, XdsEvent};
use crate::registry::RegistryHandle;
use crate::ResourceType;

/// The names a proxy subscribed to for one type.
#[derive(Debug, Default)]
pub(crate) struct Subscription {
    /// Subscribed to every resource of the type (`*`, or the legacy empty list).
    pub(crate) wildcard: bool,
    /// Explicitly subscribed names (without `*`).
    pub(crate) names: BTreeSet<String>,
    /// Whether any request ever named a resource (then an empty list means
    /// "nothing", not the legacy wildcard).
    explicit_ever: bool,
}

impl Subscription {
    pub(crate) fn covers(&self, name: &str) -> bool {
        self.wildcard || self.names.contains(name)
    }

    /// Replace the subscription with a state-of-the-world request's list.
    /// Returns the names that were not subscribed before (and whether the
    /// wildcard was newly turned on).
    pub(crate) fn replace(&mut self, requested: &[String]) -> (Vec<String>, bool) {
        let was_wildcard = self.wildcard;
        if requested.is_empty() && !self.explicit_ever {
            self.wildcard = true;
            return (Vec::new(), !was_wildcard);
        }
        self.explicit_ever = true;
        self.wildcard = requested.iter().any(|n| n == "*");
        // An ACK usually repeats the list: keep the set without reallocating.
        let mut listed: Vec<&str> = requested
            .iter()
            .map(String::as_str)
            .filter(|n| *n != "*")
            .collect();
        listed.sort_unstable();
        listed.dedup();
        if listed
            .iter()
            .copied()
            .eq(self.names.iter().map(String::as_str))
        {
            return (Vec::new(), self.wildcard && !was_wildcard);
        }
        let new: BTreeSet<String> = requested.iter().filter(|n| *n != "*").cloned().collect();
        let added = new.difference(&self.names).cloned().collect();
        self.names = new;
        (added, self.wildcard && !was_wildcard)
    }

    /// Apply a delta request's changes. `first` is the first request of the
    /// type on the stream. Returns (added names, removed names).
    pub(crate) fn apply_delta(
        &mut self,
        subscribe: &[String],
        unsubscribe: &[String],
        first: bool,
    ) -> (Vec<String>, Vec<String>) {
        if first && subscribe.is_empty() && unsubscribe.is_empty() && !self.explicit_ever {
            self.wildcard = true;
            return (Vec::new(), Vec::new());
        }
        let mut added = Vec::new();
        let mut removed = Vec::new();
        for n in subscribe {
            self.explicit_ever = true;
            if n == "*" {
                self.wildcard = true;
            } else if self.names.insert(n.clone()) {
                added.push(n.clone());
            } else {
                // Already subscribed: still answered (the proxy may have forgotten it).
                added.push(n.clone());
            }
        }
        for n in unsubscribe {
            if n == "*" {
                self.wildcard = false;
            } else if self.names.remove(n) {
                removed.push(n.clone());
            }
        }
        (added, removed)
    }
}

/// Nonce bookkeeping of one type on one stream.
#[derive(Debug, Default)]
pub(crate) struct Tracking {
    pub(crate) last_nonce: Option<Arc<str>>,
    /// A response was sent and its ACK/NACK has not arrived yet.
    pub(crate) awaiting: bool,
    /// The latest response replaces everything the proxy holds of the type
    /// (state-of-the-world LDS/CDS): its ACK confirms every name.
    pub(crate) full_state: bool,
    /// Names whose latest version sent was NACKed and not since ACKed: the
    /// proxy still runs an older version of them, which may use resources
    /// that left the snapshot.
    rejected: BTreeSet<Arc<str>>,
    last_names: Box<[Arc<str>]>,
    last_version: Option<Arc<str>>,
    last_acked: Option<String>,
    sent_at: Option<Instant>,
}

impl Tracking {
    /// Whether `nonce` answers the latest response of this type.
    pub(crate) fn is_current(&self, nonce: &str) -> bool {
        self.last_nonce.as_deref() == Some(nonce)
    }

    /// The proxy answered every response of this type and runs what it was
    /// sent of every name it still uses (`in_use`: subscribed and in the
    /// snapshot): no NACKed version is outstanding. Removals wait until every
    /// type is in sync, so that nothing an older, still running version uses
    /// is taken away.
    pub(crate) fn in_sync(&self, in_use: impl Fn(&str) -> bool) -> bool {
        !self.awaiting && !self.rejected.iter().any(|n| in_use(n))
    }

    /// Forget rejected names the proxy no longer uses (unsubscribed, or gone
    /// from the snapshot): no later version of them can ever be ACKed.
    pub(crate) fn prune_rejected(&mut self, in_use: impl Fn(&str) -> bool) {
        self.rejected.retain(|n| in_use(n));
    }
}

/// Per-stream context: identity, nonce counter, event and registry sinks.
#[derive(Debug)]
pub(crate) struct StreamCtx {
    pub(crate) id: StreamId,
    pub(crate) key: ProxyKey,
    pub(crate) events: EventSink,
    pub(crate) registry: RegistryHandle,
    nonces: u64,
}

impl StreamCtx {
    pub(crate) fn new(
        id: StreamId,
        key: ProxyKey,
        events: EventSink,
        registry: RegistryHandle,
    ) -> Self {
        StreamCtx {
            id,
            key,
            events,
            registry,
            nonces: 0,
        }
    }

    /// Record that a response is about to be sent; returns its nonce.
    pub(crate) fn sent(
        &mut self,
        t: ResourceType,
        track: &mut Tracking,
        version: &Arc<str>,
        names: Box<[Arc<str>]>,
    ) -> Arc<str> {
        self.nonces += 1;
        let nonce: Arc<str> = Arc::from(self.nonces.to_string());
        track.last_nonce = Some(nonce.clone());
        track.awaiting = true;
        track.last_names = names;
        track.last_version = Some(version.clone());
        track.sent_at = Some(Instant::now());
        self.registry.counters().sent(t);
        self.registry.update(t, |s| {
            s.last_sent_version = Some(version.to_string());
            s.last_sent_nonce = Some(nonce.to_string());
            s.responses_sent += 1;
        });
        let resources = track.last_names.len();
        self.events.emit_per_response(|| XdsEvent::Sent {
            stream: self.id,
            key: self.key.clone(),
            resource_type: t,
            version: version.to_string(),
            nonce: nonce.to_string(),
            resources,
        });
        nonce
    }

    /// Record the proxy's answer to the latest response of a type: a NACK
    /// when `error_detail` is set, an ACK otherwise. `version_info` is the
    /// request's (state of the world); delta requests carry none, so the
    /// version of the ACKed response (or, for a NACK, of the last ACKed one)
    /// is reported.
    pub(crate) fn answered(
        &self,
        t: ResourceType,
        track: &mut Tracking,
        version_info: Option<&str>,
        error_detail: Option<&RpcStatus>,
    ) {
        track.awaiting = false;
        if error_detail.is_some() {
            track.rejected.extend(track.last_names.iter().cloned());
        } else if track.full_state {
            track.rejected.clear();
        } else {
            for n in track.last_names.iter() {
                track.rejected.remove(n);
            }
        }
        let nonce = track.last_nonce.clone();
        let nonce = move || nonce.as_deref().unwrap_or_default().to_owned();
        let version_info = match (version_info, error_detail) {
            (Some(v), _) => v.to_owned(),
            (None, Some(_)) => track.last_acked.clone().unwrap_or_default(),
            (None, None) => track.last_version.as_deref().unwrap_or_default().to_owned(),
        };
        let version_info = version_info.as_str();
        if error_detail.is_none() {
            track.last_acked = Some(version_info.to_owned());
        }
        match error_detail {
            Some(err) => {
                self.registry.counters().nack(t);
                self.registry
                    .update(t, |s| s.last_nack = Some(err.message.clone()));
                let nonce = nonce();
                tracing::warn!(key = %self.key, stream = self.id, %t, nonce, message = %err.message, "proxy rejected configuration");
                self.events.emit(XdsEvent::Nack {
                    stream: self.id,
                    key: self.key.clone(),
                    resource_type: t,
                    names: track.last_names.iter().map(|n| n.to_string()).collect(),
                    version: version_info.to_owned(),
                    nonce,
                    message: err.message.clone(),
                });
            }
            None => {
                let latency = track.sent_at.map(|s| s.elapsed()).unwrap_or_default();
                self.registry.counters().ack(t, latency);
                self.registry.update(t, |s| {
                    s.last_acked_version = Some(version_info.to_owned());
                    s.last_nack = None;
                });
                self.events.emit_per_response(|| XdsEvent::Ack {
                    stream: self.id,
                    key: self.key.clone(),
                    resource_type: t,
                    version: version_info.to_owned(),
                    nonce: nonce(),
                    latency,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sotw_legacy_wildcard_then_explicit_then_empty_unsubscribes() {
        let mut s = Subscription::default();
        assert_eq!(s.replace(&[]), (vec![], true));
        assert!(s.covers("anything"));
        assert_eq!(s.replace(&names(&["*", "a"])), (names(&["a"]), false));
        assert!(s.covers("b"));
        s.replace(&names(&["a"]));
        assert!(!s.covers("b") && s.covers("a"));
        s.replace(&[]);
        assert!(
            !s.covers("a") && !s.wildcard,
            "empty list after names = nothing"
        );
    }

    #[test]
    fn delta_subscribe_and_unsubscribe() {
        let mut s = Subscription::default();
        s.apply_delta(&[], &[], true);
        assert!(s.wildcard);
        let (added, _) = s.apply_delta(&names(&["a"]), &[], false);
        assert_eq!(added, names(&["a"]));
        s.apply_delta(&[], &names(&["*"]), false);
        assert!(!s.wildcard && s.covers("a"));
        let (_, removed) = s.apply_delta(&[], &names(&["a", "ghost"]), false);
        assert_eq!(removed, names(&["a"]));
        assert!(!s.covers("a"));
        s.apply_delta(&[], &[], false);
        assert!(!s.wildcard, "empty later request is not a wildcard");
    }
}
