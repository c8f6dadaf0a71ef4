//! The store's content in memory: every API-managed mesh as a
//! [`MeshGraph`] (what validation and the reload pipeline read) beside the
//! stored records (what the API answers with).

use std::collections::BTreeMap;
use std::sync::Arc;

use meshplane_spec::{AnySpec, MeshGraph, MeshModel, ResourceId, ResourceKind};
use meshplane_store::{Changes, Record, Snapshot};
use serde::de::DeserializeOwned;

/// One API-managed mesh.
#[derive(Debug, Clone, Default)]
pub struct MeshState {
    pub graph: MeshGraph,
    pub records: BTreeMap<ResourceId, Record>,
}

#[derive(Debug, Clone, Default)]
pub struct Mirror {
    pub revision: u64,
    pub meshes: BTreeMap<String, MeshState>,
}

fn typed<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        if path == "." {
            format!("spec: {inner}")
        } else {
            format!("spec.{path}: {inner}")
        }
    })
}

/// The typed spec of one kind from its JSON; the error names the field path
/// (`spec.listeners[0].portMapping.port: invalid type ...`).
pub fn decode_spec(kind: ResourceKind, value: &serde_json::Value) -> Result<AnySpec, String> {
    Ok(match kind {
        ResourceKind::Mesh => AnySpec::Mesh(typed(value)?),
        ResourceKind::VirtualService => AnySpec::VirtualService(typed(value)?),
        ResourceKind::VirtualNode => AnySpec::VirtualNode(typed(value)?),
        ResourceKind::VirtualRouter => AnySpec::VirtualRouter(typed(value)?),
        ResourceKind::Route => AnySpec::Route(typed(value)?),
        ResourceKind::VirtualGateway => AnySpec::VirtualGateway(typed(value)?),
        ResourceKind::GatewayRoute => AnySpec::GatewayRoute(typed(value)?),
    })
}

/// The spec as the API answers it (the typed spec serialized again).
pub fn encode_spec(spec: &AnySpec) -> serde_json::Value {
    let v = match spec {
        AnySpec::Mesh(s) => serde_json::to_value(s),
        AnySpec::VirtualService(s) => serde_json::to_value(s),
        AnySpec::VirtualNode(s) => serde_json::to_value(s),
        AnySpec::VirtualRouter(s) => serde_json::to_value(s),
        AnySpec::Route(s) => serde_json::to_value(s),
        AnySpec::VirtualGateway(s) => serde_json::to_value(s),
        AnySpec::GatewayRoute(s) => serde_json::to_value(s),
    };
    v.unwrap_or(serde_json::Value::Null)
}

/// Puts `spec` into `graph` under `id`, replacing what was there.
pub fn put(graph: &mut MeshGraph, id: &ResourceId, spec: AnySpec) {
    let parent = id.parent.clone().unwrap_or_default();
    let name = id.name.clone();
    match spec {
        AnySpec::Mesh(s) => graph.spec = Some(s),
        AnySpec::VirtualService(s) => {
            graph.virtual_services.insert(name, Arc::new(s));
        }
        AnySpec::VirtualNode(s) => {
            graph.virtual_nodes.insert(name, Arc::new(s));
        }
        AnySpec::VirtualRouter(s) => {
            graph.virtual_routers.insert(name, Arc::new(s));
        }
        AnySpec::Route(s) => {
            graph.routes.insert((parent, name), Arc::new(s));
        }
        AnySpec::VirtualGateway(s) => {
            graph.virtual_gateways.insert(name, Arc::new(s));
        }
        AnySpec::GatewayRoute(s) => {
            graph.gateway_routes.insert((parent, name), Arc::new(s));
        }
    }
}

/// Takes `id` out of `graph`.
pub fn remove(graph: &mut MeshGraph, id: &ResourceId) {
    let key = (id.parent.clone().unwrap_or_default(), id.name.clone());
    match id.kind {
        ResourceKind::Mesh => graph.spec = None,
        ResourceKind::VirtualService => {
            graph.virtual_services.remove(&id.name);
        }
        ResourceKind::VirtualNode => {
            graph.virtual_nodes.remove(&id.name);
        }
        ResourceKind::VirtualRouter => {
            graph.virtual_routers.remove(&id.name);
        }
        ResourceKind::Route => {
            graph.routes.remove(&key);
        }
        ResourceKind::VirtualGateway => {
            graph.virtual_gateways.remove(&id.name);
        }
        ResourceKind::GatewayRoute => {
            graph.gateway_routes.remove(&key);
        }
    }
}

impl Mirror {
    /// Builds the mirror of a store snapshot; a stored spec that no longer
    /// decodes is an error naming the resource.
    pub fn from_snapshot(snapshot: Snapshot) -> Result<Mirror, String> {
        let mut mirror = Mirror {
            revision: snapshot.revision,
            meshes: BTreeMap::new(),
        };
        for (record, spec) in decoded(snapshot.records)? {
            mirror.insert(record, spec);
        }
        Ok(mirror)
    }

    /// Applies what another writer committed (see [`Changes`]); a stored
    /// spec that no longer decodes is an error naming the resource, and
    /// then nothing is applied (every spec is decoded before anything
    /// changes, and nothing after that can fail).
    pub fn apply(&mut self, changes: Changes) -> Result<(), String> {
        let (revision, written, deleted) = match changes {
            Changes::Everything(snapshot) => {
                *self = Mirror::from_snapshot(snapshot)?;
                return Ok(());
            }
            Changes::Since {
                revision,
                written,
                deleted,
            } => (revision, written, deleted),
        };
        let written = decoded(written)?;
        for id in deleted {
            if id.kind == ResourceKind::Mesh {
                self.meshes.remove(&id.mesh);
            } else if let Some(mesh) = self.meshes.get_mut(&id.mesh) {
                remove(&mut mesh.graph, &id);
                mesh.records.remove(&id);
            }
        }
        for (record, spec) in written {
            self.insert(record, spec);
        }
        self.revision = revision;
        Ok(())
    }

    /// One stored resource into its mesh (created on first use).
    fn insert(&mut self, record: Record, spec: AnySpec) {
        let mesh = self
            .meshes
            .entry(record.id.mesh.clone())
            .or_insert_with(|| MeshState {
                graph: MeshGraph {
                    name: record.id.mesh.clone(),
                    owner: record.id.owner.clone(),
                    ..MeshGraph::default()
                },
                records: BTreeMap::new(),
            });
        put(&mut mesh.graph, &record.id, spec);
        mesh.records.insert(record.id.clone(), record);
    }

    /// Every API-managed mesh, as the reload pipeline serves it.
    pub fn model(&self) -> MeshModel {
        MeshModel {
            meshes: self
                .meshes
                .iter()
                .map(|(name, m)| (name.clone(), m.graph.clone()))
                .collect(),
        }
    }

    pub fn record(&self, id: &ResourceId) -> Option<&Record> {
        self.meshes.get(&id.mesh).and_then(|m| m.records.get(id))
    }
}

/// The spec `graph` holds under `id`.
pub fn get(graph: &MeshGraph, id: &ResourceId) -> Option<AnySpec> {
    let key = (id.parent.clone().unwrap_or_default(), id.name.clone());
    match id.kind {
        ResourceKind::Mesh => graph.spec.clone().map(AnySpec::Mesh),
        ResourceKind::VirtualService => graph
            .virtual_services
            .get(&id.name)
            .map(|s| (**s).clone())
            .map(AnySpec::VirtualService),
        ResourceKind::VirtualNode => graph
            .virtual_nodes
            .get(&id.name)
            .map(|s| (**s).clone())
            .map(AnySpec::VirtualNode),
        ResourceKind::VirtualRouter => graph
            .virtual_routers
            .get(&id.name)
            .map(|s| (**s).clone())
            .map(AnySpec::VirtualRouter),
        ResourceKind::Route => graph
            .routes
            .get(&key)
            .map(|s| (**s).clone())
            .map(AnySpec::Route),
        ResourceKind::VirtualGateway => graph
            .virtual_gateways
            .get(&id.name)
            .map(|s| (**s).clone())
            .map(AnySpec::VirtualGateway),
        ResourceKind::GatewayRoute => graph
            .gateway_routes
            .get(&key)
            .map(|s| (**s).clone())
            .map(AnySpec::GatewayRoute),
    }
}

/// Every record with its decoded spec; the first one that no longer decodes
/// is an error naming the resource.
fn decoded(records: Vec<Record>) -> Result<Vec<(Record, AnySpec)>, String> {
    records
        .into_iter()
        .map(|record| {
            let spec = decode_spec(record.id.kind, &record.spec)
                .map_err(|e| format!("stored resource {}: {e}", record.id))?;
            Ok((record, spec))
        })
        .collect()
}
