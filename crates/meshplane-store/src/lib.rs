//! Where the meshes managed through the App Mesh API live.
//!
//! [`Store`] is the interface every backend implements ([`SqliteStore`] for
//! one process, [`PostgresStore`] for several replicas): a store-wide `revision` that every commit increments,
//! one transaction per commit (all of its changes or none), uniqueness of a
//! resource's identity enforced by the database, and the clientToken answers
//! kept beside the resources in the same transaction. A commit returns only
//! once it is durable, so an acknowledged write survives a crash.
//!
//! The store knows resource identities and JSON specs, not App Mesh rules:
//! validation happens before a commit, in the API layer.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod none;
mod postgres;
mod record;
mod sqlite;
mod url;

pub use none::NoStore;
pub use postgres::PostgresStore;
pub use record::{Change, Changes, IdempotentAnswer, Record, Snapshot, Tag};
pub use sqlite::SqliteStore;
pub use url::open;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The commit contradicts what is stored (the identity is taken, the
    /// resource changed or vanished since it was read); nothing was applied.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The `--store` URL is not understood.
    #[error("--store '{url}': {message}")]
    Url { url: String, message: String },
    /// This server keeps no store (it was started with `--config` only).
    #[error("{0}")]
    ReadOnly(String),
    /// Another writer committed since `base` (see [`Store::commit_at`]);
    /// nothing was applied: catch up and try again.
    #[error("the store changed since revision {base} (now {current})")]
    Stale { base: u64, current: u64 },
    /// The database cannot be reached (down, restarting, network); nothing
    /// was applied. Worth retrying later.
    #[error("store {location} is unavailable: {message}")]
    Unavailable { location: String, message: String },
    /// The database failed (IO, corruption, a newer schema).
    #[error("store {location}: {message}")]
    Backend { location: String, message: String },
}

/// A backend of API-managed resources. Implementations are shared between
/// request handlers, so they are `Send + Sync`; calls block (callers in async
/// code run them on a blocking thread).
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Where the data lives, for messages (`sqlite:/var/lib/meshplane/meshplane.db`).
    fn location(&self) -> String;

    /// Every stored resource and the revision they were read at.
    fn snapshot(&self) -> Result<Snapshot, StoreError>;

    /// Applies `changes` and records `answer` (if any) in one durable
    /// transaction; returns the new revision. On any error nothing is applied.
    fn commit(
        &self,
        changes: &[Change],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<u64, StoreError>;

    /// [`Store::commit`], only if the store is still at revision `base`
    /// (else [`StoreError::Stale`] and nothing applied): a writer that
    /// validated against revision `base` commits exactly on it.
    fn commit_at(
        &self,
        base: u64,
        changes: &[Change],
        answer: Option<&IdempotentAnswer>,
    ) -> Result<u64, StoreError>;

    /// What changed after `revision` (see [`Changes`]).
    fn changes_since(&self, revision: u64) -> Result<Changes, StoreError> {
        let snapshot = self.snapshot()?;
        Ok(if snapshot.revision == revision {
            Changes::Since {
                revision,
                written: Vec::new(),
                deleted: Vec::new(),
            }
        } else {
            Changes::Everything(snapshot)
        })
    }

    /// Wake-ups from other writers of a shared database (PostgreSQL's
    /// LISTEN/NOTIFY), or `None` when this process is the only writer.
    fn listen(&self) -> Option<Result<Box<dyn Listener>, StoreError>> {
        None
    }

    /// The answer recorded for a clientToken of one operation, if any.
    fn idempotent_answer(
        &self,
        operation: &str,
        token: &str,
    ) -> Result<Option<IdempotentAnswer>, StoreError>;
}

/// A connection that waits for other writers' commits. A wake-up says only
/// "look again": the reader then asks [`Store::changes_since`].
pub trait Listener: Send {
    /// Waits up to `timeout`; `Ok(true)` when at least one commit was
    /// announced, `Ok(false)` on timeout, an error when the connection is
    /// lost (announcements may have been missed: catch up after reconnecting).
    fn wait(&mut self, timeout: std::time::Duration) -> Result<bool, StoreError>;
}
