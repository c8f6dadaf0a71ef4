//! SigV4 verification and IAM authorization against the auth config's
//! access keys.

use std::time::{Duration, SystemTime};

use meshplane_authz::AuthConfig;
use serde_json::json;

use crate::support::{auth_config, set_mode, start, Client};

const ALLOW_ALL_BUT_DELETE: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "appmesh:*", "Resource": "*"}, {"Effect": "Deny", "Action": "appmesh:DeleteMesh", "Resource": "*"}]}"#;

#[tokio::test]
async fn signatures_keys_dates_and_policies() {
    let dir = tempfile::tempdir().unwrap();
    let access = auth_config(
        dir.path(),
        &[
            ("AKIAOLD", "ops", "old-secret"),
            ("AKIANEW", "ops", "new-secret"),
        ],
        ALLOW_ALL_BUT_DELETE,
    );
    let server = start(&dir.path().join("db"), access).await;
    let ok = Client::new(&server.url).with_key("AKIAOLD", "old-secret");
    ok.call("PUT", "/v20190125/meshes", Some(json!({"meshName": "m"})))
        .await
        .ok();
    // Rotation: both keys valid at once.
    Client::new(&server.url)
        .with_key("AKIANEW", "new-secret")
        .call("GET", "/v20190125/meshes/m", None)
        .await
        .ok();
    // Query strings are signed too.
    ok.call("GET", "/v20190125/meshes/m/virtualNodes?limit=5", None)
        .await
        .ok();

    let m = Client::new(&server.url)
        .with_key("AKIAOLD", "wrong")
        .call("GET", "/v20190125/meshes", None)
        .await
        .error(403, "InvalidSignatureException");
    assert!(m.contains("signature"), "{m}");
    let m = Client::new(&server.url)
        .with_key("AKIAUNKNOWN", "x")
        .call("GET", "/v20190125/meshes", None)
        .await
        .error(403, "UnrecognizedClientException");
    assert!(m.contains("AKIAUNKNOWN"), "{m}");
    let mut stale = ok.clone();
    stale.time = Some(SystemTime::now() - Duration::from_secs(16 * 60));
    let m = stale
        .call("GET", "/v20190125/meshes", None)
        .await
        .error(403, "InvalidSignatureException");
    assert!(m.contains("Signature expired"), "{m}");
    let mut other_region = ok.clone();
    other_region.region = "us-west-2".to_owned();
    other_region
        .call("GET", "/v20190125/meshes", None)
        .await
        .error(403, "InvalidSignatureException");
    Client::new(&server.url)
        .unsigned()
        .call("GET", "/v20190125/meshes", None)
        .await
        .error(403, "MissingAuthenticationTokenException");
    // Denied by policy (an explicit Deny).
    let m = ok
        .call("DELETE", "/v20190125/meshes/m", None)
        .await
        .error(403, "AccessDeniedException");
    assert!(
        m.contains("appmesh:DeleteMesh") && m.contains("mesh/m"),
        "{m}"
    );
    ok.call("GET", "/v20190125/meshes/m", None).await.ok();
}

#[tokio::test]
async fn without_an_auth_config_any_key_or_none_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &dir.path().join("db"),
        meshplane_authz::AccessControl::insecure_no_auth(),
    )
    .await;
    Client::new(&server.url)
        .unsigned()
        .call("PUT", "/v20190125/meshes", Some(json!({"meshName": "m"})))
        .await
        .ok();
    Client::new(&server.url)
        .with_key("whatever", "x")
        .call("GET", "/v20190125/meshes/m", None)
        .await
        .ok();
}

#[test]
fn secret_files_readable_by_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "s3cr3t").unwrap();
    set_mode(&secret, 0o644);
    let config = dir.path().join("auth.yaml");
    std::fs::write(
        &config,
        format!(
            "accessKeys:\n  - accessKeyId: AKIA1\n    principal: ops\n    secretFile: {}\nprincipals:\n  ops:\n    policies:\n      - inline: '{ALLOW_ALL_BUT_DELETE}'\n",
            secret.display()
        ),
    )
    .unwrap();
    let e = AuthConfig::from_file(&config).unwrap_err();
    assert!(e.to_string().contains(&secret.display().to_string()), "{e}");
    assert!(e.to_string().contains("group or others"), "{e}");
    set_mode(&secret, 0o600);
    let c = AuthConfig::from_file(&config).unwrap();
    assert_eq!(c.access_key("AKIA1").unwrap().secret.expose(), "s3cr3t");
    assert!(!format!("{c:?}").contains("s3cr3t"));
}
