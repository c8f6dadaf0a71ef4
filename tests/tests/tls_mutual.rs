//! TLS scenario 2, mutual TLS: serviceB's STRICT listener validates client
//! certificates against the CA; serviceA's client policy presents a
//! certificate issued to `servicea.tls.local` and trusts the CA. serviceC
//! trusts the CA but has no certificate: its requests fail, and serviceB's
//! Envoy counts the connection without a client certificate.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::tls::{
    TlsMesh, INGRESS_HANDSHAKES, SERVICE_B_EGRESS, SERVICE_B_TLS_URL,
};
use meshplane_e2e::harness::client::HttpLoad;

#[test]
fn client_certificate_required_and_verified() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = TlsMesh::start(
        "tls-mutual",
        binaries!()?,
        "tls-mutual",
        &["serviceA", "serviceC"],
    )?;
    let t = &mesh.t;
    let before = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let a = t.http("serviceA", SERVICE_B_TLS_URL, 100, &HttpLoad::default())?;
    let after_a = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let c = t.http("serviceC", SERVICE_B_TLS_URL, 20, &HttpLoad::default())?;
    let after_c = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let no_cert = mesh.stat("serviceB", "listener.0.0.0.0_15000.ssl.fail_verify_no_cert")?;
    let c_errors = mesh.stat(
        "serviceC",
        &format!("cluster.{SERVICE_B_EGRESS}.upstream_cx_connect_fail"),
    )?;
    println!(
        "tls mutual: serviceA 100 requests {:?} (statuses {:?}); serviceC (no certificate) 20 requests {:?} (statuses {:?}, errors {:?}); serviceB handshakes {before} -> {after_a} -> {after_c}, fail_verify_no_cert {no_cert}; serviceC connect failures {c_errors}",
        a.by_backend, a.by_status, c.by_backend, c.by_status, c.errors
    );
    assert_eq!(a.failed, 0, "serviceA's requests failed: {a:?}");
    assert_eq!(a.count("serviceB"), 100, "{a:?}");
    assert!(after_a > before, "serviceB's Envoy counted no handshake");
    assert_eq!(
        c.failed, 20,
        "serviceC got through without a certificate: {c:?}"
    );
    assert_eq!(c.count("serviceB"), 0, "{c:?}");
    assert_eq!(
        after_c, after_a,
        "a handshake without a certificate completed"
    );
    assert!(
        no_cert > 0,
        "serviceB's Envoy did not count the missing client certificate"
    );
    println!(
        "tls mutual wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
