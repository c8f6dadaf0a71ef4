//! An application's Envoy sidecar: App Mesh's iptables redirection, then
//! `meshplane envoy` (the sidecar entrypoint, configured by the App Mesh
//! image's environment variables) as UID 1337.

use std::time::Duration;

use anyhow::{bail, Context};

use super::redirect::Redirect;
use super::topology::{wait_for, Topology, SWITCH_IP};

/// The UID the Envoys run as (App Mesh's convention).
pub const ENVOY_UID: u32 = 1337;
/// Envoy's admin port (`ENVOY_ADMIN_ACCESS_PORT`, App Mesh's default).
pub const ADMIN_PORT: u16 = 9901;
/// Where `meshplane serve` listens for xDS.
pub const XDS_PORT: u16 = 15010;

/// How to start one sidecar.
#[derive(Debug, Clone)]
pub struct Sidecar {
    /// `APPMESH_RESOURCE_ARN`: full ARN or `mesh/<mesh>/virtualNode/<name>`.
    pub resource: String,
    /// `APPMESH_APP_PORTS`: the application's listener ports.
    pub app_ports: Vec<u16>,
    /// Extra environment variables for `meshplane envoy`.
    pub env: Vec<(String, String)>,
    /// Linux capabilities the Envoy keeps as UID 1337 (ambient), e.g.
    /// `net_bind_service` for a gateway listener below 1024.
    pub capabilities: Vec<String>,
}

impl Sidecar {
    pub fn node(mesh: &str, node: &str, app_ports: &[u16]) -> Sidecar {
        Sidecar {
            resource: format!("mesh/{mesh}/virtualNode/{node}"),
            app_ports: app_ports.to_vec(),
            env: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    /// A virtual gateway's standalone Envoy (no application ports).
    pub fn gateway(mesh: &str, gateway: &str) -> Sidecar {
        Sidecar {
            resource: format!("mesh/{mesh}/virtualGateway/{gateway}"),
            app_ports: Vec::new(),
            env: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    /// Keep capability `cap` (without `CAP_`, e.g. `net_bind_service`).
    pub fn with_capability(mut self, cap: &str) -> Sidecar {
        self.capabilities.push(cap.to_owned());
        self
    }
}

impl Topology {
    /// Redirect `app`'s traffic and start its Envoy. Does not wait.
    pub fn start_envoy(&mut self, app: &str, sidecar: &Sidecar) -> anyhow::Result<()> {
        let dir = self.path(&format!("envoy-{app}"));
        std::fs::create_dir_all(&dir)?;
        std::os::unix::fs::chown(&dir, Some(ENVOY_UID), Some(ENVOY_UID))
            .with_context(|| format!("chown {}", dir.display()))?;
        // Envoy reopens /dev/stdout, i.e. its log file, as its own user.
        let log = self.path(&format!("envoy-{app}.log"));
        std::fs::write(&log, "")?;
        std::os::unix::fs::chown(&log, Some(ENVOY_UID), Some(ENVOY_UID))?;
        let (meshplane, envoy) = (self.bins.meshplane.clone(), self.bins.envoy.clone());
        let a = self.app_mut(app)?;
        Redirect::app_mesh(&sidecar.app_ports, ADMIN_PORT).apply(&a.ns)?;
        a.envoy_admin = Some(ADMIN_PORT);
        let mut cmd = a.ns.command("setpriv");
        let uid = ENVOY_UID.to_string();
        cmd.args(["--reuid", &uid, "--regid", &uid, "--clear-groups"]);
        if !sidecar.capabilities.is_empty() {
            let caps: Vec<String> = sidecar
                .capabilities
                .iter()
                .map(|c| format!("+{c}"))
                .collect();
            let caps = caps.join(",");
            cmd.args(["--inh-caps", &caps, "--ambient-caps", &caps]);
        }
        cmd.arg("--")
            .arg(&meshplane)
            .args(["envoy", "--", "--disable-hot-restart"])
            .env("APPMESH_RESOURCE_ARN", &sidecar.resource)
            .env("APPMESH_XDS_ENDPOINT", format!("{SWITCH_IP}:{XDS_PORT}"))
            .env("ENVOY_ADMIN_ACCESS_PORT", ADMIN_PORT.to_string())
            .env("ENVOY_ADMIN_ACCESS_LOG_FILE", "/dev/null")
            .env("ENVOY_LOG_LEVEL", "info")
            .env("ENVOY_CONCURRENCY", "1")
            .env("MESHPLANE_ENVOY", &envoy)
            .env("MESHPLANE_BOOTSTRAP_PATH", dir.join("bootstrap.yaml"));
        for (k, v) in &sidecar.env {
            cmd.env(k, v);
        }
        self.spawn(&format!("envoy-{app}"), cmd)
    }

    /// GET `path` on `app`'s Envoy admin: (status, body).
    pub fn envoy_admin(&self, app: &str, path: &str) -> anyhow::Result<(u16, String)> {
        let a = self.app(app)?;
        let port = a
            .envoy_admin
            .with_context(|| format!("{app} has no Envoy"))?;
        self.get(app, &format!("http://127.0.0.1:{port}{path}"))
    }

    /// The value of Envoy statistic `name` in `app`'s Envoy.
    pub fn envoy_stat(&self, app: &str, name: &str) -> anyhow::Result<Option<u64>> {
        let (status, body) = self.envoy_admin(app, &format!("/stats?filter=^{name}$"))?;
        if status != 200 {
            bail!("{app}'s Envoy /stats answered {status}");
        }
        Ok(body.lines().find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            (k == name).then(|| v.trim().parse().ok()).flatten()
        }))
    }

    /// Wait until `app`'s Envoy is initialized (`/ready` says LIVE: its
    /// listeners and clusters came from meshplane).
    pub fn wait_envoy_ready(&mut self, app: &str) -> anyhow::Result<()> {
        let name = format!("envoy-{app}");
        wait_for(
            &format!("{app}'s Envoy to be ready"),
            Duration::from_secs(30),
            || {
                self.check_alive()?;
                let (status, _) = self.envoy_admin(app, "/ready")?;
                Ok((status == 200).then_some(()))
            },
        )
        .with_context(|| format!("{name} never became ready"))
    }

    /// Wait until every Envoy is ready.
    pub fn wait_envoys_ready(&mut self) -> anyhow::Result<()> {
        let apps: Vec<String> = self
            .apps()
            .iter()
            .filter(|a| a.envoy_admin.is_some())
            .map(|a| a.name.clone())
            .collect();
        for app in apps {
            self.wait_envoy_ready(&app)?;
        }
        Ok(())
    }
}
