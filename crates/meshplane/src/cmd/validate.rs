//! `meshplane validate [PATH...]`: load specs, run every validation rule and
//! print all findings at once, sorted by file and line.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use meshplane_load::{load_paths, Skipped};
use meshplane_spec::{validate, Diagnostic, MeshModel, ResourceKind};
use serde::Serialize;

use super::load_args::LoadArgs;
use super::{Global, EXIT_FAILURE};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec files or directories (searched recursively for .json, .yaml, .yml).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(global: &Global, args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let ctx = global.arn_context();
    let opts = args.load.options(ctx.clone())?;
    let loaded = load_paths(&args.paths, &opts);
    let notes = args.load.skipped_lines(&loaded);
    let mut diagnostics = loaded.diagnostics;
    diagnostics.extend(validate(&loaded.model, &loaded.origins, &ctx));
    // Stable: the loader's and the validator's own order is kept per line.
    diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let mut report = Report::new(&loaded.model, loaded.files.len(), diagnostics);
    report.add_skipped(&loaded.skipped);

    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
            for note in &notes {
                writeln!(out, "{note}")?;
            }
            for d in &report.diagnostics {
                writeln!(out, "{d}")?;
            }
            writeln!(out, "{}", report.summary.text)?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &report).context("writing the JSON report")?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILURE)
    })
}

#[derive(Debug, Serialize)]
struct Report {
    valid: bool,
    summary: Summary,
    diagnostics: Vec<Diagnostic>,
    /// `file:line: skipped document N: what it is`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Summary {
    /// The one-line summary the text format prints.
    text: String,
    files: usize,
    /// Documents left out because they are not App Mesh specs.
    skipped_documents: usize,
    errors: usize,
    warnings: usize,
    /// Resource counts per mesh, keyed by the ARN kind segment.
    meshes: BTreeMap<String, BTreeMap<&'static str, usize>>,
}

/// Kinds in the order the summary lists them, with their singular and plural.
const KINDS: [(ResourceKind, &str, &str); 6] = [
    (ResourceKind::VirtualNode, "virtual node", "virtual nodes"),
    (
        ResourceKind::VirtualService,
        "virtual service",
        "virtual services",
    ),
    (
        ResourceKind::VirtualRouter,
        "virtual router",
        "virtual routers",
    ),
    (ResourceKind::Route, "route", "routes"),
    (
        ResourceKind::VirtualGateway,
        "virtual gateway",
        "virtual gateways",
    ),
    (
        ResourceKind::GatewayRoute,
        "gateway route",
        "gateway routes",
    ),
];

fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn kinds_text(counts: &BTreeMap<ResourceKind, usize>) -> String {
    let parts: Vec<String> = KINDS
        .iter()
        .filter_map(|(k, one, many)| {
            counts
                .get(k)
                .filter(|n| **n > 0)
                .map(|n| counted(*n, one, many))
        })
        .collect();
    if parts.is_empty() {
        "no resources".to_owned()
    } else {
        parts.join(", ")
    }
}

impl Report {
    fn new(model: &MeshModel, files: usize, diagnostics: Vec<Diagnostic>) -> Report {
        let errors = diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = diagnostics.len() - errors;
        let mut per_mesh: BTreeMap<String, BTreeMap<ResourceKind, usize>> = BTreeMap::new();
        for (name, graph) in &model.meshes {
            let counts = per_mesh.entry(name.clone()).or_default();
            for id in graph.resource_ids() {
                *counts.entry(id.kind).or_insert(0) += 1;
            }
        }
        let totals = model.counts();
        let names: Vec<&str> = per_mesh.keys().map(String::as_str).collect();
        let mut text = if errors > 0 {
            format!(
                "invalid: {}, {} in {}",
                counted(errors, "error", "errors"),
                counted(warnings, "warning", "warnings"),
                counted(files, "file", "files")
            )
        } else if names.is_empty() {
            format!(
                "valid: no App Mesh resources found in {}",
                counted(files, "file", "files")
            )
        } else {
            let mut t = format!(
                "valid: {} ({}): {}",
                counted(names.len(), "mesh", "meshes"),
                names.join(", "),
                kinds_text(&totals)
            );
            if names.len() > 1 {
                for (name, counts) in &per_mesh {
                    t.push_str(&format!("; {name}: {}", kinds_text(counts)));
                }
            }
            t
        };
        if errors == 0 && warnings > 0 {
            text.push_str(&format!(" ({})", counted(warnings, "warning", "warnings")));
        }
        let meshes = per_mesh
            .into_iter()
            .map(|(name, counts)| {
                (
                    name,
                    counts
                        .into_iter()
                        .map(|(k, n)| (k.arn_segment(), n))
                        .collect(),
                )
            })
            .collect();
        Report {
            valid: errors == 0,
            summary: Summary {
                text,
                files,
                skipped_documents: 0,
                errors,
                warnings,
                meshes,
            },
            diagnostics,
            skipped: Vec::new(),
        }
    }
}

impl Report {
    /// Counts the skipped documents in the summary (and lists them in JSON).
    fn add_skipped(&mut self, skipped: &[Skipped]) {
        if skipped.is_empty() {
            return;
        }
        self.summary.skipped_documents = skipped.len();
        self.summary.text.push_str(&format!(
            "; {} skipped (not App Mesh specs; --verbose lists them)",
            counted(skipped.len(), "document", "documents")
        ));
        self.skipped = skipped.iter().map(ToString::to_string).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshplane_spec::{AnySpec, ResourceId};

    fn model(ids: &[&str]) -> MeshModel {
        let ctx = meshplane_spec::ArnContext::default();
        let mut m = MeshModel::default();
        for id in ids {
            let id = ResourceId::parse(id, &ctx).expect("id");
            let spec = match id.kind {
                ResourceKind::Mesh => AnySpec::Mesh(Default::default()),
                ResourceKind::VirtualNode => AnySpec::VirtualNode(Default::default()),
                ResourceKind::VirtualService => AnySpec::VirtualService(Default::default()),
                ResourceKind::VirtualRouter => AnySpec::VirtualRouter(Default::default()),
                ResourceKind::Route => AnySpec::Route(Default::default()),
                ResourceKind::VirtualGateway => AnySpec::VirtualGateway(Default::default()),
                ResourceKind::GatewayRoute => AnySpec::GatewayRoute(Default::default()),
            };
            m.insert(id, spec).expect("insert");
        }
        m
    }

    #[test]
    fn summary_lines() {
        let one = model(&[
            "mesh/apps",
            "mesh/apps/virtualNode/a",
            "mesh/apps/virtualNode/b",
            "mesh/apps/virtualNode/c",
            "mesh/apps/virtualService/x",
            "mesh/apps/virtualService/y",
            "mesh/apps/virtualRouter/r",
            "mesh/apps/virtualRouter/r/route/web",
        ]);
        assert_eq!(
            Report::new(&one, 8, vec![]).summary.text,
            "valid: 1 mesh (apps): 3 virtual nodes, 2 virtual services, 1 virtual router, 1 route"
        );
        let two = model(&[
            "mesh/a",
            "mesh/a/virtualNode/n",
            "mesh/b",
            "mesh/b/virtualGateway/g",
        ]);
        let warn = Diagnostic::warning("warn.x", "spec", "w");
        let report = Report::new(&two, 2, vec![warn.clone()]);
        assert!(report.valid);
        assert_eq!(
            report.summary.text,
            "valid: 2 meshes (a, b): 1 virtual node, 1 virtual gateway; a: 1 virtual node; b: 1 virtual gateway (1 warning)"
        );
        let bad = Report::new(&two, 2, vec![Diagnostic::error("x", "spec", "e"), warn]);
        assert!(!bad.valid);
        assert_eq!(bad.summary.text, "invalid: 1 error, 1 warning in 2 files");
        assert_eq!(bad.summary.meshes["b"]["virtualGateway"], 1);
    }

    #[test]
    fn params_are_name_equals_value() {
        use meshplane_load::parse_assignment;
        assert_eq!(
            parse_assignment("Env=prod=1"),
            Ok(("Env".into(), "prod=1".into()))
        );
        assert!(parse_assignment("=x").is_err());
        assert!(parse_assignment("novalue").is_err());
    }

    #[test]
    fn skipped_documents_are_counted_in_the_summary() {
        let one = model(&["mesh/apps", "mesh/apps/virtualNode/a"]);
        let mut report = Report::new(&one, 1, vec![]);
        let skipped = |n: usize| Skipped {
            file: "app.yaml".into(),
            document: n,
            line: Some(1),
            what: "Kubernetes Deployment 'a' (apps/v1) is not an App Mesh resource".into(),
        };
        report.add_skipped(&[skipped(0), skipped(2)]);
        assert_eq!(
            report.summary.text,
            "valid: 1 mesh (apps): 1 virtual node; 2 documents skipped (not App Mesh specs; --verbose lists them)"
        );
        assert_eq!(report.summary.skipped_documents, 2);
        assert_eq!(report.skipped[1], "app.yaml:1: skipped document 2: Kubernetes Deployment 'a' (apps/v1) is not an App Mesh resource");
    }
}
