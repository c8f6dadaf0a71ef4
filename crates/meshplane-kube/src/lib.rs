//! The App Mesh custom resources of a Kubernetes cluster, served live.
//!
//! `meshplane serve --kubernetes` list+watches the seven kinds of
//! `appmesh.k8s.aws/v1beta2` (`watch.rs`: kube's watcher keeps resource
//! versions, takes bookmarks, relists after 410 Gone, backs off on errors),
//! holds the objects it saw (`objects.rs`), turns them into a mesh model
//! with the CRD file format's own loader (`meshplane_load::load_texts`: each
//! object is read as a file named by its API path) and validation
//! (`resolve.rs`), and writes each object's status back through the status
//! subresource (`status.rs`). An object that does not load or validate is
//! replaced by its last good version (or left out when it never had one), so
//! it never stops the rest of the mesh from being served; its `...Active`
//! condition turns False with the finding's rule, field and message.
//! `source.rs` runs the loop and publishes the model; the caller reloads
//! when told (`on_change`).

mod client;
mod kinds;
mod objects;
mod resolve;
mod source;
mod status;
mod watch;

pub use client::{connect, ConnectError};
pub use kinds::{Kind, KINDS};
pub use source::{start, KubeSettings, KubeSource, KubeStatus, WatchStatus};
