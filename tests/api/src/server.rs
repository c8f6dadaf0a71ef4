//! `meshplane serve` with the App Mesh API on free loopback ports.

use std::fs::File;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::http;
use crate::tools::workspace_root;
use crate::{ACCOUNT, REGION};

/// How to start the server.
#[derive(Debug, Default, Clone)]
pub struct ServerOptions {
    /// `--auth-config` (else none: loopback accepts any signature).
    pub auth_config: Option<PathBuf>,
    /// Further arguments.
    pub args: Vec<String>,
    /// Further environment variables.
    pub env: Vec<(String, String)>,
    /// `--store` (else `sqlite:<dir>/meshplane.db`).
    pub store: Option<String>,
}

/// A running `meshplane serve`; SIGKILLed on drop. Its store
/// (`sqlite:<dir>/meshplane.db`) outlives restarts.
#[derive(Debug)]
pub struct Server {
    pub dir: tempfile::TempDir,
    pub api: SocketAddr,
    pub xds: SocketAddr,
    pub admin: SocketAddr,
    options: ServerOptions,
    child: Option<Child>,
    starts: usize,
}

/// A loopback port nothing listens on now.
pub fn free_port() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// `meshplane` (`$MESHPLANE_BIN`, else `target/<profile>/meshplane` beside
/// the test binaries, which `cargo test --workspace` builds).
pub fn meshplane_bin() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("MESHPLANE_BIN").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/<test> -> target/<profile>/meshplane
    let candidate = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("meshplane"))
        .context("the test binary has no directory")?;
    if !candidate.is_file() {
        bail!(
            "{} is missing: run `cargo build -p meshplane` (scripts/test.sh builds it) or set MESHPLANE_BIN",
            candidate.display()
        );
    }
    Ok(candidate)
}

impl Server {
    /// Start a server with a fresh store and wait until the API answers.
    pub fn start(options: ServerOptions) -> anyhow::Result<Server> {
        let mut server = Server::new(options)?;
        // Free ports are picked by binding and letting go: another process
        // may take one in between. Then pick again.
        for _ in 0..3 {
            match server.restart() {
                Err(e) if format!("{e:#}").contains("in use") => {
                    server.api = free_port()?;
                    server.xds = free_port()?;
                    server.admin = free_port()?;
                }
                other => return other.map(|()| server),
            }
        }
        server.restart().map(|()| server)
    }

    /// Choose ports and a store directory without starting (to fill the
    /// store first); [`Server::restart`] starts it.
    pub fn new(options: ServerOptions) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("meshplane-api-")
            .tempdir_in(std::env::temp_dir())?;
        let server = Server {
            dir,
            api: free_port()?,
            xds: free_port()?,
            admin: free_port()?,
            options,
            child: None,
            starts: 0,
        };
        Ok(server)
    }

    /// The store URL.
    pub fn store(&self) -> String {
        if let Some(url) = &self.options.store {
            return url.clone();
        }
        format!("sqlite:{}", self.dir.path().join("meshplane.db").display())
    }

    /// `http://<api>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.api)
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        let mut all = String::new();
        for n in 1..=self.starts {
            let p = self.dir.path().join(format!("meshplane-{n}.log"));
            all.push_str(&std::fs::read_to_string(p).unwrap_or_default());
        }
        all
    }

    /// Start (again, after [`Server::kill`]) on the same ports and store.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            bail!("meshplane is already running");
        }
        self.starts += 1;
        let log = self
            .dir
            .path()
            .join(format!("meshplane-{}.log", self.starts));
        let out = File::create(&log)?;
        let mut cmd = Command::new(meshplane_bin()?);
        cmd.arg("serve")
            .args(["--api-listen", &self.api.to_string()])
            .args(["--xds-listen", &self.xds.to_string()])
            .args(["--admin-listen", &self.admin.to_string()])
            .args(["--store", &self.store()])
            .args(["--region", REGION, "--account", ACCOUNT]);
        if let Some(a) = &self.options.auth_config {
            cmd.arg("--auth-config").arg(a);
        }
        cmd.args(&self.options.args)
            .envs(self.options.env.iter().map(|(k, v)| (k, v)))
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        self.child = Some(cmd.spawn().context("starting meshplane serve")?);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let exited = match self.child.as_mut() {
                Some(c) => c.try_wait()?,
                None => None,
            };
            if let Some(status) = exited {
                self.child = None;
                bail!("meshplane serve exited ({status}):\n{}", self.log());
            }
            // Any HTTP answer (unsigned requests may be refused) means the
            // API is listening and the store is open.
            let ready = http::request(self.api, "GET", "/v20190125/meshes", &[], b"").is_ok();
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "the API of meshplane serve does not answer on {} after 30 s:\n{}",
                    self.api,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The environment the Python scripts read.
    pub fn script_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MESHPLANE_API_ENDPOINT", self.endpoint()),
            ("MESHPLANE_API_REGION", REGION.to_owned()),
        ]
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
