//! meshplane's xDS management server core.
//!
//! It serves opaque, named Envoy resources per proxy key over ADS and the
//! per-type discovery services, in both the state-of-the-world and the delta
//! (incremental) variants.
//!
//! Architecture invariant: this crate never sees App Mesh types. Translation
//! builds [`Snapshot`]s and sets them in the [`SnapshotCache`]; an
//! [`Authorizer`] maps a connecting proxy to its [`ProxyKey`].

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod cache;
pub mod events;
pub mod registry;
mod resource_type;
pub mod server;

pub use auth::{Authorizer, NodeIdAuthorizer, PeerInfo, TlsPeer};
pub use cache::{ProxyKey, Resource, ResourceInterner, SetOutcome, Snapshot, SnapshotCache};
pub use events::{StreamId, Variant, XdsEvent};
pub use registry::{ProxyRegistry, StreamInfo, TypeStatus};
pub use resource_type::ResourceType;
pub use server::{ServerConfig, XdsServer};
