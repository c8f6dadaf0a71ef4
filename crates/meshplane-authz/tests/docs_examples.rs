//! The auth config snippets of docs/authentication.md load and decide as the
//! text says, so the guide cannot drift from the code.

use std::path::PathBuf;

use meshplane_authz::{
    AccessControl, AuthConfig, AuthError, PeerCredentials, STREAM_AGGREGATED_RESOURCES,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ```yaml blocks of the guide that are auth configs (they have `principals:`).
fn config_blocks() -> Vec<String> {
    let path = repo().join("docs/authentication.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(block), "```") => {
                if block.contains("principals:") {
                    blocks.push(block.clone());
                }
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Loads a snippet as if it sat in config/auth/, next to the example policies.
fn load(snippet: &str) -> Result<AuthConfig, meshplane_authz::ConfigError> {
    AuthConfig::from_yaml_str(snippet, &repo().join("config/auth/snippet.yaml"))
}

fn with_mtls(snippet: &str) -> String {
    if snippet.contains("tokens:") || snippet.contains("mtls:") {
        snippet.to_owned()
    } else {
        format!("mtls: {{}}\n{snippet}")
    }
}

#[test]
fn every_config_snippet_loads_or_only_lacks_a_real_hash() {
    let blocks = config_blocks();
    assert!(blocks.len() >= 5, "found {} config snippets", blocks.len());
    for block in blocks.iter().filter(|b| !b.contains("accessKeys:")) {
        match load(&with_mtls(block)) {
            Ok(_) => {}
            // The CI example leaves the hash for the reader to fill in.
            Err(e)
                if block.contains("<output of meshplane hash-token>")
                    && e.path == "tokens[0].sha256" => {}
            // The access-key example names a secret file the reader writes.
            Err(e) if e.path.starts_with("accessKeys[") && e.path.ends_with("].secretFile") => {
                assert!(e.to_string().contains("cannot read the secret file"), "{e}");
            }
            Err(e) => panic!("{e}\n---\n{block}"),
        }
    }
}

#[test]
fn the_reference_snippet_decides_as_described() {
    let blocks = config_blocks();
    let config = load(&blocks[0]).unwrap_or_else(|e| panic!("{e}"));
    let access = AccessControl::new(config);
    let svid = |sa: &str| PeerCredentials {
        tls_uri_sans: vec![format!("spiffe://example.org/ns/apps/sa/{sa}")],
        ..PeerCredentials::default()
    };
    let arn =
        |node: &str| format!("arn:aws:appmesh:us-west-2:111122223333:mesh/apps/virtualNode/{node}");
    assert!(access
        .check(
            &svid("servicea"),
            STREAM_AGGREGATED_RESOURCES,
            &arn("servicea")
        )
        .is_ok());
    assert!(access
        .check(&svid("other"), STREAM_AGGREGATED_RESOURCES, &arn("orders"))
        .is_ok());
    let denied = access.check(
        &svid("other"),
        STREAM_AGGREGATED_RESOURCES,
        &arn("payments"),
    );
    assert!(
        matches!(&denied, Err(AuthError::PermissionDenied(m)) if m.contains("explicit deny")),
        "{denied:?}"
    );
}

/// The `accessKeys` snippet loads with its secret file beside it (mode 600)
/// and its variable set, and refuses the file once others may read it.
#[test]
fn the_access_keys_snippet_loads_with_private_secrets() {
    use std::os::unix::fs::PermissionsExt;
    let block = config_blocks()
        .into_iter()
        .find(|b| b.contains("accessKeys:"))
        .expect("an accessKeys snippet");
    let dir = std::env::temp_dir().join(format!("meshplane-docs-keys-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("secrets")).unwrap();
    let secret = dir.join("secrets/ops-key");
    std::fs::write(&secret, "secret-one\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::env::set_var("MESHPLANE_OPS_SECRET", "secret-two");
    let path = dir.join("auth.yaml");
    let config = AuthConfig::from_yaml_str(&block, &path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.access_keys.len(), 2);
    assert_eq!(
        config
            .access_key("AKIAMESHPLANEOPS1")
            .unwrap()
            .secret
            .expose(),
        "secret-one"
    );
    assert_eq!(
        config
            .access_key("AKIAMESHPLANEOPS2")
            .unwrap()
            .secret
            .expose(),
        "secret-two"
    );
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = AuthConfig::from_yaml_str(&block, &path).unwrap_err();
    assert_eq!(e.file, secret);
    let _ = std::fs::remove_dir_all(&dir);
}
