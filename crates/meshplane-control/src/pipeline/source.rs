//! Meshes that do not come from spec files: the App Mesh API's store.
//!
//! A reload adds them to the meshes loaded from files; a mesh defined in
//! both places is an error of the reload (`serve` refuses it at start-up).

use std::sync::Arc;

use meshplane_spec::{Diagnostic, MeshModel, ResourceId};

/// The meshes of another source (the API's store), read at every reload.
#[derive(Clone)]
pub struct ModelSource {
    /// Where the meshes live, for messages (`sqlite:/var/lib/meshplane/meshplane.db`).
    pub location: String,
    pub model: Arc<dyn Fn() -> MeshModel + Send + Sync>,
    /// How the source follows its store (`/debug/store`, `/metrics`,
    /// `/readyz`); `None` for a source without one.
    pub status: Option<Arc<dyn Fn() -> SourceStatus + Send + Sync>>,
}

/// The state of a source's store, as the admin server shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceStatus {
    pub location: String,
    /// Whether the store answered its last call.
    pub up: bool,
    /// The revision this replica serves.
    pub applied_revision: u64,
    /// The store's revision when last read.
    pub database_revision: u64,
    /// How many revisions this replica is behind.
    pub lag: u64,
    /// Wake-ups received from other writers.
    pub notifications: u64,
    /// Reads of what changed since the applied revision.
    pub catch_ups: u64,
    /// Times the wake-up connection was opened.
    pub listen_connections: u64,
    pub listening: bool,
    pub errors: u64,
    pub last_error: Option<String>,
}

impl std::fmt::Debug for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelSource")
            .field("location", &self.location)
            .finish()
    }
}

/// Adds the source's meshes to `model`; a mesh already there is reported.
pub(crate) fn merge(model: &mut MeshModel, source: &ModelSource, out: &mut Vec<Diagnostic>) {
    for (name, graph) in (source.model)().meshes {
        if model.meshes.contains_key(&name) {
            out.push(
                Diagnostic::error(
                    "serve.mesh_in_two_places",
                    "",
                    format!(
                        "mesh '{name}' is defined both in the spec files and in the store {}; keep it in one place",
                        source.location
                    ),
                )
                .with_resource(ResourceId::mesh(&name, &graph.owner).short()),
            );
            continue;
        }
        model.meshes.insert(name, graph);
    }
}
