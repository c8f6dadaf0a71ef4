//! TLS scenario 3, subject alternative names: serviceA's client policy
//! accepts only `other.tls.local`, which serviceB's certificate does not
//! carry: its requests fail and its Envoy counts `ssl.fail_verify_san`.
//! serviceC's policy names `serviceb.tls.local` and gets through.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::tls::{TlsMesh, SERVICE_B_EGRESS, SERVICE_B_TLS_URL};
use meshplane_e2e::harness::client::HttpLoad;

#[test]
fn server_certificate_without_the_required_san_is_refused() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = TlsMesh::start(
        "tls-wrong-san",
        binaries!()?,
        "tls-wrong-san",
        &["serviceA", "serviceC"],
    )?;
    let t = &mesh.t;
    let fail_san = format!("cluster.{SERVICE_B_EGRESS}.ssl.fail_verify_san");
    let a = t.http("serviceA", SERVICE_B_TLS_URL, 20, &HttpLoad::default())?;
    let a_san = mesh.stat("serviceA", &fail_san)?;
    let c = t.http("serviceC", SERVICE_B_TLS_URL, 20, &HttpLoad::default())?;
    let c_san = mesh.stat("serviceC", &fail_san)?;
    println!(
        "tls wrong SAN: serviceA (expects other.tls.local) 20 requests {:?} (statuses {:?}), fail_verify_san {a_san}; serviceC (expects serviceb.tls.local) 20 requests {:?}, fail_verify_san {c_san}",
        a.by_backend, a.by_status, c.by_backend
    );
    assert_eq!(a.failed, 20, "serviceA accepted the wrong SAN: {a:?}");
    assert_eq!(a.count("serviceB"), 0, "{a:?}");
    assert!(a_san > 0, "serviceA's Envoy did not count {fail_san}");
    assert_eq!(c.failed, 0, "serviceC's requests failed: {c:?}");
    assert_eq!(c.count("serviceB"), 20, "{c:?}");
    assert_eq!(c_san, 0, "serviceC's Envoy counted a SAN failure");
    println!(
        "tls wrong SAN wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
