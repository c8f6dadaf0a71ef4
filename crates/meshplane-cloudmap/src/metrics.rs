//! Counters and last outcomes, per service and per query, as plain structs
//! the admin layer renders on `/metrics` and `/debug`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::query::QueryKey;

/// One Cloud Map service (namespace + name): one poller, one revision check
/// per poll whatever the number of queries and proxies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceMetrics {
    pub namespace: String,
    pub service: String,
    /// Polls started (one per interval, or per backoff wait after errors).
    pub polls: u64,
    /// `DiscoverInstancesRevision` calls sent, and how many failed.
    pub revision_calls: u64,
    pub revision_errors: u64,
    /// Calls answered with a throttling error (either operation).
    pub throttled: u64,
    /// `false` once the server said it lacks `DiscoverInstancesRevision`:
    /// the poller then calls `DiscoverInstances` every interval.
    pub revision_api_supported: bool,
    /// The last revision `DiscoverInstancesRevision` returned.
    pub revision: Option<i64>,
}

/// One query ([`QueryKey`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryMetrics {
    pub key: QueryKey,
    /// `DiscoverInstances` calls sent, and how many failed.
    pub discover_calls: u64,
    pub discover_errors: u64,
    /// Instances in the last answer (`None` before the first).
    pub instance_count: Option<usize>,
    pub revision: Option<i64>,
    pub last_success: Option<SystemTime>,
    pub last_error: Option<String>,
    pub last_error_at: Option<SystemTime>,
    pub consecutive_errors: u32,
    /// Times the answer differed from the one before.
    pub changes: u64,
}

/// The services and queries currently asked for, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CloudMapMetrics {
    pub services: Vec<ServiceMetrics>,
    pub queries: Vec<QueryMetrics>,
}

impl CloudMapMetrics {
    /// `DiscoverInstances` calls over all queries.
    pub fn discover_calls(&self) -> u64 {
        self.queries.iter().map(|q| q.discover_calls).sum()
    }

    /// `DiscoverInstancesRevision` calls over all services.
    pub fn revision_calls(&self) -> u64 {
        self.services.iter().map(|s| s.revision_calls).sum()
    }

    /// Polls over all services.
    pub fn polls(&self) -> u64 {
        self.services.iter().map(|s| s.polls).sum()
    }

    pub fn query(&self, key: &QueryKey) -> Option<&QueryMetrics> {
        self.queries.iter().find(|q| &q.key == key)
    }

    pub fn service(&self, namespace: &str, service: &str) -> Option<&ServiceMetrics> {
        self.services
            .iter()
            .find(|s| s.namespace == namespace && s.service == service)
    }
}

/// The live counters behind [`CloudMapMetrics`]: the supervisor creates and
/// removes entries as queries come and go; pollers only update existing
/// ones (so a poller being stopped cannot bring a removed entry back).
#[derive(Debug, Default)]
pub(crate) struct Registry {
    services: BTreeMap<(String, String), ServiceMetrics>,
    queries: BTreeMap<QueryKey, QueryMetrics>,
}

impl Registry {
    /// Keep exactly the entries of `wanted` (new ones start at zero).
    pub fn retain<'a>(&mut self, wanted: impl IntoIterator<Item = &'a QueryKey>) {
        let wanted: Vec<&QueryKey> = wanted.into_iter().collect();
        self.queries.retain(|k, _| wanted.contains(&k));
        self.services.retain(|(ns, svc), _| {
            wanted
                .iter()
                .any(|k| &k.namespace == ns && &k.service == svc)
        });
        for k in wanted {
            self.queries
                .entry(k.clone())
                .or_insert_with(|| QueryMetrics {
                    key: k.clone(),
                    ..Default::default()
                });
            self.services
                .entry((k.namespace.clone(), k.service.clone()))
                .or_insert_with(|| ServiceMetrics {
                    namespace: k.namespace.clone(),
                    service: k.service.clone(),
                    revision_api_supported: true,
                    ..Default::default()
                });
        }
    }

    /// Update a service's counters, if it is still polled.
    pub fn service(&mut self, namespace: &str, service: &str, f: impl FnOnce(&mut ServiceMetrics)) {
        if let Some(m) = self
            .services
            .get_mut(&(namespace.to_owned(), service.to_owned()))
        {
            f(m);
        }
    }

    /// Update a query's counters, if it is still asked for.
    pub fn query(&mut self, key: &QueryKey, f: impl FnOnce(&mut QueryMetrics)) {
        if let Some(m) = self.queries.get_mut(key) {
            f(m);
        }
    }

    pub fn snapshot(&self) -> CloudMapMetrics {
        CloudMapMetrics {
            services: self.services.values().cloned().collect(),
            queries: self.queries.values().cloned().collect(),
        }
    }
}
