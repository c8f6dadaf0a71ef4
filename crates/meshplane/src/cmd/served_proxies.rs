//! The served configuration of proxies, computed from spec files the way
//! `render` does (load, validate, translate), with each Envoy resource's App
//! Mesh sources: what `explain` follows and `diff` compares.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use meshplane_control::reload_diff::explain_proxy;
use meshplane_explain::ServedProxy;
use meshplane_load::{load_paths, Loaded};
use meshplane_spec::{validate, ArnContext, Diagnostic, MeshGraph, ResourceId, ResourceKind};
use meshplane_translate::{
    translate_virtual_gateway, translate_virtual_node, TranslateOptions, Translation,
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

fn served(
    origins: &meshplane_spec::Origins,
    id: &ResourceId,
    t: &Translation,
    ctx: &ArnContext,
) -> anyhow::Result<ServedProxy> {
    explain_proxy(origins, id, t, ctx).context("writing the resources as proto3 JSON")
}
