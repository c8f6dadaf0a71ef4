//! Every open stream and its per-type protocol state, for `/debug/proxies`,
//! and what `/metrics` needs of them kept up to date as streams change
//! (open streams and NACKed types per key, [`StreamCounters`]), so a scrape
//! does not copy every stream.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::auth::StreamPrincipal;
use crate::cache::ProxyKey;
use crate::counters::StreamCounters;
use crate::events::{StreamId, Variant};
use crate::ResourceType;

/// Protocol state of one resource type on one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeStatus {
    pub last_sent_version: Option<String>,
    pub last_sent_nonce: Option<String>,
    pub last_acked_version: Option<String>,
    /// The message of the most recent NACK, cleared by the next ACK.
    pub last_nack: Option<String>,
    pub responses_sent: u64,
}

/// A copy of one stream's registry entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    pub stream: StreamId,
    pub key: ProxyKey,
    pub node_id: String,
    pub node_cluster: String,
    /// Who the stream authenticated as (from the [`crate::Authorizer`]).
    pub principal: Option<StreamPrincipal>,
    pub remote_addr: Option<SocketAddr>,
    pub variant: Variant,
    pub connected_since: SystemTime,
    pub types: BTreeMap<ResourceType, TypeStatus>,
}

/// Open streams, sorted by stream id. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ProxyRegistry {
    inner: Arc<RegistryInner>,
}

#[derive(Debug, Default)]
struct RegistryInner {
    next_id: AtomicU64,
    streams: Mutex<BTreeMap<StreamId, Arc<Mutex<StreamInfo>>>>,
    by_key: Mutex<HashMap<ProxyKey, KeyCounts>>,
    counters: StreamCounters,
}

/// The open streams of one proxy key, and how many of them run an older
/// version of a type because they rejected the latest (by type).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyCounts {
    pub streams: usize,
    pub nacked: BTreeMap<ResourceType, usize>,
}

impl ProxyRegistry {
    /// Copies of every open stream's state, by stream id.
    pub fn streams(&self) -> Vec<StreamInfo> {
        let streams = lock(&self.inner.streams);
        streams.values().map(|s| lock(s).clone()).collect()
    }

    /// Open streams of one key.
    pub fn streams_of(&self, key: &ProxyKey) -> Vec<StreamInfo> {
        self.streams()
            .into_iter()
            .filter(|s| &s.key == key)
            .collect()
    }

    /// Open streams and NACKed types of every key with an open stream.
    pub fn counts_by_key(&self) -> Vec<(ProxyKey, KeyCounts)> {
        lock(&self.inner.by_key)
            .iter()
            .map(|(k, c)| (k.clone(), c.clone()))
            .collect()
    }

    /// Responses, ACKs and NACKs of every stream so far.
    pub fn counters(&self) -> &StreamCounters {
        &self.inner.counters
    }

    pub(crate) fn next_stream_id(&self) -> StreamId {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Register a stream; it is removed when the returned handle drops.
    pub(crate) fn register(&self, info: StreamInfo) -> RegistryHandle {
        let id = info.stream;
        lock(&self.inner.by_key)
            .entry(info.key.clone())
            .or_default()
            .streams += 1;
        let entry = Arc::new(Mutex::new(info));
        lock(&self.inner.streams).insert(id, entry.clone());
        RegistryHandle {
            registry: self.clone(),
            id,
            entry,
        }
    }
}

/// A stream's live entry in the registry.
#[derive(Debug)]
pub(crate) struct RegistryHandle {
    registry: ProxyRegistry,
    id: StreamId,
    entry: Arc<Mutex<StreamInfo>>,
}

impl RegistryHandle {
    pub(crate) fn update(&self, t: ResourceType, f: impl FnOnce(&mut TypeStatus)) {
        let mut entry = lock(&self.entry);
        let status = entry.types.entry(t).or_default();
        let was = status.last_nack.is_some();
        f(status);
        let is = status.last_nack.is_some();
        if was != is {
            let mut by_key = lock(&self.registry.inner.by_key);
            if let Some(c) = by_key.get_mut(&entry.key) {
                let n = c.nacked.entry(t).or_default();
                if is {
                    *n += 1;
                } else {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        c.nacked.remove(&t);
                    }
                }
            }
        }
    }

    pub(crate) fn counters(&self) -> &StreamCounters {
        &self.registry.inner.counters
    }
}

impl Drop for RegistryHandle {
    fn drop(&mut self) {
        lock(&self.registry.inner.streams).remove(&self.id);
        let entry = lock(&self.entry);
        let mut by_key = lock(&self.registry.inner.by_key);
        if let Some(c) = by_key.get_mut(&entry.key) {
            c.streams = c.streams.saturating_sub(1);
            for (t, status) in &entry.types {
                if status.last_nack.is_some() {
                    if let Some(n) = c.nacked.get_mut(t) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
            c.nacked.retain(|_, n| *n > 0);
            if c.streams == 0 {
                by_key.remove(&entry.key);
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(r: &ProxyRegistry, key: &str) -> StreamInfo {
        StreamInfo {
            stream: r.next_stream_id(),
            key: ProxyKey::new(key),
            node_id: key.to_owned(),
            node_cluster: String::new(),
            principal: None,
            remote_addr: None,
            variant: Variant::Sotw,
            connected_since: SystemTime::now(),
            types: BTreeMap::new(),
        }
    }

    #[test]
    fn counts_by_key_follow_streams_and_nacks() {
        let r = ProxyRegistry::default();
        let a1 = r.register(info(&r, "a"));
        let a2 = r.register(info(&r, "a"));
        let b = r.register(info(&r, "b"));
        a1.update(ResourceType::Route, |s| s.last_nack = Some("bad".into()));
        a2.update(ResourceType::Route, |s| s.last_nack = Some("bad".into()));
        a2.update(ResourceType::Route, |s| s.last_nack = Some("still".into()));
        let counts: BTreeMap<_, _> = r.counts_by_key().into_iter().collect();
        assert_eq!(counts[&ProxyKey::new("a")].streams, 2);
        assert_eq!(counts[&ProxyKey::new("a")].nacked[&ResourceType::Route], 2);
        assert_eq!(counts[&ProxyKey::new("b")].streams, 1);
        // An ACK clears a NACK; a closed stream takes its NACK with it.
        a1.update(ResourceType::Route, |s| s.last_nack = None);
        drop(a2);
        drop(b);
        let counts = r.counts_by_key();
        assert_eq!(counts.len(), 1);
        assert_eq!(
            counts[0].1,
            KeyCounts {
                streams: 1,
                nacked: BTreeMap::new()
            }
        );
        drop(a1);
        assert!(r.counts_by_key().is_empty());
    }
}
