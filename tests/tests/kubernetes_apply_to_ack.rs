//! Benchmark (prints figures, asserts none): the time from `kubectl` writing
//! App Mesh objects to the real API server until serviceA's Envoy has
//! acknowledged the configuration they change, read from meshplane's
//! `/debug/proxies` (polled, so each figure includes up to one poll, a
//! process spawn in the switch namespace). One change (a VirtualRouter
//! weight edit, as Flagger makes it) 20 times; then 1,000 objects applied at
//! once (999 new VirtualNodes and the weight edit in one `kubectl apply`).

use std::time::{Duration, Instant};

use anyhow::Context;
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::start_apps;
use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::kubernetes::Cluster;
use meshplane_e2e::harness::topology::wait_for;
use meshplane_e2e::Topology;
use serde_json::Value;

const NS: &str = "apps";

/// serviceA's proxy: the versions sent per type, once every type is acked.
fn acked_versions(t: &Topology) -> anyhow::Result<Option<Vec<String>>> {
    let proxies = t.control_proxies()?;
    let Some(p) = proxies.iter().find(|p| {
        p["identity"]
            .as_str()
            .is_some_and(|i| i.ends_with("virtualNode/serviceA"))
    }) else {
        return Ok(None);
    };
    let types = p["types"].as_object().context("types")?;
    let mut out = Vec::new();
    for s in types.values() {
        if s["last_sent_version"] != s["last_acked_version"] {
            return Ok(None);
        }
        out.push(s["last_sent_version"].to_string());
    }
    Ok(Some(out))
}

fn router(b: u32, bv2: u32) -> String {
    format!(
        r#"{{"apiVersion":"appmesh.k8s.aws/v1beta2","kind":"VirtualRouter","metadata":{{"name":"service-b","namespace":"apps"}},
 "spec":{{"awsName":"serviceB","listeners":[{{"portMapping":{{"port":80,"protocol":"http2"}}}}],
  "routes":[{{"name":"serviceB","http2Route":{{"match":{{"prefix":"/"}},"action":{{"weightedTargets":[
    {{"virtualNodeRef":{{"name":"service-b"}},"weight":{b}}},{{"virtualNodeRef":{{"name":"service-bv2"}},"weight":{bv2}}}]}}}}}}]}}}}"#
    )
}

fn node(i: usize) -> String {
    format!(
        r#"{{"apiVersion":"appmesh.k8s.aws/v1beta2","kind":"VirtualNode","metadata":{{"name":"bench-{i}","namespace":"apps"}},
 "spec":{{"listeners":[{{"portMapping":{{"port":8080,"protocol":"http"}}}}],"serviceDiscovery":{{"dns":{{"hostname":"bench-{i}.apps.local"}}}}}}}}"#
    )
}

/// Applies `docs` (one YAML stream: there is no core API, so no `v1 List`) and waits for serviceA's proxy to ack new versions.
fn apply_until_acked(t: &Topology, k: &Cluster, docs: &[String]) -> anyhow::Result<Duration> {
    let before = wait_for("serviceA in sync", Duration::from_secs(30), || {
        acked_versions(t)
    })?;
    let list = docs.join("\n---\n");
    let started = Instant::now();
    k.kubectl_with_input(&["apply", "-f", "-"], Some(&list))?;
    wait_for("serviceA acks the change", Duration::from_secs(60), || {
        Ok(acked_versions(t)?.filter(|v| *v != before))
    })?;
    Ok(started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
fn kubectl_apply_to_proxy_ack() -> anyhow::Result<()> {
    let k = Cluster::from_env()?;
    k.delete_mesh(NS, "apps")?;
    let apps = workspace_root().join("config/examples/apps/kubernetes/apps.yaml");
    k.kubectl(&["apply", "-f", &apps.display().to_string()])?;
    let mut t = Topology::new("k8s-bench", binaries!()?)?;
    let _reach = k.serve(&mut t, NS)?;
    start_apps(&mut t)?;

    let mut one = Vec::new();
    for i in 0..20u32 {
        let b = 10 + (i % 2) * 80;
        one.push(apply_until_acked(&t, &k, &[router(b, 100 - b)])?);
    }
    one.sort();
    println!(
        "kubernetes bench: one change (router weights), kubectl apply -> serviceA ACK, 20 runs: p50 {:?}, p99 {:?}, max {:?}",
        percentile(&one, 0.5),
        percentile(&one, 0.99),
        one[one.len() - 1]
    );

    let mut docs: Vec<String> = (0..999).map(node).collect();
    docs.push(router(50, 50));
    let thousand = apply_until_acked(&t, &k, &docs)?;
    let status = wait_for(
        "the 999 nodes' status written",
        Duration::from_secs(120),
        || {
            let list: Value = k.get_json(&["virtualnodes", "-n", NS])?;
            let done = list["items"].as_array().map_or(0, |items| {
                items
                    .iter()
                    .filter(|o| o["status"]["virtualNodeARN"].is_string())
                    .count()
            });
            Ok((done >= 1002).then_some(()))
        },
    );
    println!(
        "kubernetes bench: 1,000 objects in one kubectl apply -> serviceA ACK: {thousand:?}; all statuses written: {}",
        if status.is_ok() { "yes" } else { "no (within 120 s)" }
    );
    k.delete_mesh(NS, "apps")?;
    Ok(())
}
