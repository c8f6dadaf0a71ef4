//! Authentication and authorization of one proxy request.

use crate::config::AuthConfig;
use crate::policy::{self, Decision};
use crate::token::find_token;
use crate::{AuthError, PeerCredentials, Principal, PrincipalSource};

/// The server's gatekeeper: who is calling, and may they stream this resource's
/// configuration. Build it from an [`AuthConfig`], or with
/// [`AccessControl::insecure_no_auth`] when the operator explicitly asked for no
/// authentication.
#[derive(Debug, Clone)]
pub struct AccessControl {
    mode: Mode,
}

#[derive(Debug, Clone)]
enum Mode {
    Enforcing(AuthConfig),
    InsecureNoAuth,
}

impl AccessControl {
    pub fn new(config: AuthConfig) -> AccessControl {
        AccessControl {
            mode: Mode::Enforcing(config),
        }
    }

    /// Every caller becomes the anonymous principal and every request is allowed.
    pub fn insecure_no_auth() -> AccessControl {
        AccessControl {
            mode: Mode::InsecureNoAuth,
        }
    }

    pub fn is_insecure(&self) -> bool {
        matches!(self.mode, Mode::InsecureNoAuth)
    }

    pub fn config(&self) -> Option<&AuthConfig> {
        match &self.mode {
            Mode::Enforcing(c) => Some(c),
            Mode::InsecureNoAuth => None,
        }
    }

    /// Who presented these credentials. A bearer token, when present, decides
    /// (and must be valid); otherwise the client certificate does.
    pub fn authenticate(&self, creds: &PeerCredentials) -> Result<Principal, AuthError> {
        let config = match &self.mode {
            Mode::InsecureNoAuth => return Ok(Principal::anonymous()),
            Mode::Enforcing(c) => c,
        };
        if let Some(token) = &creds.bearer_token {
            if config.tokens.is_empty() {
                return Err(AuthError::Unauthenticated(
                    "a bearer token was sent but this server accepts no tokens (no `tokens` in its auth config)"
                        .to_owned(),
                ));
            }
            return match find_token(token, config.tokens.iter().map(|t| &t.hash)) {
                Some(i) => Ok(Principal::new(config.tokens[i].principal.clone(), PrincipalSource::BearerToken)),
                None => Err(AuthError::Unauthenticated(
                    "the bearer token is not recognised (its SHA-256 matches no `tokens` entry of the auth config)"
                        .to_owned(),
                )),
            };
        }
        if creds.has_certificate() {
            return match &config.mtls {
                Some(rules) => rules.principal(creds),
                None => Err(AuthError::Unauthenticated(
                    "client certificates do not authenticate proxies on this server (no `mtls` in its auth config); send a bearer token".to_owned(),
                )),
            };
        }
        Err(AuthError::Unauthenticated(format!(
            "no credentials: send {} (see docs/authentication.md)",
            match (config.tokens.is_empty(), config.mtls.is_none()) {
                (false, false) =>
                    "a client certificate or `authorization: Bearer <token>` initial metadata",
                (false, true) => "`authorization: Bearer <token>` initial metadata",
                _ => "a client certificate (mutual TLS)",
            }
        )))
    }

    /// Whether `principal` may perform `action` on `resource_arn`, a full ARN
    /// (`arn:aws:appmesh:<region>:<account>:mesh/<m>/virtualNode/<n>`): the
    /// caller expands a proxy's short `mesh/...` name first.
    pub fn authorize(
        &self,
        principal: &Principal,
        action: &str,
        resource_arn: &str,
    ) -> Result<(), AuthError> {
        let config = match &self.mode {
            Mode::InsecureNoAuth => return Ok(()),
            Mode::Enforcing(c) => c,
        };
        let denied = |why: String| {
            Err(AuthError::PermissionDenied(format!(
                "principal {principal} is not allowed to perform {action} on {resource_arn}: {why}"
            )))
        };
        if !resource_arn.starts_with("arn:") {
            return denied(
                "the resource is not a full ARN (policies are evaluated against arn:<partition>:appmesh:<region>:<account>:mesh/...)"
                    .to_owned(),
            );
        }
        let policies = config.policies_for(&principal.id);
        if policies.is_empty() {
            return denied(format!(
                "implicit deny: no policies are attached to this principal in {}",
                config.file.display()
            ));
        }
        let count = policies.len();
        match policy::evaluate(policies, action, resource_arn) {
            Decision::Allowed(_) => Ok(()),
            Decision::ExplicitDeny(hit) => denied(format!("explicit deny by {}", hit.describe())),
            Decision::ImplicitDeny => denied(format!(
                "implicit deny: no statement of the {count} attached {} allows it",
                if count == 1 { "policy" } else { "policies" }
            )),
        }
    }

    /// Authenticates, then authorizes; returns the principal on success.
    pub fn check(
        &self,
        creds: &PeerCredentials,
        action: &str,
        resource_arn: &str,
    ) -> Result<Principal, AuthError> {
        let principal = self.authenticate(creds)?;
        self.authorize(&principal, action, resource_arn)?;
        Ok(principal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server shares one `AccessControl` between all streams.
    #[test]
    fn shareable_between_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<AccessControl>();
        assert_send_sync::<AuthError>();
        assert_send_sync::<Principal>();
    }
}
