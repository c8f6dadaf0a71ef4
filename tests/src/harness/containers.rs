//! Containers run by podman inside a topology's network namespaces, from the
//! images `scripts/images.sh` builds (`localhost/meshplane:dev`,
//! `localhost/meshplane-envoy:dev`).
//!
//! Podman runs with the settings file the script writes
//! (`.cache/images/containers.conf`: runc, cgroupfs, no default ulimits).
//! A container joins a namespace of the topology with `--network
//! ns:/run/netns/<name>`, so it is reached at that namespace's addresses
//! and the topology's hosts file can be mounted as its `/etc/hosts`.
//! Every container and volume made here is removed on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{bail, Context};

use super::binaries::workspace_root;
use super::netns::Netns;

/// The control plane image.
pub const MESHPLANE_IMAGE: &str = "localhost/meshplane:dev";
/// The Envoy sidecar image.
pub const SIDECAR_IMAGE: &str = "localhost/meshplane-envoy:dev";
/// The label `scripts/images.sh` puts on both images: the SHA-256 of the
/// `target/release/meshplane` they were built from.
const BINARY_LABEL: &str = "io.meshplane.binary.sha256";

/// `podman` with the script's settings file.
pub fn podman() -> anyhow::Result<Command> {
    let conf = workspace_root().join(".cache/images/containers.conf");
    if !conf.is_file() {
        bail!(
            "{} is missing: run scripts/images.sh (scripts/test.sh does) to build the images",
            conf.display()
        );
    }
    let mut c = Command::new("podman");
    c.env("CONTAINERS_CONF", conf);
    Ok(c)
}

/// Run `podman ARGS`; its standard output, or an error with its stderr.
pub fn podman_run(args: &[&str]) -> anyhow::Result<String> {
    let out = podman()?
        .args(args)
        .output()
        .context("cannot run podman (scripts/test.sh installs it)")?;
    check(args, &out)
}

fn check(args: &[&str], out: &Output) -> anyhow::Result<String> {
    if !out.status.success() {
        bail!(
            "`podman {}` failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Fail unless both images exist and were built from the current
/// `target/release/meshplane` (which must itself be newer than its sources):
/// a test of an old image would prove nothing about this checkout.
pub fn require_current_images() -> anyhow::Result<()> {
    let binary = workspace_root().join("target/release/meshplane");
    if !binary.is_file() {
        bail!(
            "{} is missing: run scripts/images.sh (scripts/test.sh does)",
            binary.display()
        );
    }
    if let Some(newer) = super::binaries::newer_input(&binary)? {
        bail!(
            "{} is older than {}, which it is built from: run scripts/images.sh",
            binary.display(),
            newer.display()
        );
    }
    let sha = sha256(&binary)?;
    for image in [MESHPLANE_IMAGE, SIDECAR_IMAGE] {
        let label = podman_run(&[
            "image",
            "inspect",
            "--format",
            &format!("{{{{index .Labels \"{BINARY_LABEL}\"}}}}"),
            image,
        ])
        .with_context(|| format!("image {image}: run scripts/images.sh to build it"))?;
        if label != sha {
            bail!("image {image} was built from another meshplane binary (label {label:?}, target/release/meshplane is {sha}): run scripts/images.sh");
        }
    }
    Ok(())
}

fn sha256(path: &Path) -> anyhow::Result<String> {
    let out = Command::new("sha256sum").arg(path).output()?;
    let text = check(&["(sha256sum)"], &out)?;
    Ok(text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// A container started detached; removed (killed) on drop.
#[derive(Debug)]
pub struct Container {
    pub name: String,
}

/// What to start.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub image: String,
    /// The namespace whose network the container joins.
    pub netns: String,
    /// `/etc/netns/<ns>`: its hosts and resolv.conf become the container's.
    pub etc_dir: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// `--volume` values.
    pub volumes: Vec<String>,
    /// `--cap-add` values.
    pub capabilities: Vec<String>,
    pub user: Option<String>,
    pub entrypoint: Option<String>,
    pub args: Vec<String>,
}

impl ContainerSpec {
    /// `image` in the network of `ns`, with its hosts and resolv.conf.
    pub fn new(image: &str, ns: &Netns) -> ContainerSpec {
        ContainerSpec {
            image: image.to_owned(),
            netns: ns.name().to_owned(),
            etc_dir: Some(ns.etc_dir()),
            env: Vec::new(),
            volumes: Vec::new(),
            capabilities: Vec::new(),
            user: None,
            entrypoint: None,
            args: Vec::new(),
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> ContainerSpec {
        self.env.push((k.to_owned(), v.to_owned()));
        self
    }

    pub fn volume(mut self, v: &str) -> ContainerSpec {
        self.volumes.push(v.to_owned());
        self
    }

    pub fn args(mut self, args: &[&str]) -> ContainerSpec {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    fn podman_args(&self, name: &str) -> Vec<String> {
        let mut a = vec![
            "--name".to_owned(),
            name.to_owned(),
            "--network".to_owned(),
            format!("ns:/run/netns/{}", self.netns),
            "--pull=never".to_owned(),
        ];
        if let Some(etc) = &self.etc_dir {
            for file in ["hosts", "resolv.conf"] {
                a.push("--volume".to_owned());
                a.push(format!("{}:/etc/{file}:ro", etc.join(file).display()));
            }
        }
        for (k, v) in &self.env {
            a.push("--env".to_owned());
            a.push(format!("{k}={v}"));
        }
        for v in &self.volumes {
            a.push("--volume".to_owned());
            a.push(v.clone());
        }
        for c in &self.capabilities {
            a.push("--cap-add".to_owned());
            a.push(c.clone());
        }
        if let Some(u) = &self.user {
            a.push("--user".to_owned());
            a.push(u.clone());
        }
        if let Some(e) = &self.entrypoint {
            a.push("--entrypoint".to_owned());
            a.push(e.clone());
        }
        a.push(self.image.clone());
        a.extend(self.args.iter().cloned());
        a
    }

    /// `podman run --detach`.
    pub fn start(&self, name: &str) -> anyhow::Result<Container> {
        let _ = podman_run(&["rm", "--force", "--time", "0", name]);
        let mut args = vec!["run".to_owned(), "--detach".to_owned()];
        args.extend(self.podman_args(name));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        podman_run(&refs)?;
        Ok(Container {
            name: name.to_owned(),
        })
    }

    /// `podman run --rm` to completion; its output.
    pub fn run_to_end(&self, name: &str) -> anyhow::Result<String> {
        let mut args = vec!["run".to_owned(), "--rm".to_owned()];
        args.extend(self.podman_args(name));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        podman_run(&refs)
    }
}

impl Container {
    /// `podman inspect --format FORMAT`.
    pub fn inspect(&self, format: &str) -> anyhow::Result<String> {
        podman_run(&["inspect", "--format", format, &self.name])
    }

    /// The container's main process as the host sees it.
    pub fn pid(&self) -> anyhow::Result<u32> {
        let pid = self.inspect("{{.State.Pid}}")?;
        pid.parse()
            .with_context(|| format!("{}: pid {pid:?}", self.name))
    }

    /// The real user ID of the container's main process, from the host's
    /// `/proc`.
    pub fn process_uid(&self) -> anyhow::Result<u32> {
        let pid = self.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next())
            .context("no Uid line")?;
        Ok(uid.parse()?)
    }

    /// `podman healthcheck run`: Ok when the image's HEALTHCHECK passes.
    pub fn healthcheck(&self) -> anyhow::Result<()> {
        podman_run(&["healthcheck", "run", &self.name]).map(|_| ())
    }

    /// `podman stop --time GRACE`; how long it took and the exit code.
    pub fn stop(&self, grace: Duration) -> anyhow::Result<(Duration, i64)> {
        let started = std::time::Instant::now();
        podman_run(&["stop", "--time", &grace.as_secs().to_string(), &self.name])?;
        let took = started.elapsed();
        let code = self.inspect("{{.State.ExitCode}}")?;
        Ok((took, code.parse()?))
    }

    /// The container's output so far.
    pub fn logs(&self) -> String {
        podman()
            .and_then(|mut c| c.args(["logs", &self.name]).output().context("podman logs"))
            .map(|o| {
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                )
            })
            .unwrap_or_else(|e| format!("(no logs: {e:#})"))
    }

    pub fn running(&self) -> bool {
        self.inspect("{{.State.Running}}")
            .is_ok_and(|s| s == "true")
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let logs = self.logs();
            let tail: Vec<&str> = logs.lines().rev().take(25).collect();
            eprintln!(
                "---- container {} last lines ----\n{}",
                self.name,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let _ = podman_run(&["rm", "--force", "--time", "0", &self.name]);
    }
}

/// A named podman volume, removed on drop.
#[derive(Debug)]
pub struct Volume {
    pub name: String,
}

impl Volume {
    pub fn create(name: &str) -> anyhow::Result<Volume> {
        let _ = podman_run(&["volume", "rm", "--force", name]);
        podman_run(&["volume", "create", name])?;
        Ok(Volume {
            name: name.to_owned(),
        })
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = podman_run(&["volume", "rm", "--force", &self.name]);
    }
}

impl super::topology::Topology {
    /// App Mesh's traffic redirection for `app` applied by the sidecar
    /// image's `proxy-init.sh` (as the Kubernetes init container runs it:
    /// root, CAP_NET_ADMIN), then the sidecar image started in the app's
    /// namespace with only App Mesh's variables, as `resource`. Its Envoy
    /// admin port (9901, the image's default) becomes the app's.
    pub fn start_sidecar_container(
        &mut self,
        app: &str,
        resource: &str,
        app_ports: &[u16],
    ) -> anyhow::Result<Container> {
        let switch = super::topology::SWITCH_IP;
        let xds = super::envoy::XDS_PORT;
        let label = self.label.clone();
        let a = self.app_mut(app)?;
        let ports: Vec<String> = app_ports.iter().map(u16::to_string).collect();
        let mut init =
            ContainerSpec::new(SIDECAR_IMAGE, &a.ns).env("APPMESH_APP_PORTS", &ports.join(","));
        init.user = Some("0".to_owned());
        init.capabilities = vec!["NET_ADMIN".to_owned(), "NET_RAW".to_owned()];
        init.entrypoint = Some("/usr/local/bin/proxy-init.sh".to_owned());
        let id = a.ns.name().to_owned();
        init.run_to_end(&format!("{id}-init"))
            .with_context(|| format!("{label}: proxy-init for {app}"))?;
        let sidecar = ContainerSpec::new(SIDECAR_IMAGE, &a.ns)
            .env("APPMESH_RESOURCE_ARN", resource)
            .env("APPMESH_XDS_ENDPOINT", &format!("{switch}:{xds}"))
            // App Mesh's variable; debug shows how the xDS stream closes.
            .env("ENVOY_LOG_LEVEL", "debug")
            .start(&format!("{id}-envoy"))?;
        a.envoy_admin = Some(super::envoy::ADMIN_PORT);
        Ok(sidecar)
    }
}
