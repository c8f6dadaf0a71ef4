//! What a proxy's translation reads from its mesh, so a reload can tell
//! which proxies a change of specs can affect and reuse the translation of
//! the others.
//!
//! The translation of a proxy is a function of its mesh's identity and
//! spec, the options, and the resources it looks up by name: the proxy's
//! own resource; each backend (or gateway route target) virtual service;
//! that service's provider, a virtual node or a virtual router with all of
//! its routes; and the virtual nodes those routes target. [`inputs`] lists
//! those lookups against one mesh, names that are not defined included (a
//! resource created under such a name changes the translation). A proxy
//! whose inputs name no resource of a [`MeshChanges`] translates the same
//! in both meshes: every lookup on the way to a changed resource starts
//! from unchanged ones, so the changed one is among the inputs computed in
//! either mesh.

use std::collections::{BTreeSet, HashSet};

use meshplane_spec::identity::ResourceKind;
use meshplane_spec::model_changes::{resources_between, MeshDelta};
use meshplane_spec::route::{RouteSpec, WeightedTarget};
use meshplane_spec::{MeshGraph, ResourceId};

/// One lookup of a translation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    /// A resource by kind and name (routes and gateway routes: by parent).
    Resource(ResourceKind, String),
    /// Every route of a virtual router (looked up as a whole).
    RoutesOf(String),
    /// Every gateway route of a virtual gateway.
    GatewayRoutesOf(String),
}

/// The lookups of the translation of the proxy of `kind` `name` (a virtual
/// node or a virtual gateway) against `mesh`.
pub fn inputs(mesh: &MeshGraph, kind: ResourceKind, name: &str) -> BTreeSet<Input> {
    let mut out = BTreeSet::new();
    out.insert(Input::Resource(kind, name.to_owned()));
    if kind == ResourceKind::VirtualGateway {
        out.insert(Input::GatewayRoutesOf(name.to_owned()));
    }
    for service in services_called(mesh, kind, name) {
        if !out.insert(Input::Resource(
            ResourceKind::VirtualService,
            service.to_owned(),
        )) {
            continue;
        }
        let Some(provider) = mesh
            .virtual_services
            .get(service)
            .and_then(|s| s.provider.as_ref())
        else {
            continue;
        };
        if let Some(n) = &provider.virtual_node {
            out.insert(Input::Resource(
                ResourceKind::VirtualNode,
                n.virtual_node_name.clone(),
            ));
        }
        if let Some(r) = &provider.virtual_router {
            let router = &r.virtual_router_name;
            out.insert(Input::Resource(ResourceKind::VirtualRouter, router.clone()));
            out.insert(Input::RoutesOf(router.clone()));
            for (_, route) in mesh.routes_of(router) {
                for t in all_targets(route) {
                    out.insert(Input::Resource(
                        ResourceKind::VirtualNode,
                        t.virtual_node.clone(),
                    ));
                }
            }
        }
    }
    out
}

/// The virtual services the proxy of `kind` `name` calls (some more than
/// once): a gateway's gateway route targets, a node's backends.
fn services_called<'a>(mesh: &'a MeshGraph, kind: ResourceKind, name: &'a str) -> Vec<&'a str> {
    let mut services: Vec<&str> = Vec::new();
    match kind {
        ResourceKind::VirtualGateway => {
            for r in mesh.gateway_routes_of(name).map(|(_, r)| r) {
                let kinds = [&r.http_route, &r.http2_route];
                for h in kinds.into_iter().flatten() {
                    services.push(&h.action.target.virtual_service.virtual_service_name);
                }
                if let Some(g) = &r.grpc_route {
                    services.push(&g.action.target.virtual_service.virtual_service_name);
                }
            }
        }
        _ => {
            if let Some(node) = mesh.virtual_nodes.get(name) {
                for b in node.backends() {
                    if let Some(vs) = &b.virtual_service {
                        services.push(&vs.virtual_service_name);
                    }
                }
            }
        }
    }
    services
}

/// The targets of every route kind of a route (a valid route has one kind;
/// an invalid one is read the same way).
fn all_targets(r: &RouteSpec) -> impl Iterator<Item = &WeightedTarget> {
    let http = [&r.http_route, &r.http2_route]
        .into_iter()
        .flatten()
        .flat_map(|h| h.action.weighted_targets.iter());
    let grpc = r
        .grpc_route
        .iter()
        .flat_map(|g| g.action.weighted_targets.iter());
    let tcp = r
        .tcp_route
        .iter()
        .flat_map(|t| t.action.weighted_targets.iter());
    http.chain(grpc).chain(tcp)
}

/// What differs between two versions of one mesh.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeshChanges {
    /// The mesh's own identity or spec changed: every proxy is affected.
    pub mesh: bool,
    /// Resources added, removed or changed, as [`Input`]s (a route or
    /// gateway route also as its parent's `RoutesOf`/`GatewayRoutesOf`).
    pub inputs: BTreeSet<Input>,
}

impl MeshChanges {
    /// The differences from `old` to `new`.
    pub fn between(old: &MeshGraph, new: &MeshGraph) -> MeshChanges {
        let mut c = MeshChanges::of_resources(&resources_between(old, new));
        c.mesh |= old.name != new.name || old.owner != new.owner;
        c
    }

    /// The differences a model's changes give for one mesh (`None`: the
    /// mesh did not change); a resource that only moved in its file
    /// changes no translation.
    pub fn of_delta(delta: Option<&MeshDelta>) -> MeshChanges {
        match delta {
            None => MeshChanges::default(),
            Some(MeshDelta::Whole) => MeshChanges {
                mesh: true,
                inputs: BTreeSet::new(),
            },
            Some(MeshDelta::Resources { specs, .. }) => MeshChanges::of_resources(specs),
        }
    }

    /// These resources changed in spec (the mesh resource: every proxy).
    fn of_resources(ids: &BTreeSet<ResourceId>) -> MeshChanges {
        let mut c = MeshChanges::default();
        for id in ids {
            let parent = || id.parent.clone().unwrap_or_default();
            let input = match id.kind {
                ResourceKind::Mesh => {
                    c.mesh = true;
                    continue;
                }
                ResourceKind::Route => Input::RoutesOf(parent()),
                ResourceKind::GatewayRoute => Input::GatewayRoutesOf(parent()),
                kind => Input::Resource(kind, id.name.clone()),
            };
            c.inputs.insert(input);
        }
        c
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        !self.mesh && self.inputs.is_empty()
    }

    /// The proxies of `mesh` (the new version) these changes affect.
    pub fn affected<'a>(&'a self, mesh: &'a MeshGraph) -> Affected<'a> {
        let mut a = Affected {
            changes: self,
            nodes: HashSet::new(),
            gateways: HashSet::new(),
            services: HashSet::new(),
        };
        let mut routers = HashSet::new();
        for i in &self.inputs {
            match i {
                Input::Resource(ResourceKind::VirtualNode, n) => {
                    a.nodes.insert(n.as_str());
                }
                Input::Resource(ResourceKind::VirtualRouter, r) | Input::RoutesOf(r) => {
                    routers.insert(r.as_str());
                }
                Input::Resource(ResourceKind::VirtualService, s) => {
                    a.services.insert(s.as_str());
                }
                Input::Resource(ResourceKind::VirtualGateway, g) | Input::GatewayRoutesOf(g) => {
                    a.gateways.insert(g.as_str());
                }
                Input::Resource(_, _) => {}
            }
        }
        if !a.nodes.is_empty() {
            for ((router, _), route) in &mesh.routes {
                if all_targets(route).any(|t| a.nodes.contains(t.virtual_node.as_str())) {
                    routers.insert(router.as_str());
                }
            }
        }
        for (name, service) in &mesh.virtual_services {
            let Some(p) = &service.provider else {
                continue;
            };
            let by_node = p
                .virtual_node
                .as_ref()
                .is_some_and(|n| a.nodes.contains(n.virtual_node_name.as_str()));
            let by_router = p
                .virtual_router
                .as_ref()
                .is_some_and(|r| routers.contains(r.virtual_router_name.as_str()));
            if by_node || by_router {
                a.services.insert(name.as_str());
            }
        }
        a
    }

    /// Whether a translation with these inputs may differ.
    pub fn affects(&self, inputs: &BTreeSet<Input>) -> bool {
        self.mesh
            || (self.inputs.len() <= inputs.len() && self.inputs.iter().any(|i| inputs.contains(i)))
            || (self.inputs.len() > inputs.len() && inputs.iter().any(|i| self.inputs.contains(i)))
    }
}

/// The proxies a [`MeshChanges`] affects in one mesh, found from the
/// changes back to the proxies (the same answer as
/// [`MeshChanges::affects`] of each proxy's [`inputs`], without walking
/// every proxy's lookups): a proxy is affected when its own resource, or a
/// gateway's gateway routes, changed, or when it calls an affected virtual
/// service: one that changed, or whose provider is a changed virtual node,
/// or a virtual router that changed, whose routes changed or whose routes
/// target a changed virtual node.
#[derive(Debug)]
pub struct Affected<'a> {
    changes: &'a MeshChanges,
    nodes: HashSet<&'a str>,
    gateways: HashSet<&'a str>,
    services: HashSet<&'a str>,
}

impl Affected<'_> {
    /// Whether the translation of the proxy of `kind` `name` may differ.
    pub fn proxy(&self, mesh: &MeshGraph, kind: ResourceKind, name: &str) -> bool {
        if self.changes.mesh {
            return true;
        }
        let own = match kind {
            ResourceKind::VirtualNode => self.nodes.contains(name),
            ResourceKind::VirtualGateway => self.gateways.contains(name),
            _ => return self.changes.affects(&inputs(mesh, kind, name)),
        };
        own || services_called(mesh, kind, name)
            .into_iter()
            .any(|s| self.services.contains(s))
    }
}
