//! How this replica follows its store: what `/debug/store`, `/metrics` and
//! `/readyz` show, kept up to date by the follower and by every write.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use meshplane_store::StoreError;

/// How this replica follows its store.
#[derive(Debug, Default)]
pub struct StoreStatus {
    /// Whether the last call to the store reached it.
    down: AtomicBool,
    /// The revision the mirror holds.
    applied: AtomicU64,
    /// The store's revision when last read.
    database: AtomicU64,
    pub(crate) notifications: AtomicU64,
    pub(crate) catch_ups: AtomicU64,
    /// Times the LISTEN connection was (re)opened.
    pub(crate) listens: AtomicU64,
    pub(crate) listening: AtomicBool,
    errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

/// A copy of [`StoreStatus`] at one moment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoreStatusView {
    pub up: bool,
    pub applied_revision: u64,
    pub database_revision: u64,
    pub lag: u64,
    pub notifications: u64,
    pub catch_ups: u64,
    pub listen_connections: u64,
    pub listening: bool,
    pub errors: u64,
    pub last_error: Option<String>,
}

impl StoreStatus {
    pub fn is_up(&self) -> bool {
        !self.down.load(Ordering::Relaxed)
    }

    pub fn view(&self) -> StoreStatusView {
        let applied = self.applied.load(Ordering::Relaxed);
        let database = self.database.load(Ordering::Relaxed).max(applied);
        StoreStatusView {
            up: self.is_up(),
            applied_revision: applied,
            database_revision: database,
            lag: database - applied,
            notifications: self.notifications.load(Ordering::Relaxed),
            catch_ups: self.catch_ups.load(Ordering::Relaxed),
            listen_connections: self.listens.load(Ordering::Relaxed),
            listening: self.listening.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    pub(crate) fn applied(&self, revision: u64) {
        self.applied.store(revision, Ordering::Relaxed);
        self.database.fetch_max(revision, Ordering::Relaxed);
    }

    pub(crate) fn reached(&self, database_revision: u64) {
        self.database
            .fetch_max(database_revision, Ordering::Relaxed);
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!("the store is reachable again");
        }
    }

    /// Records a failed store call; an unavailable store marks it down.
    pub(crate) fn failed(&self, e: &StoreError) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        if matches!(e, StoreError::Unavailable { .. }) && !self.down.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %e, "the store is unreachable: xDS keeps serving the last snapshots, API writes answer 503 and reads may be stale");
        }
    }
}
