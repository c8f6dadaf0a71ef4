//! `demo` (run by `scripts/demo.sh`): the getting-started mesh of
//! `config/examples/apps` with real Envoys. meshplane serves a copy of the
//! specs; serviceA's application calls serviceb.apps.local without pause
//! and the split between serviceB and serviceBv2 is printed every second.
//! Edit the printed route file (e.g. the weights) and the split moves; with
//! `--api`, meshplane keeps the mesh in its store instead, the mesh is
//! created with `aws appmesh` commands and changed with `update-route`.
//! Ctrl-C stops everything and removes the namespaces.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use meshplane_e2e::fixtures::{AppsMesh, SERVICE_B_URL};
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::specs::{edit_json, set_weights};
use meshplane_e2e::Binaries;

#[derive(Debug, Parser)]
#[command(
    about = "App Mesh's getting-started mesh on meshplane, with real Envoys in network namespaces"
)]
struct Cli {
    /// After this many seconds, set the weights to 0/100 by editing the
    /// route file (as you would by hand), or with `aws appmesh update-route`
    /// under `--api`.
    #[arg(long)]
    auto_change: Option<u64>,
    /// Manage the mesh through meshplane's App Mesh API (the `aws` CLI
    /// against `--endpoint-url`) instead of spec files.
    #[arg(long)]
    api: bool,
    /// The loopback port of the web console (forwarded to meshplane's admin
    /// server in the topology's namespace).
    #[arg(long, default_value_t = 9900)]
    console_port: u16,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    duration: Option<u64>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                let _ = tokio::signal::ctrl_c().await;
            });
            stop.store(true, Ordering::SeqCst);
        });
    }
    println!("==> starting meshplane serve, 3 Envoys (serviceA, serviceB, serviceBv2) and their toy services in network namespaces...");
    let bins = Binaries::beside_current_exe()?;
    let mesh = if cli.api {
        AppsMesh::start_api("demo", bins)?
    } else {
        AppsMesh::start("demo", bins)?
    };
    let t = &mesh.t;
    let route = mesh.route_file();
    // The console, from this host: forwarded into the switch namespace,
    // where meshplane's admin server listens.
    let console = meshplane_e2e::harness::forward::forward_into(
        t.switch.name(),
        cli.console_port,
        (
            meshplane_e2e::harness::topology::SWITCH_IP,
            meshplane_e2e::harness::control::CONTROL_ADMIN_PORT,
        )
            .into(),
    )?;
    println!("==> web console (live split and proxies): http://{console}/ui");
    if mesh.api {
        print_api_instructions(&mesh, &route);
    } else {
        print_file_instructions(&mesh, &route);
    }
    let watch = t
        .watch(
            "serviceA",
            SERVICE_B_URL,
            &HttpLoad::default().concurrency(2),
            10,
        )
        .context("starting the client")?;
    let start = Instant::now();
    let (mut total, mut failed) = (0u64, 0u64);
    let mut changed = false;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_secs(1));
        let batch = watch.take_new();
        let n = batch.len() as u64;
        let b = batch
            .iter()
            .filter(|o| o.backend.as_deref() == Some("serviceB"))
            .count() as u64;
        let b2 = batch
            .iter()
            .filter(|o| o.backend.as_deref() == Some("serviceBv2"))
            .count() as u64;
        let f = batch.iter().filter(|o| !o.ok()).count() as u64;
        total += n;
        failed += f;
        let pct = |x: u64| {
            if n == 0 {
                0.0
            } else {
                100.0 * x as f64 / n as f64
            }
        };
        println!(
            "t={:>4}s  last second: {:>4} requests  serviceB {:>5.1} %  serviceBv2 {:>5.1} %  failed {:>3}   (total {total}, failed {failed})",
            start.elapsed().as_secs(),
            n,
            pct(b),
            pct(b2),
            f
        );
        let secs = start.elapsed().as_secs();
        if let Some(at) = cli.auto_change {
            if !changed && secs >= at {
                changed = true;
                change_weights(&mesh, &route)?;
            }
        }
        if cli.duration.is_some_and(|d| secs >= d) {
            break;
        }
    }
    // On Ctrl-C the client got the SIGINT too: what it did not report is lost.
    let _ = watch.stop();
    println!();
    println!("==> stopping; requests sent {total}, failed {failed}");
    println!("==> removing the namespaces");
    drop(mesh);
    Ok(())
}

fn print_file_instructions(mesh: &AppsMesh, route: &std::path::Path) {
    println!("==> meshplane serves {}", mesh.specs.display());
    print_split();
    println!("==> change the split: edit the weights in");
    println!("      {}", route.display());
    println!("    e.g. in another terminal:");
    println!(
        "      sed -i 's/\"weight\": 75/\"weight\": 0/; s/\"weight\": 25/\"weight\": 100/' {}",
        route.display()
    );
    println!(
        "    meshplane reloads it and the Envoys move within a second. Ctrl-C stops and cleans up."
    );
    println!();
}

fn print_api_instructions(mesh: &AppsMesh, route: &std::path::Path) {
    let aws = meshplane_e2e::harness::api::aws_cli()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "aws".to_owned());
    println!("==> meshplane keeps the mesh in its store; it was created with `aws appmesh create-*` from config/examples/apps/cli-json");
    print_split();
    println!("==> change the split through the App Mesh API, e.g. in another terminal:");
    println!(
        "      sed 's/\"weight\": 75/\"weight\": 0/; s/\"weight\": 25/\"weight\": 100/' {} > /tmp/update-route.json",
        route.display()
    );
    println!(
        "      sudo env AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo ip netns exec {} {aws} appmesh update-route --cli-input-json file:///tmp/update-route.json \\",
        mesh.t.switch.name()
    );
    println!(
        "          --endpoint-url http://{}:{} --region us-west-2",
        meshplane_e2e::harness::topology::SWITCH_IP,
        meshplane_e2e::harness::api::API_PORT
    );
    println!("    (any key works: the demo runs meshplane without an auth config). Ctrl-C stops and cleans up.");
    println!();
}

fn print_split() {
    println!("==> serviceA's application calls {SERVICE_B_URL} (through its Envoy); the route sends 75 % to serviceB, 25 % to serviceBv2.");
}

/// The automatic change: weights 0/100, by file edit or through the API.
fn change_weights(mesh: &AppsMesh, route: &std::path::Path) -> anyhow::Result<()> {
    let weights = [("serviceB", 0), ("serviceBv2", 100)];
    if mesh.api {
        println!("==> aws appmesh update-route: weights serviceB 0, serviceBv2 100");
        return mesh.update_route_weights(&weights);
    }
    println!(
        "==> editing {}: weights serviceB 0, serviceBv2 100",
        route.display()
    );
    let mut result = Ok(());
    edit_json(route, &mesh.t.path("scratch"), |r| {
        result = set_weights(r, &weights);
    })?;
    result
}
