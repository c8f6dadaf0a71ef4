//! The Kubernetes API server scripts/k8s-apiserver.sh started for the
//! tests (etcd + the CRD API server built from Debian's sources, the App
//! Mesh CRDs applied), driven with the real kubectl.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{bail, Context};

use super::forward::{forward_out_of, Forward};
use super::topology::Topology;

const KUBECONFIG_VAR: &str = "MESHPLANE_TEST_KUBECONFIG";
const KUBECTL_VAR: &str = "MESHPLANE_TEST_KUBECTL";
const CTL_VAR: &str = "MESHPLANE_TEST_K8S_CTL";

/// The namespaced App Mesh kinds (every kind but Mesh).
pub const APP_MESH_KINDS: &str =
    "virtualnodes,virtualservices,virtualrouters,virtualgateways,gatewayroutes,backendgroups";

/// The test cluster.
pub struct Cluster {
    pub kubeconfig: PathBuf,
    pub kubectl: PathBuf,
    /// `ctl stop` / `ctl start` the API server (etcd keeps running).
    pub ctl: PathBuf,
    /// Where the API server listens (127.0.0.1:port).
    pub addr: SocketAddr,
}

fn var(name: &str) -> anyhow::Result<PathBuf> {
    match std::env::var_os(name) {
        Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
        _ => bail!(
            "{name} is not set: these tests need the Kubernetes API server scripts/test.sh starts \
             (scripts/k8s-apiserver.sh); run them through scripts/test.sh, or source \
             scripts/k8s-apiserver.sh yourself"
        ),
    }
}

impl Cluster {
    pub fn from_env() -> anyhow::Result<Cluster> {
        let kubeconfig = var(KUBECONFIG_VAR)?;
        let kubectl = var(KUBECTL_VAR)?;
        let ctl = var(CTL_VAR)?;
        let text = std::fs::read_to_string(&kubeconfig)
            .with_context(|| format!("reading {}", kubeconfig.display()))?;
        let addr = text
            .split("https://")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|a| a.parse().ok())
            .with_context(|| {
                format!(
                    "no https://127.0.0.1:PORT server in {}",
                    kubeconfig.display()
                )
            })?;
        Ok(Cluster {
            kubeconfig,
            kubectl,
            ctl,
            addr,
        })
    }

    /// `kubectl ARGS` with the test kubeconfig; its standard output.
    pub fn kubectl(&self, args: &[&str]) -> anyhow::Result<String> {
        self.kubectl_with_input(args, None)
    }

    /// `kubectl ARGS` reading `input` on its standard input (`apply -f -`).
    pub fn kubectl_with_input(&self, args: &[&str], input: Option<&str>) -> anyhow::Result<String> {
        let mut child = Command::new(&self.kubectl)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("running {}", self.kubectl.display()))?;
        if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(text.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "kubectl {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `kubectl get ARGS -o json`, parsed.
    pub fn get_json(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend(["-o", "json"]);
        let out = self.kubectl(&all)?;
        serde_json::from_str(&out).context("kubectl get -o json printed no JSON")
    }

    /// A JSON patch of the two weights of VirtualRouter `service-b` (the
    /// getting-started objects) in `namespace`, as Flagger moves a canary.
    pub fn set_weights(&self, namespace: &str, b: u32, bv2: u32) -> anyhow::Result<()> {
        let patch = format!(
            r#"[{{"op":"replace","path":"/spec/routes/0/http2Route/action/weightedTargets/0/weight","value":{b}}},
                {{"op":"replace","path":"/spec/routes/0/http2Route/action/weightedTargets/1/weight","value":{bv2}}}]"#
        );
        self.kubectl(&[
            "patch",
            "-n",
            namespace,
            "virtualrouter",
            "service-b",
            "--type",
            "json",
            "-p",
            &patch,
        ])?;
        Ok(())
    }

    /// Stops (`stop`) or starts (`start`, waits for /healthz) the API server.
    pub fn api_server(&self, what: &str) -> anyhow::Result<()> {
        let out = Command::new(&self.ctl).arg(what).output()?;
        if !out.status.success() {
            bail!(
                "{} {what}: {}",
                self.ctl.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Makes the API server reachable from the topology's switch namespace
    /// (where meshplane runs) at the same address, until the returned
    /// forwarder is dropped.
    pub fn reach_from(&self, t: &Topology) -> anyhow::Result<Forward> {
        forward_out_of(t.switch.name(), self.addr, self.addr)
    }

    /// Deletes the App Mesh objects of `namespace` and mesh `mesh`, without
    /// waiting for each deletion (kubectl's default waits per object).
    pub fn delete_mesh(&self, namespace: &str, mesh: &str) -> anyhow::Result<()> {
        self.kubectl(&[
            "delete",
            "-n",
            namespace,
            APP_MESH_KINDS,
            "--all",
            "--ignore-not-found",
            "--wait=false",
        ])?;
        self.kubectl(&[
            "delete",
            "meshes",
            mesh,
            "--ignore-not-found",
            "--wait=false",
        ])?;
        Ok(())
    }

    /// Starts the topology's meshplane serving this cluster's objects of
    /// `namespace` (and an API store in the test directory). The returned
    /// forwarder keeps the API server reachable; keep it for the test.
    pub fn serve(&self, t: &mut Topology, namespace: &str) -> anyhow::Result<Forward> {
        let reach = self.reach_from(t)?;
        let store = t.path("store");
        std::fs::create_dir_all(&store)?;
        t.control_args.extend([
            "--kubernetes".to_owned(),
            "--kubeconfig".to_owned(),
            self.kubeconfig.display().to_string(),
            "--kubernetes-namespaces".to_owned(),
            namespace.to_owned(),
            "--store".to_owned(),
            format!("sqlite:{}", store.join("meshplane.db").display()),
        ]);
        t.start_control(&[])?;
        Ok(reach)
    }
}
