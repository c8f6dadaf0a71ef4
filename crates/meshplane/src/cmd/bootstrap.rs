//! `meshplane bootstrap`: print the Envoy v3 bootstrap that connects a stock
//! Envoy to meshplane, built from the environment variables App Mesh's Envoy
//! image read (`APPMESH_RESOURCE_ARN`, `APPMESH_XDS_ENDPOINT`, ...; see the
//! `meshplane-bootstrap` crate).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use meshplane_bootstrap::{bootstrap_from_env, Bootstrap, LocalFiles};

use super::Global;

#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Write the bootstrap to this file (readable by its owner only: it may
    /// hold the xDS token) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(_global: &Global, args: BootstrapArgs) -> anyhow::Result<ExitCode> {
    let (_bootstrap, yaml) = build()?;
    match args.output {
        Some(path) => write_private(&path, &yaml)?,
        None => std::io::stdout().lock().write_all(yaml.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The process environment as a map; variables whose name or value is not
/// UTF-8 cannot be App Mesh settings and are left out.
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Builds the bootstrap from the process environment, prints its warnings
/// on standard error and renders it.
pub fn build() -> anyhow::Result<(Bootstrap, String)> {
    let bootstrap = bootstrap_from_env(&process_env(), &LocalFiles)
        .context("cannot build the Envoy bootstrap")?;
    for warning in bootstrap.warnings() {
        eprintln!("meshplane: warning: {warning}");
    }
    let yaml = bootstrap.to_yaml()?;
    Ok((bootstrap, yaml))
}

/// Writes `text` to `path`, created or truncated with mode 0600.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write the bootstrap to {}", path.display()))?;
    // An existing file keeps its mode on open; narrow it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict the permissions of {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write the bootstrap to {}", path.display()))?;
    Ok(())
}
