//! The reconnect storm: with every proxy synced, the server is stopped
//! (SIGTERM or SIGKILL) and started again on the same ports and config, as
//! a rolling restart would; the proxies reconnect with Envoy's backoff.
//! Timed until every proxy holds a complete configuration on a new stream.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::probe::{self, ProcSample};
use crate::proxy::{EndCounts, Fleet, StreamEnd, Variant};
use crate::setup::Target;
use crate::stats::percentile;

/// How the server is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGTERM: the server closes its streams and exits.
    Term,
    /// SIGKILL: the connections just break.
    Kill,
}

impl std::str::FromStr for StopSignal {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "term" | "sigterm" => Ok(StopSignal::Term),
            "kill" | "sigkill" => Ok(StopSignal::Kill),
            _ => Err(format!("'{s}': expected term or kill")),
        }
    }
}

/// The server process under load, which the storm stops and starts.
pub trait ServerControl: Send {
    /// Send the signal; returns at once.
    fn signal(&mut self, signal: StopSignal) -> std::io::Result<()>;
    /// Whether the process has exited.
    fn exited(&mut self) -> std::io::Result<bool>;
    /// Start it again with the same ports and config; its new pid.
    fn start(&mut self) -> std::io::Result<u32>;
}

#[derive(Debug, thiserror::Error)]
pub enum RestartError {
    #[error("restarting the server: {0}")]
    Io(#[from] std::io::Error),
    #[error("the server did not exit within {0:?} of the signal")]
    NoExit(Duration),
    #[error("the restarted server was not ready (/readyz) within {0:?}")]
    NotReady(Duration),
}

/// What the storm measured. Times are from the signal.
#[derive(Debug, Clone)]
pub struct StormFigures {
    pub signal: StopSignal,
    pub proxies: usize,
    /// The old process exited.
    pub exited_after: Duration,
    /// The new process answered `/readyz`.
    pub ready_after: Duration,
    /// Proxies holding a complete configuration on a new stream.
    pub resynced: usize,
    /// Until the last of them did (None: not all within the timeout).
    pub all_resynced: Option<Duration>,
    pub waited: Duration,
    pub p50: Duration,
    pub p99: Duration,
    /// Stream ends from the signal until the new server was ready.
    pub ends_while_down: EndCounts,
    /// Stream ends from then until all resynced (or the timeout).
    pub ends_after_ready: EndCounts,
    /// Responses the reconnected streams received, SotW and delta (delta:
    /// what differed from the versions the proxies resent).
    pub sotw_responses: u64,
    pub delta_responses: u64,
    /// The new server once all resynced (CPU: all of the new process's).
    pub server_after: ProcSample,
    /// The old server just before the signal.
    pub server_before: ProcSample,
    /// The stream ends by kind and status, counted ("N x kind: status").
    pub samples: Vec<String>,
}

impl StormFigures {
    pub fn resource_failures(&self) -> u64 {
        self.ends_while_down[StreamEnd::Resource as usize]
            + self.ends_after_ready[StreamEnd::Resource as usize]
    }

    /// Every proxy resynced and no stream failed for resource reasons.
    pub fn clean(&self) -> bool {
        self.all_resynced.is_some() && self.resource_failures() == 0
    }
}

fn minus(a: EndCounts, b: EndCounts) -> EndCounts {
    let mut out = a;
    for (o, b) in out.iter_mut().zip(b) {
        *o = o.saturating_sub(b);
    }
    out
}

/// Restart the server under the synced fleet and time the resync.
/// `target.pid` becomes the new server's.
pub async fn storm(
    fleet: &Fleet,
    control: &mut dyn ServerControl,
    signal: StopSignal,
    target: &mut Target,
    timeout: Duration,
) -> Result<StormFigures, RestartError> {
    let streams_before: Vec<u64> = fleet
        .stats
        .iter()
        .map(|s| s.streams.load(Ordering::Acquire))
        .collect();
    let resent_before: Vec<u64> = fleet
        .stats
        .iter()
        .map(|s| s.resent.load(Ordering::Relaxed))
        .collect();
    fleet.reconnect.store(true, Ordering::Relaxed);
    let ends_before = fleet.ends();
    let server_before = probe::proc_sample(target.pid);
    let t0 = Instant::now();
    control.signal(signal)?;
    while !control.exited()? {
        if t0.elapsed() > timeout {
            return Err(RestartError::NoExit(timeout));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let exited_after = t0.elapsed();
    target.pid = control.start()?;
    loop {
        if let Ok((200, _)) = probe::http_get(target.admin, "/readyz").await {
            break;
        }
        if control.exited()? || t0.elapsed() > timeout {
            return Err(RestartError::NotReady(timeout));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ready_after = t0.elapsed();
    let ends_at_ready = fleet.ends();
    let count = |fleet: &Fleet| {
        fleet
            .resynced_since(&streams_before)
            .iter()
            .filter(|r| r.is_some())
            .count()
    };
    while count(fleet) < fleet.proxies.len() && t0.elapsed() < timeout {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let waited = t0.elapsed();
    let t0_ns = fleet.ns_of(t0);
    let mut times: Vec<Duration> = fleet
        .resynced_since(&streams_before)
        .into_iter()
        .flatten()
        .map(|ns| Duration::from_nanos(ns.saturating_sub(t0_ns)))
        .collect();
    times.sort();
    // Responses still on their way to a reconnected SotW proxy count too.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ends_after = fleet.ends();
    let resent = |variant: Variant| -> u64 {
        fleet
            .stats
            .iter()
            .zip(&resent_before)
            .zip(&fleet.proxies)
            .filter(|(_, p)| p.variant == variant)
            .map(|((s, b), _)| s.resent.load(Ordering::Relaxed).saturating_sub(*b))
            .sum()
    };
    Ok(StormFigures {
        signal,
        proxies: fleet.proxies.len(),
        exited_after,
        ready_after,
        resynced: times.len(),
        all_resynced: (times.len() == fleet.proxies.len())
            .then(|| times.last().copied().unwrap_or_default()),
        waited,
        p50: percentile(&times, 50.0),
        p99: percentile(&times, 99.0),
        ends_while_down: minus(ends_at_ready, ends_before),
        ends_after_ready: minus(ends_after, ends_at_ready),
        sotw_responses: resent(Variant::Sotw),
        delta_responses: resent(Variant::Delta),
        server_after: probe::proc_sample(target.pid),
        server_before,
        samples: fleet
            .end_samples
            .lock()
            .map(|e| e.iter().map(|(why, n)| format!("{n} x {why}")).collect())
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse() {
        assert_eq!("term".parse(), Ok(StopSignal::Term));
        assert_eq!("SIGKILL".parse(), Ok(StopSignal::Kill));
        assert!("hup".parse::<StopSignal>().is_err());
    }

    #[test]
    fn ends_subtract_per_kind() {
        assert_eq!(minus([5, 4, 3, 2], [1, 4, 0, 3]), [4, 0, 3, 0]);
    }
}
