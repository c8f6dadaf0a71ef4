//! A child process that is killed (and reaped) when it goes out of scope,
//! passing or failing, with the tail of its log for failure messages.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// A running child, killed on drop.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: Child,
    log: Option<PathBuf>,
}

impl ChildProcess {
    /// Spawns `command` as is (its stdio as the caller set it up); panics,
    /// naming `name`, when it cannot start.
    pub fn spawn(name: &str, command: &mut Command) -> Self {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        Self {
            name: name.to_owned(),
            child,
            log: None,
        }
    }

    /// Spawns `command` with stdin closed and stdout and stderr appended to
    /// `log`, which failure messages quote.
    pub fn spawn_logged(name: &str, command: &mut Command, log: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()));
        let err = file
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot duplicate {}: {e}", log.display()));
        command.stdin(Stdio::null()).stdout(file).stderr(err);
        Self::spawn(name, command).with_log(log)
    }

    /// Names the file that failure messages quote (e.g. Envoy's `--log-path`).
    pub fn with_log(mut self, log: &Path) -> Self {
        self.log = Some(log.to_owned());
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The underlying child, e.g. to take a piped stdout.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
    }

    /// The exit status if the child has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Panics, quoting the log, if the child has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.exited() {
            panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
        }
    }

    /// The last 4,000 characters of the log (empty without one).
    pub fn log_tail(&self) -> String {
        let text = self
            .log
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let skip = text.chars().count().saturating_sub(4000);
        text.chars().skip(skip).collect()
    }

    /// Sends SIGKILL and reaps the child; idempotent.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
