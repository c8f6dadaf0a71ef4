//! Replicas on PostgreSQL over TLS: the test server `scripts/test.sh`
//! starts has a certificate from a throwaway CA
//! (`MESHPLANE_TEST_POSTGRES_CA`). With `sslmode=require&sslrootcert=CA`
//! two replicas take writes and follow each other, every connection they
//! hold is encrypted (`pg_stat_ssl`); a CA that did not sign the server's
//! certificate, or none (the system roots), is refused at start with an
//! error that names the store and the certificate problem, and never shows
//! the password.

#![allow(clippy::unwrap_used)] // helpers of the tests below

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use meshplane_api_tests::cluster::{admin_json, call, eventually, node_spec, ok};
use meshplane_api_tests::{postgres, Server, ServerOptions};
use serde_json::{json, Value};

const CA_VAR: &str = "MESHPLANE_TEST_POSTGRES_CA";

fn test_ca() -> String {
    match std::env::var(CA_VAR) {
        Ok(ca) if Path::new(&ca).is_file() => ca,
        _ => panic!(
            "{CA_VAR} is not set or names no file: run the tests through scripts/test.sh \
             (scripts/postgres.sh gives its PostgreSQL a certificate from a throwaway CA)"
        ),
    }
}

/// `url` with its query replaced by `query`.
fn with_query(url: &str, query: &str) -> String {
    let base = url.split_once('?').map_or(url, |(b, _)| b);
    format!("{base}?{query}")
}

/// The password in the test server's URL.
fn password(url: &str) -> String {
    let auth = url.split_once("://").unwrap().1.split_once('@').unwrap().0;
    auth.split_once(':').unwrap().1.to_owned()
}

/// A self-signed CA of its own in `dir` (openssl, which scripts/postgres.sh installs).
fn other_ca(dir: &Path) -> String {
    let (key, crt) = (dir.join("other.key"), dir.join("other.crt"));
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=not the test PostgreSQL CA"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .output()
        .expect("running openssl (scripts/postgres.sh installs it)");
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    crt.display().to_string()
}

#[test]
fn replicas_follow_each_other_over_tls() {
    let ca = test_ca();
    let plain = postgres::fresh_database("tls").unwrap();
    let url = with_query(&plain, &format!("sslmode=require&sslrootcert={ca}"));
    let servers: Vec<Server> = (0..2)
        .map(|_| {
            Server::start(ServerOptions {
                store: Some(url.clone()),
                args: vec!["--store-poll".into(), "1s".into()],
                ..ServerOptions::default()
            })
            .unwrap()
        })
        .collect();
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes",
        &json!({"meshName": "m"}),
    )
    .unwrap();
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes/m/virtualNodes",
        &json!({"virtualNodeName": "n1", "spec": node_spec(8080, "n1.m.local")}),
    )
    .unwrap();
    eventually("replica 1 describes n1", Duration::from_secs(10), || {
        let a = call(
            &servers[1],
            "GET",
            "/v20190125/meshes/m/virtualNodes/n1",
            &Value::Null,
        )?;
        Ok((a.status == 200).then_some(()))
    })
    .unwrap();
    let status = admin_json(&servers[1], "/debug/store").unwrap();
    assert_eq!(status["up"], true, "{status}");
    assert_eq!(status["listening"], true, "{status}");
    assert!(
        status["notifications"].as_u64().unwrap() >= 1,
        "replica 1 was woken over its TLS LISTEN connection: {status}"
    );

    // Every connection of the replicas to this database is encrypted.
    let mut admin = ::postgres::Client::connect(&plain, ::postgres::NoTls).unwrap();
    let rows = admin
        .query(
            "SELECT a.application_name, s.ssl FROM pg_stat_activity a \
             JOIN pg_stat_ssl s ON s.pid = a.pid \
             WHERE a.datname = current_database() AND a.application_name LIKE 'meshplane%'",
            &[],
        )
        .unwrap();
    let seen: Vec<(String, bool)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(
        seen.iter().filter(|(n, _)| n == "meshplane-listen").count() == 2,
        "both replicas listen: {seen:?}"
    );
    assert!(
        seen.iter().all(|(_, ssl)| *ssl),
        "every connection uses TLS: {seen:?}"
    );
    println!("replicas over TLS: connections {seen:?}");
}

#[test]
fn a_server_certificate_from_another_ca_is_refused_without_showing_the_password() {
    test_ca();
    let plain = postgres::fresh_database("tls_refused").unwrap();
    let secret = password(&plain);
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "a CA that did not sign it",
            with_query(
                &plain,
                &format!("sslmode=require&sslrootcert={}", other_ca(dir.path())),
            ),
        ),
        ("the system roots", with_query(&plain, "sslmode=require")),
    ];
    for (what, url) in cases {
        let err = match Server::start(ServerOptions {
            store: Some(url),
            ..ServerOptions::default()
        }) {
            Ok(_) => panic!("meshplane serve started against {what}"),
            Err(e) => format!("{e:#}"),
        };
        println!("refused with {what}: {err}");
        assert!(
            err.contains("postgres://meshplane@127.0.0.1:"),
            "the error names the store (without the password): {err}"
        );
        let lower = err.to_lowercase();
        assert!(
            lower.contains("certificate") || lower.contains("unknownissuer"),
            "the error says the certificate is not trusted: {err}"
        );
        assert!(!err.contains(&secret), "the password leaked: {err}");
    }
}
