//! meshplane's xDS management server core.
//!
//! It serves opaque, named Envoy resources per proxy key over ADS and the
//! per-type discovery services, in both the state-of-the-world and the delta
//! (incremental) variants.
//!
//! Architecture invariant: this crate never sees App Mesh types. Translation
//! builds [`Snapshot`]s and sets them in the [`SnapshotCache`]; an
//! [`Authorizer`] maps a connecting proxy to its [`ProxyKey`] and principal.
//!
//! # Protocol decisions (Envoy's `xds_protocol` spec)
//!
//! - ACK or NACK is decided by `error_detail` alone. After a NACK nothing is
//!   re-sent: each stream remembers what it sent, and only a later change of
//!   the snapshot produces a new response.
//! - Nonces are per stream and per type. SotW drops a request whose nonce is
//!   not the latest sent for its type; delta applies its subscription changes
//!   anyway and only ignores it as an ACK/NACK.
//! - The node is read from the first request only.
//! - Push order: SDS, CDS, EDS, LDS, RDS ([`PUSH_ORDER`]).
//!   Secrets go first because clusters and listeners warm until the secrets
//!   they reference arrive. Removals go last ([`REMOVAL_ORDER`]:
//!   LDS, RDS, CDS, EDS, SDS), once the proxy ACKed the latest response of
//!   every type it subscribes to: in SotW a listener or cluster that left the
//!   snapshot stays in the LDS/CDS responses until then; in delta
//!   `removed_resources` waits until then.
//! - A NACK defers every removal. The proxy that rejects a response keeps
//!   running its previous version of that type, which may use resources
//!   that left the snapshot (routes naming a cluster, clusters their
//!   endpoints and secrets, listeners their route configurations and
//!   secrets): taking those away would break its last good configuration.
//!   So while the proxy runs an older version of any resource it still uses
//!   (its latest version sent was NACKed and no later one ACKed; an ACK of a
//!   response holding other names of the type does not count), removed
//!   resources keep being served (additions still flow), and they go only
//!   once a later version is ACKed for every such name. A rejected name that
//!   leaves the snapshot or the subscription stops holding removals back. A
//!   proxy that keeps rejecting a resource keeps the removed resources; it
//!   never loses working configuration.
//! - A cluster that is new or changed gets its ClusterLoadAssignment re-sent
//!   (if subscribed) so it leaves warming.
//! - Names that do not exist are remembered and sent when they appear (delta
//!   also reports them in `removed_resources` at once).
//! - Requests already received are all applied before anything is answered,
//!   so a newer request of a type supersedes older pending ones.
//!
//! # Scale
//!
//! Resources are interned ([`ResourceInterner`]): one copy per content,
//! shared by every snapshot and stream. A stream keeps handles (pointers)
//! to what it sent, its subscription and nonces; a response's bytes are only
//! copied into the outgoing message when the stream's bounded channel has
//! room, so a stuck proxy holds at most `response_buffer` built responses and
//! never delays the cache or other streams. A change costs a stream nothing
//! for types whose version did not change, and a walk over the handles of
//! the changed types. An ADS stream's request buffer starts at 1 KiB
//! (tonic's: 8 KiB) and its responses are framed in buffers of their own
//! size, freed once written (tonic's encoder keeps the largest response's
//! size per stream). `cargo bench -p meshplane-xds --bench fanout`
//! prints the figures (memory per stream, sync and change propagation).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod cache;
pub mod counters;
pub mod events;
pub mod push_order;
pub mod registry;
pub mod server;

pub use auth::{Admission, Authorizer, NodeIdAuthorizer, PeerInfo, StreamPrincipal, TlsPeer};
pub use cache::{ProxyKey, Resource, ResourceInterner, SetOutcome, Snapshot, SnapshotCache};
pub use counters::{CountersSnapshot, StreamCounters, ACK_LATENCY_BOUNDS};
pub use events::{StreamId, Variant, XdsEvent};
/// The resource types served; meshplane-envoy owns them (type URLs, names).
pub use meshplane_envoy::ResourceType;
pub use push_order::{PUSH_ORDER, REMOVAL_ORDER};
pub use registry::{KeyCounts, ProxyRegistry, StreamInfo, TypeStatus};
pub use server::{ServerConfig, XdsServer};
