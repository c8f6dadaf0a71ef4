#![allow(clippy::unwrap_used)]
//! Every command that loads specs takes the same parameter and import
//! options and skips what is not an App Mesh spec; `serve` keeps the values
//! across reloads. The inputs are meshplane-load's user-shaped files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use meshplane_testsupport::ports::ReservedPort;
use meshplane_testsupport::process::ChildProcess;
use meshplane_testsupport::wait::wait_for_child;

fn file(name: &str) -> String {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../meshplane-load/tests/user_files")
        .join(name);
    path.to_str().unwrap().to_owned()
}

fn meshplane(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meshplane"))
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn validate_counts_skipped_documents_and_lists_them_when_verbose() {
    let manifest = file("walkthrough-manifest.yaml");
    let out = meshplane(&["validate", &manifest]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("valid: 1 mesh (shop): 2 virtual nodes, 1 virtual service (1 warning); 6 documents skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains("warning[load.k8s_pruned_field]"),
        "{stdout}"
    );
    assert!(!stdout.contains("skipped document"), "{stdout}");
    let verbose = text(&meshplane(&["validate", "--verbose", &manifest]).stdout);
    assert_eq!(verbose.matches("note: ").count(), 6, "{verbose}");
    assert!(
        verbose.contains(":4: skipped document 0: Kubernetes Namespace 'shop' (v1)"),
        "{verbose}"
    );
    let json = meshplane(&["validate", "--format", "json", &manifest]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["summary"]["skipped_documents"], 6);
    assert_eq!(v["skipped"].as_array().unwrap().len(), 6);
}

#[test]
fn validate_export_and_render_take_parameter_and_import_files() {
    let (infra, app) = (file("infra-stack.yaml"), file("app-stack.yaml"));
    for params in [file("app-stack.params"), file("app-stack.parameters.json")] {
        let out = meshplane(&["validate", &infra, &app, "--params-file", &params]);
        assert!(out.status.success(), "{}", text(&out.stdout));
    }
    let out = meshplane(&["validate", &infra, &app]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("pass --param EnvironmentName=VALUE"));

    let out = meshplane(&[
        "render",
        "--config",
        &infra,
        "--config",
        &app,
        "--params-file",
        &file("app-stack.params"),
        "--node",
        "mesh/staging-mesh/virtualNode/cart-node",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("lds_ingress_0.0.0.0_15000"));

    // --param wins over the file; --import stands in for the missing stack.
    let out = meshplane(&[
        "export",
        &app,
        "--params-file",
        &file("app-stack.parameters.json"),
        "--param",
        "ServiceName=orders",
        "--import",
        "staging:Mesh=shared",
        "--format",
        "yaml",
    ]);
    let exported = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(exported.contains("meshName: shared"), "{exported}");
    assert!(
        exported.contains("virtualNodeName: orders-node"),
        "{exported}"
    );
}

#[test]
fn account_ids_must_be_twelve_digits() {
    let out = meshplane(&[
        "validate",
        "--account",
        "not-an-account",
        &file("app-stack.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("'not-an-account' is not an AWS account ID (12 digits)"));
    let out = meshplane(&[
        "render",
        "--config",
        &file("walkthrough-manifest.yaml"),
        "--node",
        "arn:aws:appmesh:us-east-1:123:mesh/shop/virtualNode/front_shop",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("'123' is not an AWS account ID"),
        "{}",
        text(&out.stderr)
    );
}

/// The body of /debug/reload once a reload has finished.
fn last_reload(port: u16) -> Option<serde_json::Value> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        s,
        "GET /debug/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then(|| serde_json::from_str(body).ok())?
}

fn wait_for(
    server: &mut ChildProcess,
    port: u16,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    wait_for_child(what, std::time::Duration::from_secs(30), server, || {
        last_reload(port).filter(|v| ok(v))
    })
}

#[test]
fn serve_keeps_parameters_and_imports_across_reloads() {
    let dir = std::env::temp_dir().join(format!("meshplane-serve-params-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(file("app-stack.yaml"), dir.join("app-stack.yaml")).unwrap();
    std::fs::copy(file("walkthrough-manifest.yaml"), dir.join("manifest.yaml")).unwrap();
    // Held until the end: serve binds both beside the reservations.
    let (xds, admin_port) = (ReservedPort::new(), ReservedPort::new());
    let admin = admin_port.port();
    let mut server = ChildProcess::spawn_logged(
        "meshplane serve",
        Command::new(env!("CARGO_BIN_EXE_meshplane"))
            .args(["serve", "--config", dir.to_str().unwrap()])
            .args([
                "--params-file",
                &file("app-stack.params"),
                "--import",
                "staging:Mesh=shop",
            ])
            .args(["--xds-listen", &xds.addr().to_string()])
            .args(["--admin-listen", &admin_port.addr().to_string()]),
        // Beside the watched directory, not in it.
        &dir.with_extension("serve.log"),
    );
    let first = wait_for(&mut server, admin, "the first reload", |_| true);
    assert_eq!(first["applied"], true, "{first}");
    assert_eq!(
        first["skipped_documents"].as_array().unwrap().len(),
        6,
        "{first}"
    );
    // An edit reloads with the same values: still valid, still applied.
    let edited = std::fs::read_to_string(dir.join("app-stack.yaml"))
        .unwrap()
        .replace("Protocol: http", "Protocol: http2");
    std::fs::write(dir.join("app-stack.yaml"), edited).unwrap();
    let second = wait_for(&mut server, admin, "a reload after the edit", |v| {
        v["finished_at"] != first["finished_at"]
    });
    drop(server);
    std::fs::remove_dir_all(&dir).unwrap();
    let _ = std::fs::remove_file(dir.with_extension("serve.log"));
    assert_eq!(second["applied"], true, "{second}");
    assert_eq!(second["error"], serde_json::Value::Null, "{second}");
    assert_eq!(
        second["changes"]["updated"].as_array().map(Vec::len),
        Some(1),
        "{second}"
    );
}
