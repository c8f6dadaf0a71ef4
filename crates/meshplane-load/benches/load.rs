//! Load and export throughput on a generated mesh, printed as figures.
//!
//! `cargo bench -p meshplane-load --bench load`. `cargo test` runs it at a
//! smoke size (20 nodes, debug build): those figures only show it works.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use meshplane_load::{export, load_str, ExportFormat, LoadOptions};

/// Virtual nodes generated: 2,000 under `cargo bench`, 20 under `cargo test`.
fn nodes() -> usize {
    if full_size() {
        2_000
    } else {
        20
    }
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary
/// too, without it: then a smoke size proves the bench still works, quickly.
fn full_size() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// CLI input documents: `nodes()` virtual nodes (each with a backend), a virtual
/// service per node, and a router with a route per 10 nodes.
fn cli_json() -> String {
    let mut docs = Vec::new();
    docs.push(
        r#"{"meshName": "bench", "spec": {"egressFilter": {"type": "DROP_ALL"}}}"#.to_owned(),
    );
    for i in 0..nodes() {
        docs.push(format!(
            r#"{{"meshName": "bench", "virtualNodeName": "node-{i}", "spec": {{
  "listeners": [{{"portMapping": {{"port": 8080, "protocol": "http"}},
    "healthCheck": {{"protocol": "http", "path": "/ping", "healthyThreshold": 2, "unhealthyThreshold": 3, "timeoutMillis": 2000, "intervalMillis": 5000}}}}],
  "backends": [{{"virtualService": {{"virtualServiceName": "svc-{}.local"}}}}],
  "serviceDiscovery": {{"dns": {{"hostname": "node-{i}.bench.local"}}}}}}}}"#,
            (i + 1) % nodes()
        ));
        docs.push(format!(
            r#"{{"meshName": "bench", "virtualServiceName": "svc-{i}.local", "spec": {{"provider": {{"virtualNode": {{"virtualNodeName": "node-{i}"}}}}}}}}"#
        ));
    }
    for r in 0..nodes() / 10 {
        docs.push(format!(
            r#"{{"meshName": "bench", "virtualRouterName": "router-{r}", "spec": {{"listeners": [{{"portMapping": {{"port": 8080, "protocol": "http"}}}}]}}}}"#
        ));
        docs.push(format!(
            r#"{{"meshName": "bench", "virtualRouterName": "router-{r}", "routeName": "r", "spec": {{"httpRoute": {{"match": {{"prefix": "/"}},
  "action": {{"weightedTargets": [{{"virtualNode": "node-{}", "weight": 90}}, {{"virtualNode": "node-{}", "weight": 10}}]}}}}}}}}"#,
            r * 10,
            r * 10 + 1
        ));
    }
    format!("[{}]", docs.join(",\n"))
}

/// The same nodes as a CloudFormation template with intrinsics.
fn cloudformation() -> String {
    let mut t = String::from("Parameters:\n  Domain: {Type: String, Default: bench.local}\nResources:\n  Mesh:\n    Type: AWS::AppMesh::Mesh\n    Properties: {MeshName: bench}\n");
    for i in 0..nodes() {
        let _ = write!(
            t,
            "  Node{i}:\n    Type: AWS::AppMesh::VirtualNode\n    Properties:\n      MeshName: !GetAtt Mesh.MeshName\n      VirtualNodeName: node-{i}\n      Spec:\n        Listeners:\n          - PortMapping: {{Port: 8080, Protocol: http}}\n        ServiceDiscovery:\n          DNS: {{Hostname: !Sub 'node-{i}.${{Domain}}'}}\n  Service{i}:\n    Type: AWS::AppMesh::VirtualService\n    Properties:\n      MeshName: !GetAtt Mesh.MeshName\n      VirtualServiceName: svc-{i}.local\n      Spec:\n        Provider:\n          VirtualNode: {{VirtualNodeName: !GetAtt Node{i}.VirtualNodeName}}\n"
        );
    }
    t
}

fn measure(label: &str, file: &str, text: &str) -> meshplane_spec::MeshModel {
    let opts = LoadOptions::default();
    let runs = 3;
    let start = Instant::now();
    let mut loaded = None;
    for _ in 0..runs {
        loaded = Some(load_str(Path::new(file), text, &opts));
    }
    let elapsed = start.elapsed() / runs;
    let loaded = loaded.expect("ran");
    assert!(
        loaded.diagnostics.is_empty(),
        "{:?}",
        loaded.diagnostics.first()
    );
    let resources: usize = loaded.model.counts().values().sum();
    println!(
        "load {label:<16} {resources:>6} resources {:>8.1} KiB  {:>8.1} ms  {:>9.0} resources/s  {:>6.1} MiB/s",
        text.len() as f64 / 1024.0,
        elapsed.as_secs_f64() * 1e3,
        resources as f64 / elapsed.as_secs_f64(),
        text.len() as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64(),
    );
    loaded.model
}

fn main() {
    let model = measure("cli-json", "bench.json", &cli_json());
    for (label, format, file) in [
        ("export json", ExportFormat::CliJson, "export.json"),
        ("export yaml", ExportFormat::Yaml, "export.yaml"),
    ] {
        let start = Instant::now();
        let text = export(&model, format);
        println!(
            "{label:<21} {:>8.1} KiB  {:>8.1} ms",
            text.len() as f64 / 1024.0,
            start.elapsed().as_secs_f64() * 1e3
        );
        let again = measure(&format!("re-{label}"), file, &text);
        assert_eq!(again, model);
    }
    measure("cloudformation", "bench.yaml", &cloudformation());
}
