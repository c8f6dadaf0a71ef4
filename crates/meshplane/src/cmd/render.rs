//! `meshplane render --config PATH --node <ARN or mesh/<mesh>/virtualNode/<name>>`:
//! print the Envoy configuration meshplane serves that proxy, in the shape
//! of Envoy's `/config_dump` (each resource with its `@type`). Findings of
//! loading, validation and translation go to stderr; the exit code is 1
//! when any of them is an error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use meshplane_load::load_paths;
use meshplane_spec::{validate, ResourceId, ResourceKind};
use meshplane_translate::{render, translate_virtual_gateway, translate_virtual_node};

use super::load_args::LoadArgs;
use super::{Global, TranslateArgs, EXIT_FAILURE};

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Spec files or directories (repeatable).
    #[arg(long = "config", required = true)]
    pub config: Vec<PathBuf>,
    /// The proxy's resource: a full ARN or `mesh/<mesh>/virtualNode/<name>`
    /// (or `mesh/<mesh>/virtualGateway/<name>`).
    #[arg(long)]
    pub node: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    #[command(flatten)]
    pub translate: TranslateArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Json,
    Yaml,
}

pub fn run(global: &Global, args: RenderArgs) -> anyhow::Result<ExitCode> {
    let ctx = global.arn_context();
    let id = ResourceId::parse(&args.node, &ctx).context("--node")?;
    if !matches!(
        id.kind,
        ResourceKind::VirtualNode | ResourceKind::VirtualGateway
    ) {
        bail!(
            "--node {}: a proxy is a virtual node or a virtual gateway (got a {})",
            args.node,
            id.kind
        );
    }
    let loaded = load_paths(&args.config, &args.load.options(ctx.clone())?);
    for note in args.load.skipped_lines(&loaded) {
        eprintln!("{note}");
    }
    let mut diagnostics = loaded.diagnostics;
    diagnostics.extend(validate(&loaded.model, &loaded.origins, &ctx));
    diagnostics.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));

    let Some(graph) = loaded.model.mesh(&id.mesh) else {
        print_diagnostics(&diagnostics)?;
        bail!(
            "mesh '{}' is not defined in {}",
            id.mesh,
            shown(&args.config)
        );
    };
    if graph.owner != id.owner {
        bail!(
            "mesh '{}' is owned by account {}, not {} as --node says",
            id.mesh,
            graph.owner,
            id.owner
        );
    }
    let gateway = id.kind == ResourceKind::VirtualGateway;
    let defined = if gateway {
        graph.virtual_gateways.contains_key(&id.name)
    } else {
        graph.virtual_nodes.contains_key(&id.name)
    };
    if !defined {
        print_diagnostics(&diagnostics)?;
        let kind = if gateway {
            "virtual gateway"
        } else {
            "virtual node"
        };
        bail!("{kind} '{}' is not defined in mesh '{}'", id.name, id.mesh);
    }
    let opts = args.translate.options(&ctx)?;
    let translation = if gateway {
        translate_virtual_gateway(graph, &id.name, &opts)
    } else {
        translate_virtual_node(graph, &id.name, &opts)
    };
    diagnostics.extend(
        translation
            .diagnostics
            .into_iter()
            .map(|d| loaded.origins.place(d, &opts.arn)),
    );
    print_diagnostics(&diagnostics)?;

    let json =
        render::to_json(&translation.resources).context("writing the resources as proto3 JSON")?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &json)?;
            writeln!(out)?;
        }
        Format::Yaml => {
            let text = meshplane_yaml::to_yaml(&json)
                .map_err(anyhow::Error::msg)
                .context("writing YAML")?;
            write!(out, "{}", text.trim_start_matches("---\n"))?;
        }
    }
    out.flush()?;
    Ok(if diagnostics.iter().any(|d| d.is_error()) {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_diagnostics(diagnostics: &[meshplane_spec::Diagnostic]) -> anyhow::Result<()> {
    let mut err = std::io::stderr().lock();
    for d in diagnostics {
        writeln!(err, "{d}")?;
    }
    Ok(())
}

fn shown(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
