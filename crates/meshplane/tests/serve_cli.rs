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
