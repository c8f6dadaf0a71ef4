//! Cloud Map feeding EDS end to end: a real moto_server as Cloud Map, the
//! control layer in-process with `--cloud-map-endpoint` set to it, and a
//! real Envoy bootstrapped as virtual node `client`, whose backend is a
//! virtual service provided by the Cloud Map-discovered node `backend`.
//! Registrations, deregistrations, an attribute filter, a Cloud Map outage
//! and its restart are followed on Envoy's `/clusters` and by the backends
//! that answer requests sent through Envoy's egress listener.

mod backends;
#[allow(dead_code)]
#[path = "../../../meshplane-cloudmap/tests/moto/server.rs"]
mod moto;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use meshplane_cloudmap::{client_from_env, Client, CloudMapConfig};
use meshplane_control::{start_with_cloud_map, CloudMapSettings};
use serde_json::Value;

use backends::{get_through, Backend};
use moto::MotoServer;

use super::envoy::{spawn_envoy, EnvoyProcess, ENVOY_LISTENER_PORTS};
use super::support::{copy_examples, edit, http_get, serve_config, start, try_http_get, HANG};

/// Bounded waits (Envoy and moto on two busy cores); never a timing assert.
const LIMIT: Duration = Duration::from_secs(60);
/// The backend node's listener port: the client's egress filter chain
/// matches it, so plain HTTP sent to 127.0.0.1:15001 (no iptables) is
/// routed on its Host header.
const PORT: u16 = 15001;
const VS: &str = "backend.cm.local";
const CLUSTER: &str = "cds_egress_cm_backend_http_15001";

fn specs(dir: &Path) {
    let write = |name: &str, v: Value| {
        std::fs::write(dir.join(name), serde_json::to_string_pretty(&v).unwrap()).unwrap();
    };
    write("mesh.json", serde_json::json!({ "meshName": "cm" }));
    write(
        "client.json",
        serde_json::json!({
            "meshName": "cm",
            "virtualNodeName": "client",
            "spec": {
                "backends": [{ "virtualService": { "virtualServiceName": VS } }],
                "serviceDiscovery": { "dns": { "hostname": "client.cm.local" } }
            }
        }),
    );
    write(
        "backend.json",
        serde_json::json!({
            "meshName": "cm",
            "virtualNodeName": "backend",
            "spec": {
                "listeners": [{ "portMapping": { "port": PORT, "protocol": "http" } }],
                "serviceDiscovery": {
                    "awsCloudMap": {
                        "namespaceName": "cm.local",
                        "serviceName": "backend",
                        "attributes": []
                    }
                }
            }
        }),
    );
    write(
        "service.json",
        serde_json::json!({
            "meshName": "cm",
            "virtualServiceName": VS,
            "spec": { "provider": { "virtualNode": { "virtualNodeName": "backend" } } }
        }),
    );
}

fn aws_env() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_SESSION_TOKEN");
    });
}

/// The test's side of Cloud Map: namespace `cm.local`, service `backend`.
struct CloudMap {
    client: Client,
    service_id: String,
}

impl CloudMap {
    async fn create(url: &str) -> CloudMap {
        let client = client_from_env(Some(url.to_owned())).await;
        client
            .create_http_namespace()
            .name("cm.local")
            .send()
            .await
            .expect("CreateHttpNamespace");
        let namespaces = client
            .list_namespaces()
            .send()
            .await
            .expect("ListNamespaces");
        let ns = namespaces
            .namespaces()
            .iter()
            .find(|n| n.name() == Some("cm.local"))
            .and_then(|n| n.id())
            .expect("namespace id")
            .to_owned();
        let out = client
            .create_service()
            .name("backend")
            .namespace_id(ns)
            .send()
            .await
            .expect("CreateService");
        let service_id = out
            .service()
            .and_then(|s| s.id())
            .expect("service id")
            .to_owned();
        CloudMap { client, service_id }
    }

    async fn register(&self, b: &Backend, version: &str) {
        self.client
            .register_instance()
            .service_id(&self.service_id)
            .instance_id(&b.name)
            .attributes("AWS_INSTANCE_IPV4", "127.0.0.1")
            .attributes("AWS_INSTANCE_PORT", b.port.to_string())
            .attributes("version", version)
            .send()
            .await
            .unwrap_or_else(|e| panic!("RegisterInstance {}: {e:?}", b.name));
    }

    async fn deregister(&self, b: &Backend) {
        self.client
            .deregister_instance()
            .service_id(&self.service_id)
            .instance_id(&b.name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("DeregisterInstance {}: {e:?}", b.name));
    }
}

/// A real Envoy as the proxy of virtual node `client` of mesh `cm` (the
/// caller holds [`ENVOY_LISTENER_PORTS`]).
async fn client_envoy(work: &Path, xds: SocketAddr) -> (EnvoyProcess, SocketAddr) {
    spawn_envoy(
        work,
        xds,
        &[(
            "APPMESH_RESOURCE_ARN",
            "mesh/cm/virtualNode/client".to_owned(),
        )],
    )
    .await
}

/// `meshplane serve` in-process with Cloud Map at `moto_url`, polled every
/// 300 ms.
async fn serve_polling(
    config: meshplane_control::ServeConfig,
    moto_url: &str,
) -> meshplane_control::Running {
    let settings = CloudMapSettings {
        endpoint: Some(moto_url.to_owned()),
        config: CloudMapConfig {
            interval: Duration::from_millis(300),
            ..CloudMapConfig::default()
        },
    };
    tokio::time::timeout(HANG, start_with_cloud_map(config, settings))
        .await
        .unwrap()
        .unwrap()
}

/// The endpoint ports Envoy holds for the cluster (`None`: no such cluster).
async fn envoy_ports(admin: SocketAddr) -> Option<BTreeSet<u16>> {
    let (code, text) = try_http_get(admin, "/clusters").await?;
    if code != 200 {
        return None;
    }
    let prefix = format!("{CLUSTER}::");
    let mut seen_cluster = false;
    let mut ports = BTreeSet::new();
    for line in text.lines().filter_map(|l| l.strip_prefix(&prefix)) {
        seen_cluster = true;
        // <host>:<port>::health_flags::<flags>
        if let Some((addr, rest)) = line.split_once("::") {
            if rest.starts_with("health_flags::") {
                if let Some(p) = addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()) {
                    ports.insert(p);
                }
            }
        }
    }
    seen_cluster.then_some(ports)
}

fn ports_of(backends: &[&Backend]) -> BTreeSet<u16> {
    backends.iter().map(|b| b.port).collect()
}

/// Wait until Envoy's endpoints of the cluster are those of `want`.
async fn wait_endpoints(
    envoy: &mut EnvoyProcess,
    admin: SocketAddr,
    want: &[&Backend],
    what: &str,
) -> Duration {
    let want = ports_of(want);
    let start = Instant::now();
    let mut last = None;
    loop {
        envoy.assert_running();
        let now = envoy_ports(admin).await;
        if now.as_ref() == Some(&want) {
            return start.elapsed();
        }
        last = now.or(last);
        assert!(
            start.elapsed() < LIMIT,
            "{what}: Envoy's endpoints of {CLUSTER} never became {want:?} (last {last:?})\n{}",
            envoy.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Send requests through Envoy's egress listener until every backend of
/// `want` answered; any other answer fails.
async fn traffic_reaches(want: &[&Backend], by_port: &BTreeMap<String, u16>) {
    let egress = SocketAddr::from(([127, 0, 0, 1], 15001));
    let names: BTreeSet<&str> = want.iter().map(|b| b.name.as_str()).collect();
    let mut answered = BTreeSet::new();
    for _ in 0..200 {
        let (code, body) = get_through(egress, VS).await.unwrap();
        assert_eq!(code, 200, "through Envoy: {body}");
        assert!(
            names.contains(body.as_str()),
            "{body} (port {:?}) answered; only {names:?} should",
            by_port.get(&body)
        );
        answered.insert(body);
        if answered.len() == names.len() {
            return;
        }
    }
    panic!("200 requests reached only {answered:?} of {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_map_instances_flow_to_envoy_and_outages_keep_them() {
    aws_env();
    let mut moto = MotoServer::start();
    let cm = CloudMap::create(&moto.url()).await;
    let b1 = Backend::start("b1").await;
    let b2 = Backend::start("b2").await;
    let b3 = Backend::start("b3").await;
    let by_port: BTreeMap<String, u16> = [&b1, &b2, &b3]
        .iter()
        .map(|b| (b.name.clone(), b.port))
        .collect();

    let dir = tempfile::tempdir().unwrap();
    specs(dir.path());
    let settings = CloudMapSettings {
        endpoint: Some(moto.url()),
        config: CloudMapConfig {
            interval: Duration::from_millis(300),
            max_backoff: Duration::from_millis(1200),
            ..CloudMapConfig::default()
        },
    };
    let running = tokio::time::timeout(
        HANG,
        start_with_cloud_map(serve_config(vec![dir.path().to_owned()]), settings),
    )
    .await
    .unwrap()
    .unwrap();
    let served = running.state.served().expect("specs valid");
    let queries: Vec<&String> = served
        .proxies
        .values()
        .flat_map(|p| p.translation.cloud_map.keys())
        .collect();
    assert_eq!(queries, vec![CLUSTER], "the EDS cluster fed by Cloud Map");

    let _ports = ENVOY_LISTENER_PORTS.lock().await;
    let work = tempfile::tempdir().unwrap();
    let (mut envoy, admin) = client_envoy(work.path(), running.xds_addr).await;

    // Cloud Map answered with no instance: the cluster has no endpoint.
    wait_endpoints(&mut envoy, admin, &[], "empty service").await;

    cm.register(&b1, "v1").await;
    cm.register(&b2, "v2").await;
    let t = wait_endpoints(&mut envoy, admin, &[&b1, &b2], "two registered").await;
    println!(
        "figure: registration -> Envoy holds the endpoints in {t:?} (poll interval 300 ms ± 20 %)"
    );
    traffic_reaches(&[&b1, &b2], &by_port).await;

    cm.deregister(&b1).await;
    let t = wait_endpoints(&mut envoy, admin, &[&b2], "b1 deregistered").await;
    println!("figure: deregistration -> Envoy drops the endpoint in {t:?}");
    traffic_reaches(&[&b2], &by_port).await;

    // An attribute filter in the spec (a reload) selects instances.
    cm.register(&b1, "v1").await;
    cm.register(&b3, "v2").await;
    wait_endpoints(&mut envoy, admin, &[&b1, &b2, &b3], "three registered").await;
    edit(
        &dir.path().join("backend.json"),
        "\"attributes\": []",
        "\"attributes\": [{ \"key\": \"version\", \"value\": \"v2\" }]",
    );
    let t = wait_endpoints(&mut envoy, admin, &[&b2, &b3], "version=v2 filter").await;
    println!("figure: attribute filter edit -> Envoy holds the filtered endpoints in {t:?}");
    traffic_reaches(&[&b2, &b3], &by_port).await;

    // /metrics and /debug/cloudmap show the query.
    let (code, metrics) = http_get(running.admin_addr, "/metrics").await;
    assert_eq!(code, 200);
    let line = metrics
        .lines()
        .find(|l| l.starts_with("meshplane_cloudmap_instances{"))
        .unwrap_or_else(|| panic!("no instance gauge:\n{metrics}"));
    assert_eq!(
        line,
        "meshplane_cloudmap_instances{namespace=\"cm.local\",service=\"backend\",attributes=\"version=v2\"} 2"
    );
    for name in [
        "meshplane_cloudmap_last_success_timestamp_seconds{",
        "meshplane_cloudmap_discover_calls_total{",
        "meshplane_cloudmap_revision{",
        "meshplane_cloudmap_failing{",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    let (code, debug) = http_get(running.admin_addr, "/debug/cloudmap").await;
    assert_eq!(code, 200);
    let debug: Value = serde_json::from_str(&debug).unwrap();
    assert_eq!(debug["started"], true);
    assert_eq!(
        debug["queries"].as_array().map(Vec::len),
        Some(1),
        "{debug:#}"
    );
    let ids: Vec<&str> = debug["queries"][0]["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["b2", "b3"], "{debug:#}");

    // Cloud Map down: the last endpoints stay in Envoy and keep serving.
    moto.stop();
    let start = Instant::now();
    loop {
        let (_, body) = http_get(running.admin_addr, "/debug/cloudmap").await;
        let d: Value = serde_json::from_str(&body).unwrap();
        if d["queries"][0]["consecutive_errors"].as_u64().unwrap_or(0) >= 2 {
            assert!(d["queries"][0]["last_error"].is_string(), "{d:#}");
            break;
        }
        assert!(start.elapsed() < LIMIT, "errors never recorded: {d:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(envoy_ports(admin).await, Some(ports_of(&[&b2, &b3])));
    traffic_reaches(&[&b2, &b3], &by_port).await;
    let (_, metrics) = http_get(running.admin_addr, "/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("meshplane_cloudmap_failing{") && l.ends_with(" 1")),
        "{metrics}"
    );

    // Cloud Map back (empty, as moto restarts) with new registrations.
    moto.restart();
    let cm = CloudMap::create(&moto.url()).await;
    cm.register(&b1, "v2").await;
    let t = wait_endpoints(&mut envoy, admin, &[&b1], "after the restart").await;
    println!("figure: after the outage, new registration -> Envoy in {t:?} (backoff up to 1.2 s)");
    traffic_reaches(&[&b1], &by_port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_cloud_map_nodes_no_client_starts() {
    // The apps example uses DNS only: no AWS call, no credentials needed.
    let specs = copy_examples();
    let running = start(serve_config(vec![specs.path().to_owned()])).await;
    let (code, body) = http_get(running.admin_addr, "/debug/cloudmap").await;
    assert_eq!(code, 200);
    let d: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(d["started"], false, "{d:#}");
    assert_eq!(d["queries"], serde_json::json!([]));
    let (_, metrics) = http_get(running.admin_addr, "/metrics").await;
    assert!(!metrics.contains("meshplane_cloudmap_"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_cloud_map_never_delays_serving() {
    aws_env();
    // Bound but never listening: every connection is refused.
    let unreachable = meshplane_testsupport::ports::ReservedPort::new();
    let port = unreachable.port();
    let dir = tempfile::tempdir().unwrap();
    specs(dir.path());
    let settings = CloudMapSettings {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        config: CloudMapConfig {
            interval: Duration::from_millis(300),
            ..CloudMapConfig::default()
        },
    };
    let running = tokio::time::timeout(
        HANG,
        start_with_cloud_map(serve_config(vec![dir.path().to_owned()]), settings),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(running.state.is_ready());
    let start = Instant::now();
    loop {
        let (_, body) = http_get(running.admin_addr, "/debug/cloudmap").await;
        let d: Value = serde_json::from_str(&body).unwrap();
        let q = &d["queries"][0];
        if q["last_error"].is_string() {
            assert_eq!(d["started"], true);
            assert_eq!(q["known"], false, "{d:#}");
            assert_eq!(q["instances"], Value::Null, "{d:#}");
            break;
        }
        assert!(start.elapsed() < LIMIT, "no error recorded: {d:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A reload goes through while Cloud Map is down.
    let report = running.pipeline.reload();
    assert!(report.applied, "{:?}", report.error);
}

/// The endpoint count of an EDS resource in a proxy's served snapshot, and
/// the proxy's (EDS, LDS) versions.
fn served_endpoints(
    running: &meshplane_control::Running,
    node: &str,
    cluster: &str,
) -> (Option<usize>, String, String) {
    use meshplane_xds::{ProxyKey, ResourceType};
    use prost::Message;
    let key = ProxyKey::new(format!(
        "arn:aws:appmesh:us-west-2:111122223333:mesh/cm2/virtualNode/{node}"
    ));
    let snapshot = running.server.cache().get(&key).expect("proxy served");
    let eds = snapshot.of_type(ResourceType::Endpoint);
    let count = eds.get(cluster).map(|r| {
        let cla = envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment::decode(
            r.any().value.as_slice(),
        )
        .unwrap();
        cla.endpoints.iter().map(|l| l.lb_endpoints.len()).sum()
    });
    (
        count,
        eds.version().to_string(),
        snapshot
            .of_type(ResourceType::Listener)
            .version()
            .to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_reaches_every_proxy_of_its_query_and_only_their_endpoints() {
    aws_env();
    let moto = MotoServer::start();
    let client = client_from_env(Some(moto.url())).await;
    client
        .create_http_namespace()
        .name("cm2.local")
        .send()
        .await
        .expect("CreateHttpNamespace");
    let list = client
        .list_namespaces()
        .send()
        .await
        .expect("ListNamespaces");
    let ns = list
        .namespaces()
        .iter()
        .find(|n| n.name() == Some("cm2.local"))
        .and_then(|n| n.id())
        .expect("namespace")
        .to_owned();
    let mut service_ids = BTreeMap::new();
    for svc in ["one", "two"] {
        let out = client
            .create_service()
            .name(svc)
            .namespace_id(&ns)
            .send()
            .await
            .expect("CreateService");
        service_ids.insert(svc, out.service().and_then(|s| s.id()).unwrap().to_owned());
    }

    let dir = tempfile::tempdir().unwrap();
    let mut docs = vec![serde_json::json!({ "meshName": "cm2" })];
    for svc in ["one", "two"] {
        docs.push(serde_json::json!({
            "meshName": "cm2", "virtualNodeName": svc,
            "spec": {
                "listeners": [{ "portMapping": { "port": 8080, "protocol": "http" } }],
                "serviceDiscovery": { "awsCloudMap": { "namespaceName": "cm2.local", "serviceName": svc } }
            }
        }));
        docs.push(serde_json::json!({
            "meshName": "cm2", "virtualServiceName": format!("{svc}.cm2.local"),
            "spec": { "provider": { "virtualNode": { "virtualNodeName": svc } } }
        }));
    }
    for (client_node, backends) in [
        ("c1", &["one"][..]),
        ("c2", &["two"]),
        ("c3", &["one", "two"]),
    ] {
        let backends: Vec<Value> = backends
            .iter()
            .map(|b| serde_json::json!({ "virtualService": { "virtualServiceName": format!("{b}.cm2.local") } }))
            .collect();
        docs.push(serde_json::json!({
            "meshName": "cm2", "virtualNodeName": client_node,
            "spec": { "backends": backends }
        }));
    }
    std::fs::write(
        dir.path().join("specs.json"),
        serde_json::to_string_pretty(&Value::Array(docs)).unwrap(),
    )
    .unwrap();
    let running = serve_polling(serve_config(vec![dir.path().to_owned()]), &moto.url()).await;
    assert!(
        running.state.is_ready(),
        "{:?}",
        running.state.last_reload()
    );
    let one = "cds_egress_cm2_one_http_8080";
    let two = "cds_egress_cm2_two_http_8080";

    let wait = |what: &'static str, done: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < LIMIT, "{what}: not within {LIMIT:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Known and empty everywhere first (both queries answered).
    let known = || {
        let d = crate::cloud_map::debug_of(&running);
        d["queries"]
            .as_array()
            .is_some_and(|q| q.len() == 2 && q.iter().all(|q| q["known"] == true))
    };
    tokio::task::block_in_place(|| wait("both queries answered", &known));
    let before: BTreeMap<&str, (Option<usize>, String, String)> =
        [("c1", one), ("c2", two), ("c3", one)]
            .into_iter()
            .map(|(n, c)| (n, served_endpoints(&running, n, c)))
            .collect();
    assert_eq!(before["c1"].0, Some(0));

    let register = |svc: &str, id: &str, ip: &str| {
        let req = client
            .register_instance()
            .service_id(&service_ids[svc])
            .instance_id(id)
            .attributes("AWS_INSTANCE_IPV4", ip);
        async move { req.send().await.expect("RegisterInstance") }
    };
    register("one", "o1", "10.9.0.1").await;
    tokio::task::block_in_place(|| {
        wait("c1 and c3 get one's instance", &|| {
            served_endpoints(&running, "c1", one).0 == Some(1)
                && served_endpoints(&running, "c3", one).0 == Some(1)
        })
    });
    let after_one = served_endpoints(&running, "c2", two);
    assert_eq!(after_one.1, before["c2"].1, "c2 does not use service one");
    let c1 = served_endpoints(&running, "c1", one);
    assert_ne!(c1.1, before["c1"].1, "c1's EDS version moved");
    assert_eq!(
        c1.2, before["c1"].2,
        "only endpoints changed, not listeners"
    );

    register("two", "t1", "10.9.0.2").await;
    register("two", "t2", "10.9.0.3").await;
    tokio::task::block_in_place(|| {
        wait("c2 and c3 get two's instances", &|| {
            served_endpoints(&running, "c2", two).0 == Some(2)
                && served_endpoints(&running, "c3", two).0 == Some(2)
        })
    });
    assert_eq!(
        served_endpoints(&running, "c1", one).1,
        c1.1,
        "c1 does not use service two"
    );
    assert_eq!(served_endpoints(&running, "c3", one).0, Some(1));
}

/// `/debug/cloudmap` without the admin server.
fn debug_of(running: &meshplane_control::Running) -> Value {
    let feed = running.state.cloud_map().expect("feed");
    meshplane_control::cloud_map::admin::debug_json(feed)
}

/// The secrets, and the endpoints of [`CLUSTER`], in the snapshot served
/// to virtual node `client` of mesh `cm`.
fn client_secrets_and_endpoints(running: &meshplane_control::Running) -> (Vec<String>, String) {
    use meshplane_xds::{ProxyKey, ResourceType};
    let key = ProxyKey::new("arn:aws:appmesh:us-west-2:111122223333:mesh/cm/virtualNode/client");
    let snapshot = running.server.cache().get(&key).expect("client served");
    let secrets = snapshot
        .of_type(ResourceType::Secret)
        .resources()
        .keys()
        .map(|k| k.to_string())
        .collect();
    let endpoints = snapshot
        .of_type(ResourceType::Endpoint)
        .get(CLUSTER)
        .map(|r| r.version().to_string())
        .expect("the Cloud Map cluster's endpoints");
    (secrets, endpoints)
}

/// A proxy with an ACM certificate and a Cloud Map backend keeps its
/// secret when a Cloud Map change (not a reload) rebuilds its snapshot:
/// both paths serve what one function builds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cloud_map_change_keeps_the_proxys_acm_secret() {
    use super::certificates::{write_certificate, CERT_ARN};
    aws_env();
    let moto = MotoServer::start();
    let cm = CloudMap::create(&moto.url()).await;
    let b1 = Backend::start("b1").await;
    let dir = tempfile::tempdir().unwrap();
    specs(dir.path());
    let client = serde_json::json!({
        "meshName": "cm",
        "virtualNodeName": "client",
        "spec": {
            "listeners": [{
                "portMapping": {"port": 8443, "protocol": "http"},
                "tls": {"mode": "STRICT", "certificate": {"acm": {"certificateArn": CERT_ARN}}}
            }],
            "backends": [{ "virtualService": { "virtualServiceName": VS } }],
            "serviceDiscovery": { "dns": { "hostname": "client.cm.local" } }
        }
    });
    std::fs::write(dir.path().join("client.json"), client.to_string()).unwrap();
    let certs = tempfile::tempdir().unwrap();
    write_certificate(certs.path());
    let mut config = serve_config(vec![dir.path().to_owned()]);
    config.certificates = Some(certs.path().to_owned());
    let running = serve_polling(config, &moto.url()).await;
    let (secrets, before) = client_secrets_and_endpoints(&running);
    assert_eq!(secrets, vec![CERT_ARN.to_owned()], "served by the reload");

    cm.register(&b1, "v1").await;
    let start = Instant::now();
    let (secrets, _) = loop {
        let (secrets, now) = client_secrets_and_endpoints(&running);
        if now != before {
            break (secrets, now);
        }
        assert!(
            start.elapsed() < LIMIT,
            "the Cloud Map registration never reached client's snapshot"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        secrets,
        vec![CERT_ARN.to_owned()],
        "the Cloud Map refresh kept the secret"
    );
}

/// A health-checked Cloud Map node: an instance deregistered while it still
/// passes its health checks stops taking requests at once (the cluster has
/// `ignore_health_on_host_removal`; without it Envoy keeps a removed host
/// for as long as its health checks pass).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deregistered_healthy_instance_gets_no_more_requests() {
    aws_env();
    let moto = MotoServer::start();
    let cm = CloudMap::create(&moto.url()).await;
    let b1 = Backend::start("b1").await;
    let b2 = Backend::start("b2").await;
    let dir = tempfile::tempdir().unwrap();
    specs(dir.path());
    edit(
        &dir.path().join("backend.json"),
        "\"portMapping\"",
        "\"healthCheck\": { \"protocol\": \"http\", \"path\": \"/\", \"healthyThreshold\": 2, \"unhealthyThreshold\": 2, \"timeoutMillis\": 2000, \"intervalMillis\": 5000 }, \"portMapping\"",
    );
    let running = serve_polling(serve_config(vec![dir.path().to_owned()]), &moto.url()).await;
    let _ports = ENVOY_LISTENER_PORTS.lock().await;
    let work = tempfile::tempdir().unwrap();
    let (mut envoy, admin) = client_envoy(work.path(), running.xds_addr).await;
    cm.register(&b1, "v1").await;
    cm.register(&b2, "v1").await;
    wait_endpoints(&mut envoy, admin, &[&b1, &b2], "two registered").await;
    // The listener warms until the first health checks (sent to the
    // listener port, Envoy's own egress here, as App Mesh's `alt_port`
    // does) have run.
    let egress = SocketAddr::from(([127, 0, 0, 1], 15001));
    let start = Instant::now();
    while !matches!(get_through(egress, VS).await, Ok((200, _))) {
        envoy.assert_running();
        assert!(
            start.elapsed() < LIMIT,
            "egress never routed\n{}",
            envoy.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both instances pass their health checks.
    let healthy = |text: &str, b: &Backend| {
        text.contains(&format!(
            "{CLUSTER}::127.0.0.1:{}::health_flags::healthy",
            b.port
        ))
    };
    loop {
        let (_, text) = try_http_get(admin, "/clusters").await.unwrap_or_default();
        if healthy(&text, &b1) && healthy(&text, &b2) {
            break;
        }
        assert!(start.elapsed() < LIMIT, "instances never healthy:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "figure: both instances healthy {:?} after the listener came up",
        start.elapsed()
    );
    // Workers see the health of new hosts a little after the admin does.
    let mut answered = BTreeSet::new();
    while answered.len() < 2 {
        let (code, body) = get_through(egress, VS).await.unwrap();
        assert_eq!(code, 200, "through Envoy: {body}");
        answered.insert(body);
        assert!(start.elapsed() < LIMIT, "only {answered:?} answered");
    }

    // Load while b1 is deregistered; once Envoy has dropped it, count
    // every request that still reaches it.
    cm.deregister(&b1).await;
    let t = wait_endpoints(&mut envoy, admin, &[&b2], "b1 deregistered while healthy").await;
    let mut after = BTreeMap::<String, u64>::new();
    for _ in 0..200 {
        let (code, body) = get_through(egress, VS).await.unwrap();
        assert_eq!(code, 200, "through Envoy: {body}");
        *after.entry(body).or_default() += 1;
    }
    println!("figure: deregistration of a healthy instance -> Envoy drops it in {t:?}; the next 200 requests went to {after:?}");
    assert_eq!(after.get("b1"), None, "{after:?}");
    assert_eq!(after.get("b2"), Some(&200), "{after:?}");
}
