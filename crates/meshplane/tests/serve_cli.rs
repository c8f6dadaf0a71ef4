//! `meshplane serve` refuses unsafe or contradictory settings before it
//! listens, and reads its flags from `MESHPLANE_*` variables too.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

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

/// Kills the server when the test ends, passing or failing.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

fn poll<T>(what: &str, server: &mut Server, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("meshplane serve exited ({status}) while waiting for {what}");
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn finished_at(port: u16) -> Option<String> {
    let (code, body) = get(port, "/debug/reload")?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    (code == 200).then(|| v["finished_at"].to_string())
}

#[test]
fn serves_until_killed_and_reloads_on_sighup() {
    let admin = free_port();
    let child = meshplane()
        .args(["serve", "--config", &examples()])
        .env("MESHPLANE_XDS_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("MESHPLANE_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    poll("/readyz", &mut server, || {
        get(admin, "/readyz").filter(|(c, _)| *c == 200)
    });
    let first = poll("the first reload", &mut server, || finished_at(admin));
    let status = std::process::Command::new("kill")
        .args(["-HUP", &server.0.id().to_string()])
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
