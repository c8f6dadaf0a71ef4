//! A real Envoy started by a test, killed on drop.
//!
//! Its admin server should be configured on port 0: Envoy binds a free port
//! itself and writes the address to `--admin-address-path`, which
//! [`EnvoyProcess::admin_addr`] reads, so no port is picked in advance.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::binaries;
use crate::process::ChildProcess;
use crate::wait::{wait_for_child, wait_for_child_async};

/// Envoy on two busy cores can take a while to start: a hang guard.
pub const ENVOY_START: Duration = Duration::from_secs(90);

/// A running Envoy.
#[derive(Debug)]
pub struct EnvoyProcess {
    process: ChildProcess,
    admin_address_file: PathBuf,
}

impl EnvoyProcess {
    /// Starts Envoy on the bootstrap `config`, logging (level info) to
    /// `dir/envoy.log` and writing its admin address to `dir/admin-address`.
    /// `extra_args` are appended (e.g. `--concurrency 1`).
    pub fn start(config: &Path, dir: &Path, extra_args: &[&str]) -> Self {
        let log = dir.join("envoy.log");
        let admin_address_file = dir.join("admin-address");
        let _ = std::fs::remove_file(&admin_address_file);
        let mut command = Command::new(binaries::envoy());
        command
            .arg("-c")
            .arg(config)
            .args([
                "--use-dynamic-base-id",
                "--disable-hot-restart",
                "--log-level",
                "info",
            ])
            .arg("--log-path")
            .arg(&log)
            .arg("--admin-address-path")
            .arg(&admin_address_file)
            .args(extra_args);
        let console = dir.join("envoy.console");
        let process = ChildProcess::spawn_logged("Envoy", &mut command, &console).with_log(&log);
        Self {
            process,
            admin_address_file,
        }
    }

    /// The admin server's address, once Envoy has bound it.
    pub fn admin_addr(&mut self) -> SocketAddr {
        let file = self.admin_address_file.clone();
        wait_for_child(
            "Envoy's admin address",
            ENVOY_START,
            &mut self.process,
            || std::fs::read_to_string(&file).ok()?.trim().parse().ok(),
        )
    }

    /// [`Self::admin_addr`] without blocking the async runtime.
    pub async fn admin_addr_async(&mut self) -> SocketAddr {
        let file = self.admin_address_file.clone();
        wait_for_child_async(
            "Envoy's admin address",
            ENVOY_START,
            &mut self.process,
            || {
                let file = file.clone();
                async move {
                    tokio::fs::read_to_string(&file)
                        .await
                        .ok()?
                        .trim()
                        .parse()
                        .ok()
                }
            },
        )
        .await
    }

    pub fn process(&mut self) -> &mut ChildProcess {
        &mut self.process
    }

    /// The tail of Envoy's log.
    pub fn log_tail(&self) -> String {
        self.process.log_tail()
    }

    /// Panics, quoting the log, if Envoy has exited.
    pub fn assert_running(&mut self) {
        self.process.assert_running();
    }
}
