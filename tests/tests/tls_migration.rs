//! TLS scenario 4: the App Mesh user guide's migration of plaintext
//! services to mutual TLS ("Migrate services to mutual TLS
//! authentication"), done live while serviceA's application sends
//! requests without pause. Each step is one spec file replaced, as an
//! operator would: serviceB PERMISSIVE with its certificate; serviceA
//! trusts the CA; serviceA presents its certificate; serviceB validates
//! client certificates; serviceB STRICT. Not one request fails.

use std::path::Path;

use anyhow::Context;
use std::time::{Duration, Instant};

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::tls::{TlsMesh, INGRESS_HANDSHAKES, SERVICE_B_TLS_URL};
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::specs::edit_json;
use meshplane_e2e::harness::topology::wait_for;
use serde_json::{json, Value};

const LISTENERS: &str = "dynamic_listeners";
const CLUSTERS: &str = "dynamic_active_clusters";

/// Replace `file` with `edit` applied, then wait until `app`'s Envoy's
/// config dump of `resource` shows `needle` (or no longer shows it, when `!present`),
/// then let traffic run a while on the new configuration.
fn step(
    mesh: &TlsMesh,
    file: &str,
    edit: impl FnOnce(&mut Value),
    app: &str,
    resource: &str,
    needle: &str,
    present: bool,
) -> anyhow::Result<()> {
    let t = &mesh.t;
    edit_json(&mesh.spec_file(file), &t.path("scratch"), edit)?;
    wait_for(
        &format!("{app}'s Envoy to apply the change to {file}"),
        Duration::from_secs(15),
        || {
            let (status, body) =
                t.envoy_admin(app, &format!("/config_dump?resource={resource}"))?;
            if status != 200 {
                return Ok(None);
            }
            let mut dump: Value = serde_json::from_str(&body)?;
            drop_draining(&mut dump);
            Ok((dump.to_string().contains(needle) == present).then_some(()))
        },
    )
    .with_context(|| {
        format!(
            "meshplane log:\n{}\n{app}'s Envoy log:\n{}",
            log_tail(&t.path("meshplane.log")),
            log_tail(&t.path(&format!("envoy-{app}.log")))
        )
    })?;
    std::thread::sleep(Duration::from_millis(1500));
    Ok(())
}

/// Remove the listeners Envoy is still draining from a config dump: only
/// the active configuration counts.
fn drop_draining(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("draining_state");
            map.values_mut().for_each(drop_draining);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_draining),
        _ => {}
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}

fn listener_tls(v: &mut Value) -> &mut Value {
    &mut v["spec"]["listeners"][0]["tls"]
}

fn client_tls(v: &mut Value) -> &mut Value {
    &mut v["spec"]["backendDefaults"]["clientPolicy"]["tls"]
}

#[test]
fn plaintext_to_mutual_tls_under_load_without_a_failed_request() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = TlsMesh::start(
        "tls-migration",
        binaries!()?,
        "tls-migration",
        &["serviceA"],
    )?;
    let t = &mesh.t;
    let pki: &Path = mesh.pki.ca.parent().unwrap_or(Path::new("/"));
    let file = |name: &str| pki.join(name).to_string_lossy().into_owned();
    let (ca, b_pem, b_key, a_pem, a_key) = (
        file("ca.pem"),
        file("serviceb.tls.local.pem"),
        file("serviceb.tls.local.key"),
        file("servicea.tls.local.pem"),
        file("servicea.tls.local.key"),
    );
    let watch = t.watch(
        "serviceA",
        SERVICE_B_TLS_URL,
        &HttpLoad::default().concurrency(4),
        0,
    )?;
    std::thread::sleep(Duration::from_millis(1500));
    let plaintext = watch.count();
    let mut counts = vec![("plaintext", plaintext)];
    // 1. PERMISSIVE with the server certificate: plaintext still accepted.
    step(
        &mesh,
        "virtual-node-serviceB.json",
        |v| {
            *listener_tls(v) = json!({
                "mode": "PERMISSIVE",
                "certificate": { "file": { "certificateChain": b_pem, "privateKey": b_key } }
            });
        },
        "serviceB",
        LISTENERS,
        "serviceb.tls.local.pem",
        true,
    )?;
    // serviceA starts originating TLS in the same reload that gives
    // serviceB its certificate; meshplane publishes serviceA's change only
    // after serviceB's Envoy acknowledged its new listener.
    let log = std::fs::read_to_string(t.path("meshplane.log"))?;
    assert!(
        log.contains("TLS switch: published after the proxies they talk to acknowledged theirs"),
        "serviceA's TLS origination was not held back for serviceB's listener:\n{}",
        log_tail(&t.path("meshplane.log"))
    );
    let hs_permissive = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    counts.push(("PERMISSIVE + server certificate", watch.count()));
    // 2. The client trusts the CA (and, without SANs, checks the server
    //    certificate against serviceb.tls.local).
    step(
        &mesh,
        "virtual-node-serviceA.json",
        |v| {
            *client_tls(v) = json!({
                "validation": { "trust": { "file": { "certificateChain": ca } } }
            });
        },
        "serviceA",
        CLUSTERS,
        "ca.pem",
        true,
    )?;
    let hs_trust = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    counts.push(("client trusts the CA", watch.count()));
    // 3. The client presents its certificate.
    step(
        &mesh,
        "virtual-node-serviceA.json",
        |v| {
            client_tls(v)["certificate"] =
                json!({ "file": { "certificateChain": a_pem, "privateKey": a_key } });
        },
        "serviceA",
        CLUSTERS,
        "servicea.tls.local.pem",
        true,
    )?;
    counts.push(("client certificate", watch.count()));
    // 4. The server validates client certificates.
    step(
        &mesh,
        "virtual-node-serviceB.json",
        |v| {
            listener_tls(v)["validation"] =
                json!({ "trust": { "file": { "certificateChain": ca } } });
        },
        "serviceB",
        LISTENERS,
        "ca.pem",
        true,
    )?;
    counts.push(("server validation", watch.count()));
    // 5. STRICT: the plaintext filter chain goes.
    step(
        &mesh,
        "virtual-node-serviceB.json",
        |v| listener_tls(v)["mode"] = json!("STRICT"),
        "serviceB",
        LISTENERS,
        "\"raw_buffer\"",
        false,
    )?;
    counts.push(("STRICT", watch.count()));
    let (outcomes, summary) = watch.stop()?;
    let handshakes = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let no_cert = mesh.stat("serviceB", "listener.0.0.0.0_15000.ssl.no_certificate")?;
    let failures: Vec<_> = outcomes
        .iter()
        .filter(|o| o.backend.as_deref() != Some("serviceB"))
        .take(5)
        .collect();
    println!(
        "tls migration: requests sent {}, failed {}; statuses {:?}; cumulative requests after each step {:?}; serviceB handshakes {hs_permissive} after PERMISSIVE, {hs_trust} after the client trusted the CA, {handshakes} in all, connections without a client certificate {no_cert}; first failures {failures:?}",
        summary.sent, summary.failed, summary.by_status, counts
    );
    assert_eq!(
        summary.failed, 0,
        "failed requests during the migration: {summary:?}"
    );
    assert!(plaintext > 0, "no request before the migration");
    for w in counts.windows(2) {
        assert!(
            w[1].1 > w[0].1,
            "no request completed during step {:?}",
            w[1].0
        );
    }
    assert!(handshakes > 0, "serviceB's Envoy never terminated TLS");
    // After STRICT every new connection is TLS with a verified client
    // certificate: a fresh burst succeeds and adds handshakes.
    let s = t.http("serviceA", SERVICE_B_TLS_URL, 20, &HttpLoad::default())?;
    assert_eq!(s.count("serviceB"), 20, "after STRICT: {s:?}");
    println!(
        "tls migration wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
