//! Network namespaces owned by one test run, removed on drop.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

/// Every namespace this crate creates starts with this, followed by the
/// creating process's PID and `x`.
pub const PREFIX: &str = "mpe";

/// A named network namespace (`ip netns add`), deleted on drop together
/// with every process still in it and its `/etc/netns/<name>` directory.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

/// Run a command, fail with its stderr.
pub fn run(program: impl AsRef<OsStr>, args: &[&str]) -> anyhow::Result<String> {
    let program = program.as_ref();
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {}", program.to_string_lossy()))?;
    if !out.status.success() {
        bail!(
            "`{} {}` failed ({}): {}",
            program.to_string_lossy(),
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Netns {
    /// Create `name` with loopback up.
    pub fn create(name: &str) -> anyhow::Result<Netns> {
        run("ip", &["netns", "add", name]).context(
            "creating a network namespace (the end-to-end tests must run as root, or with CAP_SYS_ADMIN and CAP_NET_ADMIN)",
        )?;
        let ns = Netns {
            name: name.to_owned(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        std::fs::create_dir_all(ns.etc_dir())
            .with_context(|| format!("creating {}", ns.etc_dir().display()))?;
        // No DNS server: names resolve from the hosts file or not at all.
        ns.write_etc(
            "resolv.conf",
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `/etc/netns/<name>`: its files replace `/etc/<file>` for processes
    /// started with `ip netns exec`.
    pub fn etc_dir(&self) -> PathBuf {
        PathBuf::from("/etc/netns").join(&self.name)
    }

    /// Write `/etc/netns/<name>/<file>` in place (an existing bind mount
    /// keeps seeing it).
    pub fn write_etc(&self, file: &str, content: &str) -> anyhow::Result<()> {
        let path = self.etc_dir().join(file);
        std::fs::write(&path, content).with_context(|| format!("writing {}", path.display()))
    }

    /// `ip -n <name> ARGS`.
    pub fn ip(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// `ip netns exec <name> PROGRAM` (add arguments to the result).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Run PROGRAM ARGS inside the namespace, fail with its stderr.
    pub fn exec(&self, program: impl AsRef<OsStr>, args: &[&str]) -> anyhow::Result<String> {
        let program = program.as_ref();
        let out = self.command(program).args(args).output().with_context(|| {
            format!("cannot run {} in {}", program.to_string_lossy(), self.name)
        })?;
        if !out.status.success() {
            bail!(
                "`{} {}` in namespace {} failed ({}): {}",
                program.to_string_lossy(),
                args.join(" "),
                self.name,
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        remove(&self.name);
    }
}

fn remove(name: &str) {
    // Processes keep a namespace alive after `ip netns del`: kill them first.
    if let Ok(pids) = run("ip", &["netns", "pids", name]) {
        for pid in pids.split_whitespace() {
            let _ = Command::new("kill").args(["-KILL", pid]).status();
        }
    }
    let _ = run("ip", &["netns", "del", name]);
    let _ = std::fs::remove_dir_all(PathBuf::from("/etc/netns").join(name));
}

/// Delete the namespaces (and their processes and `/etc/netns` entries)
/// left by earlier runs that died without cleaning up: names with
/// [`PREFIX`] whose creating process is gone.
pub fn sweep_leftovers() {
    let Ok(list) = run("ip", &["netns", "list"]) else {
        return;
    };
    let mine = std::process::id();
    for line in list.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = owner_pid(name) else {
            continue;
        };
        if pid != mine && !PathBuf::from(format!("/proc/{pid}")).exists() {
            eprintln!("meshplane-e2e: removing leftover namespace {name}");
            remove(name);
        }
    }
    // `/etc/netns` entries without a namespace.
    if let Ok(dir) = std::fs::read_dir("/etc/netns") {
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = owner_pid(&name) {
                if pid != mine
                    && !PathBuf::from(format!("/proc/{pid}")).exists()
                    && !PathBuf::from("/run/netns").join(&name).exists()
                {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
    }
}

/// The PID in `mpe<pid>x...`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?;
    let (pid, _) = rest.split_once('x')?;
    pid.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_reads_the_creator() {
        assert_eq!(owner_pid("mpe1234x0-sw"), Some(1234));
        assert_eq!(owner_pid("mpex0"), None);
        assert_eq!(owner_pid("other"), None);
    }
}
