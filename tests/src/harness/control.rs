//! `meshplane serve` in the switch namespace, on the bridge address.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};

use super::envoy::XDS_PORT;
use super::process::Proc;
use super::topology::{wait_for, Topology, SWITCH_IP};

/// meshplane's admin port (on the bridge address).
pub const CONTROL_ADMIN_PORT: u16 = 9000;

impl Topology {
    /// Start `meshplane serve --config <each path>` and wait for `/readyz`.
    pub fn start_control(&mut self, config: &[PathBuf]) -> anyhow::Result<()> {
        self.control_config = config.to_vec();
        self.restart_control()
    }

    /// Start meshplane again with the same configuration (after
    /// [`Topology::kill_control`]) and wait until it is ready.
    pub fn restart_control(&mut self) -> anyhow::Result<()> {
        if self.control.is_some() {
            bail!("meshplane is already running");
        }
        let mut cmd = self.switch.command(&self.bins.meshplane);
        cmd.arg("serve");
        for c in &self.control_config {
            cmd.arg("--config").arg(c);
        }
        cmd.args([
            "--xds-listen",
            &format!("{SWITCH_IP}:{XDS_PORT}"),
            "--admin-listen",
            &format!("{SWITCH_IP}:{CONTROL_ADMIN_PORT}"),
            "--insecure-no-auth",
        ])
        .args(&self.control_args)
        .envs(self.control_env.iter().map(|(k, v)| (k, v)))
        .env("RUST_LOG", "info");
        self.control = Some(Proc::spawn("meshplane", cmd, &self.dir)?);
        wait_for("meshplane /readyz", Duration::from_secs(30), || {
            if let Some(p) = self.control.as_mut() {
                if !p.running() {
                    bail!("meshplane serve exited:\n{}", p.log_tail(30));
                }
            }
            let (status, _) = self.control_get("/readyz")?;
            Ok((status == 200).then_some(()))
        })
    }

    /// SIGKILL meshplane.
    pub fn kill_control(&mut self) {
        if let Some(mut p) = self.control.take() {
            p.kill();
        }
    }

    /// Sends `signal` (`STOP`, `CONT`) to meshplane: stopped, it keeps its
    /// sockets open and reads nothing from them.
    pub fn signal_control(&self, signal: &str) -> anyhow::Result<()> {
        let pid = self
            .control
            .as_ref()
            .context("meshplane is not running")?
            .id();
        let out = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .output()
            .context("running kill")?;
        if !out.status.success() {
            bail!(
                "kill -{signal} {pid}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// GET `path` on meshplane's admin server, which must answer 200 with
    /// JSON (`/debug/kubernetes`).
    pub fn control_json(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let (status, body) = self.control_get(path)?;
        if status != 200 {
            bail!("{path} answered {status}: {body}");
        }
        serde_json::from_str(&body).with_context(|| format!("{path} is not JSON: {body}"))
    }

    /// GET `path` on meshplane's admin server: (status, body).
    pub fn control_get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let url = format!("http://{SWITCH_IP}:{CONTROL_ADMIN_PORT}{path}");
        let out = self
            .switch
            .exec(&self.bins.client, &["get", &url])
            .with_context(|| format!("GET {url}"))?;
        parse_get(&out)
    }
}

/// Parse `e2e-client get` output.
pub fn parse_get(out: &str) -> anyhow::Result<(u16, String)> {
    let v: serde_json::Value = serde_json::from_str(out.trim())
        .with_context(|| format!("e2e-client get printed {out:?}"))?;
    let status = v["status"].as_u64().context("no status")? as u16;
    Ok((status, v["body"].as_str().unwrap_or_default().to_owned()))
}

impl Topology {
    /// `/debug/proxies`' list.
    pub fn control_proxies(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        let (status, body) = self.control_get("/debug/proxies")?;
        if status != 200 {
            bail!("/debug/proxies answered {status}: {body}");
        }
        let v: serde_json::Value =
            serde_json::from_str(&body).context("/debug/proxies is not JSON")?;
        Ok(v["proxies"].as_array().cloned().unwrap_or_default())
    }

    /// Wait until `count` proxies are connected to meshplane and each has
    /// acknowledged the last version sent for every type it asked for.
    pub fn wait_proxies_synced(&self, count: usize, timeout: Duration) -> anyhow::Result<()> {
        wait_for(&format!("{count} proxies in sync"), timeout, || {
            let proxies = self.control_proxies()?;
            let synced = proxies
                .iter()
                .filter(|p| {
                    let types = p["types"].as_object();
                    types.is_some_and(|t| {
                        !t.is_empty()
                            && t.values().all(|s| {
                                !s["last_sent_version"].is_null()
                                    && s["last_acked_version"] == s["last_sent_version"]
                            })
                    })
                })
                .count();
            Ok((synced >= count).then_some(()))
        })
    }
}
