//! Bad input against a server with an auth config (`py/bad_input.py`):
//! wrong secret, wrong date, missing signature, unknown key, a read-only
//! key writing, malformed and oversized bodies, unknown fields, wrong
//! types and validation rules of every resource kind, each with the exact
//! error type; plus a secret file readable by others refused at start-up.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use meshplane_api_tests::server::meshplane_bin;
use meshplane_api_tests::tools::check_script;
use meshplane_api_tests::{run_script, Server, ServerOptions};

const ADMIN_SECRET: &str = "admin-secret-0123456789abcdef0123456789abcdef";
const ROTATED_SECRET: &str = "rotated-secret-0123456789abcdef0123456789ab";
const READER_SECRET: &str = "reader-secret-0123456789abcdef0123456789abc";

/// An auth config with three access keys (two for one principal, as during
/// a rotation): the admin's secret in a file, the others in variables.
fn write_auth_config(dir: &Path, secret_mode: u32) -> std::path::PathBuf {
    let secret = dir.join("admin.secret");
    std::fs::write(&secret, ADMIN_SECRET).expect("writing the secret file");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(secret_mode))
        .expect("chmod of the secret file");
    let config = dir.join("auth.yaml");
    std::fs::write(
        &config,
        format!(
            r#"accessKeys:
  - accessKeyId: AKIDMESHPLANEADMIN
    principal: pipeline
    secretFile: {}
  - accessKeyId: AKIDMESHPLANEROTATED
    principal: pipeline
    secretEnv: MESHPLANE_TEST_ROTATED_SECRET
  - accessKeyId: AKIDMESHPLANEREADER
    principal: auditor
    secretEnv: MESHPLANE_TEST_READER_SECRET
principals:
  pipeline:
    policies:
      - inline:
          Version: "2012-10-17"
          Statement:
            Effect: Allow
            Action: "appmesh:*"
            Resource: "*"
  auditor:
    policies:
      - inline:
          Version: "2012-10-17"
          Statement:
            Effect: Allow
            Action: ["appmesh:Describe*", "appmesh:List*"]
            Resource: "arn:aws:appmesh:us-west-2:111122223333:*"
"#,
            secret.display()
        ),
    )
    .expect("writing the auth config");
    config
}

fn secret_env() -> Vec<(String, String)> {
    vec![
        (
            "MESHPLANE_TEST_ROTATED_SECRET".into(),
            ROTATED_SECRET.into(),
        ),
        ("MESHPLANE_TEST_READER_SECRET".into(), READER_SECRET.into()),
    ]
}

#[test]
fn bad_input_gets_the_exact_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(ServerOptions {
        auth_config: Some(write_auth_config(dir.path(), 0o600)),
        env: secret_env(),
        ..ServerOptions::default()
    })
    .unwrap();
    let mut env = server.script_env();
    env.push(("MESHPLANE_TEST_ADMIN_SECRET", ADMIN_SECRET.into()));
    env.push(("MESHPLANE_TEST_ROTATED_SECRET", ROTATED_SECRET.into()));
    env.push(("MESHPLANE_TEST_READER_SECRET", READER_SECRET.into()));
    let out = run_script("bad_input.py", &[], &env).unwrap();
    let stdout = check_script("bad_input.py", &out)
        .map_err(|e| format!("{e:#}\n--- server log\n{}", server.log()))
        .unwrap();
    print!("{stdout}");
}

#[test]
fn group_readable_secret_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_auth_config(dir.path(), 0o640);
    let mut child = std::process::Command::new(meshplane_bin().unwrap())
        .arg("serve")
        .arg("--auth-config")
        .arg(&config)
        .args(["--api-listen", "127.0.0.1:0", "--xds-listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .arg("--store")
        .arg(format!("sqlite:{}", dir.path().join("db").display()))
        .envs(secret_env())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("meshplane serve started with a group-readable secret file");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "exited 0 with a group-readable secret"
    );
    assert!(
        stderr.contains("admin.secret"),
        "the refusal names no file: {stderr}"
    );
}
