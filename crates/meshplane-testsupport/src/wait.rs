//! Waiting for readiness: poll a condition until it holds, failing with a
//! message that says what was awaited (and, when a child process is
//! watched, failing at once with its log if it exits).
//!
//! The timeouts are hang guards for two busy cores, not timing assertions.

use std::future::Future;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::process::ChildProcess;

/// How often conditions are polled.
pub const POLL: Duration = Duration::from_millis(50);

/// Polls `check` until it returns `Some`; panics after `timeout`.
pub fn wait_for<T>(what: &str, timeout: Duration, check: impl FnMut() -> Option<T>) -> T {
    poll(what, timeout, None, check)
}

/// [`wait_for`], panicking with the child's log as soon as it exits.
pub fn wait_for_child<T>(
    what: &str,
    timeout: Duration,
    child: &mut ChildProcess,
    check: impl FnMut() -> Option<T>,
) -> T {
    poll(what, timeout, Some(child), check)
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration, child: &mut ChildProcess) {
    let what = format!("{} to listen on {addr}", child.name());
    wait_for_child(&what, timeout, child, || {
        TcpStream::connect_timeout(&addr, Duration::from_millis(200))
            .ok()
            .map(drop)
    });
}

fn poll<T>(
    what: &str,
    timeout: Duration,
    mut child: Option<&mut ChildProcess>,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if let Some(c) = child.as_deref_mut() {
            if let Some(status) = c.exited() {
                panic!(
                    "{} exited ({status}) while waiting for {what}:\n{}",
                    c.name(),
                    c.log_tail()
                );
            }
        }
        let tail = child.as_deref().map(ChildProcess::log_tail);
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}{}",
            tail.map(|t| format!("; log:\n{t}")).unwrap_or_default()
        );
        std::thread::sleep(POLL);
    }
}

/// Async [`wait_for_child`]: polls the future `check` returns until it
/// yields `Some`, without blocking the runtime.
pub async fn wait_for_child_async<T, F, Fut>(
    what: &str,
    timeout: Duration,
    child: &mut ChildProcess,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if let Some(status) = child.exited() {
            panic!(
                "{} exited ({status}) while waiting for {what}:\n{}",
                child.name(),
                child.log_tail()
            );
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; log:\n{}",
            child.log_tail()
        );
        tokio::time::sleep(POLL).await;
    }
}
