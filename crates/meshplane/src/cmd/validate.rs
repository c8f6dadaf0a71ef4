//! `meshplane validate [PATH...]`: load specs, run every validation rule and
//! print all findings at once, sorted by file and line.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use meshplane_load::{load_paths, LoadOptions};
use meshplane_spec::{validate, Diagnostic, MeshModel, ResourceKind};
use serde::Serialize;

use super::{Global, EXIT_FAILURE};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec files or directories (searched recursively for .json, .yaml, .yml).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// A CloudFormation template parameter value, as Name=Value (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("'{s}' is not of the form Name=Value")),
    }
}

pub fn run(global: &Global, args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let ctx = global.arn_context();
    let opts = LoadOptions {
        arn: ctx.clone(),
        params: args.params.into_iter().collect(),
    };
    let loaded = load_paths(&args.paths, &opts);
    let mut diagnostics = loaded.diagnostics;
    diagnostics.extend(validate(&loaded.model, &loaded.origins, &ctx));
    // Stable: the loader's and the validator's own order is kept per line.
    diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    let report = Report::new(&loaded.model, loaded.files.len(), diagnostics);

    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Text => {
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
}

#[derive(Debug, Serialize)]
struct Summary {
    /// The one-line summary the text format prints.
    text: String,
    files: usize,
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
                errors,
                warnings,
                meshes,
            },
            diagnostics,
        }
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
        assert_eq!(
            parse_param("Env=prod=1"),
            Ok(("Env".into(), "prod=1".into()))
        );
        assert!(parse_param("=x").is_err());
        assert!(parse_param("novalue").is_err());
    }
}
