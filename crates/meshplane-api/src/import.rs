//! `meshplane import`: a loaded and validated model into a store, as one
//! transaction (every resource or none), and the store's meshes back as a
//! model for `meshplane export --store`.

use std::sync::Arc;

use meshplane_spec::{MeshModel, ResourceId};
use meshplane_store::{Change, Record, Store};

use crate::api::now;
use crate::mirror::{get, Mirror};

/// Creates every resource of `model` in `store` in one commit; a resource
/// already stored fails the whole import. Returns how many were created.
pub fn import(store: &Arc<dyn Store>, model: &MeshModel) -> Result<usize, String> {
    let at = now();
    let mut changes = Vec::new();
    for graph in model.meshes.values() {
        if graph.spec.is_none() {
            return Err(format!(
                "mesh '{}' has resources but no mesh resource; add the mesh to the files",
                graph.name
            ));
        }
        for id in graph.resource_ids() {
            let spec = get(graph, &id).ok_or_else(|| format!("{id}: no spec"))?;
            changes.push(Change::Create(Record {
                spec: crate::mirror::encode_spec(&spec),
                id: ResourceId { ..id },
                uid: uuid::Uuid::new_v4().to_string(),
                version: 1,
                created_at: at,
                last_updated_at: at,
                tags: Vec::new(),
            }));
        }
    }
    store.commit(&changes, None).map_err(|e| e.to_string())?;
    Ok(changes.len())
}

/// Every mesh of a store.
pub fn stored_model(store: &dyn Store) -> Result<MeshModel, String> {
    let snapshot = store.snapshot().map_err(|e| e.to_string())?;
    Ok(Mirror::from_snapshot(snapshot)?.model())
}
