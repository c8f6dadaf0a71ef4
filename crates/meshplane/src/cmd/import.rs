//! `meshplane import PATH... --store URL`: load spec files in any format,
//! validate them, and create every resource in the store in one
//! transaction: all of them, or (on any error) none.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use meshplane_load::load_paths;
use meshplane_spec::validate;

use super::load_args::LoadArgs;
use super::{Global, EXIT_FAILURE};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Spec files or directories (CLI input, describe output,
    /// CloudFormation, Kubernetes).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The store to fill: `sqlite:PATH`.
    #[arg(long, env = "MESHPLANE_STORE")]
    pub store: String,
    #[command(flatten)]
    pub load: LoadArgs,
}

pub fn run(global: &Global, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let arn = global.arn_context();
    let opts = args.load.options(arn.clone())?;
    let loaded = load_paths(&args.paths, &opts);
    let mut diagnostics = loaded.diagnostics.clone();
    diagnostics.extend(validate(&loaded.model, &loaded.origins, &arn));
    let mut err = std::io::stderr().lock();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    for d in &diagnostics {
        writeln!(err, "{d}")?;
    }
    if errors > 0 {
        writeln!(err, "meshplane import: {errors} error(s); nothing imported")?;
        return Ok(ExitCode::from(EXIT_FAILURE));
    }
    let store = meshplane_store::open(&args.store)?;
    let store_model =
        meshplane_api::import::stored_model(store.as_ref()).map_err(anyhow::Error::msg)?;
    if let Some(m) = loaded
        .model
        .meshes
        .keys()
        .find(|m| store_model.meshes.contains_key(*m))
    {
        writeln!(
            err,
            "meshplane import: mesh '{m}' is already in {}; nothing imported",
            store.location()
        )?;
        return Ok(ExitCode::from(EXIT_FAILURE));
    }
    match meshplane_api::import::import(&store, &loaded.model) {
        Ok(n) => {
            writeln!(
                err,
                "meshplane import: {n} resource(s) of {} mesh(es) imported into {}",
                loaded.model.meshes.len(),
                store.location()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            writeln!(err, "meshplane import: {e}; nothing imported")?;
            Ok(ExitCode::from(EXIT_FAILURE))
        }
    }
}
