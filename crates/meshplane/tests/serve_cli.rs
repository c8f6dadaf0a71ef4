//! `meshplane serve` refuses unsafe or contradictory settings before it
//! listens, reads its flags from `MESHPLANE_*` variables too, reloads on
//! SIGHUP and shows its allocator's statistics on `/metrics`.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use meshplane_testsupport::ports::ReservedPort;
use meshplane_testsupport::process::ChildProcess;
use meshplane_testsupport::wait::wait_for_child;

fn examples() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../config/examples/apps/cli-json")
        .display()
        .to_string()
}

fn meshplane() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meshplane"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MESHPLANE_") {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn refuses_unauthenticated_xds_beyond_loopback_from_a_flag_or_a_variable() {
    let out = meshplane()
        .args([
            "serve",
            "--config",
            &examples(),
            "--xds-listen",
            "0.0.0.0:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to serve xDS on 0.0.0.0:0 without authentication"),
        "{err}"
    );
    assert!(err.contains("--insecure-no-auth"), "{err}");

    let out = meshplane()
        .args(["serve", "--admin-listen", "127.0.0.1:0"])
        .env("MESHPLANE_CONFIG", examples())
        .env("MESHPLANE_XDS_LISTEN", "0.0.0.0:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("without authentication"));
}

#[test]
fn bad_quota_and_duration_are_usage_errors() {
    let out = meshplane()
        .args([
            "serve",
            "--config",
            &examples(),
            "--proxy-quota-for",
            "mesh/apps/virtualNode/serviceA=zero",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--proxy-quota-for 'mesh/apps/virtualNode/serviceA=zero'"),
        "{err}"
    );

    let out = meshplane()
        .args(["serve", "--config", &examples(), "--max-stream-age", "5d"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown unit 'd'"));
}

#[test]
fn tls_flags_come_in_pairs_and_bad_files_are_named() {
    let out = meshplane()
        .args([
            "serve",
            "--config",
            &examples(),
            "--tls-cert",
            "/nonexistent/server.pem",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));

    let out = meshplane()
        .args([
            "serve",
            "--config",
            &examples(),
            "--xds-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--tls-cert",
            "/nonexistent/server.pem",
            "--tls-key",
            "/nonexistent/server.key",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/server.pem: cannot read"),
        "{err}"
    );
}

/// (status, body) of a GET, or None while nothing listens.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
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

fn poll<T>(what: &str, server: &mut ChildProcess, f: impl FnMut() -> Option<T>) -> T {
    wait_for_child(what, Duration::from_secs(30), server, f)
}

fn finished_at(port: u16) -> Option<String> {
    let (code, body) = get(port, "/debug/reload")?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    (code == 200).then(|| v["finished_at"].to_string())
}

#[test]
fn serves_until_killed_and_reloads_on_sighup() {
    // Held until the end: serve binds both beside the reservations.
    let (xds, admin_port) = (ReservedPort::new(), ReservedPort::new());
    let admin = admin_port.port();
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve_cli-sighup.log");
    let _ = std::fs::remove_file(&log);
    let mut server = ChildProcess::spawn_logged(
        "meshplane serve",
        meshplane()
            .args(["serve", "--config", &examples()])
            .env("MESHPLANE_XDS_LISTEN", xds.addr().to_string())
            .env("MESHPLANE_ADMIN_LISTEN", admin_port.addr().to_string()),
        &log,
    );
    poll("/readyz", &mut server, || {
        get(admin, "/readyz").filter(|(c, _)| *c == 200)
    });
    let first = poll("the first reload", &mut server, || finished_at(admin));
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    poll("a reload after SIGHUP", &mut server, || {
        finished_at(admin).filter(|t| *t != first)
    });
    let (code, metrics) = get(admin, "/metrics").unwrap();
    assert_eq!(code, 200);
    assert!(
        metrics.contains("meshplane_snapshot_build_seconds_count 2\n"),
        "{metrics}"
    );
}

/// The value of the unlabelled gauge `name`, checking its HELP and TYPE.
fn gauge(metrics: &str, name: &str) -> Option<u64> {
    if !metrics.contains(&format!("# HELP {name} "))
        || !metrics.contains(&format!("# TYPE {name} gauge\n"))
    {
        return None;
    }
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_show_the_allocators_statistics_where_it_is_jemalloc() {
    let (xds, admin_port) = (ReservedPort::new(), ReservedPort::new());
    let admin = admin_port.port();
    let log = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve_cli-allocator.log");
    let _ = std::fs::remove_file(&log);
    let mut server = ChildProcess::spawn_logged(
        "meshplane serve",
        meshplane().args([
            "serve",
            "--config",
            &examples(),
            "--xds-listen",
            &xds.addr().to_string(),
            "--admin-listen",
            &admin_port.addr().to_string(),
        ]),
        &log,
    );
    poll("/readyz", &mut server, || {
        get(admin, "/readyz").filter(|(c, _)| *c == 200)
    });
    let (code, metrics) = get(admin, "/metrics").unwrap();
    assert_eq!(code, 200);
    let read = |what: &str| gauge(&metrics, &format!("meshplane_allocator_{what}_bytes"));

    if cfg!(target_os = "linux") {
        // jemalloc: every gauge, with values that fit together. The served
        // mesh and the runtime alone hold more than a MiB, so a reading of
        // some other allocator instance than the server's would show here.
        let [allocated, active, metadata, resident, mapped, _retained] = [
            "allocated",
            "active",
            "metadata",
            "resident",
            "mapped",
            "retained",
        ]
        .map(|what| read(what).unwrap_or_else(|| panic!("no {what} gauge in\n{metrics}")));
        assert!(allocated > 1 << 20, "{metrics}");
        assert!(metadata > 0, "{metrics}");
        assert!(active >= allocated, "{metrics}");
        assert!(resident >= active, "{metrics}");
        assert!(mapped >= active, "{metrics}");
    } else {
        assert!(!metrics.contains("meshplane_allocator_"), "{metrics}");
    }
}
