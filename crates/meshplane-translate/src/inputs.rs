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

use std::collections::{BTreeMap, BTreeSet};

use meshplane_spec::identity::ResourceKind;
use meshplane_spec::route::{RouteSpec, WeightedTarget};
use meshplane_spec::MeshGraph;

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

/// One lookup, borrowed from the mesh: an [`Input`] without its copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup<'a> {
    Resource(ResourceKind, &'a str),
    RoutesOf(&'a str),
    GatewayRoutesOf(&'a str),
}

impl Lookup<'_> {
    fn owned(self) -> Input {
        match self {
            Lookup::Resource(kind, name) => Input::Resource(kind, name.to_owned()),
            Lookup::RoutesOf(router) => Input::RoutesOf(router.to_owned()),
            Lookup::GatewayRoutesOf(gateway) => Input::GatewayRoutesOf(gateway.to_owned()),
        }
    }

    fn is(self, input: &Input) -> bool {
        match (self, input) {
            (Lookup::Resource(k, n), Input::Resource(ik, iname)) => k == *ik && n == iname,
            (Lookup::RoutesOf(r), Input::RoutesOf(ir)) => r == ir,
            (Lookup::GatewayRoutesOf(g), Input::GatewayRoutesOf(ig)) => g == ig,
            _ => false,
        }
    }
}

/// The lookups of the translation of the proxy of `kind` `name` (a virtual
/// node or a virtual gateway) against `mesh`.
pub fn inputs(mesh: &MeshGraph, kind: ResourceKind, name: &str) -> BTreeSet<Input> {
    let mut out = BTreeSet::new();
    visit(mesh, kind, name, &mut |l| {
        out.insert(l.owned());
        false
    });
    out
}

/// Calls `f` with each lookup of [`inputs`] (some more than once) until it
/// returns true; whether one did.
fn visit<'a>(
    mesh: &'a MeshGraph,
    kind: ResourceKind,
    name: &'a str,
    f: &mut impl FnMut(Lookup<'a>) -> bool,
) -> bool {
    if f(Lookup::Resource(kind, name)) {
        return true;
    }
    let mut services: Vec<&str> = Vec::new();
    match kind {
        ResourceKind::VirtualGateway => {
            if f(Lookup::GatewayRoutesOf(name)) {
                return true;
            }
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
    let mut seen: Vec<&str> = Vec::with_capacity(services.len());
    for service in services {
        if seen.contains(&service) {
            continue;
        }
        seen.push(service);
        if f(Lookup::Resource(ResourceKind::VirtualService, service)) {
            return true;
        }
        let Some(provider) = mesh
            .virtual_services
            .get(service)
            .and_then(|s| s.provider.as_ref())
        else {
            continue;
        };
        if let Some(n) = &provider.virtual_node {
            if f(Lookup::Resource(
                ResourceKind::VirtualNode,
                &n.virtual_node_name,
            )) {
                return true;
            }
        }
        if let Some(r) = &provider.virtual_router {
            let router = &r.virtual_router_name;
            if f(Lookup::Resource(ResourceKind::VirtualRouter, router))
                || f(Lookup::RoutesOf(router))
            {
                return true;
            }
            for (_, route) in mesh.routes_of(router) {
                for t in all_targets(route) {
                    if f(Lookup::Resource(ResourceKind::VirtualNode, &t.virtual_node)) {
                        return true;
                    }
                }
            }
        }
    }
    false
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

/// Up to this many changed inputs, [`MeshChanges::affects_proxy`] compares
/// each lookup with each of them instead of collecting the lookups.
const FEW_CHANGES: usize = 16;

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
        let mut c = MeshChanges {
            mesh: old.name != new.name || old.owner != new.owner || old.spec != new.spec,
            inputs: BTreeSet::new(),
        };
        let mut add = |kind, name: &String| {
            c.inputs.insert(Input::Resource(kind, name.clone()));
        };
        diff(&old.virtual_services, &new.virtual_services, |n| {
            add(ResourceKind::VirtualService, n)
        });
        diff(&old.virtual_nodes, &new.virtual_nodes, |n| {
            add(ResourceKind::VirtualNode, n)
        });
        diff(&old.virtual_routers, &new.virtual_routers, |n| {
            add(ResourceKind::VirtualRouter, n)
        });
        diff(&old.virtual_gateways, &new.virtual_gateways, |n| {
            add(ResourceKind::VirtualGateway, n)
        });
        diff(&old.routes, &new.routes, |(router, _)| {
            c.inputs.insert(Input::RoutesOf(router.clone()));
        });
        diff(&old.gateway_routes, &new.gateway_routes, |(gateway, _)| {
            c.inputs.insert(Input::GatewayRoutesOf(gateway.clone()));
        });
        c
    }

    /// Whether nothing differs.
    pub fn is_empty(&self) -> bool {
        !self.mesh && self.inputs.is_empty()
    }

    /// Whether the translation of the proxy of `kind` `name` in `mesh` (the
    /// new version) may differ: [`MeshChanges::affects`] of its
    /// [`inputs`], without making the set when few resources changed.
    pub fn affects_proxy(&self, mesh: &MeshGraph, kind: ResourceKind, name: &str) -> bool {
        if self.mesh {
            return true;
        }
        if self.inputs.len() > FEW_CHANGES {
            return self.affects(&inputs(mesh, kind, name));
        }
        visit(mesh, kind, name, &mut |l| {
            self.inputs.iter().any(|i| l.is(i))
        })
    }

    /// Whether a translation with these inputs may differ.
    pub fn affects(&self, inputs: &BTreeSet<Input>) -> bool {
        self.mesh
            || (self.inputs.len() <= inputs.len() && self.inputs.iter().any(|i| inputs.contains(i)))
            || (self.inputs.len() > inputs.len() && inputs.iter().any(|i| self.inputs.contains(i)))
    }
}

fn diff<K: Ord, V: PartialEq>(a: &BTreeMap<K, V>, b: &BTreeMap<K, V>, mut f: impl FnMut(&K)) {
    for (k, v) in a {
        if b.get(k) != Some(v) {
            f(k);
        }
    }
    for k in b.keys() {
        if !a.contains_key(k) {
            f(k);
        }
    }
}
