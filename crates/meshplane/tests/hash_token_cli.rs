#![allow(clippy::unwrap_used)]
//! `meshplane hash-token` through the built binary: the entry it prints loads
//! as an auth config and accepts the token; bad input exits 1 with a message.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use meshplane_authz::{AccessControl, AuthConfig, PeerCredentials, PrincipalSource};

const TOKEN: &str = "3f1c9a2b7d4e8f60a1b2c3d4e5f60718293a4b5c6d7e8f90";
/// `printf %s "$TOKEN" | sha256sum`
const TOKEN_SHA256: &str = "824e546e261edf8179d5debf2f11179399a79b64608412832cb173af356251b2";

fn hash_token(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .arg("hash-token")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Some calls (a token file, a usage error) never read standard input and
    // may exit before it is written: a broken pipe is their business, not a
    // test failure.
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    if let Err(e) = written {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing the token: {e}"
        );
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("hash-token-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn stdin_token_prints_the_documented_entry() {
    // `openssl rand -hex 32 > f` writes a newline: it is not part of the token.
    let out = hash_token(&["--principal", "batch-jobs"], &format!("{TOKEN}\n"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("- principal: \"batch-jobs\"\n  sha256: {TOKEN_SHA256}\n")
    );
}

#[test]
fn printed_entry_loads_as_config_and_authenticates_the_token() {
    let dir = tmp("loads");
    std::fs::write(dir.join("batch.token"), format!("  {TOKEN}\n")).unwrap();
    let token_file = dir.join("batch.token");
    let out = hash_token(
        &[
            "--principal",
            "ci: runner #1",
            "--token-file",
            token_file.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let entry = text(&out.stdout);
    let yaml = format!(
        "tokens:\n{}principals:\n  \"ci: runner #1\":\n    policies:\n      - inline:\n          Version: \"2012-10-17\"\n          Statement:\n            Effect: Allow\n            Action: appmesh:StreamAggregatedResources\n            Resource: \"*\"\n",
        entry
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let config = AuthConfig::from_yaml_str(&yaml, &dir.join("auth.yaml"))
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(config.tokens.len(), 1);
    assert_eq!(config.tokens[0].principal, "ci: runner #1");
    assert_eq!(config.tokens[0].hash.to_string(), TOKEN_SHA256);
    let access = AccessControl::new(config);
    let creds = |token: &str| PeerCredentials {
        bearer_token: Some(token.to_owned()),
        ..PeerCredentials::default()
    };
    let principal = access.authenticate(&creds(TOKEN)).unwrap();
    assert_eq!(principal.id, "ci: runner #1");
    assert_eq!(principal.source, PrincipalSource::BearerToken);
    assert!(access
        .authenticate(&creds(&TOKEN.replace('3', "4")))
        .is_err());
}

#[test]
fn weak_or_missing_input_exits_1_with_the_reason() {
    let out = hash_token(&["--principal", "p"], "short-token\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("standard input"), "{err}");
    assert!(err.contains("at least 32"), "{err}");

    let out = hash_token(&["--principal", "p"], &format!("{TOKEN} {TOKEN}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("whitespace"));

    let out = hash_token(&["--principal", "  "], TOKEN);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--principal is empty"));

    let missing = tmp("missing").join("nope.token");
    let out = hash_token(
        &[
            "--principal",
            "p",
            "--token-file",
            missing.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("nope.token"));

    // No --principal is a usage error.
    let out = hash_token(&[], TOKEN);
    assert_eq!(out.status.code(), Some(2));
}
