//! ALLOW_ALL passes unmodelled destinations through on every port, and
//! DROP_ALL closes them, also on ports where the egress listener has
//! port-specific chains: 443 (App Mesh's `*.amazonaws.com` passthrough,
//! matched on SNI) and a port whose TCP virtual services are told apart by
//! SNI (`tests/specs/egress-ports`: `db-a` and `db-b` on 5432).
//!
//! Outside the mesh: `saas` serves HTTPS on 443 as `api.saas.test` (a
//! certificate of the test CA, which the client verifies), `legacy` a
//! plaintext TCP service on 5432. Before the fix, a TLS connection to 443
//! matched only the `*.amazonaws.com` chain's port and was reset under
//! ALLOW_ALL, and a connection without a matching SNI on 5432 went to
//! `db-a` under DROP_ALL.

use std::time::{Duration, Instant};

use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::envoy::Sidecar;
use meshplane_e2e::harness::specs::{copy_dir, edit_json};
use meshplane_e2e::harness::topology::wait_for;
use meshplane_e2e::{binaries, Topology};

const SAAS: &str = "api.saas.test";
const LEGACY: &str = "legacy.ext.test:5432";

#[test]
fn unmodelled_destinations_on_ports_with_sni_chains() -> anyhow::Result<()> {
    let start = Instant::now();
    let mut t = Topology::new("egress-ports", binaries!()?)?;
    let specs = t.path("specs");
    copy_dir(&workspace_root().join("tests/specs/egress-ports"), &specs)?;
    t.start_control(std::slice::from_ref(&specs))?;
    let pki =
        meshplane_e2e::harness::certs::write_pki(&t.path("pki"), &[SAAS, "db-a.egress.local"])?;
    t.add_app("app")?;
    let saas_ip = t.add_app("saas")?;
    t.add_host(SAAS, saas_ip)?;
    let legacy_ip = t.add_app("legacy")?;
    t.add_host("legacy.ext.test", legacy_ip)?;
    let db_a = t.add_app("db-a")?;
    t.add_host("db-a.egress.local", db_a)?;
    t.start_tls_backend("saas", "saas", 443, SAAS, &pki)?;
    t.start_tcp_backend("legacy", "legacy", 5432)?;
    t.start_tls_backend("db-a", "db-a", 5432, "db-a.egress.local", &pki)?;
    t.start_envoy("app", &Sidecar::node("egress", "app", &[]))?;
    t.wait_envoys_ready()?;
    // The modelled TLS service on the SNI-split port goes where its SNI says.
    let to_db_a = || {
        t.tls(
            "app",
            "db-a.egress.local:5432",
            "db-a.egress.local",
            &pki.ca,
            10,
        )
    };

    // ALLOW_ALL: HTTPS to an unmodelled host on 443, by name and by IP
    // (SNI set either way, certificate verified against the test CA).
    let by_name = t.tls("app", &format!("{SAAS}:443"), SAAS, &pki.ca, 10)?;
    let by_ip = t.tls("app", &format!("{saas_ip}:443"), SAAS, &pki.ca, 10)?;
    // A plaintext client-first protocol on the SNI-split port 5432.
    let legacy = t.tcp_client_first("app", LEGACY, 10)?;
    let modelled = to_db_a()?;
    println!(
        "ALLOW_ALL: {SAAS}:443 by name {:?} {:?}; by IP {:?} {:?}; {LEGACY} plaintext {:?} {:?}; db-a {:?}",
        by_name.by_backend, by_name.errors, by_ip.by_backend, by_ip.errors,
        legacy.by_backend, legacy.errors, modelled.by_backend
    );
    assert_eq!(by_name.count("saas"), 10, "{by_name:?}");
    assert_eq!(by_ip.count("saas"), 10, "{by_ip:?}");
    assert_eq!(legacy.count("legacy"), 10, "{legacy:?}");
    assert_eq!(modelled.count("db-a"), 10, "{modelled:?}");
    let passthrough = t.envoy_stat(
        "app",
        "cluster.cds_egress_egress_mesh-allow-all.upstream_cx_total",
    )?;
    assert_eq!(
        passthrough,
        Some(30),
        "through the Envoy's allow-all cluster"
    );

    edit_json(&specs.join("mesh.json"), &t.path("scratch"), |m| {
        m["spec"]["egressFilter"]["type"] = "DROP_ALL".into();
    })?;
    wait_for(
        "DROP_ALL to reach app's Envoy",
        Duration::from_secs(15),
        || {
            let s = t.tls("app", &format!("{SAAS}:443"), SAAS, &pki.ca, 1)?;
            Ok((s.failed == 1).then_some(()))
        },
    )?;
    let refused = t.tls("app", &format!("{SAAS}:443"), SAAS, &pki.ca, 10)?;
    let legacy = t.tcp_client_first("app", LEGACY, 10)?;
    let modelled = to_db_a()?;
    println!(
        "DROP_ALL: {SAAS}:443 {} of 10 refused in {:.1} ms max {:?}; {LEGACY} {} of 10 refused in {:.1} ms max {:?}; db-a {:?}",
        refused.failed, refused.latency_ms_max, refused.errors,
        legacy.failed, legacy.latency_ms_max, legacy.errors, modelled.by_backend
    );
    assert_eq!(refused.failed, 10, "{refused:?}");
    assert_eq!(legacy.failed, 10, "{legacy:?}");
    assert_eq!(legacy.count("db-a"), 0, "not sent to a modelled service");
    for s in [&refused, &legacy] {
        assert!(
            s.errors.iter().all(|e| !e.contains("timeout")),
            "closed by the Envoy, not left to time out: {s:?}"
        );
    }
    assert_eq!(modelled.count("db-a"), 10, "{modelled:?}");
    println!(
        "egress_ports wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
