//! The figures of a run and their printed table.

use std::fmt;
use std::time::Duration;

use crate::probe::ProcSample;
use crate::restart::StormFigures;

#[derive(Debug, Clone, Copy, Default)]
pub struct Samples {
    pub server: ProcSample,
    pub client: ProcSample,
}

#[derive(Debug, Clone)]
pub struct SyncFigures {
    pub synced: usize,
    pub failed: usize,
    /// Until the last proxy held its initial configuration (all synced).
    pub all_synced: Option<Duration>,
    /// How long the run waited for the sync.
    pub waited: Duration,
    pub p50: Duration,
    pub p99: Duration,
    /// `meshplane_connected_proxies` summed, after the sync.
    pub connected_gauge: f64,
}

#[derive(Debug, Clone)]
pub struct ChangeFigures {
    pub label: String,
    /// Proxies the change should reach, when known.
    pub expected: Option<usize>,
    /// Proxies that got an update.
    pub reached: usize,
    pub unexpected: usize,
    pub missing: usize,
    /// From the file write until each proxy ACKed its update.
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Until every expected proxy ACKed (or the quiet period ended).
    pub all_reached: Duration,
    /// Server: reloads applied (`meshplane_snapshot_build_seconds_count`).
    pub server_reloads: u64,
    /// Server: snapshot build time of the reload(s) (`meshplane_snapshot_build_seconds`).
    pub server_build: Option<Duration>,
    /// Server: mean time from a push to its ACK (`meshplane_xds_push_ack_seconds`).
    pub server_push_ack_mean: Option<Duration>,
    /// Server: its last successful reload, after the write.
    pub server_reloaded_after: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub proxies: usize,
    pub delta: usize,
    pub nodes: usize,
    pub connections: usize,
    pub sync: SyncFigures,
    pub changes: Vec<ChangeFigures>,
    /// Before the proxies connected, after the sync, at the end.
    pub idle: Samples,
    pub synced: Samples,
    pub end: Samples,
    pub nacks: f64,
    pub failed_at_end: usize,
    pub errors: Vec<String>,
    /// The stuck proxies, when some were asked for.
    pub stuck: Option<StuckFigures>,
    /// The changes made while they were stuck (they are left out).
    pub stuck_changes: Vec<ChangeFigures>,
    /// The reconnect storm, when asked for.
    pub storm: Option<StormFigures>,
    /// What a change was ("file write", "UpdateRoute 200").
    pub changes_via: &'static str,
}

/// Proxies that stopped reading for a while, changes meanwhile, and their
/// catching up.
#[derive(Debug, Clone)]
pub struct StuckFigures {
    pub stuck: usize,
    /// How long they were stuck.
    pub held: Duration,
    /// Changes made meanwhile.
    pub changes: usize,
    /// The other proxies' fan-out during the period, over all its changes.
    pub others_p50: Duration,
    pub others_p99: Duration,
    /// The same over the changes before the period (nobody stuck).
    pub without: Option<(Duration, Duration)>,
    /// Those that got the missed updates once they read again.
    pub caught_up: usize,
    /// From resuming until the last of them got its update.
    pub after: Duration,
    /// Server RSS when they got stuck, its highest after a change of the
    /// period, at the end of the period, and once they caught up.
    pub server_rss_kib_before: u64,
    pub server_rss_kib_peak: u64,
    pub server_rss_kib_while_stuck: u64,
    pub server_rss_kib_after: u64,
}

impl Report {
    /// Every proxy synced, every change reached exactly its expected proxies,
    /// no stream failed and nothing was NACKed.
    pub fn clean(&self) -> bool {
        self.sync.all_synced.is_some()
            && self.failed_at_end == 0
            && self.stuck.as_ref().is_none_or(|s| s.caught_up == s.stuck)
            && self.nacks == 0.0
            && self
                .changes
                .iter()
                .chain(&self.stuck_changes)
                .all(|c| c.missing == 0 && c.unexpected == 0 && c.reached > 0)
            && self.storm.as_ref().is_none_or(StormFigures::clean)
    }
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "meshplane-loadgen: {} proxies ({} SotW, {} delta) as {} virtual nodes over {} HTTP/2 connections",
            self.proxies,
            self.proxies - self.delta,
            self.delta,
            self.nodes,
            self.connections
        )?;
        writeln!(f)?;
        writeln!(f, "initial sync (CDS + LDS + RDS [+ EDS] ACKed)")?;
        match self.sync.all_synced {
            Some(d) => writeln!(f, "  all {} proxies synced in      {}", self.proxies, ms(d))?,
            None => writeln!(
                f,
                "  NOT all synced: {} synced, {} failed after {}",
                self.sync.synced,
                self.sync.failed,
                ms(self.sync.waited)
            )?,
        }
        writeln!(
            f,
            "  per proxy p50 / p99           {} / {}",
            ms(self.sync.p50),
            ms(self.sync.p99)
        )?;
        writeln!(
            f,
            "  server connected-proxies gauge {}",
            self.sync.connected_gauge
        )?;
        writeln!(f)?;
        writeln!(f, "fan-out: route weights changed ({}) -> affected proxy ACKed the update (reload included)", self.changes_via)?;
        writeln!(
            f,
            "  {:<22} {:>8} {:>8} {:>5} {:>10} {:>10} {:>10} {:>8} {:>12} {:>12} {:>10}",
            "change",
            "expected",
            "reached",
            "odd",
            "p50",
            "p99",
            "max",
            "reloads",
            "srv build",
            "srv reloaded",
            "push-ack"
        )?;
        for c in self.changes.iter().chain(&self.stuck_changes) {
            let opt = |d: Option<Duration>| d.map(ms).unwrap_or_else(|| "-".to_owned());
            writeln!(
                f,
                "  {:<22} {:>8} {:>8} {:>5} {:>10} {:>10} {:>10} {:>8} {:>12} {:>12} {:>10}",
                c.label,
                c.expected
                    .map(|e| e.to_string())
                    .unwrap_or_else(|| "?".to_owned()),
                c.reached,
                c.unexpected + c.missing,
                ms(c.p50),
                ms(c.p99),
                ms(c.max),
                c.server_reloads,
                opt(c.server_build),
                opt(c.server_reloaded_after),
                opt(c.server_push_ack_mean),
            )?;
        }
        writeln!(f, "  (odd = unexpected + missing proxies; srv build = snapshot build (translate + publish) of the reloads;\n   srv reloaded = end of the last successful reload, after the write;\n   push-ack = server's mean push-to-ACK time)")?;
        writeln!(f)?;
        if let Some(s) = &self.stuck {
            writeln!(
                f,
                "stuck proxies: {} stopped reading for {:.1} s, during the last {} changes above (left out of them); server RSS {} before, {} at most, {} at the end, {} after; after resuming {} of them caught up in {}",
                s.stuck,
                s.held.as_secs_f64(),
                s.changes,
                mib(s.server_rss_kib_before),
                mib(s.server_rss_kib_peak),
                mib(s.server_rss_kib_while_stuck),
                mib(s.server_rss_kib_after),
                s.caught_up,
                ms(s.after)
            )?;
            writeln!(f)?;
        }
        writeln!(
            f,
            "{:<28} {:>12} {:>12} {:>12}",
            "", "idle", "synced", "end"
        )?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, g: &dyn Fn(&Samples) -> String| {
            writeln!(
                f,
                "{:<28} {:>12} {:>12} {:>12}",
                name,
                g(&self.idle),
                g(&self.synced),
                g(&self.end)
            )
        };
        row(f, "server RSS", &|s| mib(s.server.rss_kib))?;
        row(f, "server peak RSS (VmHWM)", &|s| mib(s.server.hwm_kib))?;
        row(f, "server CPU seconds", &|s| {
            format!("{:.2}", s.server.cpu_seconds)
        })?;
        row(f, "loadgen RSS", &|s| mib(s.client.rss_kib))?;
        row(f, "loadgen CPU seconds", &|s| {
            format!("{:.2}", s.client.cpu_seconds)
        })?;
        writeln!(
            f,
            "CPU seconds during sync: server {:.2}, loadgen {:.2}; during the changes: server {:.2}, loadgen {:.2}",
            self.synced.server.cpu_seconds - self.idle.server.cpu_seconds,
            self.synced.client.cpu_seconds - self.idle.client.cpu_seconds,
            self.end.server.cpu_seconds - self.synced.server.cpu_seconds,
            self.end.client.cpu_seconds - self.synced.client.cpu_seconds,
        )?;
        writeln!(
            f,
            "NACKs: {}; streams failed: {}",
            self.nacks, self.failed_at_end
        )?;
        for e in &self.errors {
            writeln!(f, "  {e}")?;
        }
        if let Some(s) = &self.storm {
            for e in &s.samples {
                writeln!(f, "  storm: {e}")?;
            }
        }
        Ok(())
    }
}
