//! What the control layer currently serves and what its last reload found,
//! shared by the pipeline, the authorizer, the event consumer and the admin
//! server.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock};

use meshplane_authz::AccessControl;
use meshplane_spec::{ArnContext, Diagnostic};
use serde::Serialize;

use crate::cloud_map::CloudMapFeed;
use crate::metrics::Metrics;
use crate::nacks::NackStore;
use crate::served::Served;

/// Counts of what a reload did to the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReloadChanges {
    /// Proxies that got a snapshot for the first time.
    pub created: Vec<String>,
    /// Proxies whose resources changed (their streams were woken).
    pub updated: Vec<String>,
    /// Proxies re-translated with identical resources (nothing sent).
    pub unchanged: usize,
    /// Proxies whose translation inputs did not change (not re-translated).
    pub skipped: usize,
    /// Proxies whose resource was deleted from the specs.
    pub removed: Vec<String>,
}

/// The result of one reload, shown by `/debug/reload`.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    /// Seconds since the Unix epoch.
    pub finished_at: f64,
    pub duration_seconds: f64,
    /// Whether the new spec set is now served.
    pub applied: bool,
    /// Why it was not applied (when `applied` is false).
    pub error: Option<String>,
    pub files: Vec<PathBuf>,
    /// The documents left out because they are not App Mesh specs
    /// (`file:line: skipped document N: what it is`).
    pub skipped_documents: Vec<String>,
    /// Every finding of loading, validation and translation.
    pub diagnostics: Vec<Diagnostic>,
    pub changes: ReloadChanges,
    /// What the applied reload changed, as `meshplane diff` reports it
    /// (none for the first spec set or a reload not applied).
    pub diff: Option<ReloadDiff>,
    /// A problem with the auth config (the previous one stays in force).
    pub auth_error: Option<String>,
    /// Where the reload's time went.
    pub phases: ReloadPhases,
}

/// Seconds spent in each phase of a reload (0 for a phase not run).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ReloadPhases {
    /// Reading, parsing and assembling the model (and the sources' meshes).
    pub load_seconds: f64,
    /// Validating the model.
    pub validate_seconds: f64,
    /// Translating, encoding and publishing the changed proxies.
    pub build_seconds: f64,
    /// The diff against the previous spec set (after publishing).
    pub diff_seconds: f64,
}

/// The diff of an applied reload: its one-line summary and every proxy's changes.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadDiff {
    pub summary: String,
    pub report: meshplane_explain::diff::DiffReport,
}

/// How many reloads [`ControlState::reload_history`] keeps.
pub const RELOAD_HISTORY: usize = 20;

/// Shared state. Cheap to clone through its `Arc`.
#[derive(Debug)]
pub struct ControlState {
    pub arn: ArnContext,
    served: RwLock<Option<Arc<Served>>>,
    /// Held by a reload from its first published snapshot until the new
    /// served set is stored, so a NACK of a just-published snapshot is
    /// traced against the specs it was built from.
    publishing: Mutex<()>,
    last_reload: RwLock<Option<Arc<ReloadReport>>>,
    /// The last [`RELOAD_HISTORY`] reloads, oldest first (the console's
    /// Problems page).
    reload_history: RwLock<std::collections::VecDeque<Arc<ReloadReport>>>,
    access: RwLock<Arc<AccessControl>>,
    pub metrics: Metrics,
    pub nacks: NackStore,
    cloud_map: OnceLock<Arc<CloudMapFeed>>,
}

impl ControlState {
    pub fn new(arn: ArnContext, access: AccessControl) -> Arc<ControlState> {
        Arc::new(ControlState {
            arn,
            served: RwLock::new(None),
            publishing: Mutex::new(()),
            last_reload: RwLock::new(None),
            reload_history: RwLock::new(std::collections::VecDeque::new()),
            access: RwLock::new(Arc::new(access)),
            metrics: Metrics::default(),
            nacks: NackStore::default(),
            cloud_map: OnceLock::new(),
        })
    }

    /// The last good spec set, once one was built.
    pub fn served(&self) -> Option<Arc<Served>> {
        read(&self.served).clone()
    }

    /// Hold while publishing snapshots and storing the served set they
    /// come from.
    pub(crate) fn publishing(&self) -> MutexGuard<'_, ()> {
        self.publishing.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The served set once no reload is between publishing and storing it
    /// (what a proxy's NACK must be traced against).
    pub(crate) fn served_settled(&self) -> Option<Arc<Served>> {
        let _settled = self.publishing();
        self.served()
    }

    pub(crate) fn set_served(&self, served: Arc<Served>) {
        *write(&self.served) = Some(served);
    }

    /// Ready once the first snapshot set is built.
    pub fn is_ready(&self) -> bool {
        read(&self.served).is_some()
    }

    pub fn last_reload(&self) -> Option<Arc<ReloadReport>> {
        read(&self.last_reload).clone()
    }

    pub(crate) fn set_last_reload(&self, report: Arc<ReloadReport>) {
        {
            let mut h = write(&self.reload_history);
            if h.len() == RELOAD_HISTORY {
                h.pop_front();
            }
            h.push_back(report.clone());
        }
        *write(&self.last_reload) = Some(report);
    }

    /// The last reloads, oldest first.
    pub fn reload_history(&self) -> Vec<Arc<ReloadReport>> {
        read(&self.reload_history).iter().cloned().collect()
    }

    /// Cloud Map discovery, when serving with it (set once, at start).
    pub fn cloud_map(&self) -> Option<&Arc<CloudMapFeed>> {
        self.cloud_map.get()
    }

    /// Serve Cloud Map endpoints through `feed` (only the first call counts).
    pub fn set_cloud_map(&self, feed: Arc<CloudMapFeed>) {
        let _ = self.cloud_map.set(feed);
    }

    pub fn access(&self) -> Arc<AccessControl> {
        read(&self.access).clone()
    }

    pub fn set_access(&self, access: AccessControl) {
        *write(&self.access) = Arc::new(access);
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}
