//! The served configuration of proxies, computed from spec files the way
//! `render` does (load, validate, translate), with each Envoy resource's App
//! Mesh sources: what `explain` follows and `diff` compares.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::Context;
use meshplane_explain::{ServedProxy, Source};
use meshplane_load::{load_paths, Loaded};
use meshplane_spec::{
    validate, ArnContext, Diagnostic, MeshGraph, MeshModel, ResourceId, ResourceKind,
};
use meshplane_translate::{
    render, translate_virtual_gateway, translate_virtual_node, ResourceType, TranslateOptions,
    Translation,
};

use super::load_args::LoadArgs;

/// Loaded and validated specs.
pub struct Specs {
    pub loaded: Loaded,
    /// Loading and validation findings, sorted by file and line.
    pub diagnostics: Vec<Diagnostic>,
}

impl Specs {
    pub fn load(paths: &[PathBuf], load: &LoadArgs, ctx: &ArnContext) -> anyhow::Result<Specs> {
        let loaded = load_paths(paths, &load.options(ctx.clone())?);
        let mut diagnostics = loaded.diagnostics.clone();
        diagnostics.extend(validate(&loaded.model, &loaded.origins, ctx));
        diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Ok(Specs {
            loaded,
            diagnostics,
        })
    }

    /// A spec directory or file, or a store URL (`sqlite:PATH`): the
    /// store's meshes as the API serves them (they have no spec files).
    pub fn load_source(source: &str, load: &LoadArgs, ctx: &ArnContext) -> anyhow::Result<Specs> {
        if !is_store_url(source) {
            return Specs::load(&[PathBuf::from(source)], load, ctx);
        }
        let store = meshplane_store::open(source).with_context(|| format!("opening {source}"))?;
        let api = meshplane_api::Api::new(store, ctx.clone())
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("reading {source}"))?;
        let loaded = Loaded {
            model: api.model(),
            origins: Default::default(),
            diagnostics: Vec::new(),
            files: Vec::new(),
            skipped: Vec::new(),
        };
        let mut diagnostics = validate(&loaded.model, &loaded.origins, ctx);
        diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Ok(Specs {
            loaded,
            diagnostics,
        })
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// One proxy's served configuration (`id` a virtual node or gateway).
    pub fn served(&self, id: &ResourceId, opts: &TranslateOptions) -> anyhow::Result<ServedProxy> {
        let graph = self
            .loaded
            .model
            .mesh(&id.mesh)
            .with_context(|| format!("mesh '{}' is not defined in the specs", id.mesh))?;
        let t = translate(graph, id, opts).with_context(|| {
            format!("{} is not defined in mesh '{}'", id.arn(&opts.arn), id.mesh)
        })?;
        served(&self.loaded.origins, id, &t, &opts.arn)
    }

    /// Every proxy's served configuration, by ARN.
    pub fn all_served(
        &self,
        opts: &TranslateOptions,
    ) -> anyhow::Result<BTreeMap<String, ServedProxy>> {
        let mut out = BTreeMap::new();
        for graph in self.loaded.model.meshes.values() {
            let ids = graph
                .virtual_nodes
                .keys()
                .map(|n| graph.id(ResourceKind::VirtualNode, n))
                .chain(
                    graph
                        .virtual_gateways
                        .keys()
                        .map(|n| graph.id(ResourceKind::VirtualGateway, n)),
                );
            for id in ids {
                if let Some(t) = translate(graph, &id, opts) {
                    out.insert(
                        id.arn(&opts.arn),
                        served(&self.loaded.origins, &id, &t, &opts.arn)?,
                    );
                }
            }
        }
        Ok(out)
    }
}

fn translate(graph: &MeshGraph, id: &ResourceId, opts: &TranslateOptions) -> Option<Translation> {
    match id.kind {
        ResourceKind::VirtualNode if graph.virtual_nodes.contains_key(&id.name) => {
            Some(translate_virtual_node(graph, &id.name, opts))
        }
        ResourceKind::VirtualGateway if graph.virtual_gateways.contains_key(&id.name) => {
            Some(translate_virtual_gateway(graph, &id.name, opts))
        }
        _ => None,
    }
}

/// `sqlite:...` or `postgres://...`: a store rather than a path.
pub fn is_store_url(source: &str) -> bool {
    source.starts_with("sqlite:")
        || source.starts_with("postgres:")
        || source.starts_with("postgresql:")
}

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

fn served(
    origins: &meshplane_spec::Origins,
    id: &ResourceId,
    t: &Translation,
    ctx: &ArnContext,
) -> anyhow::Result<ServedProxy> {
    let resources =
        render::to_json(&t.resources).context("writing the resources as proto3 JSON")?;
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
    Ok(ServedProxy {
        arn: id.arn(ctx),
        resources,
        sources,
    })
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
        changed(&x.virtual_services, &y.virtual_services, |n| {
            ids.push(g.id(ResourceKind::VirtualService, n));
        });
        changed(&x.virtual_nodes, &y.virtual_nodes, |n| {
            ids.push(g.id(ResourceKind::VirtualNode, n));
        });
        changed(&x.virtual_routers, &y.virtual_routers, |n| {
            ids.push(g.id(ResourceKind::VirtualRouter, n));
        });
        changed(&x.routes, &y.routes, |(p, n)| {
            ids.push(g.child_id(ResourceKind::Route, p, n));
        });
        changed(&x.virtual_gateways, &y.virtual_gateways, |n| {
            ids.push(g.id(ResourceKind::VirtualGateway, n));
        });
        changed(&x.gateway_routes, &y.gateway_routes, |(p, n)| {
            ids.push(g.child_id(ResourceKind::GatewayRoute, p, n));
        });
        out.extend(ids.iter().map(|id| id.arn(ctx)));
    }
    out
}

fn changed<K: Ord, V: PartialEq>(a: &BTreeMap<K, V>, b: &BTreeMap<K, V>, mut f: impl FnMut(&K)) {
    let keys: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    for k in keys {
        if a.get(k) != b.get(k) {
            f(k);
        }
    }
}
