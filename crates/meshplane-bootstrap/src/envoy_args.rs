//! The Envoy command line of the sidecar entrypoint (`meshplane envoy`).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::env::Env;
use crate::error::BootstrapError;

pub const LOG_LEVEL: &str = "ENVOY_LOG_LEVEL";
pub const CONCURRENCY: &str = "ENVOY_CONCURRENCY";
/// The Envoy binary to run; `envoy` on `PATH` when unset.
pub const ENVOY_BINARY: &str = "MESHPLANE_ENVOY";

const LOG_LEVELS: [&str; 7] = ["trace", "debug", "info", "warn", "error", "critical", "off"];

/// The Envoy binary named by `MESHPLANE_ENVOY`, else `envoy`.
pub fn envoy_binary(vars: &BTreeMap<String, String>) -> PathBuf {
    PathBuf::from(Env::new(vars).get_or(ENVOY_BINARY, "envoy"))
}

/// `-c <bootstrap>`, then `--log-level` and `--concurrency` when
/// `ENVOY_LOG_LEVEL` and `ENVOY_CONCURRENCY` are set, then `extra` as given.
pub fn envoy_args(
    vars: &BTreeMap<String, String>,
    bootstrap_path: &Path,
    extra: &[OsString],
) -> Result<Vec<OsString>, BootstrapError> {
    let env = Env::new(vars);
    let mut args: Vec<OsString> = vec!["-c".into(), bootstrap_path.into()];
    if let Some(level) = env.get(LOG_LEVEL) {
        let lower = level.to_ascii_lowercase();
        if !LOG_LEVELS.contains(&lower.as_str()) {
            return Err(BootstrapError::invalid(
                LOG_LEVEL,
                level,
                format!("expected one of {}", LOG_LEVELS.join(", ")),
            ));
        }
        args.extend(["--log-level".into(), lower.into()]);
    }
    if let Some(n) = env.positive(CONCURRENCY, 1024)? {
        args.extend(["--concurrency".into(), n.to_string().into()]);
    }
    args.extend(extra.iter().cloned());
    Ok(args)
}
