//! Incremental reloads serve exactly what full reloads serve: two pipelines
//! on one spec directory, one incremental (the default: cached files,
//! proxies re-translated only when their inputs changed) and one with
//! `with_full_reloads`, go through random sequences of file edits, valid and
//! invalid; after every edit both serve the same snapshot to every proxy,
//! apply or refuse alike and report the same findings. A third pipeline,
//! told which files each edit wrote or removed (as the file watch tells
//! `meshplane serve`'s), serves the same too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshplane_authz::AccessControl;
use meshplane_control::changed_files::ChangedFiles;
use meshplane_control::{ControlState, Pipeline};
use meshplane_xds::{ResourceType, SnapshotCache};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::support::{arn_ctx, settings};

const NODES: usize = 4;
const SERVICES: usize = 6;

/// The specs as data; every field is one file's worth of choice.
#[derive(Debug, Clone)]
struct Mesh {
    allow_all: bool,
    /// Per node: listener port and backends (service indices).
    nodes: Vec<(u16, Vec<usize>)>,
    /// Per service: `None` absent; provider router (true) or node `k`.
    services: Vec<Option<(bool, usize)>>,
    /// Per router `i` (service `i`'s): its route's weights to nodes `i` and
    /// `i+1`, or no route; `target` may name a node that does not exist.
    routes: Vec<Option<(u32, u32, bool)>>,
    gateway_routes: Vec<Option<usize>>,
    /// Files currently holding a syntax error.
    broken: Vec<String>,
    /// A second file defining node 0 (a duplicate: the first is kept).
    duplicate: bool,
    /// Nodes whose listeners do not decode (the file still names the node).
    undecodable: Vec<usize>,
    /// Node files written on one line (same specs, other lines).
    compact: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Edit {
    AllowAll(bool),
    Port(usize, u16),
    Backends(usize, Vec<usize>),
    Service(usize, Option<(bool, usize)>),
    Route(usize, Option<(u32, u32, bool)>),
    GatewayRoute(usize, Option<usize>),
    Break(usize),
    Fix,
    Duplicate(bool),
    Undecodable(usize, bool),
    Compact(usize, bool),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<bool>().prop_map(Edit::AllowAll),
        (0..NODES, prop_oneof![Just(80u16), Just(8080u16)]).prop_map(|(n, p)| Edit::Port(n, p)),
        (0..NODES, prop::collection::vec(0..SERVICES, 0..3))
            .prop_map(|(n, b)| Edit::Backends(n, b)),
        (
            0..SERVICES,
            prop::option::weighted(0.8, (any::<bool>(), 0..NODES))
        )
            .prop_map(|(s, p)| Edit::Service(s, p)),
        (
            0..SERVICES,
            prop::option::weighted(0.8, (1..100u32, 0..100u32, prop::bool::weighted(0.1)))
        )
            .prop_map(|(r, w)| Edit::Route(r, w)),
        (0..2usize, prop::option::of(0..SERVICES)).prop_map(|(g, s)| Edit::GatewayRoute(g, s)),
        (0..NODES).prop_map(Edit::Break),
        Just(Edit::Fix),
        any::<bool>().prop_map(Edit::Duplicate),
        (0..NODES, any::<bool>()).prop_map(|(n, u)| Edit::Undecodable(n, u)),
        (0..NODES, any::<bool>()).prop_map(|(n, c)| Edit::Compact(n, c)),
    ]
}

impl Mesh {
    fn new() -> Self {
        Mesh {
            allow_all: false,
            nodes: (0..NODES).map(|i| (80, vec![(i + 1) % SERVICES])).collect(),
            services: (0..SERVICES)
                .map(|i| Some((i % 2 == 0, i % NODES)))
                .collect(),
            routes: (0..SERVICES).map(|_| Some((90, 10, false))).collect(),
            gateway_routes: vec![Some(0), None],
            broken: Vec::new(),
            duplicate: false,
            undecodable: Vec::new(),
            compact: Vec::new(),
        }
    }

    fn apply(&mut self, e: &Edit) {
        match e.clone() {
            Edit::AllowAll(a) => self.allow_all = a,
            Edit::Port(n, p) => self.nodes[n].0 = p,
            Edit::Backends(n, b) => self.nodes[n].1 = b,
            Edit::Service(s, p) => self.services[s] = p,
            Edit::Route(r, w) => self.routes[r] = w,
            Edit::GatewayRoute(g, s) => self.gateway_routes[g] = s,
            Edit::Break(n) => self.broken.push(format!("node-{n}.json")),
            Edit::Fix => self.broken.clear(),
            Edit::Duplicate(d) => self.duplicate = d,
            Edit::Undecodable(n, u) => toggle(&mut self.undecodable, n, u),
            Edit::Compact(n, c) => toggle(&mut self.compact, n, c),
        }
    }

    /// Every file's content by name.
    fn files(&self) -> BTreeMap<String, Value> {
        let mut f = BTreeMap::new();
        let egress = if self.allow_all {
            "ALLOW_ALL"
        } else {
            "DROP_ALL"
        };
        f.insert(
            "mesh.json".into(),
            json!({"meshName": "m", "spec": {"egressFilter": {"type": egress}}}),
        );
        for (i, (port, backends)) in self.nodes.iter().enumerate() {
            let backends: Vec<Value> = backends
                .iter()
                .map(|s| json!({"virtualService": {"virtualServiceName": format!("s{s}.m.local")}}))
                .collect();
            let listeners = if self.undecodable.contains(&i) {
                json!("not a list")
            } else {
                json!([{"portMapping": {"port": port, "protocol": "http"}}])
            };
            f.insert(
                format!("node-{i}.json"),
                json!({"meshName": "m", "virtualNodeName": format!("n{i}"), "spec": {
                    "listeners": listeners,
                    "serviceDiscovery": {"dns": {"hostname": format!("n{i}.m.local")}},
                    "backends": backends}}),
            );
        }
        if self.duplicate {
            f.insert(
                "node-x-duplicate.json".into(),
                json!({"meshName": "m", "virtualNodeName": "n0", "spec": {
                    "listeners": [{"portMapping": {"port": 9090, "protocol": "http"}}],
                    "serviceDiscovery": {"dns": {"hostname": "n0-other.m.local"}}}}),
            );
        }
        for (i, s) in self.services.iter().enumerate() {
            let Some((router, node)) = s else { continue };
            let provider = if *router {
                json!({"virtualRouter": {"virtualRouterName": format!("r{i}")}})
            } else {
                json!({"virtualNode": {"virtualNodeName": format!("n{node}")}})
            };
            f.insert(
                format!("service-{i}.json"),
                json!({"meshName": "m", "virtualServiceName": format!("s{i}.m.local"),
                    "spec": {"provider": provider}}),
            );
            f.insert(
                format!("router-{i}.json"),
                json!({"meshName": "m", "virtualRouterName": format!("r{i}"), "spec": {
                    "listeners": [{"portMapping": {"port": 80, "protocol": "http"}}]}}),
            );
        }
        for (i, r) in self.routes.iter().enumerate() {
            let Some((a, b, missing)) = r else { continue };
            if self.services[i].is_none() {
                continue;
            }
            let second = if *missing {
                "nowhere".to_owned()
            } else {
                format!("n{}", (i + 1) % NODES)
            };
            f.insert(
                format!("route-{i}.json"),
                json!({"meshName": "m", "virtualRouterName": format!("r{i}"), "routeName": "main",
                    "spec": {"httpRoute": {"match": {"prefix": "/"}, "action": {"weightedTargets": [
                        {"virtualNode": format!("n{}", i % NODES), "weight": a},
                        {"virtualNode": second, "weight": b}]}}}}),
            );
        }
        f.insert(
            "gateway.json".into(),
            json!({"meshName": "m", "virtualGatewayName": "gw", "spec": {
                "listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}]}}),
        );
        for (g, s) in self.gateway_routes.iter().enumerate() {
            let Some(s) = s else { continue };
            f.insert(
                format!("gateway-route-{g}.json"),
                json!({"meshName": "m", "virtualGatewayName": "gw", "gatewayRouteName": format!("g{g}"),
                    "spec": {"httpRoute": {"match": {"prefix": format!("/{g}")},
                        "action": {"target": {"virtualService": {"virtualServiceName": format!("s{s}.m.local")}}}}}}),
            );
        }
        f
    }

    /// Writes what changed since `written` and removes files no longer
    /// there; the paths it wrote or removed (what a file watch reports).
    fn write(&self, dir: &Path, written: &mut BTreeMap<String, String>) -> Vec<PathBuf> {
        let mut touched = Vec::new();
        let mut now: BTreeMap<String, String> = self
            .files()
            .into_iter()
            .map(|(k, v)| {
                let compact = self.compact.iter().any(|n| k == format!("node-{n}.json"));
                let text = if compact {
                    serde_json::to_string(&v)
                } else {
                    serde_json::to_string_pretty(&v)
                };
                (k, text.unwrap())
            })
            .collect();
        for b in &self.broken {
            if let Some(text) = now.get_mut(b) {
                text.push_str("\n{ not json");
            }
        }
        for (name, text) in &now {
            if written.get(name) != Some(text) {
                std::fs::write(dir.join(name), text).unwrap();
                touched.push(dir.join(name));
            }
        }
        for name in written.keys() {
            if !now.contains_key(name) {
                std::fs::remove_file(dir.join(name)).unwrap();
                touched.push(dir.join(name));
            }
        }
        *written = now;
        touched
    }
}

fn toggle(set: &mut Vec<usize>, n: usize, on: bool) {
    set.retain(|x| *x != n);
    if on {
        set.push(n);
    }
}

fn pipeline(dir: &Path, full: bool) -> (Pipeline, SnapshotCache) {
    let cache = SnapshotCache::new();
    let state = ControlState::new(arn_ctx(), AccessControl::insecure_no_auth());
    let p = Pipeline::new(settings(vec![dir.to_owned()]), cache.clone(), state);
    (if full { p.with_full_reloads() } else { p }, cache)
}

/// Every proxy's version of every type.
fn served(cache: &SnapshotCache) -> BTreeMap<String, Vec<String>> {
    cache
        .keys()
        .into_iter()
        .map(|k| {
            let s = cache.get(&k).unwrap();
            let versions = ResourceType::ALL
                .iter()
                .map(|t| s.of_type(*t).version().to_string())
                .collect();
            (k.to_string(), versions)
        })
        .collect()
}

fn same_after_every_edit(edits: &[Edit]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut mesh = Mesh::new();
    let mut written = BTreeMap::new();
    mesh.write(dir.path(), &mut written);
    let (incremental, inc_cache) = pipeline(dir.path(), false);
    let (full, full_cache) = pipeline(dir.path(), true);
    // A third, told which files changed as `meshplane serve`'s file watch
    // tells it; it must serve what the other two serve.
    let (told, told_cache) = pipeline(dir.path(), false);
    let changed = Arc::new(ChangedFiles::new());
    let told = told.with_changed_files(changed.clone());
    let (a, b) = (incremental.reload(), full.reload());
    prop_assert!(a.applied && b.applied, "{:?}", a.diagnostics);
    told.reload();
    for (step, e) in edits.iter().enumerate() {
        mesh.apply(e);
        let touched = mesh.write(dir.path(), &mut written);
        changed.note(touched.iter().map(|p| std::path::absolute(p).unwrap()));
        let c = told.reload();
        let (a, b) = (incremental.reload(), full.reload());
        prop_assert_eq!(
            &c.diagnostics,
            &b.diagnostics,
            "told, step {}: {:?}",
            step,
            e
        );
        prop_assert_eq!(
            served(&told_cache),
            served(&full_cache),
            "told, step {}: {:?}",
            step,
            e
        );
        prop_assert_eq!(a.applied, b.applied, "step {}: {:?}", step, e);
        prop_assert_eq!(&a.diagnostics, &b.diagnostics, "step {}: {:?}", step, e);
        prop_assert_eq!(&a.skipped_documents, &b.skipped_documents);
        // The spec set and where each resource came from, as served.
        let (sa, sb) = (incremental.state().served(), full.state().served());
        let model = |s: &Option<std::sync::Arc<meshplane_control::Served>>| {
            s.as_ref().map(|s| (s.model.clone(), s.origins.clone()))
        };
        prop_assert_eq!(model(&sa), model(&sb), "step {}: {:?}", step, e);
        prop_assert_eq!(
            served(&inc_cache),
            served(&full_cache),
            "step {}: {:?}",
            step,
            e
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn incremental_reloads_serve_what_full_reloads_serve(
        edits in prop::collection::vec(edit(), 1..12)
    ) {
        same_after_every_edit(&edits)?;
    }
}

/// The edits proptest would take longest to find together: a route change
/// that only its router's clients see, then a break and a fix of another
/// file.
#[test]
fn narrow_change_then_broken_file_then_fix() {
    same_after_every_edit(&[
        Edit::Route(1, Some((50, 50, false))),
        Edit::Break(2),
        Edit::Route(1, Some((10, 90, false))),
        Edit::Fix,
        Edit::Service(3, None),
        Edit::Service(3, Some((true, 0))),
    ])
    .unwrap();
}

/// The edits a kept model is patched with (a spec changed, a file laid out
/// again) and the ones that assemble it afresh (a duplicate, a spec that
/// no longer decodes), in turn.
#[test]
fn patched_model_then_duplicate_then_undecodable() {
    same_after_every_edit(&[
        Edit::Port(1, 8080),
        Edit::Compact(1, true),
        Edit::Duplicate(true),
        Edit::Port(0, 8080),
        Edit::Duplicate(false),
        Edit::Undecodable(2, true),
        Edit::Port(2, 8080),
        Edit::Undecodable(2, false),
        Edit::Route(0, Some((30, 70, false))),
        Edit::Compact(1, false),
    ])
    .unwrap();
}
