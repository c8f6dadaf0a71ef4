//! AWS Cloud Map discovery feeding EDS: the endpoints of every EDS cluster
//! a translation fed from Cloud Map (`Translation::cloud_map`).
//!
//! - After each applied reload the pipeline hands the distinct queries of
//!   every served proxy to [`CloudMapFeed::set_queries`] (never blocks).
//! - The Cloud Map client and [`CloudMapSource`] start lazily, the first
//!   time some node uses Cloud Map, so users without AWS credentials are
//!   never bothered.
//! - Whenever a query's answer changes, the feed task
//!   ([`crate::cloud_map_task::run`]) rebuilds the snapshots of
//!   exactly the proxies with an EDS cluster fed by it (the cache then wakes
//!   only those whose resources changed).
//! - Safety: a query nothing is known about yet keeps the cluster's last
//!   assignment (the translation's empty one at first); a failing query
//!   keeps the last instances (the source never clears them on errors).

pub mod admin;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use meshplane_cloudmap::{
    endpoints_for, CloudMapConfig, CloudMapMetrics, CloudMapSource, QueryKey, QueryStates,
};
use meshplane_translate::CloudMapQuery;
use meshplane_xds::ProxyKey;
use tokio::sync::watch;

use crate::served::Served;

/// How to reach Cloud Map (`--cloud-map-endpoint`, `--cloud-map-interval`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CloudMapSettings {
    /// Send every call to this AWS-API-compatible URL instead of AWS.
    pub endpoint: Option<String>,
    /// Polling settings (interval 5 s by default).
    pub config: CloudMapConfig,
}

impl CloudMapSettings {
    /// The default settings with another polling interval.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.config.interval = interval;
        self
    }
}

/// The Cloud Map side of the control layer, shared by the pipeline, the
/// feed task and the admin server.
pub struct CloudMapFeed {
    pub(crate) settings: CloudMapSettings,
    /// The queries of every served proxy, merged.
    pub(crate) desired: watch::Sender<Arc<BTreeSet<QueryKey>>>,
    /// Started the first time a query is asked for.
    pub(crate) source: OnceLock<CloudMapSource>,
    /// The last assignment served per (proxy, cluster), kept when a query
    /// has no answer yet (e.g. its attribute filter just changed).
    last: Mutex<BTreeMap<(ProxyKey, String), ClusterLoadAssignment>>,
    /// The states the snapshots were last rebuilt from.
    applied: Mutex<Arc<QueryStates>>,
}

impl std::fmt::Debug for CloudMapFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudMapFeed")
            .field("settings", &self.settings)
            .field("started", &self.source.get().is_some())
            .finish_non_exhaustive()
    }
}

impl CloudMapFeed {
    pub fn new(settings: CloudMapSettings) -> Arc<Self> {
        let (desired, _) = watch::channel(Arc::new(BTreeSet::new()));
        Arc::new(CloudMapFeed {
            settings,
            desired,
            source: OnceLock::new(),
            last: Mutex::new(BTreeMap::new()),
            applied: Mutex::new(Arc::new(QueryStates::new())),
        })
    }

    pub fn settings(&self) -> &CloudMapSettings {
        &self.settings
    }

    /// Whether the Cloud Map client was started (some node uses Cloud Map).
    pub fn started(&self) -> bool {
        self.source.get().is_some()
    }

    /// The queries currently asked for.
    pub fn queries(&self) -> Arc<BTreeSet<QueryKey>> {
        self.desired.borrow().clone()
    }

    /// The source's states now (empty before it started).
    pub fn states(&self) -> Arc<QueryStates> {
        self.source
            .get()
            .map(CloudMapSource::states)
            .unwrap_or_default()
    }

    /// Counters and last outcomes (`None` before the source started).
    pub fn metrics(&self) -> Option<CloudMapMetrics> {
        self.source.get().map(CloudMapSource::metrics)
    }

    /// Ask for the queries of every proxy in `served`; forget the last
    /// assignments of proxies and clusters no longer served. Never blocks.
    pub(crate) fn set_served(&self, served: &Served) {
        let keys: BTreeSet<QueryKey> = served
            .proxies
            .values()
            .flat_map(|p| p.translation.cloud_map.values().map(QueryKey::of))
            .collect();
        lock(&self.last).retain(|(proxy, cluster), _| {
            served
                .proxies
                .get(proxy)
                .is_some_and(|p| p.translation.cloud_map.contains_key(cluster))
        });
        self.desired.send_if_modified(|current| {
            if **current == keys {
                return false;
            }
            *current = Arc::new(keys);
            true
        });
    }

    /// The endpoints of the proxy's Cloud Map clusters (`queries`, by
    /// cluster name) from `states`, or the last ones it was served while a
    /// query has no answer. A cluster with neither is not listed: it keeps
    /// its translation's empty assignment.
    pub(crate) fn fill(
        &self,
        key: &ProxyKey,
        queries: &BTreeMap<String, CloudMapQuery>,
        states: &QueryStates,
    ) -> Vec<ClusterLoadAssignment> {
        let mut filled = Vec::new();
        if queries.is_empty() {
            return filled;
        }
        let mut last = lock(&self.last);
        for (cluster, query) in queries {
            let slot = (key.clone(), cluster.clone());
            let found = states
                .get(&QueryKey::of(query))
                .and_then(|s| endpoints_for(query, s, cluster));
            match found {
                Some(assignment) => {
                    filled.push(assignment.clone());
                    last.insert(slot, assignment);
                }
                None => {
                    if let Some(kept) = last.get(&slot) {
                        filled.push(kept.clone());
                    }
                }
            }
        }
        filled
    }

    /// Queries whose instances differ from the states the snapshots were
    /// last rebuilt from; `states` becomes the applied states.
    pub(crate) fn changed_since_applied(&self, states: &Arc<QueryStates>) -> BTreeSet<QueryKey> {
        let mut applied = lock(&self.applied);
        let mut changed = BTreeSet::new();
        for (k, s) in states.iter() {
            if applied.get(k).map(|a| &a.instances) != Some(&s.instances) {
                changed.insert(k.clone());
            }
        }
        *applied = states.clone();
        changed
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
