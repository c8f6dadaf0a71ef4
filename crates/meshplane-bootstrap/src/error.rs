//! The one error type of the crate; every variant names the environment
//! variable (or file) at fault and says what was expected.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// A required variable is unset or empty.
    #[error("{variable} is not set: {hint}")]
    Missing {
        variable: &'static str,
        hint: String,
    },

    /// A variable holds a value that cannot be used.
    #[error("{variable}={value:?} is invalid: {reason}")]
    Invalid {
        variable: String,
        value: String,
        reason: String,
    },

    /// Two or more variables contradict each other.
    #[error("{0}")]
    Conflict(String),

    /// A file named by a variable cannot be read.
    #[error("{variable}={path:?}: cannot read the file: {source}")]
    Unreadable {
        variable: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file named by a variable was read but its content is unusable.
    #[error("{variable}={path:?}: {reason}")]
    BadFile {
        variable: String,
        path: PathBuf,
        reason: String,
    },

    /// The bootstrap could not be rendered (should not happen for values this
    /// crate builds; reported rather than panicking).
    #[error("cannot render the bootstrap as YAML: {0}")]
    Render(String),
}

impl BootstrapError {
    pub(crate) fn invalid(
        variable: &str,
        value: &str,
        reason: impl Into<String>,
    ) -> BootstrapError {
        BootstrapError::Invalid {
            variable: variable.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn bad_file(
        variable: &str,
        path: &str,
        reason: impl Into<String>,
    ) -> BootstrapError {
        BootstrapError::BadFile {
            variable: variable.to_owned(),
            path: PathBuf::from(path),
            reason: reason.into(),
        }
    }

    /// The environment variable this error is about, when there is exactly one.
    pub fn variable(&self) -> Option<&str> {
        match self {
            BootstrapError::Missing { variable, .. } => Some(variable),
            BootstrapError::Invalid { variable, .. }
            | BootstrapError::Unreadable { variable, .. }
            | BootstrapError::BadFile { variable, .. } => Some(variable),
            BootstrapError::Conflict(_) | BootstrapError::Render(_) => None,
        }
    }
}
