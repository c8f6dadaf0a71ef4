//! Scenario 5: a TCP virtual node (db, port 5432, behind its own Envoy),
//! and two TLS-speaking services on port 443 modelled as TCP virtual nodes,
//! told apart by the SNI the application sends (the connection's
//! destination address does not matter).

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::TcpMesh;

#[test]
fn tcp_node_and_tls_services_told_apart_by_sni() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = TcpMesh::start("tcp-sni", binaries!()?)?;
    let t = &mesh.t;
    let db = t.tcp("app", "db.tcp.local:5432", 20)?;
    let alpha = t.tls(
        "app",
        "alpha.tls.local:443",
        "alpha.tls.local",
        &mesh.pki.ca,
        20,
    )?;
    let beta = t.tls(
        "app",
        "beta.tls.local:443",
        "beta.tls.local",
        &mesh.pki.ca,
        20,
    )?;
    // To alpha's address, but with beta's SNI: the Envoy sends it to beta.
    let crossed = t.tls(
        "app",
        "alpha.tls.local:443",
        "beta.tls.local",
        &mesh.pki.ca,
        20,
    )?;
    println!(
        "scenario 5: db {:?}; alpha {:?}; beta {:?}; alpha's address with beta's SNI {:?}",
        db.by_backend, alpha.by_backend, beta.by_backend, crossed.by_backend
    );
    assert_eq!(db.count("db"), 20, "{db:?}");
    assert_eq!(alpha.count("alpha"), 20, "{alpha:?}");
    assert_eq!(beta.count("beta"), 20, "{beta:?}");
    assert_eq!(crossed.count("beta"), 20, "{crossed:?}");
    let stat = |c: &str| {
        t.envoy_stat(
            "app",
            &format!("cluster.cds_egress_tcp_{c}.upstream_cx_total"),
        )
    };
    assert_eq!(
        stat("db_tcp_5432")?,
        Some(20),
        "db connections through app's Envoy"
    );
    assert_eq!(
        stat("alpha_tcp_443")?,
        Some(20),
        "alpha connections through app's Envoy"
    );
    assert_eq!(
        stat("beta_tcp_443")?,
        Some(40),
        "beta connections through app's Envoy"
    );
    // db's own Envoy took the connections in (ingress redirection).
    let ingress = t.envoy_stat(
        "db",
        "cluster.cds_ingress_tcp_db_tcp_5432.upstream_cx_total",
    )?;
    assert_eq!(ingress, Some(20), "db's Envoy ingress");
    println!(
        "scenario 5 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
