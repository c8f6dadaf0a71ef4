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
    /// The spec fields the NACK was narrowed to (`nack_trace`), each as
    /// `file:line: error[envoy.rejected]: ARN: field.path: Envoy's message`;
    /// empty when it could not be narrowed.
    pub trace: Vec<TracedField>,
}

/// One spec field a NACK was narrowed to.
#[derive(Debug, Clone, Serialize)]
pub struct TracedField {
    pub arn: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The field's document path (`spec.httpRoute.match.headers[0].match.regex`).
    pub path: String,
    /// The whole finding, as `validate` prints one.
    pub finding: String,
}

impl From<&meshplane_spec::Diagnostic> for TracedField {
    fn from(d: &meshplane_spec::Diagnostic) -> Self {
        TracedField {
            arn: d.resource.clone(),
            file: d.file.as_ref().map(|f| f.display().to_string()),
            line: d.line,
            path: d.path.clone(),
            finding: d.to_string(),
        }
    }
}

/// The last NACK per stream and type. It stands while the registry says
/// the stream's type is NACKed (its `last_nack`, cleared by the next ACK);
/// readers check that, and a stream's entries go when it disconnects (or,
/// when the event consumer missed events, once it is no longer open).
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

    /// Every NACK recorded (some may have been ACKed since).
    pub fn all(&self) -> Vec<((StreamId, ResourceType), NackDetail)> {
        lock(&self.last)
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect()
    }

    pub(crate) fn forget(&self, stream: StreamId) {
        lock(&self.last).retain(|(s, _), _| *s != stream);
    }

    /// Drop the NACKs of every stream `keep` does not name.
    pub(crate) fn retain_streams(&self, keep: impl Fn(StreamId) -> bool) {
        lock(&self.last).retain(|(s, _), _| keep(*s));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nack(message: &str) -> NackDetail {
        NackDetail {
            message: message.into(),
            version: "v1".into(),
            nonce: "1".into(),
            resources: Vec::new(),
            trace: Vec::new(),
        }
    }

    #[test]
    fn only_the_nacks_of_streams_kept_remain() {
        let store = NackStore::default();
        store.set(1, ResourceType::Route, nack("closed stream"));
        store.set(2, ResourceType::Route, nack("open stream"));
        store.set(2, ResourceType::Cluster, nack("open stream, other type"));
        store.retain_streams(|s| s == 2);
        assert!(store.get(1, ResourceType::Route).is_none());
        assert_eq!(
            store.get(2, ResourceType::Route).map(|n| n.message),
            Some("open stream".to_owned())
        );
        assert_eq!(store.all().len(), 2);
    }
}
