//! meshplane with its App Mesh API instead of spec files, and the real
//! `aws` CLI (1.x) run in the switch namespace against it.

use std::path::PathBuf;

use anyhow::{bail, Context};

use super::binaries::workspace_root;
use super::topology::{Topology, SWITCH_IP};

/// The API port (on the bridge address).
pub const API_PORT: u16 = 9080;

/// The `aws` CLI: `$MESHPLANE_AWS_CLI`, else `.venv/bin/aws`.
pub fn aws_cli() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("MESHPLANE_AWS_CLI").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("MESHPLANE_AWS_CLI={} does not exist", p.display());
        }
        return Ok(p);
    }
    let p = workspace_root().join(".venv/bin/aws");
    if !p.is_file() {
        bail!(
            "no aws CLI: set MESHPLANE_AWS_CLI or run scripts/test.sh (installs the pinned awscli 1.x into {})",
            p.display()
        );
    }
    Ok(p)
}

/// How to run one `aws appmesh` command.
#[derive(Debug, Clone, Default)]
pub struct AwsCall {
    /// `--endpoint-url`; `None` lets the CLI use the regional AWS name.
    pub endpoint: Option<String>,
    /// More environment variables (e.g. `AWS_CA_BUNDLE`).
    pub env: Vec<(String, String)>,
}

impl AwsCall {
    /// `--endpoint-url http://<switch>:9080`.
    pub fn plain() -> AwsCall {
        AwsCall {
            endpoint: Some(format!("http://{SWITCH_IP}:{API_PORT}")),
            env: Vec::new(),
        }
    }
}

impl Topology {
    /// Start `meshplane serve` with an empty SQLite store and the API on
    /// the bridge address at `port` (no spec files), and wait until it is
    /// ready. TLS on the API comes from `--tls-*` in `control_args`.
    pub fn start_control_api_on(&mut self, port: u16) -> anyhow::Result<()> {
        let store = self.path("store");
        std::fs::create_dir_all(&store)?;
        self.control_args.extend([
            "--api-listen".to_owned(),
            format!("{SWITCH_IP}:{port}"),
            "--store".to_owned(),
            format!("sqlite:{}", store.join("meshplane.db").display()),
        ]);
        self.start_control(&[])
    }

    /// [`Topology::start_control_api_on`] the plain API port 9080.
    pub fn start_control_api(&mut self) -> anyhow::Result<()> {
        self.start_control_api_on(API_PORT)
    }

    /// `aws appmesh ARGS --output json` in the switch namespace, as `call`
    /// says; its standard output, or an error with its standard error.
    pub fn aws_appmesh_with(&self, args: &[&str], call: &AwsCall) -> anyhow::Result<String> {
        let aws = aws_cli()?;
        let mut cmd = self.switch.command(&aws);
        cmd.arg("appmesh").args(args).args(["--output", "json"]);
        if let Some(e) = &call.endpoint {
            cmd.args(["--endpoint-url", e]);
        }
        let out = cmd
            .env("AWS_ACCESS_KEY_ID", "AKIDMESHPLANEE2E")
            .env("AWS_SECRET_ACCESS_KEY", "e2e-secret-not-checked")
            .env("AWS_DEFAULT_REGION", "us-west-2")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_APP_MESH")
            .env_remove("AWS_CA_BUNDLE")
            .envs(call.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir)
            .output()
            .with_context(|| format!("running {}", aws.display()))?;
        if !out.status.success() {
            bail!(
                "aws appmesh {} failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `aws appmesh ARGS --endpoint-url http://<switch>:9080 --output json`.
    pub fn aws_appmesh(&self, args: &[&str]) -> anyhow::Result<String> {
        self.aws_appmesh_with(args, &AwsCall::plain())
    }

    /// [`Topology::aws_appmesh`], its output parsed as JSON.
    pub fn aws_appmesh_json(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let text = self.aws_appmesh(args)?;
        serde_json::from_str(&text)
            .with_context(|| format!("aws appmesh {} printed {text:?}", args.join(" ")))
    }
}
