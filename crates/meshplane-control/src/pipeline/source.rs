//! Meshes that do not come from spec files: the App Mesh API's store, a
//! Kubernetes cluster.
//!
//! A reload adds them to the meshes loaded from files; a mesh defined in
//! two places is an error of the reload naming both (`serve` refuses a
//! mesh both in the files and the store at start-up).

use std::collections::BTreeMap;
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

/// Where each mesh of a reload came from: the spec files or a source.
pub(crate) struct Placed {
    by_mesh: BTreeMap<String, String>,
}

impl Placed {
    /// The meshes loaded from the spec files.
    pub(crate) fn files(model: &MeshModel) -> Placed {
        Placed {
            by_mesh: model
                .meshes
                .keys()
                .map(|m| (m.clone(), "the spec files".to_owned()))
                .collect(),
        }
    }

    /// Adds the source's meshes to `model`; a mesh already there is
    /// reported, naming both places.
    pub(crate) fn merge(
        &mut self,
        model: &mut MeshModel,
        source: &ModelSource,
        out: &mut Vec<Diagnostic>,
    ) {
        for (name, graph) in (source.model)().meshes {
            if let Some(first) = self.by_mesh.get(&name) {
                out.push(
                    Diagnostic::error(
                        "serve.mesh_in_two_places",
                        "",
                        format!(
                            "mesh '{name}' is defined both in {first} and in {}; keep it in one place",
                            source.location
                        ),
                    )
                    .with_resource(ResourceId::mesh(&name, &graph.owner).short()),
                );
                continue;
            }
            self.by_mesh.insert(name.clone(), source.location.clone());
            model.meshes.insert(name, graph);
        }
    }
}
