//! From Envoy resource names back to the App Mesh resources and spec files
//! that produced them (for NACKs).

use std::collections::BTreeSet;

use meshplane_spec::{ArnContext, ResourceId};
use meshplane_xds::{ProxyKey, ResourceType};
use serde::Serialize;

use crate::served::Served;

/// One App Mesh resource and where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecSource {
    pub arn: String,
    pub file: Option<String>,
    pub line: Option<u32>,
}

/// An Envoy resource and the App Mesh resources it was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvoySource {
    pub name: String,
    pub app_mesh: Vec<SpecSource>,
}

/// The sources of the named resources of type `t` served to `key`.
pub fn sources(
    served: &Served,
    arn: &ArnContext,
    key: &ProxyKey,
    t: ResourceType,
    names: &[String],
) -> Vec<EnvoySource> {
    let Some(proxy) = served.proxies.get(key) else {
        return Vec::new();
    };
    names
        .iter()
        .map(|name| {
            let ids = proxy
                .translation
                .provenance
                .get(&(t, name.clone()))
                .cloned()
                .unwrap_or_default();
            EnvoySource {
                name: name.clone(),
                app_mesh: ids
                    .iter()
                    .map(|id| {
                        let origin = served.origins.get(id);
                        SpecSource {
                            arn: id.arn(arn),
                            file: origin.map(|o| o.file.display().to_string()),
                            line: origin.and_then(|o| o.line),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The App Mesh resources behind the named resources of type `t` served to
/// `key`.
pub fn source_ids(
    served: &Served,
    key: &ProxyKey,
    t: ResourceType,
    names: &[String],
) -> BTreeSet<ResourceId> {
    let Some(proxy) = served.proxies.get(key) else {
        return BTreeSet::new();
    };
    names
        .iter()
        .filter_map(|name| proxy.translation.provenance.get(&(t, name.clone())))
        .flatten()
        .cloned()
        .collect()
}

/// `arn (file:line), ...` for a log line.
pub fn describe(sources: &[EnvoySource]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for s in sources {
        for a in &s.app_mesh {
            let mut d = a.arn.clone();
            if let Some(f) = &a.file {
                d.push_str(&format!(" ({f}"));
                if let Some(l) = a.line {
                    d.push_str(&format!(":{l}"));
                }
                d.push(')');
            }
            if !seen.contains(&d) {
                seen.push(d);
            }
        }
    }
    if seen.is_empty() {
        "no App Mesh source recorded".to_owned()
    } else {
        seen.join(", ")
    }
}
