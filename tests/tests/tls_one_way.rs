//! TLS scenario 1, one-way TLS: serviceB's listener is STRICT with a file
//! certificate issued to `serviceb.tls.local`; serviceA's client policy
//! trusts the CA (no SANs: the certificate must carry the target's
//! service-discovery name). Requests succeed, and serviceB's Envoy counts
//! the inbound handshakes.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::tls::{
    TlsMesh, INGRESS_HANDSHAKES, SERVICE_B_EGRESS, SERVICE_B_TLS_URL,
};
use meshplane_e2e::harness::client::HttpLoad;

#[test]
fn strict_listener_with_file_certificate_and_trusting_client() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = TlsMesh::start("tls-one-way", binaries!()?, "tls-one-way", &["serviceA"])?;
    let t = &mesh.t;
    let before = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let s = t.http("serviceA", SERVICE_B_TLS_URL, 100, &HttpLoad::default())?;
    let after = mesh.stat("serviceB", INGRESS_HANDSHAKES)?;
    let upstream = mesh.stat(
        "serviceA",
        &format!("cluster.{SERVICE_B_EGRESS}.ssl.handshake"),
    )?;
    println!(
        "tls one-way: 100 requests: {:?} (statuses {:?}, errors {:?}); serviceB handshakes {before} -> {after}; serviceA upstream handshakes {upstream}",
        s.by_backend, s.by_status, s.errors
    );
    assert_eq!(s.failed, 0, "failed requests: {s:?}");
    assert_eq!(s.count("serviceB"), 100, "{s:?}");
    assert!(after > before, "serviceB's Envoy counted no TLS handshake");
    assert!(upstream > 0, "serviceA's Envoy originated no TLS");
    println!(
        "tls one-way wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
