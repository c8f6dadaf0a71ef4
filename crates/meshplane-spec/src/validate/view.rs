//! A mesh as one resource's checks see it. The checks reach other resources
//! only through [`View`]'s lookups, and a view made with [`View::recording`]
//! notes every name looked up (found or not): what a resource's findings
//! depend on, so an incremental validation knows whom a change concerns.
//! A lookup is noted as a hash of the kind and name ([`Read`]): two that
//! collide only make a change concern one resource more.
//! The mesh's own identity and spec are not recorded: every resource
//! depends on them (`reference.missing` for an undefined mesh), so a change
//! there re-validates the whole mesh.

use std::cell::RefCell;
use std::hash::{Hash, Hasher};

use crate::identity::{ResourceId, ResourceKind};
use crate::mesh::MeshSpec;
use crate::model::MeshGraph;
use crate::virtual_gateway::VirtualGatewaySpec;
use crate::virtual_node::VirtualNodeSpec;
use crate::virtual_router::VirtualRouterSpec;
use crate::virtual_service::VirtualServiceSpec;

/// One lookup of another resource of the mesh: a hash of its kind and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Read(u64);

impl Read {
    pub(crate) fn of(kind: ResourceKind, name: &str) -> Read {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        kind.hash(&mut h);
        name.hash(&mut h);
        Read(h.finish())
    }
}

pub(crate) struct View<'g> {
    graph: &'g MeshGraph,
    /// `None` for a view that does not record (a full validation).
    reads: Option<RefCell<Vec<Read>>>,
}

impl<'g> View<'g> {
    pub(crate) fn new(graph: &'g MeshGraph) -> Self {
        View { graph, reads: None }
    }

    pub(crate) fn recording(graph: &'g MeshGraph) -> Self {
        View {
            graph,
            reads: Some(RefCell::new(Vec::new())),
        }
    }

    /// What the checks looked up, each once.
    pub(crate) fn into_reads(self) -> Vec<Read> {
        let mut reads = self.reads.map(RefCell::into_inner).unwrap_or_default();
        reads.sort();
        reads.dedup();
        reads
    }

    fn read(&self, kind: ResourceKind, name: &str) {
        if let Some(reads) = &self.reads {
            reads.borrow_mut().push(Read::of(kind, name));
        }
    }

    pub(crate) fn name(&self) -> &'g str {
        &self.graph.name
    }

    /// The mesh resource's spec; `None` when it was not loaded.
    pub(crate) fn mesh_spec(&self) -> Option<&'g MeshSpec> {
        self.graph.spec.as_ref()
    }

    pub(crate) fn mesh_id(&self) -> ResourceId {
        ResourceId::mesh(&self.graph.name, &self.graph.owner)
    }

    pub(crate) fn id(&self, kind: ResourceKind, name: &str) -> ResourceId {
        self.graph.id(kind, name)
    }

    pub(crate) fn virtual_node(&self, name: &str) -> Option<&'g VirtualNodeSpec> {
        self.read(ResourceKind::VirtualNode, name);
        self.graph.virtual_nodes.get(name).map(AsRef::as_ref)
    }

    pub(crate) fn virtual_router(&self, name: &str) -> Option<&'g VirtualRouterSpec> {
        self.read(ResourceKind::VirtualRouter, name);
        self.graph.virtual_routers.get(name).map(AsRef::as_ref)
    }

    pub(crate) fn virtual_service(&self, name: &str) -> Option<&'g VirtualServiceSpec> {
        self.read(ResourceKind::VirtualService, name);
        self.graph.virtual_services.get(name).map(AsRef::as_ref)
    }

    pub(crate) fn virtual_gateway(&self, name: &str) -> Option<&'g VirtualGatewaySpec> {
        self.read(ResourceKind::VirtualGateway, name);
        self.graph.virtual_gateways.get(name).map(AsRef::as_ref)
    }
}
