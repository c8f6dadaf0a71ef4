//! A topology: a switch namespace with a bridge, one namespace per
//! application joined to it, a hosts file shared by all of them.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::binaries::Binaries;
use super::netns::{self, Netns, PREFIX};
use super::process::Proc;

/// The bridge's address: where `meshplane serve` listens. Every topology
/// is its own layer-2 island, so every topology uses the same block.
pub const SWITCH_IP: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const PREFIX_LEN: u8 = 24;

/// One application's namespace.
#[derive(Debug)]
pub struct App {
    pub name: String,
    pub ns: Netns,
    /// Its first address on the bridge.
    pub ip: Ipv4Addr,
    /// Its Envoy's admin port, once it has one.
    pub envoy_admin: Option<u16>,
}

/// See the module documentation. Dropping it kills every process and
/// removes every namespace; on a panic it prints the logs' tails first.
#[derive(Debug)]
pub struct Topology {
    pub label: String,
    /// Scratch directory: logs, spec copies, bootstraps, certificates.
    pub dir: PathBuf,
    pub bins: Binaries,
    /// Backends, Envoys, clients (killed before the namespaces go).
    pub(crate) procs: Vec<Proc>,
    pub(crate) control: Option<Proc>,
    pub(crate) control_config: Vec<PathBuf>,
    /// More arguments for `meshplane serve` (e.g. `--certificates DIR`),
    /// set before [`Topology::start_control`].
    pub control_args: Vec<String>,
    /// Extra environment variables of `meshplane serve`.
    pub control_env: Vec<(String, String)>,
    apps: Vec<App>,
    pub switch: Netns,
    hosts: BTreeMap<String, Ipv4Addr>,
    next_host: u8,
    started: Instant,
}

static TOPOLOGIES: AtomicU32 = AtomicU32::new(0);

impl Topology {
    /// A switch namespace with its bridge up at [`SWITCH_IP`].
    pub fn new(label: &str, bins: Binaries) -> anyhow::Result<Topology> {
        netns::sweep_leftovers();
        let n = TOPOLOGIES.fetch_add(1, Ordering::Relaxed);
        let id = format!("{PREFIX}{}x{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("{id}-{label}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        // Envoys run as another user and must read and write under it.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        let switch = Netns::create(&format!("{id}-sw"))?;
        switch.ip(&["link", "add", "br0", "type", "bridge"])?;
        switch.ip(&["link", "set", "br0", "up"])?;
        switch.ip(&[
            "addr",
            "add",
            &format!("{SWITCH_IP}/{PREFIX_LEN}"),
            "dev",
            "br0",
        ])?;
        let t = Topology {
            label: label.to_owned(),
            dir,
            bins,
            procs: Vec::new(),
            control: None,
            control_config: Vec::new(),
            control_args: Vec::new(),
            control_env: Vec::new(),
            apps: Vec::new(),
            switch,
            hosts: BTreeMap::new(),
            next_host: 10,
            started: Instant::now(),
        };
        t.write_hosts()?;
        Ok(t)
    }

    fn ns_name(&self, suffix: &str) -> String {
        let id = self.switch.name().trim_end_matches("-sw");
        format!("{id}-{suffix}")
    }

    fn take_ip(&mut self) -> anyhow::Result<Ipv4Addr> {
        if self.next_host >= 250 {
            bail!("topology {} ran out of addresses", self.label);
        }
        let ip = Ipv4Addr::new(198, 18, 0, self.next_host);
        self.next_host += 1;
        Ok(ip)
    }

    /// A namespace for application `name`, on the bridge, with one address.
    pub fn add_app(&mut self, name: &str) -> anyhow::Result<Ipv4Addr> {
        if self.apps.iter().any(|a| a.name == name) {
            bail!("application {name} added twice");
        }
        let idx = self.apps.len();
        let ns = Netns::create(&self.ns_name(&idx.to_string()))?;
        let port = format!("v{idx}");
        netns::run(
            "ip",
            &[
                "link",
                "add",
                "eth0",
                "netns",
                ns.name(),
                "type",
                "veth",
                "peer",
                "name",
                &port,
                "netns",
                self.switch.name(),
            ],
        )?;
        self.switch
            .ip(&["link", "set", &port, "master", "br0", "up"])?;
        let ip = self.take_ip()?;
        ns.ip(&["addr", "add", &format!("{ip}/{PREFIX_LEN}"), "dev", "eth0"])?;
        ns.ip(&["link", "set", "eth0", "up"])?;
        ns.ip(&["route", "add", "default", "via", &SWITCH_IP.to_string()])?;
        self.apps.push(App {
            name: name.to_owned(),
            ns,
            ip,
            envoy_admin: None,
        });
        self.write_hosts()?;
        Ok(ip)
    }

    /// Another address for `app` (e.g. a second name that must resolve to
    /// a distinct IP).
    pub fn add_address(&mut self, app: &str) -> anyhow::Result<Ipv4Addr> {
        let ip = self.take_ip()?;
        self.app(app)?
            .ns
            .ip(&["addr", "add", &format!("{ip}/{PREFIX_LEN}"), "dev", "eth0"])?;
        Ok(ip)
    }

    pub fn app(&self, name: &str) -> anyhow::Result<&App> {
        self.apps
            .iter()
            .find(|a| a.name == name)
            .with_context(|| format!("no application {name} in topology {}", self.label))
    }

    pub(crate) fn app_mut(&mut self, name: &str) -> anyhow::Result<&mut App> {
        let label = self.label.clone();
        self.apps
            .iter_mut()
            .find(|a| a.name == name)
            .with_context(|| format!("no application {name} in topology {label}"))
    }

    pub fn apps(&self) -> &[App] {
        &self.apps
    }

    /// `name` resolves to `ip` in every namespace of the topology.
    pub fn add_host(&mut self, name: &str, ip: Ipv4Addr) -> anyhow::Result<()> {
        self.hosts.insert(name.to_owned(), ip);
        self.write_hosts()
    }

    fn write_hosts(&self) -> anyhow::Result<()> {
        let mut text = String::from("127.0.0.1 localhost\n");
        for (name, ip) in &self.hosts {
            // Also the absolute form: the translation serves DNS names with
            // a trailing dot (as App Mesh did), and Envoy's c-ares resolver
            // matches hosts-file names literally.
            text.push_str(&format!("{ip} {name} {name}.\n"));
        }
        for ns in self.apps.iter().map(|a| &a.ns).chain([&self.switch]) {
            ns.write_etc("hosts", &text)?;
        }
        Ok(())
    }

    /// Start a long-running process; it is killed when the topology drops.
    pub fn spawn(&mut self, name: &str, cmd: std::process::Command) -> anyhow::Result<()> {
        let p = Proc::spawn(name, cmd, &self.dir)?;
        self.procs.push(p);
        Ok(())
    }

    /// Kill the process started as `name`.
    pub fn kill(&mut self, name: &str) -> anyhow::Result<()> {
        let pos = self
            .procs
            .iter()
            .position(|p| p.name == name)
            .with_context(|| format!("no process {name}"))?;
        self.procs.remove(pos).kill();
        Ok(())
    }

    /// The scratch directory's path for `rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// Seconds since the topology was created.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Fail if a process this topology started has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        for p in self.procs.iter_mut().chain(self.control.iter_mut()) {
            if !p.running() {
                bail!("{} exited:\n{}", p.name, p.log_tail(30));
            }
        }
        Ok(())
    }

    fn print_logs(&self) {
        for p in self.procs.iter().chain(self.control.iter()) {
            eprintln!(
                "---- {} ({}) last lines ----\n{}",
                p.name,
                p.log.display(),
                p.log_tail(25)
            );
        }
    }
}

/// Poll `f` every 100 ms until it returns `Some`, for at most `timeout`.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    let mut last_err = None;
    loop {
        match f() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if start.elapsed() > timeout {
            match last_err {
                Some(e) => {
                    bail!("timed out after {timeout:?} waiting for {what}; last error: {e:#}")
                }
                None => bail!("timed out after {timeout:?} waiting for {what}"),
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.print_logs();
            eprintln!(
                "meshplane-e2e: topology {} kept its files in {}",
                self.label,
                self.dir.display()
            );
        }
        for p in self.procs.iter_mut().chain(self.control.iter_mut()) {
            p.kill();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        // The namespaces (fields) are removed after this.
    }
}
