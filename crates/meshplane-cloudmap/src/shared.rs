//! What every task of one [`crate::CloudMapSource`] shares: the client, the
//! configuration, the published states and the metrics.

use std::sync::{Arc, Mutex, MutexGuard};

use aws_sdk_servicediscovery::Client;
use tokio::sync::watch;

use crate::config::CloudMapConfig;
use crate::metrics::Registry;
use crate::query::{QueryKey, QueryState, QueryStates};

/// What every task of one source shares.
pub(crate) struct Shared {
    pub client: Client,
    pub config: CloudMapConfig,
    pub states: watch::Sender<Arc<QueryStates>>,
    pub(crate) metrics: Mutex<Registry>,
}

impl Shared {
    pub fn metrics(&self) -> MutexGuard<'_, Registry> {
        // A poisoned lock only means a panic elsewhere mid-update of plain
        // counters; they stay usable.
        self.metrics
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Change the state of `key` (if it is still asked for); `update`
    /// returns whether subscribers must be told.
    pub fn update_state(&self, key: &QueryKey, update: impl FnOnce(&mut QueryState) -> bool) {
        self.states.send_if_modified(|states| {
            if !states.contains_key(key) {
                return false;
            }
            match Arc::make_mut(states).get_mut(key) {
                Some(state) => update(state),
                None => false,
            }
        });
    }
}
