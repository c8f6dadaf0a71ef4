//! Continuous traffic (`e2e-client watch`) for live-change scenarios: the
//! outcomes stream back while the test changes things.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use anyhow::Context;

use super::client::HttpLoad;
use super::topology::Topology;
use crate::traffic::{Outcome, Summary};

/// A running `e2e-client watch`. [`Watch::stop`] ends it and returns the
/// summary; dropping it kills the client.
#[derive(Debug)]
pub struct Watch {
    child: Child,
    stdin: Option<ChildStdin>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    summary: Arc<Mutex<Option<Summary>>>,
    reader: Option<JoinHandle<()>>,
}

impl Topology {
    /// Start requests without end from `app` to `url`; `pause_ms` between
    /// requests of each worker.
    pub fn watch(
        &self,
        app: &str,
        url: &str,
        load: &HttpLoad,
        pause_ms: u64,
    ) -> anyhow::Result<Watch> {
        let mut cmd = self.app(app)?.ns.command(&self.bins.client);
        cmd.args(["watch", url, "--pause-ms", &pause_ms.to_string()])
            .args(load.args())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().context("starting e2e-client watch")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("no stdout")?;
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let summary = Arc::new(Mutex::new(None));
        let (o, s) = (outcomes.clone(), summary.clone());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Ok(outcome) = serde_json::from_str::<Outcome>(&line) {
                    if let Ok(mut v) = o.lock() {
                        v.push(outcome);
                    }
                } else if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                    if let Ok(sum) = serde_json::from_value::<Summary>(v["summary"].clone()) {
                        if let Ok(mut slot) = s.lock() {
                            *slot = Some(sum);
                        }
                    }
                }
            }
        });
        Ok(Watch {
            child,
            stdin,
            outcomes,
            summary,
            reader: Some(reader),
        })
    }
}

impl Watch {
    /// The outcomes so far.
    pub fn outcomes(&self) -> Vec<Outcome> {
        self.outcomes.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Take the outcomes that arrived since the last call (for long runs).
    pub fn take_new(&self) -> Vec<Outcome> {
        self.outcomes
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    /// How many outcomes so far.
    pub fn count(&self) -> usize {
        self.outcomes.lock().map(|v| v.len()).unwrap_or(0)
    }

    /// Stop sending (in-flight requests complete) and return every outcome
    /// and the client's summary.
    pub fn stop(mut self) -> anyhow::Result<(Vec<Outcome>, Summary)> {
        drop(self.stdin.take());
        let status = self.child.wait()?;
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let outcomes = self.outcomes();
        let summary = self
            .summary
            .lock()
            .ok()
            .and_then(|s| s.clone())
            .with_context(|| format!("e2e-client watch ended ({status}) without a summary"))?;
        Ok((outcomes, summary))
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
