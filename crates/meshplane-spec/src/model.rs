//! The mesh model: every loaded App Mesh resource, grouped by mesh.
//!
//! The model holds specs only, so two models loaded from different formats
//! compare equal when they describe the same mesh. Where each resource came
//! from is kept beside it in [`Origins`].

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Origin};
use crate::gateway_route::GatewayRouteSpec;
use crate::identity::{ArnContext, ResourceId, ResourceKind};
use crate::mesh::MeshSpec;
use crate::route::RouteSpec;
use crate::virtual_gateway::VirtualGatewaySpec;
use crate::virtual_node::VirtualNodeSpec;
use crate::virtual_router::VirtualRouterSpec;
use crate::virtual_service::VirtualServiceSpec;

/// The spec of any one resource, tagged with its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnySpec {
    Mesh(MeshSpec),
    VirtualService(VirtualServiceSpec),
    VirtualNode(VirtualNodeSpec),
    VirtualRouter(VirtualRouterSpec),
    Route(RouteSpec),
    VirtualGateway(VirtualGatewaySpec),
    GatewayRoute(GatewayRouteSpec),
}

impl AnySpec {
    pub fn kind(&self) -> ResourceKind {
        match self {
            AnySpec::Mesh(_) => ResourceKind::Mesh,
            AnySpec::VirtualService(_) => ResourceKind::VirtualService,
            AnySpec::VirtualNode(_) => ResourceKind::VirtualNode,
            AnySpec::VirtualRouter(_) => ResourceKind::VirtualRouter,
            AnySpec::Route(_) => ResourceKind::Route,
            AnySpec::VirtualGateway(_) => ResourceKind::VirtualGateway,
            AnySpec::GatewayRoute(_) => ResourceKind::GatewayRoute,
        }
    }
}

/// One mesh and every resource inside it, keyed by name (routes and gateway
/// routes by `(parent, name)`). Sorted maps keep every walk deterministic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MeshGraph {
    pub name: String,
    pub owner: String,
    /// `None` when resources name this mesh but no mesh resource was loaded.
    pub spec: Option<MeshSpec>,
    pub virtual_services: BTreeMap<String, Arc<VirtualServiceSpec>>,
    pub virtual_nodes: BTreeMap<String, Arc<VirtualNodeSpec>>,
    pub virtual_routers: BTreeMap<String, Arc<VirtualRouterSpec>>,
    pub routes: BTreeMap<(String, String), Arc<RouteSpec>>,
    pub virtual_gateways: BTreeMap<String, Arc<VirtualGatewaySpec>>,
    pub gateway_routes: BTreeMap<(String, String), Arc<GatewayRouteSpec>>,
}

impl MeshGraph {
    /// The mesh spec, or the API defaults when the mesh resource is missing.
    pub fn mesh_spec(&self) -> MeshSpec {
        self.spec.clone().unwrap_or_default()
    }

    /// The routes of one virtual router, in name order.
    pub fn routes_of<'a>(
        &'a self,
        router: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a RouteSpec)> + 'a {
        self.routes
            .range((router.to_owned(), String::new())..)
            .take_while(move |((r, _), _)| r == router)
            .map(|((_, name), spec)| (name.as_str(), spec.as_ref()))
    }

    /// The gateway routes of one virtual gateway, in name order.
    pub fn gateway_routes_of<'a>(
        &'a self,
        gateway: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a GatewayRouteSpec)> + 'a {
        self.gateway_routes
            .range((gateway.to_owned(), String::new())..)
            .take_while(move |((g, _), _)| g == gateway)
            .map(|((_, name), spec)| (name.as_str(), spec.as_ref()))
    }

    pub fn id(&self, kind: ResourceKind, name: &str) -> ResourceId {
        ResourceId::new(&self.name, &self.owner, kind, name)
    }

    pub fn child_id(&self, kind: ResourceKind, parent: &str, name: &str) -> ResourceId {
        ResourceId::child(&self.name, &self.owner, kind, parent, name)
    }

    /// Every resource's identity in this mesh, in a stable order.
    pub fn resource_ids(&self) -> Vec<ResourceId> {
        let mut ids = Vec::new();
        if self.spec.is_some() {
            ids.push(ResourceId::mesh(&self.name, &self.owner));
        }
        ids.extend(
            self.virtual_services
                .keys()
                .map(|n| self.id(ResourceKind::VirtualService, n)),
        );
        ids.extend(
            self.virtual_nodes
                .keys()
                .map(|n| self.id(ResourceKind::VirtualNode, n)),
        );
        ids.extend(
            self.virtual_routers
                .keys()
                .map(|n| self.id(ResourceKind::VirtualRouter, n)),
        );
        ids.extend(
            self.routes
                .keys()
                .map(|(p, n)| self.child_id(ResourceKind::Route, p, n)),
        );
        ids.extend(
            self.virtual_gateways
                .keys()
                .map(|n| self.id(ResourceKind::VirtualGateway, n)),
        );
        ids.extend(
            self.gateway_routes
                .keys()
                .map(|(p, n)| self.child_id(ResourceKind::GatewayRoute, p, n)),
        );
        ids
    }

    fn contains(&self, id: &ResourceId) -> bool {
        let parent = id.parent.clone().unwrap_or_default();
        match id.kind {
            ResourceKind::Mesh => self.spec.is_some(),
            ResourceKind::VirtualService => self.virtual_services.contains_key(&id.name),
            ResourceKind::VirtualNode => self.virtual_nodes.contains_key(&id.name),
            ResourceKind::VirtualRouter => self.virtual_routers.contains_key(&id.name),
            ResourceKind::Route => self.routes.contains_key(&(parent, id.name.clone())),
            ResourceKind::VirtualGateway => self.virtual_gateways.contains_key(&id.name),
            ResourceKind::GatewayRoute => {
                self.gateway_routes.contains_key(&(parent, id.name.clone()))
            }
        }
    }
}

/// Every loaded mesh, keyed by mesh name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MeshModel {
    pub meshes: BTreeMap<String, MeshGraph>,
}

/// The resource was already present in the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is defined more than once")]
pub struct DuplicateResource(pub ResourceId);

impl MeshModel {
    pub fn mesh(&self, name: &str) -> Option<&MeshGraph> {
        self.meshes.get(name)
    }

    pub fn contains(&self, id: &ResourceId) -> bool {
        self.meshes.get(&id.mesh).is_some_and(|m| m.contains(id))
    }

    /// Adds one resource. A resource whose identity is already present is
    /// refused, leaving the model unchanged.
    pub fn insert(&mut self, id: ResourceId, spec: AnySpec) -> Result<(), DuplicateResource> {
        if id.kind != spec.kind() || (id.kind.parent_kind().is_some() != id.parent.is_some()) {
            // A mismatched identity is a programming error in a loader; keep it
            // visible rather than silently filing the spec under the wrong kind.
            debug_assert!(
                false,
                "identity {id} does not match spec kind {:?}",
                spec.kind()
            );
        }
        if self.contains(&id) {
            return Err(DuplicateResource(id));
        }
        let graph = self
            .meshes
            .entry(id.mesh.clone())
            .or_insert_with(|| MeshGraph {
                name: id.mesh.clone(),
                owner: id.owner.clone(),
                ..MeshGraph::default()
            });
        let parent = id.parent.clone().unwrap_or_default();
        match spec {
            AnySpec::Mesh(s) => {
                graph.owner = id.owner.clone();
                graph.spec = Some(s);
            }
            AnySpec::VirtualService(s) => {
                graph.virtual_services.insert(id.name, Arc::new(s));
            }
            AnySpec::VirtualNode(s) => {
                graph.virtual_nodes.insert(id.name, Arc::new(s));
            }
            AnySpec::VirtualRouter(s) => {
                graph.virtual_routers.insert(id.name, Arc::new(s));
            }
            AnySpec::Route(s) => {
                graph.routes.insert((parent, id.name), Arc::new(s));
            }
            AnySpec::VirtualGateway(s) => {
                graph.virtual_gateways.insert(id.name, Arc::new(s));
            }
            AnySpec::GatewayRoute(s) => {
                graph.gateway_routes.insert((parent, id.name), Arc::new(s));
            }
        }
        Ok(())
    }

    /// Replaces the spec of a resource the model holds; `false` (and the
    /// model unchanged) when it holds no resource of that identity.
    pub fn replace(&mut self, id: &ResourceId, spec: AnySpec) -> bool {
        if id.kind != spec.kind() || !self.contains(id) {
            return false;
        }
        let Some(graph) = self.meshes.get_mut(&id.mesh) else {
            return false;
        };
        let parent = id.parent.clone().unwrap_or_default();
        let key = (parent, id.name.clone());
        let slot = match spec {
            AnySpec::Mesh(s) => graph.spec.as_mut().map(|slot| *slot = s),
            AnySpec::VirtualService(s) => graph
                .virtual_services
                .get_mut(&id.name)
                .map(|slot| *slot = Arc::new(s)),
            AnySpec::VirtualNode(s) => graph
                .virtual_nodes
                .get_mut(&id.name)
                .map(|slot| *slot = Arc::new(s)),
            AnySpec::VirtualRouter(s) => graph
                .virtual_routers
                .get_mut(&id.name)
                .map(|slot| *slot = Arc::new(s)),
            AnySpec::Route(s) => graph.routes.get_mut(&key).map(|slot| *slot = Arc::new(s)),
            AnySpec::VirtualGateway(s) => graph
                .virtual_gateways
                .get_mut(&id.name)
                .map(|slot| *slot = Arc::new(s)),
            AnySpec::GatewayRoute(s) => graph
                .gateway_routes
                .get_mut(&key)
                .map(|slot| *slot = Arc::new(s)),
        };
        slot.is_some()
    }

    /// Counts of resources per kind, over every mesh.
    pub fn counts(&self) -> BTreeMap<ResourceKind, usize> {
        let mut counts = BTreeMap::new();
        for graph in self.meshes.values() {
            for id in graph.resource_ids() {
                *counts.entry(id.kind).or_insert(0) += 1;
            }
        }
        counts
    }
}

/// Where each resource of a [`MeshModel`] came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origins {
    /// A persistent map of shared origins: a copy (a reload keeps one to
    /// patch the next time) shares the map's nodes until either side
    /// changes, and costs no copy of each origin.
    pub by_resource: imbl::OrdMap<ResourceId, Arc<Origin>>,
}

impl Origins {
    pub fn get(&self, id: &ResourceId) -> Option<&Origin> {
        self.by_resource.get(id).map(Arc::as_ref)
    }

    /// Records where a resource came from (replacing what was recorded).
    pub fn insert(&mut self, id: ResourceId, origin: Origin) {
        self.by_resource.insert(id, Arc::new(origin));
    }

    /// Points a finding about a resource (its ARN in `resource`, as
    /// translation reports them) at the file and line the resource came
    /// from and, for a field under `spec`, at that field's line and its path
    /// as written in the document. A finding about a resource without an
    /// origin is returned as it is.
    pub fn place(&self, mut d: Diagnostic, ctx: &ArnContext) -> Diagnostic {
        let Some(origin) = d
            .resource
            .as_deref()
            .and_then(|arn| ResourceId::parse(arn, ctx).ok())
            .and_then(|id| self.get(&id))
        else {
            return d;
        };
        let field = d
            .path
            .strip_prefix("spec")
            .map(|p| p.trim_start_matches('.').to_owned());
        d = d.with_origin(origin);
        if let Some(field) = field {
            d.line = origin.line_of(&field).or(origin.line);
            d.path = origin.document_path(&field);
        }
        d
    }
}

/// Calls `f` with each key that is in one map only or whose values differ
/// (what changed between two versions of a model's map),
/// in key order (one walk of both maps side by side).
pub fn changed_keys<K: Ord, V: PartialEq>(
    a: &BTreeMap<K, V>,
    b: &BTreeMap<K, V>,
    f: impl FnMut(&K),
) {
    changed_keys_of(a.iter(), b.iter(), f);
}

/// [`changed_keys`] of two maps given as iterators in key order.
pub fn changed_keys_of<'m, K: Ord + 'm, V: PartialEq + 'm>(
    a: impl Iterator<Item = (&'m K, &'m V)>,
    b: impl Iterator<Item = (&'m K, &'m V)>,
    mut f: impl FnMut(&K),
) {
    let (mut x, mut y) = (a.peekable(), b.peekable());
    loop {
        match (x.peek(), y.peek()) {
            (None, None) => break,
            (Some((k, _)), None) => {
                f(k);
                x.next();
            }
            (None, Some((k, _))) => {
                f(k);
                y.next();
            }
            (Some((ka, va)), Some((kb, vb))) => match ka.cmp(kb) {
                std::cmp::Ordering::Less => {
                    f(ka);
                    x.next();
                }
                std::cmp::Ordering::Greater => {
                    f(kb);
                    y.next();
                }
                std::cmp::Ordering::Equal => {
                    if va != vb {
                        f(ka);
                    }
                    x.next();
                    y.next();
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_insert_is_refused_and_routes_are_grouped_by_router() {
        let mut model = MeshModel::default();
        let r1 = ResourceId::child("m", "1", ResourceKind::Route, "a", "x");
        let r2 = ResourceId::child("m", "1", ResourceKind::Route, "b", "x");
        model
            .insert(r1.clone(), AnySpec::Route(RouteSpec::default()))
            .unwrap();
        model
            .insert(r2, AnySpec::Route(RouteSpec::default()))
            .unwrap();
        assert_eq!(
            model.insert(r1.clone(), AnySpec::Route(RouteSpec::default())),
            Err(DuplicateResource(r1))
        );
        let graph = model.mesh("m").unwrap();
        assert_eq!(graph.routes_of("a").count(), 1);
        assert_eq!(graph.routes_of("b").count(), 1);
        assert_eq!(graph.routes_of("c").count(), 0);
        assert!(graph.spec.is_none());
    }

    #[test]
    fn changed_keys_are_those_of_one_map_only_or_with_other_values() {
        let a = BTreeMap::from([(1, "a"), (2, "b"), (4, "d"), (6, "f")]);
        let b = BTreeMap::from([(0, "z"), (2, "b"), (4, "x"), (5, "e")]);
        let mut keys = Vec::new();
        changed_keys(&a, &b, |k| keys.push(*k));
        assert_eq!(keys, vec![0, 1, 4, 5, 6]);
        keys.clear();
        changed_keys(&a, &a, |k| keys.push(*k));
        assert!(keys.is_empty());
        changed_keys(&BTreeMap::new(), &a, |k| keys.push(*k));
        assert_eq!(keys, vec![1, 2, 4, 6]);
    }
}
