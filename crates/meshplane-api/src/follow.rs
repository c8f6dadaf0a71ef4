//! Following a store that other replicas write too (PostgreSQL).
//!
//! A follower thread per process waits on the store's [`Listener`] and
//! catches up — reads everything committed after the mirror's revision,
//! applies it, and asks for a reload — on every wake-up, after every
//! (re)connection, and at least every `period`. A wake-up carries no data,
//! so a lost one delays a change by at most `period` and loses nothing.
//! Writes through this replica catch up first too (see `write.rs`).
//!
//! What it sees is kept in [`StoreStatus`].

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use meshplane_store::{Listener, StoreError};

use crate::api::Api;
use crate::mirror::Mirror;
use crate::store_status::{StoreStatus, StoreStatusView};

/// The first wait before reconnecting the LISTEN connection; doubled per
/// failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

impl Api {
    /// Brings the mirror up to the store's revision; `true` when something
    /// changed (a reload was then asked for).
    pub fn catch_up(&self) -> Result<bool, StoreError> {
        let mut mirror = self.lock();
        let changed = self.catch_up_locked(&mut mirror)?;
        drop(mirror);
        if changed {
            (self.on_commit)();
        }
        Ok(changed)
    }

    /// [`Api::catch_up`] under the caller's lock; the caller asks for the
    /// reload when this says something changed.
    pub(crate) fn catch_up_locked(&self, mirror: &mut Mirror) -> Result<bool, StoreError> {
        let changes = match self.store.changes_since(mirror.revision) {
            Ok(c) => c,
            Err(e) => {
                self.status.failed(&e);
                return Err(e);
            }
        };
        self.status.catch_ups.fetch_add(1, Ordering::Relaxed);
        self.status.reached(changes.revision());
        if changes.revision() == mirror.revision {
            return Ok(false);
        }
        mirror.apply(changes).map_err(|message| {
            let e = StoreError::Backend {
                location: self.store.location(),
                message,
            };
            self.status.failed(&e);
            e
        })?;
        self.status.applied(mirror.revision);
        Ok(true)
    }

    pub fn store_status(&self) -> StoreStatusView {
        self.status.view()
    }

    pub fn store_status_handle(&self) -> Arc<StoreStatus> {
        self.status.clone()
    }
}

/// Starts following the store of `api` when other processes may write it
/// (the store has a [`Listener`]); catches up at least every `period`. The
/// thread ends when the last `Arc<Api>` is dropped.
/// The store is first called on the new thread (its client may block, which
/// an async caller must not).
pub fn spawn_follower(api: &Arc<Api>, period: Duration) -> std::io::Result<()> {
    let weak = Arc::downgrade(api);
    std::thread::Builder::new()
        .name("meshplane-store-follower".to_owned())
        .spawn(move || {
            let first = match weak.upgrade() {
                Some(api) => api.store.listen(),
                None => None,
            };
            if let Some(first) = first {
                follow(weak, Some(first), period);
            }
        })
        .map(|_| ())
}

fn follow(
    api: Weak<Api>,
    mut next: Option<Result<Box<dyn Listener>, StoreError>>,
    period: Duration,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        let Some(strong) = api.upgrade() else { return };
        let connected = next
            .take()
            .or_else(|| strong.store.listen())
            .unwrap_or_else(|| {
                Err(StoreError::ReadOnly(
                    "the store stopped offering a listener".to_owned(),
                ))
            });
        let mut listener = match connected {
            Ok(l) => l,
            Err(e) => {
                strong.status.failed(&e);
                strong.status.listening.store(false, Ordering::Relaxed);
                // The periodic check still runs while LISTEN is down.
                let _ = strong.catch_up();
                drop(strong);
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        strong.status.listens.fetch_add(1, Ordering::Relaxed);
        strong.status.listening.store(true, Ordering::Relaxed);
        backoff = MIN_BACKOFF;
        // Whatever was announced while not listening.
        let _ = strong.catch_up();
        drop(strong);
        loop {
            let waited = listener.wait(period);
            let Some(strong) = api.upgrade() else { return };
            match waited {
                Ok(woken) => {
                    if woken {
                        strong.status.notifications.fetch_add(1, Ordering::Relaxed);
                    }
                    let _ = strong.catch_up();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the store's LISTEN connection; reconnecting");
                    strong.status.failed(&e);
                    strong.status.listening.store(false, Ordering::Relaxed);
                    let _ = strong.catch_up();
                    break;
                }
            }
        }
    }
}
