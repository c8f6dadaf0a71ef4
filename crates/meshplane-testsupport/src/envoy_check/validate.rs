//! Running `envoy --mode validate` on a bootstrap.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::binaries::{self, MissingProgram};

/// Why Envoy could not be found, run, or accepted a configuration.
#[derive(Debug, thiserror::Error)]
pub enum EnvoyError {
    #[error(transparent)]
    Missing(#[from] MissingProgram),
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

/// Runs `envoy --mode validate` on a bootstrap (proto3 JSON). `Ok` means
/// Envoy accepted it; [`EnvoyError::Rejected`] carries Envoy's own message.
pub fn envoy_validate(bootstrap_json: &serde_json::Value) -> Result<(), EnvoyError> {
    let file = TempConfig::write(bootstrap_json)?;
    envoy_validate_file(&file.path)
}

/// Runs `envoy --mode validate -c <config>` on a bootstrap file (JSON or
/// YAML, by its extension).
pub fn envoy_validate_file(config: &Path) -> Result<(), EnvoyError> {
    let binary = binaries::locate(&binaries::ENVOY)?;
    let output = Command::new(&binary)
        .args([
            "--mode",
            "validate",
            "--disable-hot-restart",
            "--log-level",
            "warn",
            "-c",
        ])
        .arg(config)
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
            "meshplane-envoy-check-{}-{n}.json",
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
