//! The last NACK of each stream and type, for `/debug/proxies`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use meshplane_xds::{ResourceType, StreamId};
use serde::Serialize;

use crate::provenance::EnvoySource;

/// A rejected response, as the proxy reported it.
#[derive(Debug, Clone, Serialize)]
pub struct NackDetail {
    /// Envoy's error message.
    pub message: String,
    /// The version the proxy still uses.
    pub version: String,
    pub nonce: String,
    /// The rejected Envoy resources and the App Mesh resources behind them.
    pub resources: Vec<EnvoySource>,
}

/// The last NACK per stream and type, cleared by the next ACK.
#[derive(Debug, Default)]
pub struct NackStore {
    last: Mutex<BTreeMap<(StreamId, ResourceType), NackDetail>>,
}

impl NackStore {
    pub fn get(&self, stream: StreamId, t: ResourceType) -> Option<NackDetail> {
        lock(&self.last).get(&(stream, t)).cloned()
    }

    pub(crate) fn set(&self, stream: StreamId, t: ResourceType, d: NackDetail) {
        lock(&self.last).insert((stream, t), d);
    }

    pub(crate) fn clear(&self, stream: StreamId, t: ResourceType) {
        lock(&self.last).remove(&(stream, t));
    }

    pub(crate) fn forget(&self, stream: StreamId) {
        lock(&self.last).retain(|(s, _), _| *s != stream);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
