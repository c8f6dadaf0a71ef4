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
    Ok(meshplane_testsupport::binaries::locate(
        &meshplane_testsupport::binaries::ENVOY,
    )?)
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
    // whenever a source changed in the meantime. A binary older than a
    // source it is built from would test old code: refuse it.
    if p.is_file() {
        if let Some(newer) = newer_input(&p)? {
            bail!(
                "{} is older than {}, which it is built from; run `cargo build -p meshplane` (scripts/test.sh builds it) or set MESHPLANE_BIN to test another binary",
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

/// An input of `binary` (a file its cargo dep-info lists: every source of
/// every workspace crate it links, and Cargo.lock) modified after it was
/// linked.
pub(crate) fn newer_input(binary: &Path) -> anyhow::Result<Option<PathBuf>> {
    let built = std::fs::metadata(binary)?.modified()?;
    // `cargo build` writes `<binary>.d` with every workspace source the
    // binary links; `cargo test` alone does not, and rustc's own
    // `deps/*.d` lists only the binary crate's files.
    let dep_info = binary.with_extension("d");
    let text = std::fs::read_to_string(&dep_info).with_context(|| {
        format!(
            "cannot tell whether {} is current: its dep-info {} is missing; run `cargo build -p meshplane` (scripts/test.sh does)",
            binary.display(),
            dep_info.display()
        )
    })?;
    for input in dep_info_inputs(&text) {
        // deps/*.d name workspace sources relative to the workspace root.
        let input = if input.is_relative() {
            workspace_root().join(input)
        } else {
            input
        };
        let modified = std::fs::metadata(&input).and_then(|m| m.modified());
        // A listed input that is gone (a deleted file) also means stale.
        if modified.map_or(true, |m| m > built) {
            return Ok(Some(input));
        }
    }
    Ok(None)
}

/// The inputs of a Makefile-style dep-info line `target: in1 in2 ...`
/// (spaces inside paths escaped as `\ `).
fn dep_info_inputs(text: &str) -> Vec<PathBuf> {
    let line = text.lines().next().unwrap_or_default();
    let Some((_, inputs)) = line.split_once(": ") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = inputs.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                current.push(' ');
                chars.next();
            }
            ' ' => {
                if !current.is_empty() {
                    out.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(PathBuf::from(current));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep_info_lists_inputs_with_escaped_spaces() {
        let text = "/t/meshplane: /w/Cargo.lock /w/a\\ b/src/lib.rs /w/c.rs\n\n/w/c.rs:\n";
        assert_eq!(
            dep_info_inputs(text),
            [
                PathBuf::from("/w/Cargo.lock"),
                PathBuf::from("/w/a b/src/lib.rs"),
                PathBuf::from("/w/c.rs")
            ]
        );
    }

    #[test]
    fn a_source_newer_than_the_binary_makes_it_stale() {
        let dir = std::env::temp_dir().join(format!("mpe-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("meshplane");
        let src = dir.join("lib.rs");
        std::fs::write(&src, "old").unwrap();
        std::fs::write(&bin, "binary").unwrap();
        std::fs::write(
            dir.join("meshplane.d"),
            format!("{}: {}\n", bin.display(), src.display()),
        )
        .unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&bin)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(newer_input(&bin).unwrap(), None, "current");
        std::fs::File::options()
            .write(true)
            .open(&src)
            .unwrap()
            .set_modified(later + std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(newer_input(&bin).unwrap(), Some(src.clone()), "stale");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
