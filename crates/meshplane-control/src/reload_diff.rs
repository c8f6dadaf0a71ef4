//! What a reload changes, in `meshplane diff`'s terms: the served
//! configurations of two spec sets as `meshplane-explain` proxies (proto3
//! JSON plus App Mesh sources), the App Mesh resources that differ, and the
//! diff of every proxy whose translation is not shared between the two.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use meshplane_explain::diff::DiffReport;
use meshplane_explain::{diff_proxies, ServedProxy as ExplainProxy, Source};
use meshplane_spec::model::changed_keys;
use meshplane_spec::{ArnContext, MeshGraph, MeshModel, Origins, ResourceId, ResourceKind};
use meshplane_translate::{render, ResourceType, Translation};

use crate::served::Served;
use crate::served_translation::ServedTranslation;

/// The list `render` puts a resource type in.
pub fn kind_name(t: ResourceType) -> &'static str {
    match t {
        ResourceType::Listener => "listeners",
        ResourceType::Route => "routes",
        ResourceType::Cluster => "clusters",
        ResourceType::Endpoint => "endpoints",
        ResourceType::Secret => "secrets",
    }
}

/// One proxy's translation with the spec file and line of each source.
pub fn explain_proxy(
    origins: &Origins,
    id: &ResourceId,
    t: &Translation,
    ctx: &ArnContext,
) -> Result<ExplainProxy, meshplane_envoy::JsonError> {
    let resources = render::to_json(&t.resources)?;
    let sources = t
        .provenance
        .iter()
        .map(|((ty, name), ids)| {
            let list = ids
                .iter()
                .map(|rid| {
                    let origin = origins.get(rid);
                    Source {
                        arn: rid.arn(ctx),
                        file: origin.map(|o| o.file.display().to_string()),
                        line: origin.and_then(|o| o.line),
                    }
                })
                .collect();
            ((kind_name(*ty).to_owned(), name.clone()), list)
        })
        .collect();
    Ok(ExplainProxy {
        arn: id.arn(ctx),
        resources,
        sources,
    })
}

/// [`explain_proxy`] of a served translation (its resources decoded).
pub fn explain_served(
    origins: &Origins,
    id: &ResourceId,
    t: &ServedTranslation,
    ctx: &ArnContext,
) -> Result<ExplainProxy, String> {
    let t = t.to_translation().map_err(|e| e.to_string())?;
    explain_proxy(origins, id, &t, ctx).map_err(|e| e.to_string())
}

/// How many changed proxies a reload's diff details (rendering and diffing
/// every proxy of a change to 1,000 nodes takes seconds of CPU the proxies'
/// updates need); the others are counted in `not_detailed`.
pub const RELOAD_DIFF_DETAIL: usize = 10;

/// The diff from `old` to `new` served sets. Proxies whose translation is
/// the same shared value on both sides (not re-translated), or whose Envoy
/// resources are equal, are counted as unaffected without being rendered;
/// of the others, at most `detail` are diffed.
pub fn between(old: Option<&Served>, new: &Served, ctx: &ArnContext) -> DiffReport {
    between_detailed(old, new, ctx, usize::MAX)
}

/// [`between`], detailing at most `detail` changed proxies (in key order).
pub fn between_detailed(
    old: Option<&Served>,
    new: &Served,
    ctx: &ArnContext,
    detail: usize,
) -> DiffReport {
    let empty = Served::default();
    let old = old.unwrap_or(&empty);
    let mut from = BTreeMap::new();
    let mut to = BTreeMap::new();
    let mut shared = 0;
    let mut not_detailed = 0;
    let mut detailed = 0;
    let keys: BTreeSet<_> = old.proxies.keys().chain(new.proxies.keys()).collect();
    for key in keys {
        let (a, b) = (old.proxies.get(key), new.proxies.get(key));
        if let (Some(a), Some(b)) = (a, b) {
            if Arc::ptr_eq(&a.translation, &b.translation)
                || a.translation.same_resources(&b.translation)
            {
                shared += 1;
                continue;
            }
        }
        if detailed == detail {
            not_detailed += 1;
            continue;
        }
        detailed += 1;
        if let Some(a) = a {
            if let Ok(p) = explain_served(&old.origins, &a.id, &a.translation, ctx) {
                from.insert(key.to_string(), p);
            }
        }
        if let Some(b) = b {
            if let Ok(p) = explain_served(&new.origins, &b.id, &b.translation, ctx) {
                to.insert(key.to_string(), p);
            }
        }
    }
    let changed = changed_resources(&old.model, &new.model, ctx);
    let mut report = diff_proxies(&from, &to, &changed);
    report.unaffected += shared;
    report.not_detailed = not_detailed;
    report
}

/// The ARNs of the App Mesh resources that differ between two models
/// (added, removed or with another spec).
pub fn changed_resources(a: &MeshModel, b: &MeshModel, ctx: &ArnContext) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let empty = MeshGraph::default();
    let names: BTreeSet<&String> = a.meshes.keys().chain(b.meshes.keys()).collect();
    for name in names {
        let (x, y) = (
            a.meshes.get(name).unwrap_or(&empty),
            b.meshes.get(name).unwrap_or(&empty),
        );
        let g = if b.meshes.contains_key(name) { y } else { x };
        if x.spec != y.spec {
            out.insert(ResourceId::mesh(&g.name, &g.owner).arn(ctx));
        }
        let mut ids = Vec::new();
        changed_keys(&x.virtual_services, &y.virtual_services, |n| {
            ids.push(g.id(ResourceKind::VirtualService, n));
        });
        changed_keys(&x.virtual_nodes, &y.virtual_nodes, |n| {
            ids.push(g.id(ResourceKind::VirtualNode, n));
        });
        changed_keys(&x.virtual_routers, &y.virtual_routers, |n| {
            ids.push(g.id(ResourceKind::VirtualRouter, n));
        });
        changed_keys(&x.routes, &y.routes, |(p, n)| {
            ids.push(g.child_id(ResourceKind::Route, p, n));
        });
        changed_keys(&x.virtual_gateways, &y.virtual_gateways, |n| {
            ids.push(g.id(ResourceKind::VirtualGateway, n));
        });
        changed_keys(&x.gateway_routes, &y.gateway_routes, |(p, n)| {
            ids.push(g.child_id(ResourceKind::GatewayRoute, p, n));
        });
        out.extend(ids.iter().map(|id| id.arn(ctx)));
    }
    out
}
