//! `accessKeys:` of the auth config: SigV4 access keys of the App Mesh API.
//!
//! SigV4 needs the secret itself on the server, so it never sits in the
//! config: each key names a `secretFile` (refused when group- or
//! world-readable) or a `secretEnv` variable. Rotation is a config reload:
//! list the old and the new key together while clients move.

use std::fmt;
use std::path::{Path, PathBuf};

use super::raw::RawAccessKey;

/// A mistake in `accessKeys` (the config turns it into its `ConfigError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub file: PathBuf,
    pub path: String,
    pub message: String,
}

/// A secret access key; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// One access key: who signs with it, and its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub principal: String,
    pub secret: SecretKey,
}

/// Checks the entries; `has_policies` says whether a principal has any.
pub(super) fn load(
    raw: &[RawAccessKey],
    config_file: &Path,
    base: &Path,
    has_policies: impl Fn(&str) -> bool,
) -> Result<Vec<AccessKey>, KeyError> {
    let at = |field: String, message: String| KeyError {
        file: config_file.to_owned(),
        path: field,
        message,
    };
    let mut keys: Vec<AccessKey> = Vec::new();
    for (i, k) in raw.iter().enumerate() {
        let field = format!("accessKeys[{i}]");
        let id = k.access_key_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(at(
                format!("{field}.accessKeyId"),
                format!("'{id}' is not an access key id (letters and digits, e.g. AKIAIOSFODNN7EXAMPLE)"),
            ));
        }
        if let Some(j) = keys.iter().position(|o| o.access_key_id == id) {
            return Err(at(
                format!("{field}.accessKeyId"),
                format!("'{id}' is listed twice (also accessKeys[{j}])"),
            ));
        }
        if !has_policies(&k.principal) {
            return Err(at(
                format!("{field}.principal"),
                format!(
                    "'{}' has no entry under `principals:`, so every request signed with this key would be denied; attach policies to it",
                    k.principal
                ),
            ));
        }
        let secret =
            match (&k.secret_file, &k.secret_env) {
                (Some(file), None) => read_secret_file(&base.join(file), &field, config_file)?,
                (None, Some(var)) => std::env::var(var).map_err(|_| {
                    at(
                        format!("{field}.secretEnv"),
                        format!("the environment variable {var} is not set (or not UTF-8)"),
                    )
                })?,
                _ => return Err(at(
                    field,
                    "give the secret as exactly one of `secretFile: PATH` or `secretEnv: VARIABLE`"
                        .to_owned(),
                )),
            };
        let secret = secret.trim().to_owned();
        if secret.is_empty() {
            return Err(at(
                format!("{field}.secret"),
                "the secret access key is empty".to_owned(),
            ));
        }
        keys.push(AccessKey {
            access_key_id: id.to_owned(),
            principal: k.principal.clone(),
            secret: SecretKey(secret),
        });
    }
    Ok(keys)
}

fn read_secret_file(path: &Path, field: &str, config_file: &Path) -> Result<String, KeyError> {
    let fail = |message: String| KeyError {
        file: path.to_owned(),
        path: String::new(),
        message: format!(
            "{message} (referenced by {} {field}.secretFile)",
            config_file.display()
        ),
    };
    let meta =
        std::fs::metadata(path).map_err(|e| fail(format!("cannot read the secret file: {e}")))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(fail(format!(
                "the secret file is readable by its group or others (mode {mode:o}); refusing to use it: chmod 600 it"
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read the secret file: {e}")))
}
