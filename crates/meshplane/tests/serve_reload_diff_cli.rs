//! `meshplane serve` reports what each applied reload changed (a log line
//! and `/debug/reload`'s `diff`) and answers `POST /debug/diff` with what a
//! spec set would change, without applying it.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use meshplane_testsupport::ports::ReservedPort;
use meshplane_testsupport::process::ChildProcess;
use meshplane_testsupport::wait::wait_for_child;

fn request(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((
        head.split_whitespace().nth(1)?.parse().ok()?,
        body.to_owned(),
    ))
}

fn reload(port: u16) -> Option<serde_json::Value> {
    let (code, body) = request(port, "GET", "/debug/reload", "")?;
    (code == 200).then(|| serde_json::from_str(&body).ok())?
}

/// The apps example copied where the test may change it.
fn specs() -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/examples/apps/cli-json");
    let to = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve_reload_diff-specs");
    let _ = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
    to
}

/// Every document of `dir` as one CLI-input JSON array, with the route's
/// weights set to 50/50.
fn body_with_even_weights(dir: &Path) -> String {
    let mut docs = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        even(&mut v);
        docs.push(v);
    }
    serde_json::Value::Array(docs).to_string()
}

fn even(v: &mut serde_json::Value) {
    if let Some(t) = v.pointer_mut("/spec/http2Route/action/weightedTargets") {
        for target in t.as_array_mut().unwrap() {
            target["weight"] = 50.into();
        }
    }
}

#[test]
fn reloads_report_their_diff_and_debug_diff_dry_runs_a_spec_set() {
    let dir = specs();
    let (xds, admin_port) = (ReservedPort::new(), ReservedPort::new());
    let admin = admin_port.port();
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve_reload_diff.log");
    let _ = std::fs::remove_file(&log);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshplane"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MESHPLANE_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(["serve", "--config", dir.to_str().unwrap()])
        .env("MESHPLANE_XDS_LISTEN", xds.addr().to_string())
        .env("MESHPLANE_ADMIN_LISTEN", admin_port.addr().to_string());
    let mut server = ChildProcess::spawn_logged("meshplane serve", &mut cmd, &log);
    let first = wait_for_child(
        "the first reload",
        Duration::from_secs(30),
        &mut server,
        || reload(admin),
    );
    assert!(
        first["diff"].is_null(),
        "the first spec set has no diff: {first}"
    );

    // A dry run: nothing applied, the diff of the route weights answered.
    let (code, body) =
        request(admin, "POST", "/debug/diff", &body_with_even_weights(&dir)).unwrap();
    assert_eq!(code, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    let a =
        &report["proxies"]["arn:aws:appmesh:us-east-1:000000000000:mesh/apps/virtualNode/serviceA"];
    assert_eq!(a["resources"][0]["name"], "rds_egress_http2_80", "{report}");
    assert_eq!(report["unaffected"], 2, "{report}");
    assert_eq!(reload(admin).unwrap()["finished_at"], first["finished_at"]);

    // An invalid spec set: 422 with the findings, placed in the body.
    let (code, body) = request(
        admin,
        "POST",
        "/debug/diff",
        r#"[{"meshName": "apps", "virtualNodeName": "x", "spec": {"listeners": 3}}]"#,
    )
    .unwrap();
    assert_eq!(code, 422, "{body}");
    assert!(body.contains("request body"), "{body}");

    // An applied reload: its one-line summary in the log and /debug/reload.
    let route = dir.join("route-serviceB.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&route).unwrap()).unwrap();
    even(&mut v);
    std::fs::write(&route, v.to_string()).unwrap();
    let status = Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let next = wait_for_child(
        "the reload after SIGHUP",
        Duration::from_secs(30),
        &mut server,
        || reload(admin).filter(|r| r["finished_at"] != first["finished_at"]),
    );
    let summary = next["diff"]["summary"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        summary
            .starts_with("1 proxies affected, 1 resources changed (0 added, 0 removed, 1 changed)"),
        "{next}"
    );
    let logged = wait_for_child(
        "the reload diff log line",
        Duration::from_secs(10),
        &mut server,
        || {
            let text = std::fs::read_to_string(&log).ok()?;
            text.lines()
                .find(|l| l.contains("reload diff"))
                .map(str::to_owned)
        },
    );
    assert!(logged.contains(&summary), "{logged}");
}

#[test]
fn explain_and_diff_read_a_store() {
    let db = Path::new(env!("CARGO_TARGET_TMPDIR")).join("explain-store.db");
    let _ = std::fs::remove_file(&db);
    let url = format!("sqlite:{}", db.display());
    let examples =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/examples/apps/cli-json");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_meshplane"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["import", "--store", &url, examples.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "explain",
        "--store",
        &url,
        "--node",
        "mesh/apps/virtualNode/serviceA",
        "--request",
        "GET http://serviceb.apps.local/",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("cds_egress_apps_serviceBv2_http2_80 (weight 25)"));
    // The store holds what the files hold: no change either way.
    let out = run(&["diff", "--from", &url, "--to", examples.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
