//! Who may stream which configuration, end to end through the auth config in
//! tests/fixtures/matrix.yaml: authentication, then IAM-style evaluation.

use std::path::PathBuf;

use meshplane_authz::{
    AccessControl, AuthConfig, AuthError, PeerCredentials, PrincipalSource,
    STREAM_AGGREGATED_RESOURCES,
};

const CI_TOKEN: &str = "ci-token-6f1d0b8e2a4c47d9b3e5a7c9d1f3e5a7";
const LEGACY_TOKEN: &str = "legacy-token-0a9b8c7d6e5f40312233445566778899";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn access() -> AccessControl {
    match AuthConfig::from_file(fixture("matrix.yaml")) {
        Ok(config) => AccessControl::new(config),
        Err(e) => panic!("{e}"),
    }
}

fn node(mesh: &str, name: &str) -> String {
    format!("arn:aws:appmesh:us-east-1:123456789012:mesh/{mesh}/virtualNode/{name}")
}

fn uri(san: &str) -> PeerCredentials {
    PeerCredentials {
        tls_uri_sans: vec![san.to_owned()],
        ..PeerCredentials::default()
    }
}

fn token(token: &str) -> PeerCredentials {
    PeerCredentials {
        bearer_token: Some(token.to_owned()),
        ..PeerCredentials::default()
    }
}

/// Expected outcome: the principal allowed, or the error kind and message fragments.
enum Expect {
    Allowed(&'static str, PrincipalSource),
    Unauthenticated(&'static [&'static str]),
    Denied(&'static [&'static str]),
}

fn check(case: &str, creds: PeerCredentials, action: &str, arn: &str, expect: Expect) {
    let got = access().check(&creds, action, arn);
    match (&expect, &got) {
        (Expect::Allowed(id, source), Ok(p)) => {
            assert_eq!((p.id.as_str(), p.source), (*id, *source), "{case}");
        }
        (Expect::Unauthenticated(parts), Err(AuthError::Unauthenticated(m)))
        | (Expect::Denied(parts), Err(AuthError::PermissionDenied(m))) => {
            for part in *parts {
                assert!(m.contains(part), "{case}: message {m:?} lacks {part:?}");
            }
        }
        _ => panic!("{case}: unexpected outcome {got:?}"),
    }
}

const SERVICEB: &str = "spiffe://example.org/ns/app1/sa/serviceb";

#[test]
fn allowed_by_a_listed_resource() {
    check(
        "serviceb v1",
        uri(SERVICEB),
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "serviceBv1"),
        Expect::Allowed(SERVICEB, PrincipalSource::UriSan),
    );
}

#[test]
fn action_names_compare_case_insensitively() {
    check(
        "lower-case action",
        uri(SERVICEB),
        "appmesh:streamaggregatedresources",
        &node("app1", "serviceBv2"),
        Expect::Allowed(SERVICEB, PrincipalSource::UriSan),
    );
}

#[test]
fn denied_when_no_statement_matches() {
    // serviceb's own policy lists v1 and v2 only, but the namespace-wide
    // policy allows every node: use a principal outside that namespace.
    check(
        "other namespace",
        uri("spiffe://example.org/ns/other/sa/x"),
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "serviceBv1"),
        Expect::Denied(&[
            "'spiffe://example.org/ns/other/sa/x'",
            "implicit deny",
            "no policies are attached",
            "matrix.yaml",
            STREAM_AGGREGATED_RESOURCES,
            "mesh/app1/virtualNode/serviceBv1",
        ]),
    );
    check(
        "gateway principal asks for a virtual node",
        PeerCredentials {
            tls_dns_sans: vec!["gateway.app1.svc.cluster.local".into()],
            ..PeerCredentials::default()
        },
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "serviceBv1"),
        Expect::Denied(&[
            "implicit deny",
            "no statement of the 1 attached policy allows it",
        ]),
    );
}

#[test]
fn resource_names_compare_case_sensitively() {
    check(
        "wrong case in the resource",
        token(LEGACY_TOKEN),
        STREAM_AGGREGATED_RESOURCES,
        &node("Legacy", "a"),
        Expect::Denied(&["'legacy-envoy' (bearer token)", "implicit deny"]),
    );
}

#[test]
fn explicit_deny_overrides_allow() {
    // serviceb is allowed everything by envoy-access.json, but deny-payments.yaml denies payments*.
    check(
        "payments",
        uri(SERVICEB),
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "payments-v2"),
        Expect::Denied(&[
            "explicit deny",
            "statement 'NoPayments' (Statement[0])",
            "deny-payments.yaml",
            "mesh/app1/virtualNode/payments-v2",
        ]),
    );
    // A sibling node is still allowed by the namespace-wide policy.
    check(
        "orders",
        uri(SERVICEB),
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "orders"),
        Expect::Allowed(SERVICEB, PrincipalSource::UriSan),
    );
}

#[test]
fn wildcard_resource() {
    let principal = "spiffe://example.org/ns/app1/sa/anything";
    check(
        "star resource",
        uri(principal),
        STREAM_AGGREGATED_RESOURCES,
        &node("othermesh", "n"),
        Expect::Allowed(principal, PrincipalSource::UriSan),
    );
    check(
        "legacy mesh prefix",
        token(LEGACY_TOKEN),
        STREAM_AGGREGATED_RESOURCES,
        "arn:aws:appmesh:us-east-1:123456789012:mesh/legacy/virtualGateway/gw",
        Expect::Allowed("legacy-envoy", PrincipalSource::BearerToken),
    );
}

#[test]
fn action_wildcards() {
    let gw = PeerCredentials {
        tls_dns_sans: vec![
            "gateway.app1.svc.cluster.local".into(),
            "other.example".into(),
        ],
        ..PeerCredentials::default()
    };
    let gw_arn = "arn:aws:appmesh:us-east-1:123456789012:mesh/app1/virtualGateway/ingress";
    check(
        "appmesh:Stream*",
        gw.clone(),
        STREAM_AGGREGATED_RESOURCES,
        gw_arn,
        Expect::Allowed("gateway.app1.svc.cluster.local", PrincipalSource::DnsSan),
    );
    check(
        "appmesh:Stream* does not cover Describe",
        gw,
        "appmesh:DescribeVirtualGateway",
        gw_arn,
        Expect::Denied(&["appmesh:DescribeVirtualGateway", "implicit deny"]),
    );
}

#[test]
fn not_action_and_not_resource() {
    check(
        "ci dev mesh",
        token(CI_TOKEN),
        STREAM_AGGREGATED_RESOURCES,
        &node("dev", "a"),
        Expect::Allowed("ci-runner", PrincipalSource::BearerToken),
    );
    check(
        "ci prod mesh",
        token(CI_TOKEN),
        STREAM_AGGREGATED_RESOURCES,
        &node("prod", "a"),
        Expect::Denied(&["'ci-runner'", "implicit deny"]),
    );
    check(
        "ci delete",
        token(CI_TOKEN),
        "appmesh:DeleteVirtualNode",
        &node("dev", "a"),
        Expect::Denied(&["implicit deny"]),
    );
}

#[test]
fn unauthenticated_without_credentials() {
    check(
        "nothing",
        PeerCredentials::default(),
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "a"),
        Expect::Unauthenticated(&["no credentials", "client certificate", "Bearer"]),
    );
}

#[test]
fn bad_token_is_unauthenticated_even_with_a_good_certificate() {
    let creds = PeerCredentials {
        bearer_token: Some("not-a-token".into()),
        ..uri(SERVICEB)
    };
    check(
        "bad token",
        creds,
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "serviceBv1"),
        Expect::Unauthenticated(&["bearer token is not recognised"]),
    );
    let got = access().authenticate(&token(&CI_TOKEN.to_uppercase()));
    assert!(
        matches!(got, Err(AuthError::Unauthenticated(_))),
        "tokens are case-sensitive: {got:?}"
    );
}

#[test]
fn mtls_uri_san_principal_and_trust_domain() {
    let got = access().authenticate(&PeerCredentials {
        tls_uri_sans: vec![SERVICEB.into()],
        tls_dns_sans: vec!["serviceb.app1.svc".into()],
        tls_subject_cn: Some("serviceb".into()),
        bearer_token: None,
    });
    assert_eq!(
        got.map(|p| (p.id, p.source)),
        Ok((SERVICEB.to_owned(), PrincipalSource::UriSan))
    );
    check(
        "foreign trust domain",
        uri("spiffe://evil.example/ns/app1/sa/serviceb"),
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "serviceBv1"),
        Expect::Unauthenticated(&[
            "'spiffe://evil.example/ns/app1/sa/serviceb'",
            "trust domain",
            "'example.org'",
        ]),
    );
    let two = PeerCredentials {
        tls_uri_sans: vec![SERVICEB.into(), "spiffe://example.org/other".into()],
        ..PeerCredentials::default()
    };
    check(
        "two URI SANs",
        two,
        STREAM_AGGREGATED_RESOURCES,
        &node("app1", "serviceBv1"),
        Expect::Unauthenticated(&["2 URI SANs", "exactly one"]),
    );
}

#[test]
fn common_name_fallback() {
    let cn = PeerCredentials {
        tls_subject_cn: Some("legacy-envoy".into()),
        ..PeerCredentials::default()
    };
    check(
        "CN",
        cn,
        STREAM_AGGREGATED_RESOURCES,
        &node("legacy", "a"),
        Expect::Allowed("legacy-envoy", PrincipalSource::SubjectCn),
    );
}

#[test]
fn short_form_resources_are_refused() {
    check(
        "short form",
        uri(SERVICEB),
        STREAM_AGGREGATED_RESOURCES,
        "mesh/app1/virtualNode/serviceBv1",
        Expect::Denied(&["not a full ARN"]),
    );
}

#[test]
fn insecure_mode_allows_everyone_as_anonymous() {
    let open = AccessControl::insecure_no_auth();
    assert!(open.is_insecure());
    let p = open.check(
        &PeerCredentials::default(),
        STREAM_AGGREGATED_RESOURCES,
        &node("any", "thing"),
    );
    assert_eq!(
        p.map(|p| (p.id, p.source)),
        Ok(("anonymous".to_owned(), PrincipalSource::Anonymous))
    );
    assert!(!access().is_insecure());
}
