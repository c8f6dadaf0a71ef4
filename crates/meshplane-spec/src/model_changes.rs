//! What differs between two versions of a model: per mesh, the resources
//! added, removed, or changed in spec or origin (file, line), or the whole
//! mesh when it appeared, disappeared or changed owner.

use std::collections::{BTreeMap, BTreeSet};

use crate::identity::{ResourceId, ResourceKind};
use crate::model::{changed_keys, changed_keys_of, MeshGraph, MeshModel, Origins};

/// The changes of one mesh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeshDelta {
    /// The mesh is new, gone or owned by another account: everything in it
    /// counts as changed.
    Whole,
    /// These resources changed: in spec (added, removed or another spec;
    /// the mesh resource itself among them when its spec did), or only in
    /// origin (another file or line).
    Resources {
        specs: BTreeSet<ResourceId>,
        moved: BTreeSet<ResourceId>,
    },
}

impl MeshDelta {
    fn specs(specs: BTreeSet<ResourceId>) -> MeshDelta {
        MeshDelta::Resources {
            specs,
            moved: BTreeSet::new(),
        }
    }
}

/// What differs between two models (with their origins); a mesh not
/// listed is the same in both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelChanges {
    pub meshes: BTreeMap<String, MeshDelta>,
}

impl ModelChanges {
    pub fn between(
        old: &MeshModel,
        old_origins: &Origins,
        new: &MeshModel,
        new_origins: &Origins,
    ) -> ModelChanges {
        let mut meshes = BTreeMap::new();
        let names: BTreeSet<&String> = old.meshes.keys().chain(new.meshes.keys()).collect();
        for name in names {
            let delta = match (old.meshes.get(name), new.meshes.get(name)) {
                (Some(a), Some(b)) if a.owner == b.owner => {
                    let ids = resources_between(a, b);
                    if ids.is_empty() {
                        continue;
                    }
                    MeshDelta::specs(ids)
                }
                _ => MeshDelta::Whole,
            };
            meshes.insert(name.clone(), delta);
        }
        changed_keys_of(
            old_origins.by_resource.iter(),
            new_origins.by_resource.iter(),
            |id| match meshes
                .entry(id.mesh.clone())
                .or_insert_with(|| MeshDelta::specs(BTreeSet::new()))
            {
                MeshDelta::Whole => {}
                MeshDelta::Resources { moved, .. } => {
                    moved.insert(id.clone());
                }
            },
        );
        ModelChanges { meshes }
    }

    /// How one mesh changed; `None` when it did not.
    pub fn mesh(&self, name: &str) -> Option<&MeshDelta> {
        self.meshes.get(name)
    }
}

/// The resources of one mesh (same name and owner) whose specs differ
/// (added, removed or changed), the mesh resource's own among them.
pub fn resources_between(a: &MeshGraph, b: &MeshGraph) -> BTreeSet<ResourceId> {
    let mut ids = BTreeSet::new();
    if a.spec != b.spec {
        ids.insert(ResourceId::mesh(&b.name, &b.owner));
    }
    let mut add = |kind, name: &String| {
        ids.insert(b.id(kind, name));
    };
    changed_keys(&a.virtual_services, &b.virtual_services, |n| {
        add(ResourceKind::VirtualService, n)
    });
    changed_keys(&a.virtual_nodes, &b.virtual_nodes, |n| {
        add(ResourceKind::VirtualNode, n)
    });
    changed_keys(&a.virtual_routers, &b.virtual_routers, |n| {
        add(ResourceKind::VirtualRouter, n)
    });
    changed_keys(&a.virtual_gateways, &b.virtual_gateways, |n| {
        add(ResourceKind::VirtualGateway, n)
    });
    changed_keys(&a.routes, &b.routes, |(r, n)| {
        ids.insert(b.child_id(ResourceKind::Route, r, n));
    });
    changed_keys(&a.gateway_routes, &b.gateway_routes, |(g, n)| {
        ids.insert(b.child_id(ResourceKind::GatewayRoute, g, n));
    });
    ids
}
