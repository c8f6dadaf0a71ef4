//! `meshplane explain` agrees with the real Envoy (`tests/specs/explain-agreement`):
//! for generated requests (every App Mesh route match kind, weights 0/100,
//! headers, query parameters, hosts with and without their port, gRPC
//! services and methods, TCP, and a virtual gateway's rewrites and
//! self-redirect hop), the cluster explain names is the cluster the Envoy's
//! access log shows (`%UPSTREAM_CLUSTER%`, `-` when nothing matched) for
//! the same request. The node `client` and the gateway `gw` log each
//! request with its `x-req-id` header (TCP connections by destination
//! port). The HTTP/2 router's routes are matched from HTTP/1.1 requests:
//! Envoy's route matching does not depend on the downstream protocol, and
//! the upstream side speaks HTTP/2 as the listener says.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::envoy::Sidecar;
use meshplane_e2e::harness::specs::{copy_dir, edit_json};
use meshplane_e2e::{binaries, Topology};

const BACKENDS: [(&str, u16); 7] = [
    ("v1", 8081),
    ("v2", 8082),
    ("v3", 8083),
    ("w1", 8091),
    ("w2", 8092),
    ("g1", 50061),
    ("g2", 50062),
];

/// One generated request: who sends it, and how explain sees it.
struct Case {
    id: String,
    /// `client` (through its sidecar) or `outside` (to the gateway).
    from: &'static str,
    kind: Kind,
}

enum Kind {
    Http {
        url: String,
        method: &'static str,
        headers: Vec<String>,
    },
    Grpc {
        base: String,
        path: String,
        metadata: Vec<String>,
    },
    Tcp {
        addr: String,
    },
}

fn start(log_dir: &Path) -> anyhow::Result<Topology> {
    let mut t = Topology::new("explain-agreement", binaries!()?)?;
    let specs = t.path("specs");
    copy_dir(
        &workspace_root().join("tests/specs/explain-agreement"),
        &specs,
    )?;
    point_access_logs(&t, &specs, log_dir)?;
    t.start_control(std::slice::from_ref(&specs))?;
    t.add_app("client")?;
    t.add_app("outside")?;
    let gateway = t.add_app("gateway")?;
    t.add_host("gateway.agree.local", gateway)?;
    let backends = t.add_app("backends")?;
    for name in [
        "api", "h2", "greeter", "db", "v1", "v2", "v3", "w1", "w2", "g1", "g2",
    ] {
        t.add_host(&format!("{name}.agree.local"), backends)?;
    }
    for (name, port) in BACKENDS {
        t.start_http_backend("backends", name, port)?;
    }
    t.start_tcp_backend("backends", "db", 5432)?;
    t.start_envoy("client", &Sidecar::node("agree", "client", &[]))?;
    t.start_envoy("gateway", &Sidecar::gateway("agree", "gw"))?;
    t.wait_envoys_ready()?;
    Ok(t)
}

/// The access logs go to files the Envoys (UID 1337) can write.
fn point_access_logs(t: &Topology, specs: &Path, log_dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(log_dir)?;
    std::fs::set_permissions(log_dir, std::fs::Permissions::from_mode(0o777))?;
    let scratch = t.path("scratch");
    std::fs::create_dir_all(&scratch)?;
    let client_log = log_dir.join("client.log").display().to_string();
    edit_json(&specs.join("virtual-nodes.json"), &scratch, |v| {
        for n in v.as_array_mut().into_iter().flatten() {
            if n["virtualNodeName"] == "client" {
                n["spec"]["logging"]["accessLog"]["file"]["path"] = client_log.clone().into();
            }
        }
    })?;
    let gw_log = log_dir.join("gateway.log").display().to_string();
    edit_json(&specs.join("virtual-gateway.json"), &scratch, |v| {
        v["spec"]["logging"]["accessLog"]["file"]["path"] = gw_log.into();
    })
}

/// Every request, generated from the match kinds of the specs.
fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut id = || {
        n += 1;
        format!("r{n}")
    };
    // The HTTP router `api` (port 8080): every match kind.
    let paths = [
        "/home",
        "/home/x",
        "/items/42",
        "/items/x",
        "/exact",
        "/exact/more",
        "/api/v",
        "/weights",
        "/other",
    ];
    let headers: [&[&str]; 13] = [
        &[],
        &["x-a: 1"],
        &["x-a: 2"],
        &["x-b: prefix"],
        &["x-c: endsuf"],
        &["x-d: d12"],
        &["x-d: d1x"],
        &["x-r: 5"],
        &["x-r: 10"],
        &["x-p: any"],
        &["x-n: e"],
        &["x-n: f"],
        &["x-b: nope", "x-c: nope"],
    ];
    let queries = ["", "?debug=1", "?debug=2", "?trace", "?trace=1&debug=1"];
    for i in 0..110usize {
        let path = paths[i % paths.len()];
        let hs = headers[(i / 3) % headers.len()];
        let q = queries[(i / 7) % queries.len()];
        let method = if i % 11 == 5 { "POST" } else { "GET" };
        let mut headers: Vec<String> = hs.iter().map(|h| (*h).to_owned()).collect();
        // Hosts with and without the port.
        if i % 17 == 3 {
            headers.push("host: API.agree.local:8080".to_owned());
        } else if i % 2 == 1 {
            headers.push("host: api.agree.local".to_owned());
        }
        out.push(Case {
            id: id(),
            from: "client",
            kind: Kind::Http {
                url: format!("http://api.agree.local:8080{path}{q}"),
                method,
                headers,
            },
        });
    }
    // The HTTP/2 router `h2` (port 8090): a header match and a 100/0 split.
    for i in 0..30usize {
        let mut headers = Vec::new();
        if i % 3 == 0 {
            headers.push("x-a: 1".to_owned());
        }
        if i % 5 == 2 {
            headers.push("host: h3.agree.local:8090".to_owned());
        } else if i % 4 == 1 {
            headers.push("host: h2.agree.local".to_owned());
        }
        out.push(Case {
            id: id(),
            from: "client",
            kind: Kind::Http {
                url: format!("http://h2.agree.local:8090/p{i}"),
                method: "GET",
                headers,
            },
        });
    }
    // The gRPC router `greeter` (port 50051).
    let methods = [
        "/helloworld.Greeter/SayHello",
        "/helloworld.Greeter/SayBye",
        "/other.Service/SayHello",
    ];
    for i in 0..24usize {
        let metadata = if i % 2 == 0 {
            vec!["x-canary: yes".to_owned()]
        } else {
            Vec::new()
        };
        out.push(Case {
            id: id(),
            from: "client",
            kind: Kind::Grpc {
                base: "http://greeter.agree.local:50051".to_owned(),
                path: methods[i % methods.len()].to_owned(),
                metadata,
            },
        });
    }
    // TCP: the node `db` on 5432.
    for _ in 0..10 {
        out.push(Case {
            id: id(),
            from: "client",
            kind: Kind::Tcp {
                addr: "db.agree.local:5432".to_owned(),
            },
        });
    }
    // The gateway (listener 8088): rewrites, host names, headers, the
    // self-redirect hop into the routers' matches.
    let gw_paths = [
        "/api/items/42",
        "/api/home",
        "/api/x",
        "/keep/v",
        "/hdr/a",
        "/exact",
        "/exact/x",
        "/nothing",
    ];
    for i in 0..40usize {
        let mut headers = Vec::new();
        if i % 3 == 1 {
            headers.push("x-a: 1".to_owned());
        }
        if i % 5 == 2 {
            headers.push("host: h2.example.com".to_owned());
        }
        if i % 7 == 4 {
            headers.push("x-d: d7".to_owned());
        }
        out.push(Case {
            id: id(),
            from: "outside",
            kind: Kind::Http {
                url: format!(
                    "http://gateway.agree.local:8088{}",
                    gw_paths[i % gw_paths.len()]
                ),
                method: if i % 9 == 8 { "POST" } else { "GET" },
                headers,
            },
        });
    }
    out
}

/// The cluster explain names (`-` when the request reaches none; the one
/// weighted cluster with a weight for a split).
fn explained(t: &Topology, specs: &Path, case: &Case) -> anyhow::Result<String> {
    let mut cmd = Command::new(&t.bins.meshplane);
    cmd.args(["explain", "--format", "json", "--config"])
        .arg(specs);
    let node = if case.from == "outside" {
        "mesh/agree/virtualGateway/gw"
    } else {
        "mesh/agree/virtualNode/client"
    };
    cmd.args(["--node", node]);
    match &case.kind {
        Kind::Http {
            url,
            method,
            headers,
        } => {
            cmd.args(["--request", &format!("{method} {url}")]);
            for h in headers {
                cmd.args(["-H", h]);
            }
        }
        Kind::Grpc {
            base,
            path,
            metadata,
        } => {
            cmd.args(["--request", &format!("POST {base}{path}")]);
            cmd.args(["-H", "content-type: application/grpc"]);
            for m in metadata {
                cmd.args(["-H", m]);
            }
        }
        Kind::Tcp { addr } => {
            cmd.args(["--tcp", addr]);
        }
    }
    let out = cmd.output().context("running meshplane explain")?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "explain output: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    if v["matched"] != true {
        return Ok("-".to_owned());
    }
    if let Some(c) = v["cluster"].as_str() {
        return Ok(c.to_owned());
    }
    let weighted: Vec<&str> = v["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["weight"].as_u64().unwrap_or(0) > 0)
        .filter_map(|c| c["name"].as_str())
        .collect();
    match weighted.as_slice() {
        [one] => Ok((*one).to_owned()),
        _ => bail!("explain names a split with more than one weighted cluster: {v}"),
    }
}

fn send(t: &Topology, case: &Case) -> anyhow::Result<()> {
    let id = format!("x-req-id: {}", case.id);
    match &case.kind {
        Kind::Http {
            url,
            method,
            headers,
        } => {
            let mut load = HttpLoad::default().method(method).header(&id);
            for h in headers {
                load = load.header(h);
            }
            t.http(case.from, url, 1, &load)?;
        }
        Kind::Grpc {
            base,
            path,
            metadata,
        } => {
            let mut md: Vec<&str> = metadata.iter().map(String::as_str).collect();
            md.push(&id);
            t.grpc(case.from, base, path, &md, 1)?;
        }
        Kind::Tcp { addr } => {
            t.tcp(case.from, addr, 1)?;
        }
    }
    Ok(())
}

/// Access log lines (`id cluster local-address status`) -> per request id
/// the clusters Envoy logged (both hops of a gateway request), and per TCP
/// destination port the clusters of its connections.
fn read_logs(log_dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut by_id: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in ["client.log", "gateway.log"] {
        let text = std::fs::read_to_string(log_dir.join(f)).unwrap_or_default();
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [id, cluster, local, ..] = parts.as_slice() else {
                continue;
            };
            let key = if *id == "-" {
                format!("tcp:{}", local.rsplit(':').next().unwrap_or(""))
            } else {
                (*id).to_owned()
            };
            by_id.entry(key).or_default().push((*cluster).to_owned());
        }
    }
    by_id
}

/// The cluster that decided a request: the gateway's second hop when
/// there is one (its first hop goes to the self-redirect cluster).
fn decided(clusters: &[String]) -> String {
    clusters
        .iter()
        .find(|c| !c.contains("_self_redirect_"))
        .cloned()
        .unwrap_or_else(|| "-".to_owned())
}

#[test]
fn explain_names_the_cluster_envoy_uses() -> anyhow::Result<()> {
    let start_at = Instant::now();
    let log_dir = std::env::temp_dir().join(format!("explain-agreement-{}", std::process::id()));
    let t = start(&log_dir)?;
    let specs = t.path("specs");
    let cases = cases();
    let mut expected = BTreeMap::new();
    for c in &cases {
        expected.insert(c.id.clone(), explained(&t, &specs, c)?);
        send(&t, c)?;
    }
    // Envoy flushes access logs on a timer: wait until every request is in.
    let http_ids: Vec<&Case> = cases
        .iter()
        .filter(|c| !matches!(c.kind, Kind::Tcp { .. }))
        .collect();
    let tcp_count = cases.len() - http_ids.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    let logs = loop {
        let logs = read_logs(&log_dir);
        let complete = http_ids.iter().all(|c| logs.contains_key(&c.id))
            && logs.get("tcp:5432").map_or(0, Vec::len) >= tcp_count;
        if complete || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for c in &cases {
        let want = &expected[&c.id];
        let got = match &c.kind {
            Kind::Tcp { .. } => logs.get("tcp:5432").map(|l| decided(l)),
            _ => logs.get(&c.id).map(|l| decided(l)),
        };
        compared += 1;
        if got.as_deref() != Some(want.as_str()) {
            let what = match &c.kind {
                Kind::Http {
                    url,
                    method,
                    headers,
                } => format!("{method} {url} {headers:?}"),
                Kind::Grpc {
                    base,
                    path,
                    metadata,
                } => format!("gRPC {base}{path} {metadata:?}"),
                Kind::Tcp { addr } => format!("TCP {addr}"),
            };
            disagreements.push(format!(
                "{} {what}: explain {want}, Envoy {}",
                c.id,
                got.unwrap_or_else(|| "(no log line)".to_owned())
            ));
        }
    }
    println!(
        "explain agreement: {compared} requests ({} HTTP/1.1 + HTTP/2 router + gateway, {} gRPC, {tcp_count} TCP), {} disagreements, {:.1} s",
        cases.iter().filter(|c| matches!(c.kind, Kind::Http { .. })).count(),
        cases.iter().filter(|c| matches!(c.kind, Kind::Grpc { .. })).count(),
        disagreements.len(),
        start_at.elapsed().as_secs_f64()
    );
    let mut tally: BTreeMap<&str, usize> = BTreeMap::new();
    for v in expected.values() {
        *tally.entry(v.as_str()).or_default() += 1;
    }
    println!("explain agreement: requests per cluster {tally:?}");
    let _ = std::fs::remove_dir_all(&log_dir);
    assert!(compared >= 200, "only {compared} requests");
    assert!(
        disagreements.is_empty(),
        "explain and Envoy disagree:\n{}",
        disagreements.join("\n")
    );
    Ok(())
}
