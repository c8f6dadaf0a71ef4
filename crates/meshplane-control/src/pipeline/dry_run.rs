//! `/debug/diff`: what a spec set (the request body) would change if it
//! replaced the served one, without applying anything.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use meshplane_explain::diff::DiffReport;
use meshplane_load::load_str;
use meshplane_spec::{validate, Diagnostic};
use meshplane_xds::ProxyKey;

use super::{proxies, Pipeline};
use crate::reload_diff;
use crate::served::{Served, ServedProxy};
use crate::served_translation::ServedTranslation;

/// The name the request body's findings carry.
pub const BODY: &str = "request body";

impl Pipeline {
    /// The diff from what is served to the specs in `text` (any input
    /// format, one file's content); their findings when they are invalid.
    pub fn dry_run(&self, text: &str) -> Result<DiffReport, Vec<Diagnostic>> {
        let arn = &self.settings.load.arn;
        let loaded = load_str(Path::new(BODY), text, &self.settings.load);
        let mut diagnostics = loaded.diagnostics.clone();
        diagnostics.extend(validate(&loaded.model, &loaded.origins, arn));
        if diagnostics.iter().any(Diagnostic::is_error) {
            return Err(diagnostics);
        }
        let mut translate = self.settings.translate.clone();
        translate.held_certificates = self.held_certificates().arns();
        let mut proxies = BTreeMap::new();
        for graph in loaded.model.meshes.values() {
            for (kind, name) in proxies::of(graph) {
                let id = graph.id(kind, name);
                let translation = proxies::translate(graph, kind, name, &translate);
                let translation = ServedTranslation::encode(translation, self.cache.interner())
                    .map_err(|e| {
                        vec![Diagnostic::error(
                            "serve.snapshot",
                            "",
                            format!("the Envoy resources of this node cannot be served ({e})"),
                        )
                        .with_resource(id.arn(arn))]
                    })?;
                proxies.insert(
                    ProxyKey::new(id.arn(arn)),
                    ServedProxy {
                        id,
                        translation: Arc::new(translation),
                    },
                );
            }
        }
        let next = Served {
            model: loaded.model,
            origins: loaded.origins,
            proxies,
        };
        let served = self.state.served();
        Ok(reload_diff::between(served.as_deref(), &next, arn))
    }
}
