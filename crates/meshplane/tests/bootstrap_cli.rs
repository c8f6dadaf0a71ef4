//! `meshplane bootstrap` and `meshplane envoy` end to end: the built binary,
//! run with a cleared environment, and the real Envoy it starts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ARN: &str = "arn:aws:appmesh:us-west-2:111122223333:mesh/shop/virtualNode/cart";

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("bootstrap-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

fn meshplane(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .args(args)
        .env_clear()
        .envs(vars.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run meshplane: {e}"));
    assert!(out.status.code().is_some(), "meshplane was killed: {out:?}");
    out
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bootstrap_prints_yaml_for_the_proxy() {
    let out = meshplane(
        &["bootstrap"],
        &[
            ("APPMESH_RESOURCE_ARN", ARN),
            ("APPMESH_XDS_ENDPOINT", "meshplane.internal:15010"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.starts_with(&format!("---\nnode:\n  id: \"{ARN}\"\n")),
        "{stdout}"
    );
    assert!(stdout.contains("address: meshplane.internal"), "{stdout}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn bootstrap_errors_name_the_variable() {
    let out = meshplane(&["bootstrap"], &[]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("APPMESH_RESOURCE_ARN is not set"),
        "{stderr}"
    );

    let out = meshplane(
        &["bootstrap"],
        &[
            ("APPMESH_RESOURCE_ARN", ARN),
            ("ENVOY_ADMIN_ACCESS_PORT", "99999"),
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("ENVOY_ADMIN_ACCESS_PORT=\"99999\" is invalid"),
        "{stderr}"
    );
}

#[test]
fn bootstrap_warnings_go_to_stderr() {
    let out = meshplane(
        &["bootstrap"],
        &[("APPMESH_VIRTUAL_NODE_NAME", "mesh/shop/virtualNode/cart")],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.starts_with("---\n"), "{stdout}");
    assert!(
        stderr.contains("meshplane: warning: APPMESH_VIRTUAL_NODE_NAME is deprecated"),
        "{stderr}"
    );
}

#[test]
fn bootstrap_output_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmp("output");
    let token = dir.join("token");
    std::fs::write(&token, "0123456789abcdef0123456789abcdef\n").unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("envoy.yaml");
    let out = meshplane(
        &["bootstrap", "--output", &file.display().to_string()],
        &[
            ("APPMESH_RESOURCE_ARN", ARN),
            ("MESHPLANE_XDS_TOKEN_FILE", &token.display().to_string()),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
    let meta = std::fs::metadata(&file).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let yaml = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        yaml.contains("value: Bearer 0123456789abcdef0123456789abcdef"),
        "{yaml}"
    );
}

/// The entrypoint execs the real Envoy with the generated bootstrap, the
/// log level and concurrency from the environment and the extra arguments;
/// `--mode validate` makes that Envoy check the bootstrap and exit.
#[test]
fn envoy_entrypoint_runs_envoy_on_the_bootstrap() {
    let dir = tmp("entrypoint");
    let path = dir.join("bootstrap.yaml");
    let envoy = meshplane_testsupport::binaries::envoy();
    let admin_log = dir.join("admin.log");
    let out = meshplane(
        &["envoy", "--", "--mode", "validate", "--disable-hot-restart"],
        &[
            ("APPMESH_RESOURCE_ARN", ARN),
            ("MESHPLANE_ENVOY", &envoy.display().to_string()),
            ("MESHPLANE_BOOTSTRAP_PATH", &path.display().to_string()),
            (
                "ENVOY_ADMIN_ACCESS_LOG_FILE",
                &admin_log.display().to_string(),
            ),
            ("ENVOY_LOG_LEVEL", "debug"),
            ("ENVOY_CONCURRENCY", "3"),
            ("ENABLE_ENVOY_XRAY_TRACING", "1"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "envoy failed:\n{stdout}\n{stderr}"
    );
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains(&format!("configuration '{}' OK", path.display())),
        "{all}"
    );
    // --log-level debug took effect, and --concurrency 3 started three workers.
    assert!(all.contains("][debug]["), "{all}");
    assert!(
        all.contains("starting worker: 2") && !all.contains("starting worker: 3"),
        "{all}"
    );
    let yaml = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(yaml.contains("envoy.tracers.xray"), "{yaml}");
}

#[test]
fn envoy_entrypoint_reports_a_missing_envoy_and_bad_variables() {
    let dir = tmp("entrypoint-errors");
    let path = dir.join("bootstrap.yaml").display().to_string();
    let out = meshplane(
        &["envoy"],
        &[
            ("APPMESH_RESOURCE_ARN", ARN),
            ("MESHPLANE_ENVOY", "/nonexistent/envoy"),
            ("MESHPLANE_BOOTSTRAP_PATH", &path),
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("cannot run Envoy (/nonexistent/envoy)"),
        "{stderr}"
    );

    let out = meshplane(
        &["envoy"],
        &[
            ("APPMESH_RESOURCE_ARN", ARN),
            ("ENVOY_LOG_LEVEL", "loud"),
            ("MESHPLANE_BOOTSTRAP_PATH", &path),
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("ENVOY_LOG_LEVEL=\"loud\" is invalid"),
        "{stderr}"
    );
}
