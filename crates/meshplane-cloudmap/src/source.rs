//! [`CloudMapSource`]: the set of queries to answer, one poller task per
//! Cloud Map service, and the published states.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use aws_sdk_servicediscovery::Client;
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

use crate::config::CloudMapConfig;
use crate::metrics::{CloudMapMetrics, Registry};
use crate::poller::{AttributeSets, ServicePoller};
use crate::query::{QueryKey, QueryStates};
use crate::shared::Shared;

/// Polls Cloud Map for a set of queries and publishes what it learns.
///
/// All work runs in tasks spawned on the current tokio runtime; no method
/// blocks or waits for Cloud Map. Dropping the source stops its tasks.
pub struct CloudMapSource {
    shared: Arc<Shared>,
    desired: watch::Sender<Arc<BTreeSet<QueryKey>>>,
    supervisor: JoinHandle<()>,
}

impl CloudMapSource {
    /// Start a source with no query. Must be called inside a tokio runtime.
    pub fn spawn(config: CloudMapConfig, client: Client) -> Self {
        let (states, _) = watch::channel(Arc::new(QueryStates::new()));
        let shared = Arc::new(Shared {
            client,
            config,
            states,
            metrics: Mutex::new(Registry::default()),
        });
        let (desired, desired_rx) = watch::channel(Arc::new(BTreeSet::new()));
        let supervisor = tokio::spawn(supervise(shared.clone(), desired_rx));
        Self {
            shared,
            desired,
            supervisor,
        }
    }

    /// The queries to answer from now on (usually every proxy's, merged:
    /// identical queries are one key). Keys kept from the previous set keep
    /// their state and their poller; new keys are asked at once; removed
    /// keys disappear from the states. Never blocks.
    pub fn set_queries(&self, queries: BTreeSet<QueryKey>) {
        self.desired.send_if_modified(|current| {
            if **current == queries {
                return false;
            }
            *current = Arc::new(queries);
            true
        });
    }

    /// The states of the current queries; the receiver is told when
    /// instances change, when a query starts or stops failing, and when
    /// queries are added or removed (not on each successful poll).
    pub fn subscribe(&self) -> watch::Receiver<Arc<QueryStates>> {
        self.shared.states.subscribe()
    }

    /// The states now.
    pub fn states(&self) -> Arc<QueryStates> {
        self.shared.states.borrow().clone()
    }

    /// Counters and last outcomes, for `/metrics` and `/debug`.
    pub fn metrics(&self) -> CloudMapMetrics {
        self.shared.metrics().snapshot()
    }
}

impl Drop for CloudMapSource {
    fn drop(&mut self) {
        self.supervisor.abort();
    }
}

type ServiceName = (String, String);

struct RunningPoller {
    attributes: watch::Sender<AttributeSets>,
    abort: AbortHandle,
}

/// Keeps one poller per Cloud Map service in the desired set; its tasks
/// (in a `JoinSet`) stop with it.
async fn supervise(shared: Arc<Shared>, mut desired: watch::Receiver<Arc<BTreeSet<QueryKey>>>) {
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut pollers: BTreeMap<ServiceName, RunningPoller> = BTreeMap::new();
    let mut ids: BTreeMap<tokio::task::Id, ServiceName> = BTreeMap::new();
    loop {
        let wanted = desired.borrow_and_update().clone();
        let mut groups: BTreeMap<ServiceName, AttributeSets> = BTreeMap::new();
        for key in wanted.iter() {
            groups
                .entry((key.namespace.clone(), key.service.clone()))
                .or_default()
                .insert(key.attributes.clone());
        }
        shared.metrics().retain(wanted.iter());
        shared.states.send_if_modified(|states| {
            let stale = states.keys().any(|k| !wanted.contains(k));
            let missing = wanted.iter().any(|k| !states.contains_key(k));
            if !stale && !missing {
                return false;
            }
            let map = Arc::make_mut(states);
            map.retain(|k, _| wanted.contains(k));
            for k in wanted.iter() {
                map.entry(k.clone()).or_default();
            }
            true
        });
        pollers.retain(|name, p| {
            let keep = groups.contains_key(name);
            if !keep {
                tracing::info!(namespace = %name.0, service = %name.1, "Cloud Map service no longer polled");
                p.abort.abort();
            }
            keep
        });
        for (name, attrs) in groups {
            if let Some(p) = pollers.get(&name) {
                p.attributes.send_if_modified(|current| {
                    let changed = *current != attrs;
                    *current = attrs;
                    changed
                });
                continue;
            }
            tracing::debug!(namespace = %name.0, service = %name.1, "Cloud Map service polled");
            let (tx, rx) = watch::channel(attrs);
            let poller = ServicePoller::new(shared.clone(), name.0.clone(), name.1.clone(), rx);
            let abort = tasks.spawn(poller.run());
            ids.insert(abort.id(), name.clone());
            pollers.insert(
                name,
                RunningPoller {
                    attributes: tx,
                    abort,
                },
            );
        }
        tokio::select! {
            changed = desired.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            Some(done) = tasks.join_next_with_id() => {
                // A poller ends only when aborted, or if it panicked: then it
                // is started again on this pass (its keys keep their state).
                let id = match &done {
                    Ok((id, ())) => *id,
                    Err(e) => e.id(),
                };
                if let Some(name) = ids.remove(&id) {
                    if let Err(e) = done {
                        if e.is_panic() {
                            tracing::error!(namespace = %name.0, service = %name.1, "Cloud Map poller panicked; restarting it");
                            pollers.remove(&name);
                        }
                    }
                }
            }
        }
    }
}
