//! Errors a caller (the xDS server) turns into gRPC statuses.

/// Why a proxy was refused. The integration layer maps `Unauthenticated` to
/// gRPC `UNAUTHENTICATED` and `PermissionDenied` to `PERMISSION_DENIED`.
/// Messages never contain a presented token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Missing, unrecognised or unacceptable credentials.
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// The credentials are fine but no policy allows the request (or one denies it).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
}

impl AuthError {
    /// The message without the `unauthenticated:` / `permission denied:` prefix.
    pub fn message(&self) -> &str {
        match self {
            AuthError::Unauthenticated(m) | AuthError::PermissionDenied(m) => m,
        }
    }
}
