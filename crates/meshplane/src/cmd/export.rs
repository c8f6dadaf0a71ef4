//! `meshplane export [PATH...] --format cli-json|yaml`: load specs in any
//! format the loader reads and print the model as AWS CLI input documents
//! (`--cli-input-json` shape), one per resource.
//!
//! Loading problems go to stderr; any error exits 1 and prints nothing on
//! stdout, so a partial mesh is never mistaken for the whole.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use meshplane_load::{export, load_paths, ExportFormat};

use super::load_args::LoadArgs;
use super::{Global, EXIT_FAILURE};

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Spec files or directories (searched recursively for .json, .yaml, .yml).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format: a JSON array of CLI input documents, or the same as
    /// `---`-separated YAML documents.
    #[arg(long, value_enum, default_value_t = Format::CliJson)]
    pub format: Format,
    /// Export the meshes of this store (`sqlite:PATH`) instead of files.
    #[arg(long, conflicts_with = "paths")]
    pub store: Option<String>,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    CliJson,
    Yaml,
}

pub fn run(global: &Global, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let format = match args.format {
        Format::CliJson => ExportFormat::CliJson,
        Format::Yaml => ExportFormat::Yaml,
    };
    if let Some(url) = &args.store {
        let store = meshplane_store::open(url)?;
        let model =
            meshplane_api::import::stored_model(store.as_ref()).map_err(anyhow::Error::msg)?;
        let mut out = std::io::stdout().lock();
        out.write_all(export(&model, format).as_bytes())?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let opts = args.load.options(global.arn_context())?;
    let loaded = load_paths(&args.paths, &opts);
    let mut err = std::io::stderr().lock();
    for note in args.load.skipped_lines(&loaded) {
        writeln!(err, "{note}")?;
    }
    for d in &loaded.diagnostics {
        writeln!(err, "{d}")?;
    }
    if loaded.has_errors() {
        let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
        writeln!(
            err,
            "meshplane export: {errors} error(s) while loading; nothing exported"
        )?;
        return Ok(ExitCode::from(EXIT_FAILURE));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(export(&loaded.model, format).as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
