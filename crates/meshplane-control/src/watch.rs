//! Reload triggers: changes under the spec paths (and the auth config),
//! debounced, and SIGHUP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::ModifyKind;
use notify::{EventKind, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::changed_files::ChangedFiles;
use crate::pipeline::Pipeline;
use crate::tls::ReloadableTls;

/// Keeps the file watches alive.
pub struct FileWatch {
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for FileWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileWatch")
    }
}

#[derive(Debug, Clone)]
enum Interest {
    Dir(PathBuf),
    File(PathBuf),
}

impl Interest {
    /// Whether an event on `p` may change what the reload reads. Besides the
    /// file itself, a `..name` entry beside it counts: Kubernetes updates a
    /// mounted ConfigMap or Secret by swapping the `..data` symlink the
    /// file's own symlink points through.
    fn matches(&self, p: &Path) -> bool {
        match self {
            Interest::Dir(d) => p.starts_with(d),
            Interest::File(f) => {
                p == f
                    || (p.parent() == f.parent()
                        && p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("..")))
            }
        }
    }
}

/// Send on `tx` whenever something under `paths` is created, changed,
/// renamed or removed, after noting the paths in `changed` (a missed event
/// notes that anything may have changed). A file is watched through its
/// directory, so editors that replace the file are seen too. Paths are made
/// absolute but symlinks are not resolved: a symlink's target may be
/// replaced as a whole.
pub fn watch_paths(
    paths: &[PathBuf],
    changed: Arc<ChangedFiles>,
    tx: mpsc::UnboundedSender<()>,
) -> notify::Result<FileWatch> {
    let mut interests = Vec::new();
    let mut watches: Vec<(PathBuf, RecursiveMode)> = Vec::new();
    for p in paths {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        if abs.is_dir() {
            interests.push(Interest::Dir(abs.clone()));
            watches.push((abs, RecursiveMode::Recursive));
        } else {
            interests.push(Interest::File(abs.clone()));
            if let Some(parent) = abs.parent().filter(|d| d.is_dir()) {
                watches.push((parent.to_owned(), RecursiveMode::NonRecursive));
            }
        }
    }
    let wanted = interests.clone();
    let mut watcher =
        notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) => {
                // Reading the files during a reload gives access events and
                // may update their access time (a metadata change): neither
                // is a change of content.
                if matches!(
                    event.kind,
                    EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
                ) {
                    return;
                }
                if event.need_rescan() {
                    tracing::warn!(
                        "the file watch missed events; the next reload reads every file"
                    );
                    changed.note_anything();
                    let _ = tx.send(());
                } else if event
                    .paths
                    .iter()
                    .any(|p| wanted.iter().any(|i| i.matches(p)))
                {
                    changed.note(event.paths);
                    let _ = tx.send(());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "file watch error; the next reload reads every file");
                changed.note_anything();
            }
        })?;
    watches.sort();
    watches.dedup_by(|a, b| a.0 == b.0);
    for (dir, mode) in watches {
        watcher.watch(&dir, mode)?;
    }
    Ok(FileWatch { _watcher: watcher })
}

/// How long the file watch waits before reloading: until the changes have
/// been quiet for `quiet`, but never longer than `max` after the first one
/// (a tool that keeps writing cannot hold the reload back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debounce {
    pub quiet: Duration,
    pub max: Duration,
}

impl Debounce {
    /// `meshplane serve`'s defaults: 50 ms of quiet, 250 ms at most, which
    /// leaves most of a one-second budget from the write to the proxies to
    /// the reload and the push.
    pub const DEFAULT: Debounce = Debounce {
        quiet: Duration::from_millis(50),
        max: Duration::from_millis(250),
    };
}

impl Default for Debounce {
    fn default() -> Self {
        Debounce::DEFAULT
    }
}

/// Reload after each burst of triggers (see [`Debounce`]).
/// The TLS files, when given, are read again first (a broken set keeps the
/// previous certificates in force).
pub async fn reload_loop(
    pipeline: Arc<Pipeline>,
    tls: Option<Arc<ReloadableTls>>,
    mut rx: mpsc::UnboundedReceiver<()>,
    debounce: Debounce,
) {
    while rx.recv().await.is_some() {
        let deadline = tokio::time::Instant::now() + debounce.max;
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                break;
            }
            let wait = debounce.quiet.min(deadline - now);
            match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Some(())) => continue,
                _ => break,
            }
        }
        let p = pipeline.clone();
        let tls = tls.clone();
        let reload = move || {
            if let Some(tls) = tls {
                match tls.reload() {
                    Ok(()) => tracing::debug!("TLS files reloaded"),
                    Err(e) => {
                        p.state().metrics.reload_failed();
                        tracing::error!(error = %e, "TLS files not reloaded; the previous certificates stay in force");
                    }
                }
            }
            p.reload();
        };
        if let Err(e) = tokio::task::spawn_blocking(reload).await {
            tracing::error!(error = %e, "reload task failed");
        }
    }
}

/// Send on `tx` on every SIGHUP.
#[cfg(unix)]
pub async fn sighup(tx: mpsc::UnboundedSender<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP; reload by editing the files");
            return;
        }
    };
    while hup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading");
        if tx.send(()).is_err() {
            break;
        }
    }
}

#[cfg(not(unix))]
pub async fn sighup(_tx: mpsc::UnboundedSender<()>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_interest_sees_the_file_and_kubernetes_symlink_swaps() {
        let i = Interest::File(PathBuf::from("/etc/meshplane/auth.yaml"));
        assert!(i.matches(Path::new("/etc/meshplane/auth.yaml")));
        assert!(i.matches(Path::new("/etc/meshplane/..data")));
        assert!(i.matches(Path::new("/etc/meshplane/..2026_11_21_12_00_00.123")));
        assert!(!i.matches(Path::new("/etc/meshplane/other.yaml")));
        assert!(!i.matches(Path::new("/etc/other/..data")));
        let d = Interest::Dir(PathBuf::from("/specs"));
        assert!(d.matches(Path::new("/specs/a/b.json")));
        assert!(!d.matches(Path::new("/specsx/b.json")));
    }

    /// What the kubelet does to a mounted ConfigMap: new timestamped
    /// directory, new `..data_tmp` symlink, renamed over `..data`.
    #[cfg(unix)]
    #[tokio::test]
    async fn kubernetes_configmap_update_is_seen_through_the_file_symlink() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("..2026_a")).unwrap();
        std::fs::write(d.join("..2026_a/auth.yaml"), "a").unwrap();
        symlink("..2026_a", d.join("..data")).unwrap();
        symlink("..data/auth.yaml", d.join("auth.yaml")).unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let _w = watch_paths(&[d.join("auth.yaml")], Default::default(), tx).unwrap();

        std::fs::create_dir(d.join("..2026_b")).unwrap();
        std::fs::write(d.join("..2026_b/auth.yaml"), "b").unwrap();
        symlink("..2026_b", d.join("..data_tmp")).unwrap();
        std::fs::rename(d.join("..data_tmp"), d.join("..data")).unwrap();
        let seen = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await;
        assert_eq!(seen.ok().flatten(), Some(()), "the swap was not seen");
        assert_eq!(std::fs::read_to_string(d.join("auth.yaml")).unwrap(), "b");
    }
}
