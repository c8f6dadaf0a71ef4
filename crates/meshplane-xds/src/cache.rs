//! Resources, immutable snapshots and the per-proxy snapshot cache.
//!
//! Architecture invariant: every resource's bytes exist once in memory, however
//! many proxies' snapshots and streams hold it ([`ResourceInterner`]).

mod intern;
mod references;
mod resource;
mod snapshot;
mod snapshot_cache;

pub use intern::ResourceInterner;
pub use resource::{Resource, ResourceError};
pub use snapshot::{ConsistencyError, MissingReference, Snapshot, SnapshotBuilder, TypeResources};
pub use snapshot_cache::{ProxyKey, SetOutcome, SnapshotCache, SnapshotWatch};
