//! `meshplane envoy [-- ENVOY_ARGS...]`: the sidecar container entrypoint.
//! Writes the bootstrap (`meshplane bootstrap`) to a file, then replaces
//! this process with Envoy: `envoy -c <file> [--log-level $ENVOY_LOG_LEVEL]
//! [--concurrency $ENVOY_CONCURRENCY] ENVOY_ARGS...`. Envoy is
//! `$MESHPLANE_ENVOY`, else `envoy` on `PATH`.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use anyhow::Context;
use clap::Args;
use meshplane_bootstrap::{envoy_args, envoy_binary};

use super::bootstrap::{build, process_env, write_private};
use super::Global;

/// Where the bootstrap is written; a private directory under the system
/// temp directory when unset.
pub const BOOTSTRAP_PATH: &str = "MESHPLANE_BOOTSTRAP_PATH";

#[derive(Debug, Args)]
pub struct EnvoyArgs {
    /// Arguments for Envoy, after `--`; they follow the generated ones.
    #[arg(last = true, value_name = "ENVOY_ARGS")]
    pub envoy_args: Vec<OsString>,
}

pub fn run(_global: &Global, args: EnvoyArgs) -> anyhow::Result<ExitCode> {
    let env = process_env();
    let (_bootstrap, yaml) = build()?;
    let path = bootstrap_path(&env)?;
    write_private(&path, &yaml)?;
    let argv = envoy_args(&env, &path, &args.envoy_args)?;
    let binary = envoy_binary(&env);
    // Only returns on failure; on success Envoy runs in this process (PID 1
    // in a container keeps receiving the signals).
    let err = Command::new(&binary).args(&argv).exec();
    Err(anyhow::Error::new(err).context(format!(
        "cannot run Envoy ({}); install it or set MESHPLANE_ENVOY to its path",
        binary.display()
    )))
}

fn bootstrap_path(env: &std::collections::BTreeMap<String, String>) -> anyhow::Result<PathBuf> {
    if let Some(p) = env
        .get(BOOTSTRAP_PATH)
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
    {
        return Ok(PathBuf::from(p));
    }
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("meshplane-envoy-{}", std::process::id()));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir.join("bootstrap.yaml"))
}
