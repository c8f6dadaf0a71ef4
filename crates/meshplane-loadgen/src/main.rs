//! `meshplane-loadgen`: N simulated Envoys against `meshplane serve`.
//! See the library documentation (`src/lib.rs`) and `README.md`.

use std::ffi::OsString;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use meshplane_loadgen::api_change::{AccessKey, ApiRoutes};
use meshplane_loadgen::mesh_gen::GeneratedMesh;
use meshplane_loadgen::restart::{ServerControl, StopSignal};
use meshplane_loadgen::run::{ChangeSource, RouteFiles, RunConfig, Scenarios, Target};
use meshplane_loadgen::{probe, spec_edit, summary};
use meshplane_spec::ArnContext;

/// Where the changes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ChangesVia {
    /// Route files rewritten in the served spec directory.
    Files,
    /// `UpdateRoute` calls to the server's App Mesh API (the generated mesh
    /// is imported into a SQLite store that the server serves).
    Api,
}

/// Simulate N Envoy proxies over ADS against `meshplane serve` and print
/// sync time, change fan-out latency and server RSS/CPU.
#[derive(Debug, Parser)]
#[command(name = "meshplane-loadgen")]
struct Cli {
    /// Proxies to simulate (one ADS stream each).
    #[arg(long, default_value_t = 1000)]
    proxies: usize,
    /// Share of proxies that speak delta ADS; the others speak SotW.
    #[arg(long, default_value_t = 0.5)]
    delta_fraction: f64,
    /// Generated mesh `generated:NODES:BACKENDS` (written to a temp dir).
    #[arg(long, default_value = "generated:1000:10", conflicts_with = "config")]
    mesh: String,
    /// An existing spec directory instead (copied to a temp dir, whose
    /// routes with weighted targets are rewritten).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The meshplane binary to start (default: `meshplane` beside this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Use a running server instead: its xDS address (with --admin and
    /// --server-pid; --config must then be the directory it serves).
    #[arg(long, requires_all = ["admin", "server_pid", "config"])]
    xds: Option<SocketAddr>,
    #[arg(long)]
    admin: Option<SocketAddr>,
    #[arg(long)]
    server_pid: Option<u32>,
    /// Route changes to time.
    #[arg(long, default_value_t = 6)]
    changes: usize,
    /// Proxies that stop reading their stream (stuck Envoys) for
    /// --stuck-for seconds after the changes, while changes keep coming;
    /// they must catch up after.
    #[arg(long, default_value_t = 0)]
    stuck: usize,
    /// Seconds the --stuck proxies stay stuck (at least --changes changes,
    /// and two, are made meanwhile, at most one a second).
    #[arg(long, default_value_t = 60)]
    stuck_for: u64,
    /// After the changes (and the stuck period), restart the server under
    /// the synced proxies with SIGTERM or SIGKILL, same ports and config,
    /// and time the reconnect storm.
    #[arg(long, value_name = "term|kill", conflicts_with = "xds")]
    restart: Option<StopSignal>,
    /// Make the changes by rewriting route files or through the App Mesh
    /// API (UpdateRoute, SigV4-signed; generated mesh only).
    #[arg(long, value_enum, default_value_t = ChangesVia::Files)]
    changes_via: ChangesVia,
    /// HTTP/2 connections at most (default: one per proxy, as far as the
    /// open-files limit allows).
    #[arg(long)]
    max_connections: Option<usize>,
    /// Seconds to wait for the initial sync.
    #[arg(long, default_value_t = 300)]
    sync_timeout: u64,
    /// Seconds to wait between the sync and the first change (e.g. to
    /// attach a profiler to the server).
    #[arg(long, default_value_t = 0)]
    settle: u64,
    /// The started server's --log filter (its log is in the temp dir; kept
    /// with --keep-temp or when the run is not clean).
    #[arg(long, default_value = "warn")]
    server_log: String,
    /// Keep the temp dir (specs and server log).
    #[arg(long)]
    keep_temp: bool,
}

fn free_port() -> anyhow::Result<SocketAddr> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(l.local_addr()?)
}

fn default_server_bin() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("meshplane")))
        .unwrap_or_else(|| PathBuf::from("meshplane"))
}

/// The started server: its command line (fixed ports, so that a restart
/// serves the same addresses) and process.
struct Server {
    bin: PathBuf,
    args: Vec<OsString>,
    log: PathBuf,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(bin: &Path, args: &[OsString], log: &Path, append: bool) -> anyhow::Result<Child> {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(log)
        .with_context(|| format!("creating {}", log.display()))?;
    Command::new(bin)
        .args(args)
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .with_context(|| format!("starting {} (build it with `cargo build --release -p meshplane`, or give --server-bin)", bin.display()))
}

impl ServerControl for Server {
    fn signal(&mut self, signal: StopSignal) -> std::io::Result<()> {
        match signal {
            StopSignal::Kill => self.child.kill(),
            StopSignal::Term => {
                let status = Command::new("kill")
                    .arg("-TERM")
                    .arg(self.child.id().to_string())
                    .status()?;
                if status.success() {
                    Ok(())
                } else {
                    Err(std::io::Error::other(format!(
                        "kill -TERM {}: {status}",
                        self.child.id()
                    )))
                }
            }
        }
    }

    fn exited(&mut self) -> std::io::Result<bool> {
        Ok(self.child.try_wait()?.is_some())
    }

    fn start(&mut self) -> std::io::Result<u32> {
        self.child = spawn(&self.bin, &self.args, &self.log, true)
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        Ok(self.child.id())
    }
}

/// What the server serves: spec files, or a store with the App Mesh API.
enum Serves<'a> {
    Files(&'a Path),
    Store { url: String, api: SocketAddr },
}

async fn start_server(
    bin: &Path,
    serves: Serves<'_>,
    quota: usize,
    log: &Path,
    filter: &str,
) -> anyhow::Result<(Server, Target)> {
    let xds = free_port()?;
    let admin = free_port()?;
    let mut args: Vec<OsString> = vec!["serve".into()];
    match serves {
        Serves::Files(dir) => args.extend(["--config".into(), dir.as_os_str().to_owned()]),
        Serves::Store { url, api } => args.extend([
            "--store".into(),
            url.into(),
            "--api-listen".into(),
            api.to_string().into(),
        ]),
    }
    for (flag, value) in [
        ("--xds-listen", xds.to_string()),
        ("--admin-listen", admin.to_string()),
        ("--proxy-quota", quota.to_string()),
        ("--log", filter.to_owned()),
    ] {
        args.push(flag.into());
        args.push(value.into());
    }
    let child = spawn(bin, &args, log, false)?;
    let mut server = Server {
        bin: bin.to_path_buf(),
        args,
        log: log.to_path_buf(),
        child,
    };
    let t = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!(
                "the server exited ({status}) before it was ready; its log: {}",
                log.display()
            );
        }
        if let Ok((200, _)) = probe::http_get(admin, "/readyz").await {
            break;
        }
        if t.elapsed() > Duration::from_secs(300) {
            bail!(
                "the server was not ready within 300 s; its log: {}",
                log.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!(
        "server ready in {:.2} s (pid {}, log {})",
        t.elapsed().as_secs_f64(),
        server.child.id(),
        log.display()
    );
    let pid = server.child.id();
    Ok((server, Target { xds, admin, pid }))
}

/// `meshplane import DIR --store URL`: the generated mesh into the store.
fn import(bin: &Path, dir: &Path, store: &str) -> anyhow::Result<()> {
    let t = Instant::now();
    let out = Command::new(bin)
        .arg("import")
        .arg(dir)
        .args(["--store", store])
        .output()
        .with_context(|| format!("running {} import", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} import {} --store {store}: {}",
            bin.display(),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    eprintln!(
        "imported the mesh into {store} ({:.2} s)",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), &dest)
                .with_context(|| format!("copying {}", e.path().display()))?;
        }
    }
    Ok(())
}

fn parse_mesh(s: &str) -> anyhow::Result<(usize, usize)> {
    let mut parts = s.split(':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("generated"), Some(n), Some(b), None) => Ok((
            n.parse().context("--mesh NODES")?,
            b.parse().context("--mesh BACKENDS")?,
        )),
        _ => bail!("--mesh '{s}': expected generated:NODES:BACKENDS"),
    }
}

async fn main_async(cli: Cli) -> anyhow::Result<ExitCode> {
    let arn = ArnContext::default();
    let tmp = tempfile::Builder::new()
        .prefix("meshplane-loadgen")
        .tempdir()?;
    if cli.changes_via == ChangesVia::Api && (cli.config.is_some() || cli.xds.is_some()) {
        bail!("--changes-via api needs the generated mesh (--mesh) and a server the loadgen starts (no --config, no --xds)");
    }
    let mut generated = None;
    let (dir, nodes, mut source): (PathBuf, Vec<String>, Box<dyn ChangeSource>) = match &cli.config
    {
        Some(config) => {
            // A running server serves the directory itself; otherwise a copy
            // is served, so the user's files are never rewritten.
            let dir = if cli.xds.is_some() {
                config.clone()
            } else {
                let d = tmp.path().join("specs");
                copy_dir(config, &d)?;
                d
            };
            let nodes = spec_edit::node_arns(&dir, &arn)?;
            let routes = spec_edit::weighted_route_files(&dir);
            if routes.is_empty() && cli.changes > 0 {
                bail!(
                    "{}: no CLI-JSON route file with two or more weighted targets to change",
                    dir.display()
                );
            }
            (dir, nodes, Box::new(RouteFiles(routes)))
        }
        None => {
            let (n, b) = parse_mesh(&cli.mesh)?;
            let d = tmp.path().join("specs");
            std::fs::create_dir_all(&d)?;
            let t = Instant::now();
            let mesh = GeneratedMesh::write(&d, n, b, &arn)?.simulating(cli.proxies);
            eprintln!(
                "generated mesh: {n} nodes x {b} backends in {} ({:.2} s)",
                d.display(),
                t.elapsed().as_secs_f64()
            );
            generated = Some(mesh.clone());
            (d, mesh.node_arns(), Box::new(mesh))
        }
    };

    let limit = probe::open_files_limit().unwrap_or(1024) as usize;
    let fd_room = limit.saturating_sub(256).max(1);
    let max_connections = cli.max_connections.unwrap_or(usize::MAX).min(fd_room);
    if max_connections < cli.proxies {
        eprintln!(
            "note: {} proxies share {max_connections} HTTP/2 connections (open-files limit {limit}; raise it with `ulimit -n` for one connection per proxy)",
            cli.proxies
        );
    }
    let quota = cli.proxies.div_ceil(nodes.len()) + 1;
    let (mut server, target) = match (cli.xds, cli.admin, cli.server_pid) {
        (Some(xds), Some(admin), Some(pid)) => (None, Target { xds, admin, pid }),
        _ => {
            let bin = cli.server_bin.clone().unwrap_or_else(default_server_bin);
            let serves = match cli.changes_via {
                ChangesVia::Files => Serves::Files(&dir),
                ChangesVia::Api => {
                    let url = format!("sqlite:{}", tmp.path().join("meshplane.db").display());
                    import(&bin, &dir, &url)?;
                    let api = free_port()?;
                    // The file writes become UpdateRoute calls; the files
                    // only keep the routes' current text.
                    let mesh = generated
                        .clone()
                        .context("--changes-via api: no generated mesh")?;
                    source = Box::new(ApiRoutes::new(mesh, api, arn.clone(), AccessKey::default()));
                    Serves::Store { url, api }
                }
            };
            let (s, t) = start_server(
                &bin,
                serves,
                quota,
                &tmp.path().join("server.log"),
                &cli.server_log,
            )
            .await?;
            (Some(s), t)
        }
    };
    let config = RunConfig {
        proxies: cli.proxies,
        delta_fraction: cli.delta_fraction,
        node_arns: nodes,
        max_connections,
        changes: cli.changes,
        sync_timeout: Duration::from_secs(cli.sync_timeout),
        change_timeout: Duration::from_secs(60),
        settle: Duration::from_secs(cli.settle),
        stuck: cli.stuck,
    };
    let scenarios = Scenarios {
        stuck_for: Duration::from_secs(cli.stuck_for),
        restart: match (cli.restart, server.as_mut()) {
            (Some(signal), Some(s)) => Some((signal, s as &mut dyn ServerControl)),
            _ => None,
        },
    };
    let report =
        meshplane_loadgen::run_scenarios(&config, &target, &[], source.as_mut(), scenarios).await?;
    println!("{report}");
    // Last, every figure in one table.
    print!("{}", summary::table(&summary::rows(&report)));
    let clean = report.clean();
    if !clean || cli.keep_temp {
        eprintln!("kept: {}", tmp.keep().display());
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("meshplane-loadgen: error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main_async(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("meshplane-loadgen: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
