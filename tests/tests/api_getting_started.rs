//! The App Mesh user guide's getting-started steps as `aws appmesh`
//! commands (the real CLI, `--endpoint-url`) against `meshplane serve`
//! with an empty store and no spec files; then real Envoys carry serviceA's
//! calls 75/25, and `update-route` moves the split to 0/100 under
//! continuous load without a failed request.
//!
//! The guide's `create-route` is an `httpRoute` on an HTTP/2 router, which
//! `meshplane validate` refuses (route.protocol_mismatch); the route here is
//! an `http2Route`, as in `config/examples/apps`.

use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{start_apps, SERVICE_B_URL};
use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::traffic::report::now_ms;
use meshplane_e2e::Topology;
use serde_json::json;

fn example(file: &str) -> String {
    let p = workspace_root()
        .join("config/examples/apps/cli-json")
        .join(file);
    format!("file://{}", p.display())
}

/// Write `value` as a CLI input file in the topology's directory.
fn input(t: &Topology, name: &str, value: &serde_json::Value) -> anyhow::Result<String> {
    let p = t.path(name);
    std::fs::write(&p, serde_json::to_string_pretty(value)?)?;
    Ok(format!("file://{}", p.display()))
}

fn route(weights: &[(&str, u32)]) -> serde_json::Value {
    let targets: Vec<_> = weights
        .iter()
        .map(|(n, w)| json!({"virtualNode": n, "weight": w}))
        .collect();
    json!({"meshName": "apps", "virtualRouterName": "serviceB", "routeName": "serviceB",
           "spec": {"http2Route": {"match": {"prefix": "/"},
                                   "action": {"weightedTargets": targets}}}})
}

/// The guide's steps 1 to 5.
fn guide_steps(t: &Topology) -> anyhow::Result<()> {
    // Step 1: mesh and virtual service.
    let mesh = t.aws_appmesh_json(&["create-mesh", "--mesh-name", "apps"])?;
    ensure!(mesh["mesh"]["status"]["status"] == "ACTIVE", "{mesh}");
    t.aws_appmesh(&[
        "create-virtual-service",
        "--mesh-name",
        "apps",
        "--virtual-service-name",
        "serviceb.apps.local",
        "--spec",
        "{}",
    ])?;
    // Step 2: virtual node serviceB. Step 3: router and route (100 %).
    t.aws_appmesh(&[
        "create-virtual-node",
        "--cli-input-json",
        &example("virtual-node-serviceB.json"),
    ])?;
    t.aws_appmesh(&[
        "create-virtual-router",
        "--cli-input-json",
        &example("virtual-router-serviceB.json"),
    ])?;
    let r = input(t, "create-route.json", &route(&[("serviceB", 100)]))?;
    t.aws_appmesh(&["create-route", "--cli-input-json", &r])?;
    // Step 4: review.
    let m = t.aws_appmesh_json(&["describe-mesh", "--mesh-name", "apps"])?;
    ensure!(m["mesh"]["metadata"]["version"] == 1, "describe-mesh: {m}");
    t.aws_appmesh_json(&[
        "describe-virtual-service",
        "--mesh-name",
        "apps",
        "--virtual-service-name",
        "serviceb.apps.local",
    ])?;
    let n = t.aws_appmesh_json(&[
        "describe-virtual-node",
        "--mesh-name",
        "apps",
        "--virtual-node-name",
        "serviceB",
    ])?;
    ensure!(
        n["virtualNode"]["spec"]["listeners"][0]["portMapping"]["port"] == 80,
        "describe-virtual-node: {n}"
    );
    t.aws_appmesh_json(&[
        "describe-virtual-router",
        "--mesh-name",
        "apps",
        "--virtual-router-name",
        "serviceB",
    ])?;
    let rt = t.aws_appmesh_json(&[
        "describe-route",
        "--mesh-name",
        "apps",
        "--virtual-router-name",
        "serviceB",
        "--route-name",
        "serviceB",
    ])?;
    ensure!(
        rt["route"]["spec"]["http2Route"]["action"]["weightedTargets"][0]["weight"] == 100,
        "describe-route: {rt}"
    );
    // Step 5: serviceBv2, serviceA, the service's provider, 75/25, servicea.
    for file in ["virtual-node-serviceBv2.json", "virtual-node-serviceA.json"] {
        t.aws_appmesh(&["create-virtual-node", "--cli-input-json", &example(file)])?;
    }
    t.aws_appmesh(&[
        "update-virtual-service",
        "--cli-input-json",
        &example("virtual-service-serviceb.json"),
    ])?;
    let updated = t.aws_appmesh_json(&[
        "update-route",
        "--cli-input-json",
        &example("route-serviceB.json"),
    ])?;
    ensure!(
        updated["route"]["metadata"]["version"] == 2,
        "update-route: {updated}"
    );
    t.aws_appmesh(&[
        "create-virtual-service",
        "--cli-input-json",
        &example("virtual-service-servicea.json"),
    ])?;
    let nodes = t.aws_appmesh_json(&["list-virtual-nodes", "--mesh-name", "apps"])?;
    let count = nodes["virtualNodes"].as_array().map_or(0, Vec::len);
    ensure!(count == 3, "list-virtual-nodes: {nodes}");
    Ok(())
}

#[test]
fn getting_started_through_the_aws_cli_then_update_route_under_load() -> anyhow::Result<()> {
    let start = Instant::now();
    let mut t = Topology::new("api-getting-started", binaries!()?)?;
    t.start_control_api()?;
    guide_steps(&t).context("the guide's aws appmesh steps")?;
    let setup_cli = start.elapsed();
    start_apps(&mut t)?;

    let s = t.http("serviceA", SERVICE_B_URL, 1000, &HttpLoad::default())?;
    println!(
        "api scenario: 1000 requests from serviceA: {:?} (errors {:?})",
        s.by_backend, s.errors
    );
    ensure!(s.failed == 0, "failed requests: {s:?}");
    let b = s.count("serviceB");
    ensure!(
        (700..=800).contains(&b) && b + s.count("serviceBv2") == 1000,
        "serviceB got {b} of 1000 (expected 750 ± 50): {:?}",
        s.by_backend
    );

    let watch = t.watch(
        "serviceA",
        SERVICE_B_URL,
        &HttpLoad::default().concurrency(4),
        0,
    )?;
    std::thread::sleep(Duration::from_millis(1000));
    let changed_at = now_ms();
    let r = input(
        &t,
        "update-route.json",
        &route(&[("serviceB", 0), ("serviceBv2", 100)]),
    )?;
    t.aws_appmesh(&["update-route", "--cli-input-json", &r])?;
    let answered_at = now_ms();
    std::thread::sleep(Duration::from_millis(4000));
    let (outcomes, summary) = watch.stop()?;
    let last_b = outcomes
        .iter()
        .filter(|o| o.backend.as_deref() == Some("serviceB"))
        .map(|o| o.t_ms)
        .max()
        .unwrap_or(0);
    let after: Vec<_> = outcomes.iter().filter(|o| o.t_ms > last_b).collect();
    println!(
        "api scenario: update-route answered in {} ms; {} requests, {} failed, by backend {:?}; last serviceB answer {} ms after the command; {} requests after it, all serviceBv2",
        answered_at - changed_at,
        summary.sent,
        summary.failed,
        summary.by_backend,
        last_b.saturating_sub(changed_at),
        after.len()
    );
    ensure!(
        summary.failed == 0,
        "failed requests during update-route: {summary:?}"
    );
    ensure!(
        summary.count("serviceB") > 0,
        "75/25 never observed: {summary:?}"
    );
    ensure!(
        after.len() >= 100,
        "too few requests after the switch: {}",
        after.len()
    );
    println!(
        "api scenario wall time: {:.1} s (aws CLI steps {:.1} s)",
        start.elapsed().as_secs_f64(),
        setup_cli.as_secs_f64()
    );
    Ok(())
}
