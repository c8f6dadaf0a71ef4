//! One real Envoy against `serve` in-process: it connects with the bootstrap
//! `meshplane-bootstrap` writes, gets serviceA's listeners, clusters and
//! routes, follows a weight change, and keeps its configuration when an
//! invalid edit is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use meshplane_bootstrap::{bootstrap_from_env, LocalFiles};
use serde_json::Value;
use tokio::time::Instant;

use super::support::{
    copy_examples, edit, http_get, node_arn, serve_config, start, try_http_get, HANG,
};

/// Envoy under load on two cores can take a while to start.
const ENVOY_WAIT: Duration = Duration::from_secs(90);

pub use meshplane_testsupport::envoy::EnvoyProcess;

/// Every weighted-cluster weight in the dynamic route configurations, by cluster name.
fn weights(dump: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    fn walk(v: &Value, out: &mut BTreeMap<String, u64>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Array(cs)) =
                    m.get("weighted_clusters").and_then(|w| w.get("clusters"))
                {
                    for c in cs {
                        if let (Some(n), Some(w)) = (c["name"].as_str(), c["weight"].as_u64()) {
                            out.insert(n.to_owned(), w);
                        }
                    }
                }
                m.values().for_each(|x| walk(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(dump, &mut out);
    out
}

/// Names of dynamic resources in a config dump (listeners, clusters, route configs).
pub fn dynamic_names(dump: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for config in dump["configs"].as_array().into_iter().flatten() {
        for (list, field) in [
            ("dynamic_listeners", "name"),
            ("dynamic_active_clusters", "cluster"),
            ("dynamic_route_configs", "route_config"),
        ] {
            for item in config[list].as_array().into_iter().flatten() {
                let name = match field {
                    "name" if item["active_state"].is_object() => item["name"].as_str(),
                    "name" => None,
                    f => item[f]["name"].as_str(),
                };
                names.extend(name.map(str::to_owned));
            }
        }
    }
    names
}

async fn config_dump(admin: std::net::SocketAddr) -> Option<Value> {
    let (code, body) = try_http_get(admin, "/config_dump").await?;
    (code == 200)
        .then(|| serde_json::from_str(&body).ok())
        .flatten()
}

/// Poll Envoy's config dump until `done` holds (bounded).
pub async fn wait_for(
    envoy: &mut EnvoyProcess,
    admin: std::net::SocketAddr,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + ENVOY_WAIT;
    let mut last = Value::Null;
    loop {
        envoy.assert_running();
        if let Some(dump) = config_dump(admin).await {
            if done(&dump) {
                return dump;
            }
            last = dump;
        }
        if Instant::now() > deadline {
            panic!(
                "Envoy never reached: {what}\nnames: {:?}\nweights: {:?}\nlog:\n{}",
                dynamic_names(&last),
                weights(&last),
                envoy.log_tail()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn rejected_updates(admin: std::net::SocketAddr) -> BTreeMap<String, u64> {
    let (code, stats) = http_get(admin, "/stats?filter=update_rejected").await;
    assert_eq!(code, 200);
    stats
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.trim().parse().unwrap_or(u64::MAX)))
        .collect()
}

/// serviceA's listeners bind 0.0.0.0:15000 and 15001: one Envoy at a time.
pub static ENVOY_LISTENER_PORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Run Envoy as serviceA's proxy with the bootstrap `meshplane-bootstrap`
/// writes for these variables (plus `extra`); returns it and its admin address.
pub async fn spawn_envoy(
    work: &Path,
    xds: std::net::SocketAddr,
    extra: &[(&str, String)],
) -> (EnvoyProcess, std::net::SocketAddr) {
    let mut vars: BTreeMap<String, String> = [
        (
            "APPMESH_RESOURCE_ARN",
            "mesh/apps/virtualNode/serviceA".to_owned(),
        ),
        ("APPMESH_XDS_ENDPOINT", format!("127.0.0.1:{}", xds.port())),
        // Envoy picks the admin port and writes it to --admin-address-path.
        ("ENVOY_ADMIN_ACCESS_PORT", "0".to_owned()),
        (
            "ENVOY_ADMIN_ACCESS_LOG_FILE",
            work.join("admin_access.log").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    let bootstrap = bootstrap_from_env(&vars, &LocalFiles).unwrap();
    let bootstrap_path = work.join("envoy.yaml");
    std::fs::write(&bootstrap_path, bootstrap.to_yaml().unwrap()).unwrap();

    let mut envoy = EnvoyProcess::start(&bootstrap_path, work, &["--concurrency", "1"]);
    let admin = envoy.admin_addr_async().await;
    (envoy, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_envoy_follows_spec_edits_and_survives_invalid_ones() {
    let specs = copy_examples();
    let running = start(serve_config(vec![specs.path().to_owned()])).await;
    let _ports = ENVOY_LISTENER_PORTS.lock().await;
    let work = tempfile::tempdir().unwrap();
    let (mut envoy, admin) = spawn_envoy(work.path(), running.xds_addr, &[]).await;

    // The route configurations meshplane serves serviceA.
    let served = running.state.served().unwrap();
    let route_names: Vec<String> = served.proxies
        [&meshplane_xds::ProxyKey::new(node_arn("serviceA"))]
        .translation
        .resources()
        .unwrap()
        .routes
        .iter()
        .map(|r| r.name.clone())
        .collect();
    assert!(!route_names.is_empty());
    let mut expected: Vec<String> = [
        "lds_ingress_0.0.0.0_15000",
        "lds_egress_0.0.0.0_15001",
        "cds_egress_apps_serviceB_http2_80",
    ]
    .map(str::to_owned)
    .to_vec();
    expected.extend(route_names.iter().cloned());
    let dump = wait_for(
        &mut envoy,
        admin,
        "serviceA's listeners, clusters and routes",
        |d| {
            let names = dynamic_names(d);
            expected.iter().all(|n| names.contains(n))
        },
    )
    .await;
    let before = weights(&dump);
    assert_eq!(
        before.values().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([25, 75]),
        "{before:?}"
    );
    let rejected = rejected_updates(admin).await;
    for stat in [
        "listener_manager.lds.update_rejected",
        "cluster_manager.cds.update_rejected",
    ] {
        assert_eq!(
            rejected.get(stat),
            Some(&0),
            "{stat}: {rejected:?}\n{}",
            envoy.log_tail()
        );
    }

    // meshplane sees the proxy, its ACKs, and no NACK.
    let deadline = Instant::now() + HANG;
    let proxy = loop {
        let (_, body) = http_get(running.admin_addr, "/debug/proxies").await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let p = v["proxies"][0].clone();
        let acked = ["CDS", "LDS", "RDS"].iter().all(|t| {
            let s = &p["types"][*t];
            !s["last_acked_version"].is_null() && s["last_acked_version"] == s["last_sent_version"]
        });
        if acked {
            break p;
        }
        assert!(
            Instant::now() < deadline,
            "Envoy never ACKed everything: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(proxy["node_id"], "mesh/apps/virtualNode/serviceA");
    assert_eq!(proxy["identity"], node_arn("serviceA"));
    for t in ["CDS", "LDS", "RDS"] {
        assert!(proxy["types"][t]["last_nack"].is_null(), "{t}: {proxy}");
    }
    let (_, metrics) = http_get(running.admin_addr, "/metrics").await;
    assert!(
        metrics.contains("meshplane_connected_proxies{mesh=\"apps\",resource=\"mesh/apps/virtualNode/serviceA\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("meshplane_xds_acks_total{type=\"LDS\"}"),
        "{metrics}"
    );
    assert!(!metrics.contains("meshplane_xds_nacks_total{"), "{metrics}");

    // A valid edit reaches Envoy.
    let route = specs.path().join("route-serviceB.json");
    edit(&route, "\"weight\": 75", "\"weight\": 60");
    edit(&route, "\"weight\": 25", "\"weight\": 40");
    let dump = wait_for(&mut envoy, admin, "weights 60/40", |d| {
        weights(d).values().copied().collect::<BTreeSet<_>>() == BTreeSet::from([40, 60])
    })
    .await;
    let good = weights(&dump);
    let rds_versions = |d: &Value| -> Vec<String> {
        d["configs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|c| c["dynamic_route_configs"].as_array().into_iter().flatten())
            .map(|r| r["version_info"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let good_versions = rds_versions(&dump);

    // An invalid edit is refused: meshplane reports it and Envoy keeps its config.
    let previous = running.state.last_reload().unwrap().finished_at;
    edit(&route, "\"weight\": 60", "\"weight\": 6000");
    let deadline = Instant::now() + HANG;
    let report = loop {
        let r = running.state.last_reload().unwrap();
        if r.finished_at > previous && !r.applied {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "the invalid edit was never reloaded: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (code, body) = http_get(running.admin_addr, "/debug/reload").await;
    assert_eq!(code, 200);
    let shown: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["applied"], false);
    assert!(
        shown["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["file"]
                .as_str()
                .unwrap_or("")
                .ends_with("route-serviceB.json")
                && d["message"].as_str().unwrap_or("").contains("6000")),
        "{body}"
    );
    assert!(report.error.as_deref().unwrap().contains("still served"));
    let after = config_dump(admin).await.unwrap();
    assert_eq!(weights(&after), good);
    assert_eq!(rds_versions(&after), good_versions);
    let rejected = rejected_updates(admin).await;
    for (stat, n) in &rejected {
        assert_eq!(*n, 0, "{stat}: {rejected:?}");
    }
    drop(envoy);
}
