//! The real clients: the `.venv` Python with boto3 and the `aws` CLI 1.x.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{bail, Context};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

const INSTALL: &str =
    "run scripts/test.sh (scripts/prereqs.sh installs the pinned awscli and boto3 into .venv)";

fn from_env_or_venv(var: &str, venv_rel: &str) -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("{var}={} does not exist; {INSTALL}", p.display());
        }
        return Ok(p);
    }
    let p = workspace_root().join(".venv").join(venv_rel);
    if !p.is_file() {
        bail!("{} is missing and {var} is not set; {INSTALL}", p.display());
    }
    Ok(p)
}

/// The Python that has boto3 (`$MESHPLANE_PYTHON`, else `.venv/bin/python`).
pub fn python() -> anyhow::Result<PathBuf> {
    let p = from_env_or_venv("MESHPLANE_PYTHON", "bin/python")?;
    let out = Command::new(&p)
        .args(["-c", "import boto3, botocore; print(boto3.__version__)"])
        .output()
        .with_context(|| format!("running {}", p.display()))?;
    if !out.status.success() {
        bail!(
            "{} cannot import boto3 ({}); {INSTALL}",
            p.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(p)
}

/// The `aws` CLI 1.x (`$MESHPLANE_AWS_CLI`, else `.venv/bin/aws`).
pub fn aws_cli() -> anyhow::Result<PathBuf> {
    from_env_or_venv("MESHPLANE_AWS_CLI", "bin/aws")
}

/// The directory of the Python scripts the tests run.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("py")
}

/// `tests/api/py/<script> <args>` with `env`, ready to run.
pub fn script_command(
    script: &str,
    args: &[&str],
    env: &[(&str, String)],
) -> anyhow::Result<Command> {
    let mut cmd = Command::new(python()?);
    cmd.arg(scripts_dir().join(script))
        .args(args)
        .env("PYTHONPATH", scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_APP_MESH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(cmd)
}

/// Run `tests/api/py/<script> <args>` with `env`; its output, whatever the status.
pub fn run_script(script: &str, args: &[&str], env: &[(&str, String)]) -> anyhow::Result<Output> {
    script_command(script, args, env)?
        .output()
        .with_context(|| format!("running {script}"))
}

/// Require a script to succeed; the error holds its stdout and stderr.
pub fn check_script(script: &str, out: &Output) -> anyhow::Result<String> {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "{script} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}
