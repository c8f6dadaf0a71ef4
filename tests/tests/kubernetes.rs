//! `meshplane serve --kubernetes` against a real Kubernetes API server (etcd
//! and the CRD API server scripts/k8s-apiserver.sh builds from Debian's
//! sources and starts; the App Mesh CRDs of deploy/kubernetes/crds applied)
//! and the real kubectl: the getting-started objects
//! (config/examples/apps/kubernetes) applied with kubectl, real Envoys
//! carrying serviceA's calls 75/25; the status meshplane writes back (ARNs,
//! Active conditions); a VirtualRouter weight edit as Flagger makes it,
//! under load without a failed request; an invalid edit shown as a False
//! condition naming the field while the last good config stays served; the
//! API server stopped and started again during changes; a second replica
//! writing the same statuses without flapping; `/debug/kubernetes` along
//! the way (objects, rejected, the watch errors of the outage). The expired
//! watch (410 Gone) is kubernetes_relist.rs.
//!
//! One test: the steps share the cluster (meshes are cluster-scoped) and the
//! API server restart would disturb any test running beside it.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{start_apps, SERVICE_B_URL};
use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::kubernetes::Cluster;
use meshplane_e2e::harness::topology::wait_for;
use meshplane_e2e::traffic::report::now_ms;
use meshplane_e2e::Topology;
use serde_json::Value;

const NS: &str = "apps";

/// The `type` condition of an object: (status, message).
fn condition(object: &Value, kind: &str) -> Option<(String, String)> {
    let c = object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == format!("{kind}Active"))?;
    Some((
        c["status"].as_str()?.to_owned(),
        c["message"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// Every object's resourceVersion, by kind/name.
fn versions(k: &Cluster) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for kind in [
        "meshes",
        "virtualnodes",
        "virtualservices",
        "virtualrouters",
    ] {
        let list = k.get_json(&[kind, "-A"])?;
        for item in list["items"].as_array().cloned().unwrap_or_default() {
            out.insert(
                format!("{kind}/{}", item["metadata"]["name"].as_str().unwrap_or("")),
                item["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            );
        }
    }
    Ok(out)
}

/// A second replica, in the root namespace (it serves no proxy here; it
/// follows the cluster and writes status like the first).
struct Replica(Child);

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn second_replica(t: &Topology, k: &Cluster) -> anyhow::Result<Replica> {
    let dir = t.path("replica2");
    std::fs::create_dir_all(&dir)?;
    let log = std::fs::File::create(dir.join("meshplane.log"))?;
    let child = Command::new(&t.bins.meshplane)
        .args(["serve", "--kubernetes", "--kubernetes-namespaces", NS])
        .arg("--kubeconfig")
        .arg(&k.kubeconfig)
        .args([
            "--xds-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
            "--api-listen",
            "127.0.0.1:0",
            "--insecure-no-auth",
        ])
        .arg("--store")
        .arg(format!("sqlite:{}", dir.join("meshplane.db").display()))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting the second replica")?;
    Ok(Replica(child))
}

#[test]
fn kubernetes_objects_served_live_with_status_written_back() -> anyhow::Result<()> {
    let start = Instant::now();
    let k = Cluster::from_env()?;
    k.delete_mesh(NS, "apps")?;
    let apps = workspace_root().join("config/examples/apps/kubernetes/apps.yaml");
    let applied_at = Instant::now();
    k.kubectl(&["apply", "-f", &apps.display().to_string()])?;
    println!(
        "kubernetes: kubectl apply of the getting-started objects: {:?}",
        applied_at.elapsed()
    );

    let mut t = Topology::new("kubernetes", binaries!()?)?;
    let _reach = k.serve(&mut t, NS)?;
    start_apps(&mut t)?;

    // Real traffic, 75/25.
    let s = t.http("serviceA", SERVICE_B_URL, 1000, &HttpLoad::default())?;
    println!(
        "kubernetes: 1000 requests from serviceA: {:?}",
        s.by_backend
    );
    ensure!(s.failed == 0, "failed requests: {s:?}");
    let b = s.count("serviceB");
    ensure!(
        (700..=800).contains(&b) && b + s.count("serviceBv2") == 1000,
        "serviceB got {b} of 1000 (expected 750 ± 50): {:?}",
        s.by_backend
    );

    // Status: every object's ARN and Active condition.
    let arn = wait_for(
        "status ARNs and Active conditions",
        Duration::from_secs(15),
        || {
            let nodes = k.get_json(&["virtualnodes", "-n", NS])?;
            let routers = k.get_json(&["virtualrouters", "-n", NS])?;
            let services = k.get_json(&["virtualservices", "-n", NS])?;
            let mesh = k.get_json(&["mesh", "apps"])?;
            let mut all: Vec<(Value, &str, &str)> = Vec::new();
            for n in nodes["items"].as_array().cloned().unwrap_or_default() {
                all.push((n, "VirtualNode", "virtualNodeARN"));
            }
            for r in routers["items"].as_array().cloned().unwrap_or_default() {
                all.push((r, "VirtualRouter", "virtualRouterARN"));
            }
            for v in services["items"].as_array().cloned().unwrap_or_default() {
                all.push((v, "VirtualService", "virtualServiceARN"));
            }
            all.push((mesh, "Mesh", "meshARN"));
            ensure!(all.len() == 7, "expected 7 objects, got {}", all.len());
            for (o, kind, field) in &all {
                let done = o["status"][field].as_str().is_some()
                    && condition(o, kind).is_some_and(|(s, _)| s == "True")
                    && o["status"]["observedGeneration"] == o["metadata"]["generation"];
                if !done {
                    return Ok(None);
                }
            }
            let b = all
                .iter()
                .find(|(o, kind, _)| *kind == "VirtualNode" && o["metadata"]["name"] == "service-b")
                .map(|(o, _, _)| o["status"]["virtualNodeARN"].clone());
            Ok(b)
        },
    )?;
    ensure!(
        arn.as_str()
            .is_some_and(|a| a.starts_with("arn:aws:appmesh:")
                && a.ends_with(":mesh/apps/virtualNode/serviceB")),
        "service-b's virtualNodeARN: {arn}"
    );
    let router = k.get_json(&["virtualrouter", "-n", NS, "service-b"])?;
    ensure!(
        router["status"]["routeARNs"]["serviceB"]
            .as_str()
            .is_some_and(|a| a.ends_with(":mesh/apps/virtualRouter/serviceB/route/serviceB")),
        "routeARNs: {}",
        router["status"]
    );

    // The admin server's view of the source: every watch listed, the seven
    // objects held, none rejected.
    let d = t.control_json("/debug/kubernetes")?;
    ensure!(
        d["objects"] == 7 && d["rejected"] == 0 && d["status_writes"].as_u64() >= Some(7),
        "/debug/kubernetes: {d}"
    );
    for w in d["watches"].as_array().into_iter().flatten() {
        ensure!(w["listed"] == true, "a watch has not listed: {w}");
    }

    // The weights move as Flagger moves them, under load: no failed request.
    let watch = t.watch(
        "serviceA",
        SERVICE_B_URL,
        &HttpLoad::default().concurrency(4),
        0,
    )?;
    std::thread::sleep(Duration::from_millis(1000));
    let changed_at = now_ms();
    k.set_weights(NS, 0, 100)?;
    std::thread::sleep(Duration::from_millis(3000));
    let (outcomes, summary) = watch.stop()?;
    let last_b = outcomes
        .iter()
        .filter(|o| o.backend.as_deref() == Some("serviceB"))
        .map(|o| o.t_ms)
        .max()
        .unwrap_or(0);
    let after = outcomes.iter().filter(|o| o.t_ms > last_b).count();
    println!(
        "kubernetes: weight edit under load: {} requests, {} failed, {:?}; last serviceB answer {} ms after kubectl patch; {after} after it",
        summary.sent,
        summary.failed,
        summary.by_backend,
        last_b.saturating_sub(changed_at)
    );
    ensure!(
        summary.failed == 0,
        "failed requests during the edit: {summary:?}"
    );
    ensure!(after >= 100, "too few requests after the switch: {after}");

    // An invalid edit: a False condition naming the field; the last good
    // config stays served.
    k.kubectl(&[
        "patch",
        "-n",
        NS,
        "virtualnode",
        "service-bv2",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/listeners/0/portMapping/port","value":70000}]"#,
    ])?;
    let message = wait_for(
        "a False VirtualNodeActive condition",
        Duration::from_secs(10),
        || {
            let o = k.get_json(&["virtualnode", "-n", NS, "service-bv2"])?;
            Ok(condition(&o, "VirtualNode")
                .filter(|(s, _)| s == "False")
                .map(|(_, m)| m))
        },
    )?;
    println!("kubernetes: invalid edit: {message}");
    ensure!(
        message.contains("listeners[0].portMapping.port") && message.contains("last good"),
        "the condition does not name the field: {message}"
    );
    let s = t.http("serviceA", SERVICE_B_URL, 200, &HttpLoad::default())?;
    ensure!(
        s.failed == 0 && s.count("serviceBv2") == 200,
        "after the invalid edit: {s:?}"
    );
    let d = t.control_json("/debug/kubernetes")?;
    ensure!(d["rejected"] == 1, "the invalid object is not counted: {d}");

    // The API server stops during changes, and comes back.
    k.api_server("stop")?;
    let s = t.http("serviceA", SERVICE_B_URL, 200, &HttpLoad::default())?;
    ensure!(s.failed == 0, "with the API server down: {s:?}");
    k.api_server("start")?;
    let restarted = Instant::now();
    wait_for(
        "the API server answers kubectl",
        Duration::from_secs(30),
        || Ok(k.kubectl(&["get", "virtualrouters", "-n", NS]).ok()),
    )?;
    k.set_weights(NS, 100, 0)?;
    wait_for(
        "the split back on serviceB after the restart",
        Duration::from_secs(45),
        || {
            let s = t.http("serviceA", SERVICE_B_URL, 50, &HttpLoad::default())?;
            ensure!(s.failed == 0, "{s:?}");
            Ok((s.count("serviceB") == 50).then_some(()))
        },
    )?;
    println!(
        "kubernetes: API server restarted; an edit made after it served {:?} after the restart",
        restarted.elapsed()
    );
    // The outage is on /debug/kubernetes: every watch failed while the API
    // server was down, and is synced again (listed again when its version
    // had expired, or resumed), the quiet kinds included.
    let d = wait_for(
        "every watch synced after the restart",
        Duration::from_secs(30),
        || {
            let d = t.control_json("/debug/kubernetes")?;
            Ok((d["up"] == true).then_some(d))
        },
    )?;
    for w in d["watches"].as_array().into_iter().flatten() {
        println!(
            "kubernetes: after the restart: {} watch: synced {}, {} relists, {} errors",
            w["kind"], w["synced"], w["relists"], w["errors"]
        );
    }
    let router = d["watches"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["kind"] == "VirtualRouter"))
        .cloned()
        .unwrap_or_default();
    ensure!(
        router["listed"] == true
            && router["errors"].as_u64() >= Some(1)
            && router["last_error"]["message"].is_string(),
        "the VirtualRouter watch after the API server restart: {router}"
    );

    // A second replica, started while service-bv2 is invalid: it has never
    // served service-bv2, so it takes the last good version the first one
    // recorded in the status (`meshplaneServedSpec`), serves what the first
    // serves and agrees with its status: nobody writes. (Before, it left out
    // service-bv2 and what depends on it, and the two replicas rewrote those
    // conditions 74-168 times in 2 s.)
    let writes_before = t.control_json("/debug/kubernetes")?["status_writes"]
        .as_u64()
        .unwrap_or_default();
    let before = versions(&k)?;
    let _replica = second_replica(&t, &k)?;
    let replica_log = t.path("replica2").join("meshplane.log");
    wait_for(
        "the second replica resolved the objects (service-bv2 not served as it is)",
        Duration::from_secs(20),
        || {
            let log = std::fs::read_to_string(&replica_log).unwrap_or_default();
            Ok(log.contains("not served as it is").then_some(()))
        },
    )?;
    std::thread::sleep(Duration::from_millis(2000));
    let beside = versions(&k)?;
    let writes = t.control_json("/debug/kubernetes")?["status_writes"]
        .as_u64()
        .unwrap_or_default()
        - writes_before;
    println!(
        "kubernetes: two replicas beside an invalid object: {writes} status writes by the first"
    );
    ensure!(
        before == beside,
        "objects written while two replicas ran beside an invalid object:\n{before:?}\n{beside:?}"
    );
    let log = std::fs::read_to_string(&replica_log).unwrap_or_default();
    let not_served: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("not served as it is"))
        .collect();
    ensure!(
        not_served.iter().all(|l| l.contains("service-bv2")),
        "the second replica left out more than service-bv2:\n{}",
        not_served.join("\n")
    );
    // Fixing the invalid object: both write status, and once settled
    // nobody writes again.
    k.kubectl(&[
        "patch",
        "-n",
        NS,
        "virtualnode",
        "service-bv2",
        "--type",
        "json",
        "-p",
        r#"[{"op":"replace","path":"/spec/listeners/0/portMapping/port","value":80}]"#,
    ])?;
    wait_for("service-bv2 Active again", Duration::from_secs(15), || {
        let o = k.get_json(&["virtualnode", "-n", NS, "service-bv2"])?;
        Ok(condition(&o, "VirtualNode")
            .filter(|(s, _)| s == "True")
            .map(|_| ()))
    })?;
    std::thread::sleep(Duration::from_millis(2000));
    let settled = versions(&k)?;
    std::thread::sleep(Duration::from_millis(3000));
    let later = versions(&k)?;
    ensure!(
        settled == later,
        "objects still being written with two replicas:\n{settled:?}\n{later:?}"
    );
    let d = t.control_json("/debug/kubernetes")?;
    ensure!(d["rejected"] == 0, "service-bv2 still rejected: {d}");

    k.delete_mesh(NS, "apps")?;
    println!(
        "kubernetes: wall time {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
