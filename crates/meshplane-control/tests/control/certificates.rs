//! ACM material from `--certificates`: secrets only in the owning proxy's
//! snapshot, rotation, ARNs not held, broken files, and a real Envoy that
//! receives the secret over ADS and follows a rotation.

use std::path::Path;
use std::sync::Arc;

use meshplane_authz::AccessControl;
use meshplane_control::{ControlState, Pipeline};
use meshplane_xds::{ProxyKey, ResourceType, SnapshotCache};

use serde_json::Value;

use super::envoy::{spawn_envoy, wait_for, ENVOY_LISTENER_PORTS};
use super::support::{arn_ctx, copy_examples, http_get, node_arn, serve_config, settings, start};

pub const CERT_ARN: &str = "arn:aws:acm:us-west-2:111122223333:certificate/secure";

/// A virtual node `secure` whose port 8443 terminates TLS (STRICT) with
/// the ACM certificate [`CERT_ARN`].
pub fn write_secure_node(specs: &Path, port: u16) {
    let doc = serde_json::json!({
        "meshName": "apps",
        "virtualNodeName": "secure",
        "spec": {
            "listeners": [{
                "portMapping": {"port": port, "protocol": "http"},
                "tls": {"mode": "STRICT", "certificate": {"acm": {"certificateArn": CERT_ARN}}}
            }],
            "serviceDiscovery": {"dns": {"hostname": "secure.apps.local"}}
        }
    });
    std::fs::write(
        specs.join("virtual-node-secure.json"),
        serde_json::to_string_pretty(&doc).unwrap(),
    )
    .unwrap();
}

/// Writes a fresh self-signed certificate for [`CERT_ARN`] with this
/// serial number into `dir` (with its certificates.yaml); returns its PEM.
pub fn write_certificate_with_serial(dir: &Path, serial: u64) -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["secure.apps.local".to_owned()]).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from(serial));
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("secure.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("secure.key"), key.serialize_pem()).unwrap();
    std::fs::write(
        dir.join("certificates.yaml"),
        format!("certificates:\n  - arn: {CERT_ARN}\n    chain: secure.pem\n    key: secure.key\n"),
    )
    .unwrap();
    cert.pem()
}

pub fn write_certificate(dir: &Path) -> String {
    write_certificate_with_serial(dir, 0x5101)
}

fn pipeline(specs: &Path, certs: &Path) -> (Pipeline, SnapshotCache) {
    let cache = SnapshotCache::new();
    let state = ControlState::new(arn_ctx(), AccessControl::insecure_no_auth());
    let p = Pipeline::new(
        settings(vec![specs.to_owned()]),
        cache.clone(),
        state.clone(),
    )
    .with_certificates(certs.to_owned());
    let _: Arc<ControlState> = state;
    (p, cache)
}

fn secret_names(cache: &SnapshotCache, node: &str) -> Vec<String> {
    cache
        .get(&ProxyKey::new(node_arn(node)))
        .unwrap()
        .of_type(ResourceType::Secret)
        .resources()
        .keys()
        .map(|k| k.to_string())
        .collect()
}

#[test]
fn secrets_reach_only_the_owning_proxy_and_rotate() {
    let specs = copy_examples();
    write_secure_node(specs.path(), 8443);
    let certs = tempfile::tempdir().unwrap();
    write_certificate(certs.path());
    let (p, cache) = pipeline(specs.path(), certs.path());
    let report = p.reload();
    assert!(report.applied, "{:?}", report.diagnostics);
    assert!(
        report.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        report.diagnostics
    );
    assert_eq!(secret_names(&cache, "secure"), [CERT_ARN]);
    // Another identity's snapshot holds no secret at all: a proxy of
    // serviceA asking SDS for CERT_ARN gets nothing.
    for other in ["serviceA", "serviceB", "serviceBv2"] {
        let snap = cache.get(&ProxyKey::new(node_arn(other))).unwrap();
        assert!(snap.of_type(ResourceType::Secret).get(CERT_ARN).is_none());
        assert!(secret_names(&cache, other).is_empty());
    }
    let secure = ProxyKey::new(node_arn("secure"));
    let before = cache.get(&secure).unwrap();
    let secret_v1 = before.of_type(ResourceType::Secret).version().clone();
    let listener_v1 = before.of_type(ResourceType::Listener).version().clone();

    // Nothing changed: nothing is woken.
    let again = p.reload();
    assert_eq!(again.changes.updated, Vec::<String>::new());

    // Rotation: new files, same ARN -> a new secret version, same listener.
    write_certificate(certs.path());
    let rotated = p.reload();
    assert!(rotated.applied, "{:?}", rotated.diagnostics);
    assert_eq!(rotated.changes.updated, [node_arn("secure")]);
    let after = cache.get(&secure).unwrap();
    assert_ne!(after.of_type(ResourceType::Secret).version(), &secret_v1);
    assert_eq!(
        after.of_type(ResourceType::Listener).version(),
        &listener_v1
    );
}

#[test]
fn an_arn_not_held_is_reported_and_its_strict_listener_not_served() {
    let specs = copy_examples();
    write_secure_node(specs.path(), 8443);
    let certs = tempfile::tempdir().unwrap();
    std::fs::write(certs.path().join("certificates.yaml"), "certificates: []\n").unwrap();
    let (p, cache) = pipeline(specs.path(), certs.path());
    let report = p.reload();
    let d = report
        .diagnostics
        .iter()
        .find(|d| d.rule == "translate.tls.acm")
        .expect("translate.tls.acm diagnostic");
    assert!(
        d.message.contains(CERT_ARN) && d.message.contains("--certificates"),
        "{d}"
    );
    assert!(secret_names(&cache, "secure").is_empty());
}

#[test]
fn a_broken_certificates_file_fails_the_reload_naming_file_and_field() {
    let specs = copy_examples();
    write_secure_node(specs.path(), 8443);
    let certs = tempfile::tempdir().unwrap();
    write_certificate(certs.path());
    let (p, cache) = pipeline(specs.path(), certs.path());
    assert!(p.reload().applied);
    std::fs::write(
        certs.path().join("certificates.yaml"),
        format!("certificates:\n  - arn: {CERT_ARN}\n    chain: secure.pem\n"),
    )
    .unwrap();
    let report = p.reload();
    assert!(!report.applied);
    let text: Vec<String> = report.diagnostics.iter().map(|d| d.to_string()).collect();
    assert!(
        text.iter()
            .any(|t| t.contains("certificates.yaml") && t.contains("certificates[0].key")),
        "{text:?}"
    );
    // The last good secret is still served.
    assert_eq!(secret_names(&cache, "secure"), [CERT_ARN]);
}

/// The serial numbers of the certificates Envoy's `/certs` shows.
async fn served_serials(admin: std::net::SocketAddr) -> Vec<String> {
    let (code, body) = http_get(admin, "/certs").await;
    assert_eq!(code, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["cert_chain"].as_array().into_iter().flatten())
        .filter_map(|c| c["serial_number"].as_str().map(str::to_lowercase))
        .collect()
}

fn active_secret(dump: &Value) -> Option<(String, String)> {
    dump["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["dynamic_active_secrets"].as_array().into_iter().flatten())
        .find(|s| s["name"] == CERT_ARN)
        .map(|s| {
            (
                s["version_info"].as_str().unwrap_or("").to_owned(),
                s.to_string(),
            )
        })
}

fn ingress_listener_version(dump: &Value) -> Option<String> {
    dump["configs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["dynamic_listeners"].as_array().into_iter().flatten())
        .find(|l| l["name"] == "lds_ingress_0.0.0.0_15000")
        .and_then(|l| {
            l["active_state"]["version_info"]
                .as_str()
                .map(str::to_owned)
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_envoy_serves_the_acm_certificate_and_follows_its_rotation() {
    let specs = copy_examples();
    // The application port: nothing needs to listen there, nobody else may.
    let app_port = meshplane_testsupport::ports::ReservedPort::new();
    let listen_port = app_port.port();
    write_secure_node(specs.path(), listen_port);
    let certs = tempfile::tempdir().unwrap();
    write_certificate_with_serial(certs.path(), 0x5101);
    let mut config = serve_config(vec![specs.path().to_owned()]);
    config.certificates = Some(certs.path().to_owned());
    let running = start(config).await;
    let _ports = ENVOY_LISTENER_PORTS.lock().await;
    let work = tempfile::tempdir().unwrap();
    let (mut envoy, admin) = spawn_envoy(
        work.path(),
        running.xds_addr,
        &[(
            "APPMESH_RESOURCE_ARN",
            "mesh/apps/virtualNode/secure".to_owned(),
        )],
    )
    .await;

    let dump = wait_for(
        &mut envoy,
        admin,
        "the ACM secret and the TLS listener",
        |d| active_secret(d).is_some() && ingress_listener_version(d).is_some(),
    )
    .await;
    let (first_version, shown) = active_secret(&dump).unwrap();
    // The private key is never shown in the dump.
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    let listener_version = ingress_listener_version(&dump).unwrap();
    assert!(served_serials(admin).await.contains(&"5101".to_owned()));

    // Rotation: the files change, the watcher reloads, Envoy swaps the secret.
    write_certificate_with_serial(certs.path(), 0x5102);
    let dump = wait_for(&mut envoy, admin, "the rotated secret", |d| {
        active_secret(d).is_some_and(|(v, _)| v != first_version)
    })
    .await;
    // The listener itself is not replaced (its connections are not drained).
    assert_eq!(ingress_listener_version(&dump), Some(listener_version));
    let deadline = tokio::time::Instant::now() + super::support::HANG;
    loop {
        let serials = served_serials(admin).await;
        if serials.contains(&"5102".to_owned()) && !serials.contains(&"5101".to_owned()) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{serials:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (code, stats) = http_get(admin, "/stats?filter=update_rejected").await;
    assert_eq!(code, 200);
    for line in stats.lines() {
        assert!(line.ends_with(": 0"), "{line}\n{}", envoy.log_tail());
    }
    assert!(
        stats.contains("listener_manager.lds.update_rejected: 0"),
        "{stats}"
    );
    drop(envoy);
}

const SDS: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
const CDS: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";

/// Asks for the secret `CERT_ARN` over ADS as `node`, then for clusters (a
/// marker every proxy gets an answer to); returns the secret names received
/// before the clusters.
async fn secrets_received_over_ads(addr: std::net::SocketAddr, node: &str) -> Vec<String> {
    use envoy_types::pb::envoy::config::core::v3::Node;
    use envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest;
    let mut ads = super::support::Ads::open(addr, node, None).await.unwrap();
    let request = |type_url: &str, names: Vec<String>| DiscoveryRequest {
        node: Some(Node {
            id: node.into(),
            cluster: "test-cluster".into(),
            ..Default::default()
        }),
        type_url: type_url.into(),
        resource_names: names,
        ..Default::default()
    };
    ads.tx
        .send(request(SDS, vec![CERT_ARN.to_owned()]))
        .await
        .unwrap();
    ads.tx.send(request(CDS, Vec::new())).await.unwrap();
    let mut names = Vec::new();
    loop {
        let r = ads.next().await.unwrap();
        if r.type_url == CDS {
            return names;
        }
        if r.type_url == SDS {
            for any in &r.resources {
                let s: envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret =
                    prost::Message::decode(any.value.as_slice()).unwrap();
                names.push(s.name);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_identity_asking_sds_for_the_secret_gets_nothing() {
    let specs = copy_examples();
    write_secure_node(specs.path(), 8443);
    let certs = tempfile::tempdir().unwrap();
    write_certificate(certs.path());
    let mut config = serve_config(vec![specs.path().to_owned()]);
    config.certificates = Some(certs.path().to_owned());
    let running = start(config).await;
    assert_eq!(
        secrets_received_over_ads(running.xds_addr, &node_arn("secure")).await,
        [CERT_ARN]
    );
    assert_eq!(
        secrets_received_over_ads(running.xds_addr, &node_arn("serviceA")).await,
        Vec::<String>::new()
    );
}
