//! `meshplane serve --cloud-map-endpoint URL --cloud-map-interval DUR`
//! (and the `MESHPLANE_*` variables) against a real moto_server: the flags
//! reach the Cloud Map source, and a registration shows on /debug/cloudmap
//! and /metrics of the running binary.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../../meshplane-cloudmap/tests/moto/server.rs"]
mod moto;

use std::io::{Read, Write};
use std::process::Command;
use std::time::Duration;

use meshplane_testsupport::ports::ReservedPort;
use meshplane_testsupport::process::ChildProcess;
use meshplane_testsupport::wait::wait_for_child;

use serde_json::{json, Value};

fn meshplane() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meshplane"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MESHPLANE_") || k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    c
}

/// One HTTP request; (status, body), or None while nothing listens.
fn request(port: u16, head: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{head}Host: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
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

/// A Cloud Map API call to moto (which does not check signatures; the
/// credential scope names the service).
fn cloud_map(port: u16, operation: &str, body: Value) -> Value {
    let head = format!(
        "POST / HTTP/1.1\r\nX-Amz-Target: Route53AutoNaming_v20170314.{operation}\r\n\
         Content-Type: application/x-amz-json-1.1\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/servicediscovery/aws4_request, SignedHeaders=host, Signature=0\r\n"
    );
    let (code, text) = request(port, &head, &body.to_string()).expect("moto answers");
    assert_eq!(code, 200, "{operation}: {text}");
    serde_json::from_str(&text).unwrap()
}

fn poll<T>(what: &str, server: &mut ChildProcess, f: impl FnMut() -> Option<T>) -> T {
    wait_for_child(what, Duration::from_secs(60), server, f)
}

fn debug(admin: u16) -> Option<Value> {
    let (code, body) = request(admin, "GET /debug/cloudmap HTTP/1.1\r\n", "")?;
    (code == 200).then(|| serde_json::from_str(&body).ok())?
}

#[test]
fn flags_reach_cloud_map_and_registrations_show_on_the_admin_server() {
    let moto = moto::MotoServer::start();
    let moto_port: u16 = moto.url().rsplit(':').next().unwrap().parse().unwrap();
    cloud_map(
        moto_port,
        "CreateHttpNamespace",
        json!({ "Name": "cli.local" }),
    );
    let namespaces = cloud_map(moto_port, "ListNamespaces", json!({}));
    let ns = namespaces["Namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["Name"] == "cli.local")
        .unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let service = cloud_map(
        moto_port,
        "CreateService",
        json!({ "Name": "backend", "NamespaceId": ns }),
    );
    let service_id = service["Service"]["Id"].as_str().unwrap().to_owned();

    let dir = std::env::temp_dir().join(format!("meshplane-cloud-map-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let specs = json!([
        { "meshName": "cli" },
        { "meshName": "cli", "virtualNodeName": "backend", "spec": {
            "listeners": [{ "portMapping": { "port": 8080, "protocol": "http" } }],
            "serviceDiscovery": { "awsCloudMap": { "namespaceName": "cli.local", "serviceName": "backend" } } } },
        { "meshName": "cli", "virtualServiceName": "backend.cli.local", "spec": {
            "provider": { "virtualNode": { "virtualNodeName": "backend" } } } },
        { "meshName": "cli", "virtualNodeName": "client", "spec": {
            "backends": [{ "virtualService": { "virtualServiceName": "backend.cli.local" } }] } }
    ]);
    std::fs::write(dir.join("specs.json"), specs.to_string()).unwrap();

    // Held until the end: serve binds both beside the reservations.
    let (xds, admin_port) = (ReservedPort::new(), ReservedPort::new());
    let admin = admin_port.port();
    let mut server = ChildProcess::spawn_logged(
        "meshplane serve",
        meshplane()
            .args(["serve", "--config"])
            .arg(&dir)
            .args(["--cloud-map-interval", "300ms"])
            .env("MESHPLANE_CLOUD_MAP_ENDPOINT", moto.url())
            .env("MESHPLANE_XDS_LISTEN", xds.addr().to_string())
            .env("MESHPLANE_ADMIN_LISTEN", admin_port.addr().to_string()),
        // Beside the watched directory, not in it.
        &dir.with_extension("serve.log"),
    );

    let d = poll("the query answered", &mut server, || {
        debug(admin).filter(|d| d["queries"][0]["known"] == true)
    });
    assert_eq!(d["started"], true);
    assert_eq!(d["endpoint"], moto.url().as_str());
    assert_eq!(d["interval_seconds"], 0.3);
    assert_eq!(d["queries"][0]["namespace"], "cli.local");
    assert_eq!(d["queries"][0]["instances"], json!([]));

    cloud_map(
        moto_port,
        "RegisterInstance",
        json!({ "ServiceId": service_id, "InstanceId": "i-1",
                "Attributes": { "AWS_INSTANCE_IPV4": "10.1.2.3", "AWS_INSTANCE_PORT": "9000" } }),
    );
    let d = poll("the registration", &mut server, || {
        debug(admin).filter(|d| {
            d["queries"][0]["instances"]
                .as_array()
                .is_some_and(|a| a.len() == 1)
        })
    });
    let instance = &d["queries"][0]["instances"][0];
    assert_eq!(instance["id"], "i-1");
    assert_eq!(instance["ipv4"], "10.1.2.3");
    assert_eq!(instance["port"], 9000);
    let (_, metrics) = request(admin, "GET /metrics HTTP/1.1\r\n", "").unwrap();
    assert!(
        metrics.contains(
            "meshplane_cloudmap_instances{namespace=\"cli.local\",service=\"backend\",attributes=\"\"} 1"
        ),
        "{metrics}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(dir.with_extension("serve.log"));
}

#[test]
fn a_cloud_map_endpoint_must_be_a_url() {
    let out = meshplane()
        .args([
            "serve",
            "--config",
            ".",
            "--cloud-map-endpoint",
            "localhost:4566",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--cloud-map-endpoint 'localhost:4566'"),
        "{err}"
    );
    let out = meshplane()
        .args(["serve", "--config", ".", "--cloud-map-interval", "0s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
