//! Continuous App Mesh API writes with boto3 (`tests/api/py/replica_writes.py`)
//! from the switch namespace, through several replicas in turn, and the
//! check that every write answered 200 is stored and served.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::{bail, Context};
use meshplane_api_tests::tools::{python, scripts_dir};
use serde::Deserialize;

use super::topology::Topology;

/// One write's outcome.
#[derive(Debug, Clone, Deserialize)]
pub struct Write {
    pub name: String,
    /// The API endpoint it went to.
    pub via: String,
    /// The HTTP status; 0 when no answer came.
    pub status: u16,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

/// A running writer; [`Writes::stop`] ends it, dropping it kills it.
#[derive(Debug)]
pub struct Writes {
    child: Child,
    stdin: Option<ChildStdin>,
    done: Arc<Mutex<Vec<Write>>>,
    reader: Option<JoinHandle<()>>,
}

/// What [`Topology::check_writes`] found on one replica.
#[derive(Debug, Deserialize)]
pub struct WriteCheck {
    /// Virtual nodes the replica lists.
    pub listed: usize,
    /// Names it does not list.
    pub missing: Vec<String>,
    /// Names whose configuration it does not serve.
    pub unserved: Vec<String>,
}

fn script(args: &[&str]) -> anyhow::Result<(std::path::PathBuf, Vec<String>)> {
    let mut all = vec![scripts_dir()
        .join("replica_writes.py")
        .display()
        .to_string()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    Ok((python()?, all))
}

fn with_env(cmd: &mut Command) {
    cmd.env("PYTHONPATH", scripts_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_APP_MESH");
}

impl Topology {
    /// Create virtual nodes `<prefix>0, <prefix>1, ...` in `mesh` without
    /// end, each through the next of `endpoints`, `pause_ms` apart.
    pub fn api_writes(
        &self,
        mesh: &str,
        prefix: &str,
        pause_ms: u64,
        endpoints: &[String],
    ) -> anyhow::Result<Writes> {
        let pause = pause_ms.to_string();
        let mut args = vec!["write", mesh, prefix, &pause];
        args.extend(endpoints.iter().map(String::as_str));
        let (py, args) = script(&args)?;
        let mut cmd = self.switch.command(&py);
        cmd.args(&args);
        with_env(&mut cmd);
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting replica_writes.py write")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("no stdout")?;
        let done = Arc::new(Mutex::new(Vec::new()));
        let sink = done.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Ok(w) = serde_json::from_str::<Write>(&line) {
                    if let Ok(mut v) = sink.lock() {
                        v.push(w);
                    }
                }
            }
        });
        Ok(Writes {
            child,
            stdin,
            done,
            reader: Some(reader),
        })
    }

    /// Every name of `names` is listed by the API at `api` and served by
    /// the admin server at `admin` (one replica).
    pub fn check_writes(
        &self,
        mesh: &str,
        api: &str,
        admin: &str,
        names: &[String],
    ) -> anyhow::Result<WriteCheck> {
        let file = self.path("acked-names.txt");
        std::fs::write(&file, names.join("\n"))?;
        let file = file.display().to_string();
        let (py, args) = script(&["check", mesh, api, admin, &file])?;
        let mut cmd = self.switch.command(&py);
        cmd.args(&args);
        with_env(&mut cmd);
        let out = cmd.output().context("running replica_writes.py check")?;
        if !out.status.success() {
            bail!(
                "replica_writes.py check {api} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(text.trim())
            .with_context(|| format!("replica_writes.py check printed {text:?}"))
    }
}

impl Writes {
    /// Every write so far.
    pub fn writes(&self) -> Vec<Write> {
        self.done.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The names of the writes answered 200 so far.
    pub fn acked(&self) -> Vec<String> {
        self.writes()
            .into_iter()
            .filter(|w| w.status == 200)
            .map(|w| w.name)
            .collect()
    }

    /// Stop writing (the write in flight completes); every write.
    pub fn stop(mut self) -> anyhow::Result<Vec<Write>> {
        drop(self.stdin.take());
        let status = self.child.wait()?;
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        if !status.success() {
            bail!("replica_writes.py write ended with {status}");
        }
        Ok(self.writes())
    }
}

impl Drop for Writes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
