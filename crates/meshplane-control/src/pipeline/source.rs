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
