//! The harness end to end against a real `meshplane serve` started in this
//! process (meshplane-control's public API) on loopback: 50 proxies, half
//! SotW and half delta, over a generated mesh of 20 nodes; every proxy must
//! sync, and each route change must reach exactly the proxies of the nodes
//! that use the changed service, with no NACK and no failed stream.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use meshplane_control::{PipelineSettings, QuotaConfig, ServeConfig};
use meshplane_load::LoadOptions;
use meshplane_loadgen::mesh_gen::GeneratedMesh;
use meshplane_loadgen::run::{RouteFiles, RunConfig, Scenarios, Target};
use meshplane_loadgen::spec_edit;
use meshplane_spec::ArnContext;
use meshplane_translate::TranslateOptions;

async fn serve(dir: PathBuf, quota: usize) -> meshplane_control::Running {
    let arn = ArnContext::default();
    meshplane_control::start(ServeConfig {
        pipeline: PipelineSettings {
            paths: vec![dir],
            load: LoadOptions {
                arn: arn.clone(),
                ..LoadOptions::default()
            },
            translate: TranslateOptions {
                default_retry_policy: true,
                app_mesh_dns_clusters: false,
                arn,
                held_certificates: Default::default(),
            },
        },
        xds_listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        auth_config: None,
        certificates: None,
        tls: None,
        insecure_no_auth: false,
        max_stream_age: None,
        quota: QuotaConfig {
            default: quota,
            ..QuotaConfig::default()
        },
        debounce: meshplane_control::Debounce {
            quiet: Duration::from_millis(200),
            max: Duration::from_secs(10),
        },
        reload_on_sighup: false,
        more_sources: Vec::new(),
        kubernetes: None,
        allocator: None,
        source: None,
    })
    .await
    .unwrap()
}

fn config(proxies: usize, node_arns: Vec<String>, changes: usize) -> RunConfig {
    RunConfig {
        proxies,
        delta_fraction: 0.5,
        node_arns,
        max_connections: proxies,
        changes,
        sync_timeout: Duration::from_secs(60),
        change_timeout: Duration::from_secs(30),
        settle: Duration::ZERO,
        stuck: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_mesh_50_proxies_sync_and_receive_exactly_their_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let mut mesh = GeneratedMesh::write(tmp.path(), 20, 3, &ArnContext::default()).unwrap();
    let running = serve(tmp.path().to_path_buf(), 10).await;
    let target = Target {
        xds: running.xds_addr,
        admin: running.admin_addr,
        pid: std::process::id(),
    };
    let report = meshplane_loadgen::run(&config(50, mesh.node_arns(), 2), &target, &mut mesh)
        .await
        .unwrap();
    println!("{report}");
    assert_eq!(report.delta, 25);
    assert_eq!(report.connections, 50);
    assert_eq!(report.sync.synced, 50, "{:?}", report.errors);
    assert_eq!(report.sync.connected_gauge, 50.0);
    assert_eq!(report.changes.len(), 2);
    // Change 0 rewrites the shared service's route: every node but node 0
    // (3 proxies on it: 50 proxies round-robin over 20 nodes).
    assert_eq!(report.changes[0].expected, Some(47));
    // Change 1 rewrites a route that 2 nodes (2 or 3 proxies each) use:
    // each node has the shared service and the next two as backends.
    let narrow = report.changes[1].expected.unwrap();
    assert!((4..=6).contains(&narrow), "{narrow}");
    for c in &report.changes {
        assert_eq!((c.missing, c.unexpected), (0, 0), "{}", c.label);
        assert_eq!(Some(c.reached), c.expected, "{}", c.label);
        assert!(
            c.server_build.is_some(),
            "{}: no reload seen in /metrics",
            c.label
        );
    }
    assert_eq!(report.nacks, 0.0);
    assert_eq!(report.failed_at_end, 0);
    assert!(report.clean());
}

/// Three changes with nobody stuck, then two proxies stop reading for two
/// seconds while changes keep coming: the others get every change (the
/// stuck ones are left out of the expected set, and nobody else is odd),
/// and once they read again they catch up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_proxies_hold_back_nobody_and_catch_up() {
    let tmp = tempfile::tempdir().unwrap();
    let mut mesh = GeneratedMesh::write(tmp.path(), 20, 3, &ArnContext::default()).unwrap();
    let running = serve(tmp.path().to_path_buf(), 10).await;
    let target = Target {
        xds: running.xds_addr,
        admin: running.admin_addr,
        pid: std::process::id(),
    };
    let config = RunConfig {
        stuck: 2,
        ..config(60, mesh.node_arns(), 3)
    };
    let scenarios = Scenarios {
        stuck_for: Duration::from_secs(2),
        restart: None,
    };
    let report = meshplane_loadgen::run_scenarios(&config, &target, &[], &mut mesh, scenarios)
        .await
        .unwrap();
    println!("{report}");
    // 60 proxies over 20 nodes: 3 on node 0, which the wide change skips;
    // while stuck, 2 of the 57 others are left out.
    assert_eq!(report.changes.len(), 3);
    assert_eq!(report.changes[0].expected, Some(57));
    let stuck = report.stuck.as_ref().unwrap();
    assert!(stuck.changes >= 3 && stuck.changes == report.stuck_changes.len());
    // Change 3 (odd: narrow), change 4 the shared route again.
    assert_eq!(report.stuck_changes[1].expected, Some(55));
    for c in report.changes.iter().chain(&report.stuck_changes) {
        assert_eq!((c.missing, c.unexpected), (0, 0), "{}", c.label);
    }
    assert_eq!((stuck.stuck, stuck.caught_up), (2, 2));
    assert!(stuck.without.is_some());
    assert!(stuck.server_rss_kib_before > 0 && stuck.server_rss_kib_after > 0);
    assert!(report.clean(), "{:?}", report.errors);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_mesh_proxies_sync_and_a_route_change_reaches_its_client() {
    let example =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/examples/apps/cli-json");
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&example).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let nodes = spec_edit::node_arns(tmp.path(), &ArnContext::default()).unwrap();
    assert_eq!(nodes.len(), 3);
    let routes = spec_edit::weighted_route_files(tmp.path());
    assert_eq!(routes.len(), 1);
    let running = serve(tmp.path().to_path_buf(), 10).await;
    let target = Target {
        xds: running.xds_addr,
        admin: running.admin_addr,
        pid: std::process::id(),
    };
    let mut source = RouteFiles(routes);
    let report = meshplane_loadgen::run(&config(9, nodes, 1), &target, &mut source)
        .await
        .unwrap();
    println!("{report}");
    assert_eq!(report.sync.synced, 9, "{:?}", report.errors);
    // Only serviceA has serviceB's virtual service as a backend: its 3 proxies.
    assert_eq!(report.changes[0].reached, 3);
    assert_eq!(report.nacks, 0.0);
    assert_eq!(report.failed_at_end, 0);
}

/// The `meshplane` binary the workspace built beside this test
/// (`target/<profile>/meshplane`).
fn meshplane_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("meshplane"))
        .unwrap();
    assert!(
        bin.is_file(),
        "{} is missing: run `cargo build -p meshplane --bin meshplane` (scripts/test.sh builds it)",
        bin.display()
    );
    bin
}

/// The loadgen program against the real `meshplane serve` it starts:
/// returns its standard output (the run must be clean: exit status 0).
fn loadgen(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshplane-loadgen"))
        .args(args)
        .arg("--server-bin")
        .arg(meshplane_bin())
        .arg("--server-log")
        .arg("info")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}\n{stderr}");
    assert!(
        out.status.success(),
        "meshplane-loadgen {args:?}: {}",
        out.status
    );
    stdout
}

fn summary_row<'a>(stdout: &'a str, scenario: &str, figure: &str) -> &'a str {
    let prefix = format!("| {scenario} | {figure} | ");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.strip_suffix(" |"))
        .unwrap_or_else(|| panic!("no summary row '{scenario} | {figure}' in:\n{stdout}"))
}

/// Changes through the App Mesh API (the mesh imported into a SQLite
/// store, UpdateRoute signed with SigV4), a proxy stuck for 3 s, then the
/// server restarted with SIGTERM under the synced proxies: every proxy
/// resyncs and no stream fails for resource reasons; the summary table has
/// every scenario.
#[test]
fn api_changes_stuck_proxy_and_sigterm_restart_through_the_program() {
    let stdout = loadgen(&[
        "--mesh",
        "generated:12:3",
        "--proxies",
        "48",
        "--changes",
        "2",
        "--changes-via",
        "api",
        "--stuck",
        "1",
        "--stuck-for",
        "3",
        "--restart",
        "term",
        "--sync-timeout",
        "60",
    ]);
    // 48 proxies over 12 nodes: the shared route reaches the 44 not on node 0.
    let wide = summary_row(
        &stdout,
        "changes (UpdateRoute 200 -> ACK)",
        "route-00000 (shared) via API",
    );
    assert!(wide.starts_with("44 of 44 proxies, odd 0"), "{wide}");
    assert_eq!(
        summary_row(
            &stdout,
            "stuck proxies",
            "odd proxies over the period's changes"
        ),
        "0"
    );
    assert_eq!(
        summary_row(&stdout, "stuck proxies", "caught up after resuming")
            .split(' ')
            .take(3)
            .collect::<Vec<_>>(),
        ["1", "of", "1"]
    );
    assert_eq!(
        summary_row(
            &stdout,
            "reconnect storm",
            "check: all resynced, no resource failure"
        ),
        "ok"
    );
    assert!(
        summary_row(&stdout, "reconnect storm", "stream ends after it was ready")
            .starts_with("resource 0,")
    );
    assert_eq!(summary_row(&stdout, "run", "clean"), "yes");
}

/// The server killed (SIGKILL) under proxies that reconnect with backoff:
/// all resync on the restarted server, which serves the same files.
#[test]
fn sigkill_restart_every_proxy_resyncs() {
    let stdout = loadgen(&[
        "--mesh",
        "generated:10:3",
        "--proxies",
        "40",
        "--changes",
        "0",
        "--restart",
        "kill",
        "--sync-timeout",
        "60",
    ]);
    let storm = summary_row(
        &stdout,
        "reconnect storm",
        "check: all resynced, no resource failure",
    );
    assert_eq!(storm, "ok");
    // Every stream broke with the connection (none was closed gracefully).
    let down = summary_row(
        &stdout,
        "reconnect storm",
        "stream ends until the server was ready",
    );
    assert!(down.starts_with("resource 0, connection "), "{down}");
    assert_eq!(summary_row(&stdout, "run", "clean"), "yes");
}
