//! `meshplane serve` with the App Mesh API: a write through the API reaches
//! the served configuration, an answered write survives SIGKILL, and a mesh
//! defined both in files and in the store is refused at start-up.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn meshplane() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_meshplane"));
    for (k, _) in std::env::vars() {
        if k.starts_with("MESHPLANE_") {
            c.env_remove(k);
        }
    }
    c
}

/// Killed (SIGKILL) on drop.
struct Server(Child);

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

fn request(port: u16, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
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

/// The configuration served to virtual node `a` of mesh `m` (`/debug/config`),
/// once the admin server answers it with 200.
fn node_a_config(admin: u16) -> Option<String> {
    let (code, body) = request(admin, "GET", "/debug/config?node=mesh/m/virtualNode/a", "")?;
    (code == 200).then_some(body)
}

struct Ports {
    api: u16,
    admin: u16,
    xds: u16,
}

fn start(data: &Path, extra: &[&str]) -> (Server, Ports) {
    let ports = Ports {
        api: free_port(),
        admin: free_port(),
        xds: free_port(),
    };
    let child = meshplane()
        .args(["serve", "--data-dir"])
        .arg(data)
        .args(["--api-listen", &format!("127.0.0.1:{}", ports.api)])
        .args(["--admin-listen", &format!("127.0.0.1:{}", ports.admin)])
        .args(["--xds-listen", &format!("127.0.0.1:{}", ports.xds)])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    poll("the API to listen", &mut server, || {
        request(ports.api, "GET", "/v20190125/meshes", "").map(|_| ())
    });
    (server, ports)
}

fn poll<T>(what: &str, server: &mut Server, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("meshplane serve exited ({status}) while waiting for {what}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn api(port: u16, method: &str, path: &str, body: Value) -> (u16, Value) {
    let (code, text) = request(port, method, path, &body.to_string()).unwrap();
    (code, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[test]
fn api_writes_reach_the_served_configuration_and_survive_sigkill() {
    let dir = std::env::temp_dir().join(format!("meshplane-serve-api-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (mut server, ports) = start(&dir, &[]);
    assert_eq!(
        api(
            ports.api,
            "PUT",
            "/v20190125/meshes",
            json!({"meshName": "m"})
        )
        .0,
        200
    );
    let spec = json!({"listeners": [{"portMapping": {"port": 8080, "protocol": "http"}}], "serviceDiscovery": {"dns": {"hostname": "a.local"}}});
    let (code, vn) = api(
        ports.api,
        "PUT",
        "/v20190125/meshes/m/virtualNodes",
        json!({"virtualNodeName": "a", "spec": spec}),
    );
    assert_eq!(code, 200, "{vn}");
    // The node's configuration is served without any file or poll.
    let config = poll("the node's configuration", &mut server, || {
        node_a_config(ports.admin)
    });
    assert!(config.contains("lds_ingress_0.0.0.0_15000"), "{config}");
    // An update changes it.
    let spec = json!({"listeners": [{"portMapping": {"port": 9090, "protocol": "http"}}], "serviceDiscovery": {"dns": {"hostname": "a.local"}}});
    assert_eq!(
        api(
            ports.api,
            "PUT",
            "/v20190125/meshes/m/virtualNodes/a",
            json!({"spec": spec})
        )
        .0,
        200
    );
    poll("the updated configuration", &mut server, || {
        node_a_config(ports.admin)
            .filter(|body| body.contains("9090"))
            .map(drop)
    });
    // SIGKILL right after the 200, then a new server over the same data.
    drop(server);
    let (mut server, ports) = start(&dir, &[]);
    let (code, d) = api(
        ports.api,
        "GET",
        "/v20190125/meshes/m/virtualNodes/a",
        Value::Null,
    );
    assert_eq!(code, 200);
    assert_eq!(d["metadata"]["version"], 2);
    assert_eq!(d["metadata"]["uid"], vn["metadata"]["uid"]);
    poll("the configuration after restart", &mut server, || {
        node_a_config(ports.admin)
            .filter(|body| body.contains("9090"))
            .map(drop)
    });
    drop(server);

    // The same mesh in files and in the store: refused, naming both.
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(specs.join("mesh.json"), r#"{"meshName": "m", "spec": {}}"#).unwrap();
    let out = meshplane()
        .args(["serve", "--config"])
        .arg(&specs)
        .arg("--store")
        .arg(format!("sqlite:{}", dir.join("meshplane.db").display()))
        .args([
            "--api-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--xds-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&specs.display().to_string())
            && stderr.contains("meshplane.db")
            && stderr.contains("'m'"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_api_beyond_loopback_needs_auth_or_insecure_no_auth() {
    let dir = std::env::temp_dir().join(format!("meshplane-serve-api-lb-{}", std::process::id()));
    let out = meshplane()
        .args(["serve", "--data-dir"])
        .arg(&dir)
        .args([
            "--api-listen",
            "0.0.0.0:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--xds-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("App Mesh API") && stderr.contains("--insecure-no-auth"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_api_serves_tls_with_the_xds_certificate() {
    let dir = std::env::temp_dir().join(format!("meshplane-serve-api-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let host = "appmesh.us-east-1.amazonaws.com";
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            &format!("/CN={host}"),
        ])
        .args(["-addext", &format!("subjectAltName=DNS:{host}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let api = free_port();
    let mut server = Server(
        meshplane()
            .args(["serve", "--data-dir"])
            .arg(dir.join("data"))
            .args(["--api-listen", &format!("127.0.0.1:{api}")])
            .args([
                "--admin-listen",
                "127.0.0.1:0",
                "--xds-listen",
                "127.0.0.1:0",
                "--tls-cert",
            ])
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let curl = |args: &[&str]| {
        Command::new("curl")
            .args(["-sS", "--cacert"])
            .arg(&cert)
            .args(["--resolve", &format!("{host}:{api}:127.0.0.1")])
            .args(args)
            .output()
            .unwrap()
    };
    let out = poll("the TLS API", &mut server, || {
        let out = curl(&[
            "-X",
            "PUT",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"meshName":"tls"}"#,
            &format!("https://{host}:{api}/v20190125/meshes"),
        ]);
        out.status.success().then_some(out)
    });
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["meshName"], "tls", "{body}");
    // Plain HTTP is not answered on the TLS port.
    assert!(request(api, "GET", "/v20190125/meshes", "").is_none_or(|(code, _)| code != 200));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn file_meshes_are_served_beside_the_store_and_read_only() {
    let dir =
        std::env::temp_dir().join(format!("meshplane-serve-api-files-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(
        specs.join("mesh.json"),
        r#"{"meshName": "from-files", "spec": {}}"#,
    )
    .unwrap();
    let store = format!("sqlite:{}", dir.join("db").display());
    let (mut server, ports) = start(
        &dir.join("data"),
        &["--config", specs.to_str().unwrap(), "--store", &store],
    );
    let (code, d) = poll("the file mesh", &mut server, || {
        let r = api(
            ports.api,
            "GET",
            "/v20190125/meshes/from-files",
            Value::Null,
        );
        (r.0 == 200).then_some(r)
    });
    assert_eq!(code, 200);
    assert_eq!(d["metadata"]["version"], 1);
    let (code, e) = api(
        ports.api,
        "PUT",
        "/v20190125/meshes/from-files/virtualNodes",
        json!({"virtualNodeName": "x", "spec": {}}),
    );
    assert_eq!(code, 400);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains(specs.to_str().unwrap()),
        "{e}"
    );
    assert_eq!(
        api(
            ports.api,
            "PUT",
            "/v20190125/meshes",
            json!({"meshName": "from-api"})
        )
        .0,
        200
    );
    assert_eq!(
        api(
            ports.api,
            "PUT",
            "/v20190125/meshes",
            json!({"meshName": "from-files"})
        )
        .0,
        409
    );
    let (_, list) = api(ports.api, "GET", "/v20190125/meshes", Value::Null);
    let names: Vec<&str> = list["meshes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["meshName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["from-api", "from-files"]);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
