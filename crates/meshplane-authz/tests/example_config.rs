//! The shipped example, config/auth/example-auth.yaml, loads and means what
//! its comments and docs/authentication.md say.

use std::path::PathBuf;

use meshplane_authz::{
    hash_token, AccessControl, AuthConfig, AuthError, PeerCredentials, STREAM_AGGREGATED_RESOURCES,
};

/// The token whose hash the example lists (documentation only, never deploy it).
const EXAMPLE_TOKEN: &str = "example-token-replace-me-0123456789abcdef0123456789";

fn example() -> AccessControl {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/auth/example-auth.yaml");
    AccessControl::new(AuthConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}")))
}

fn arn(resource: &str) -> String {
    format!("arn:aws:appmesh:us-west-2:111122223333:mesh/apps/{resource}")
}

fn spiffe(sa: &str) -> PeerCredentials {
    PeerCredentials {
        tls_uri_sans: vec![format!("spiffe://example.org/ns/apps/sa/{sa}")],
        ..PeerCredentials::default()
    }
}

fn allowed(creds: &PeerCredentials, resource: &str) -> Result<String, AuthError> {
    example()
        .check(creds, STREAM_AGGREGATED_RESOURCES, &arn(resource))
        .map(|p| p.id)
}

#[test]
fn example_decisions() {
    assert!(allowed(&spiffe("servicea"), "virtualNode/serviceA").is_ok());
    // servicea also matches the namespace-wide key.
    assert!(allowed(&spiffe("servicea"), "virtualNode/serviceB").is_ok());
    assert!(allowed(&spiffe("serviceb"), "virtualNode/serviceB").is_ok());
    let payments = allowed(&spiffe("serviceb"), "virtualNode/payments-v1");
    assert!(
        matches!(&payments, Err(AuthError::PermissionDenied(m)) if m.contains("explicit deny") && m.contains("PaymentsOnlyForPaymentsTeam")),
        "{payments:?}"
    );
    let gateway = PeerCredentials {
        tls_dns_sans: vec!["ingress-gw.apps.svc.cluster.local".into()],
        ..PeerCredentials::default()
    };
    assert!(allowed(&gateway, "virtualGateway/ingress-gw").is_ok());
    assert!(allowed(&gateway, "virtualNode/serviceA").is_err());
    let cn_only = PeerCredentials {
        tls_subject_cn: Some("servicea".into()),
        ..PeerCredentials::default()
    };
    assert!(matches!(
        allowed(&cn_only, "virtualNode/serviceA"),
        Err(AuthError::Unauthenticated(_))
    ));
}

#[test]
fn example_token() {
    assert_eq!(
        hash_token(EXAMPLE_TOKEN).map(|h| h.to_string()).as_deref(),
        Ok("bd52b0ea344fa22894be7d8f5ea0e646bb5f2c13c0f092a81e5840ca73d20365")
    );
    let creds = PeerCredentials {
        bearer_token: Some(EXAMPLE_TOKEN.into()),
        ..PeerCredentials::default()
    };
    assert_eq!(
        allowed(&creds, "virtualNode/payments-v1").as_deref(),
        Ok("batch-jobs")
    );
}
