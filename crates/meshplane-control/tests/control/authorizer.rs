//! The authorization matrix through a real tonic client against the real
//! server on loopback: each refusal's gRPC code and message.

use meshplane_authz::hash_token;
use meshplane_control::ServeError;
use tonic::Code;

use super::support::{copy_examples, node_arn, serve_config, start, Ads, LDS};

const WEB_TOKEN: &str = "web-token-5a1f9c3e7b2d4f6a8c0e1b3d5f7a9c1e";
const OPS_TOKEN: &str = "ops-token-0b2d4f6a8c1e3b5d7f9a2c4e6b8d0f1a";

fn auth_yaml() -> String {
    format!(
        r#"tokens:
  - principal: web
    sha256: {web}
  - principal: ops
    sha256: {ops}
principals:
  web:
    policies:
      - inline:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: appmesh:StreamAggregatedResources
              Resource: arn:aws:appmesh:us-west-2:111122223333:mesh/apps/virtualNode/serviceA
  ops:
    policies:
      - inline:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: "appmesh:*"
              Resource: "*"
            - Sid: NoServiceB
              Effect: Deny
              Action: appmesh:StreamAggregatedResources
              Resource: arn:aws:appmesh:*:*:mesh/apps/virtualNode/serviceB
"#,
        web = hash_token(WEB_TOKEN).unwrap(),
        ops = hash_token(OPS_TOKEN).unwrap(),
    )
}

async fn refused(addr: std::net::SocketAddr, node: &str, token: Option<&str>) -> (Code, String) {
    match Ads::open(addr, node, token).await {
        Ok(mut ads) => match ads.next().await {
            Ok(r) => panic!("{node} was served: {}", r.type_url),
            Err(s) => (s.code(), s.message().to_owned()),
        },
        Err(s) => (s.code(), s.message().to_owned()),
    }
}

#[tokio::test]
async fn authorization_matrix() {
    let specs = copy_examples();
    let auth_dir = tempfile::tempdir().unwrap();
    let auth = auth_dir.path().join("auth.yaml");
    std::fs::write(&auth, auth_yaml()).unwrap();
    let mut config = serve_config(vec![specs.path().to_owned()]);
    config.auth_config = Some(auth);
    config.quota.per_resource.insert(node_arn("serviceBv2"), 1);
    let running = start(config).await;
    let addr = running.xds_addr;

    // Allowed: full ARN and the short form are the same identity.
    for id in [
        node_arn("serviceA"),
        "mesh/apps/virtualNode/serviceA".to_owned(),
    ] {
        let mut ads = Ads::open(addr, &id, Some(WEB_TOKEN)).await.unwrap();
        let r = ads.next().await.unwrap();
        assert_eq!(r.type_url, LDS);
        assert_eq!(r.resources.len(), 2, "ingress and egress listeners");
    }

    type Case<'a> = (&'a str, String, Option<&'a str>, Code, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "no credentials",
            node_arn("serviceA"),
            None,
            Code::Unauthenticated,
            vec!["no credentials"],
        ),
        (
            "unknown token",
            node_arn("serviceA"),
            Some("not-a-token-0000000000000000000000000000"),
            Code::Unauthenticated,
            vec!["not recognised"],
        ),
        (
            "denied by policy",
            node_arn("serviceB"),
            Some(WEB_TOKEN),
            Code::PermissionDenied,
            vec![
                "'web'",
                "implicit deny",
                "arn:aws:appmesh:us-west-2:111122223333:mesh/apps/virtualNode/serviceB",
            ],
        ),
        (
            "explicit deny",
            node_arn("serviceB"),
            Some(OPS_TOKEN),
            Code::PermissionDenied,
            vec!["explicit deny", "NoServiceB"],
        ),
        (
            "unknown node",
            node_arn("nope"),
            Some(OPS_TOKEN),
            Code::NotFound,
            vec!["virtual node 'nope' is not defined in mesh 'apps'"],
        ),
        (
            "unknown mesh",
            "mesh/other/virtualNode/x".to_owned(),
            Some(OPS_TOKEN),
            Code::NotFound,
            vec!["mesh 'other' is not defined"],
        ),
        (
            "malformed",
            "serviceA".to_owned(),
            Some(OPS_TOKEN),
            Code::NotFound,
            vec!["node.id", "not an App Mesh ARN"],
        ),
        (
            "not a proxy",
            "mesh/apps/virtualService/serviceb.apps.local".to_owned(),
            Some(OPS_TOKEN),
            Code::NotFound,
            vec![
                "virtualService",
                "a proxy is a virtualNode or virtualGateway",
            ],
        ),
    ];
    for (what, node, token, code, words) in cases {
        let (got, message) = refused(addr, &node, token).await;
        assert_eq!(got, code, "{what}: {message}");
        for w in words {
            assert!(message.contains(w), "{what}: {message:?} lacks {w:?}");
        }
    }

    // Quota: one proxy allowed for serviceBv2.
    let mut first = Ads::open(addr, &node_arn("serviceBv2"), Some(OPS_TOKEN))
        .await
        .unwrap();
    first.next().await.unwrap();
    let (code, message) = refused(addr, &node_arn("serviceBv2"), Some(OPS_TOKEN)).await;
    assert_eq!(code, Code::ResourceExhausted, "{message}");
    assert!(message.contains("limit 1"), "{message}");
    drop(first);
}

#[tokio::test]
async fn refuses_to_listen_beyond_loopback_without_authentication() {
    let specs = copy_examples();
    let mut config = serve_config(vec![specs.path().to_owned()]);
    config.xds_listen = "0.0.0.0:0".parse().unwrap();
    let err = meshplane_control::start(config.clone()).await.unwrap_err();
    assert!(matches!(err, ServeError::Unauthenticated { .. }), "{err}");
    assert!(err.to_string().contains("--insecure-no-auth"), "{err}");

    config.insecure_no_auth = true;
    let running = start(config).await;
    assert!(running.xds_addr.ip().is_unspecified());
}

/// The real Envoy sends the token of `MESHPLANE_XDS_TOKEN_FILE` as initial
/// metadata and is served as the token's principal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_envoy_authenticates_with_a_bearer_token() {
    use super::envoy::{dynamic_names, spawn_envoy, wait_for, ENVOY_LISTENER_PORTS};
    let specs = copy_examples();
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.yaml");
    std::fs::write(&auth, auth_yaml()).unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{WEB_TOKEN}\n")).unwrap();
    let mut config = serve_config(vec![specs.path().to_owned()]);
    config.auth_config = Some(auth);
    let running = start(config).await;

    let _ports = ENVOY_LISTENER_PORTS.lock().await;
    let (mut envoy, admin) = spawn_envoy(
        dir.path(),
        running.xds_addr,
        &[("MESHPLANE_XDS_TOKEN_FILE", token_file.display().to_string())],
    )
    .await;
    wait_for(
        &mut envoy,
        admin,
        "serviceA's listeners with a token",
        |dump| dynamic_names(dump).contains("lds_ingress_0.0.0.0_15000"),
    )
    .await;
    let (_, body) = super::support::http_get(running.admin_addr, "/debug/proxies").await;
    let proxies: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(proxies["proxies"][0]["principal"]["id"], "web", "{body}");
    assert_eq!(
        proxies["proxies"][0]["principal"]["source"], "bearer token",
        "{body}"
    );
}
