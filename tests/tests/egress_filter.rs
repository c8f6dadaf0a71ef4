//! Scenario 6: with the mesh's egress filter ALLOW_ALL the application
//! reaches a server the mesh does not model (through the Envoy's
//! passthrough cluster); after the mesh is changed to DROP_ALL the Envoy
//! refuses the connection at once, while modelled backends keep working.

use std::time::{Duration, Instant};

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::TcpMesh;
use meshplane_e2e::harness::specs::edit_json;
use meshplane_e2e::harness::topology::wait_for;

const OUTSIDE: &str = "outside.tcp.local:7000";

#[test]
fn allow_all_then_drop_all() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = TcpMesh::start("egress-filter", binaries!()?)?;
    let t = &mesh.t;
    let allowed = t.tcp("app", OUTSIDE, 10)?;
    println!(
        "scenario 6: ALLOW_ALL, unmodelled server: {:?} {:?}",
        allowed.by_backend, allowed.errors
    );
    assert_eq!(allowed.count("outside"), 10, "{allowed:?}");
    let passthrough = t.envoy_stat(
        "app",
        "cluster.cds_egress_tcp_mesh-allow-all.upstream_cx_total",
    )?;
    assert_eq!(
        passthrough,
        Some(10),
        "through the Envoy's allow-all cluster"
    );

    edit_json(&mesh.specs.join("mesh.json"), &t.path("scratch"), |m| {
        m["spec"]["egressFilter"]["type"] = "DROP_ALL".into();
    })?;
    let dropped = wait_for(
        "DROP_ALL to reach app's Envoy",
        Duration::from_secs(10),
        || {
            let s = t.tcp("app", OUTSIDE, 1)?;
            Ok((s.failed == 1).then_some(()))
        },
    );
    dropped?;
    let refused = t.tcp("app", OUTSIDE, 10)?;
    let db = t.tcp("app", "db.tcp.local:5432", 10)?;
    println!(
        "scenario 6: DROP_ALL, unmodelled server: {} of 10 refused in {:.1} ms max ({:?}); modelled db {:?}",
        refused.failed, refused.latency_ms_max, refused.errors, db.by_backend
    );
    assert_eq!(refused.failed, 10, "{refused:?}");
    assert_eq!(refused.count("outside"), 0);
    // Refused by the Envoy (connection closed), not left to time out.
    assert!(
        refused.errors.iter().all(|e| !e.contains("timeout")),
        "{refused:?}"
    );
    assert_eq!(db.count("db"), 10, "modelled backends still work: {db:?}");
    println!(
        "scenario 6 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
