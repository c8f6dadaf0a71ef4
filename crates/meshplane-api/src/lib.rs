//! The App Mesh API (2019-01-25, rest-json) served by meshplane.
//!
//! - [`route`]: method and path -> one of the 38 operations, as botocore's
//!   model defines them.
//! - [`server`]: the axum router: body limit, SigV4 ([`sigv4`]) and IAM
//!   (meshplane-authz policies with `appmesh:<Operation>` actions), answers
//!   and errors in App Mesh's rest-json shape ([`error`]).
//! - [`api`]: the operations over a [`meshplane_store::Store`] and its
//!   in-memory [`mirror`]: every write is validated with meshplane-spec's
//!   rules against the whole mesh as it would be, committed durably, then
//!   announced to the reload pipeline.
//! - [`follow`]: with a store shared by several replicas, the mirror follows
//!   the other replicas' commits (wake-ups, catch-up, store status).
//!
//! Architecture invariant: no Envoy or xDS types; the control layer reads
//! the API's meshes through [`Api::model`] and is told of commits through
//! the `on_commit` hook.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api;
mod body;
pub mod error;
pub mod follow;
pub mod import;
pub mod kind;
pub mod mirror;
mod read;
pub mod route;
pub mod server;
pub mod shape;
pub mod sigv4;
pub mod store_status;
mod tags;
mod write;

pub use api::{Api, FileMeshes, OnCommit};
pub use error::{ApiError, ErrorKind};
pub use follow::spawn_follower;
pub use server::{router, AccessFn, BODY_LIMIT};
pub use store_status::{StoreStatus, StoreStatusView};
