//! One measurement: connect the proxies, wait for the initial sync, apply
//! the changes one after the other and time their fan-out.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Semaphore;

use crate::mesh_gen::GeneratedMesh;
use crate::probe::{self, metric_total, parse_metrics};
use crate::proxy::{self, Fleet, ProxySpec, Variant};
use crate::report::{ChangeFigures, Report, Samples, SyncFigures};
use crate::restart::{self, RestartError, ServerControl, StopSignal};
use crate::spec_edit::{rewrite_weights, EditError};
use crate::stuck;

/// The server under load.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub xds: SocketAddr,
    pub admin: SocketAddr,
    /// Its process, for RSS and CPU time.
    pub pid: u32,
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub proxies: usize,
    /// Share of proxies speaking delta ADS (interleaved with SotW ones).
    pub delta_fraction: f64,
    /// Proxy `i` presents `node_arns[i % len]`.
    pub node_arns: Vec<String>,
    /// HTTP/2 connections at most; proxies share them round-robin beyond.
    pub max_connections: usize,
    pub changes: usize,
    pub sync_timeout: Duration,
    pub change_timeout: Duration,
    /// Pause between the sync and the first change.
    pub settle: Duration,
    /// Proxies that stop reading their stream from the sync until the last
    /// change reached the others (stuck Envoys); chosen among the proxies
    /// of one node that every wide change affects.
    pub stuck: usize,
}

/// One applied change: what it was and which nodes it should reach (when
/// known; otherwise the affected proxies are those that got an update).
#[derive(Debug, Clone)]
pub struct Change {
    pub label: String,
    pub expected_nodes: Option<BTreeSet<String>>,
}

/// What to change, change after change.
pub trait ChangeSource {
    fn apply(&mut self, k: usize) -> Result<Change, EditError>;

    /// When the last applied change took effect, if later than the call
    /// (an API call's answer): the fan-out is timed from then.
    fn applied_at(&self) -> Option<Instant> {
        None
    }

    /// What a change is, for the report ("file write", "UpdateRoute 200").
    fn describe(&self) -> &'static str {
        "file write"
    }
}

/// What a run does beyond the sync and the changes.
#[derive(Default)]
pub struct Scenarios<'a> {
    /// How long the `stuck` proxies stay stuck; changes keep coming
    /// meanwhile (at least `changes` of them and two, at most one a second).
    pub stuck_for: Duration,
    /// After everything else, restart the server under the synced proxies
    /// (the reconnect storm).
    pub restart: Option<(StopSignal, &'a mut dyn ServerControl)>,
}

impl ChangeSource for GeneratedMesh {
    fn apply(&mut self, k: usize) -> Result<Change, EditError> {
        let (label, expected) = self.change(k)?;
        Ok(Change {
            label,
            expected_nodes: Some(expected),
        })
    }
}

/// Route files of an existing spec directory, rewritten in turn.
#[derive(Debug, Clone)]
pub struct RouteFiles(pub Vec<std::path::PathBuf>);

impl ChangeSource for RouteFiles {
    fn apply(&mut self, k: usize) -> Result<Change, EditError> {
        let path = &self.0[k % self.0.len()];
        rewrite_weights(path, k + 1)?;
        Ok(Change {
            label: path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            expected_nodes: None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no node ARNs to connect as")]
    NoNodes,
    #[error("change {k}: {source}")]
    Change {
        k: usize,
        #[source]
        source: EditError,
    },
    #[error(transparent)]
    Restart(#[from] RestartError),
}

fn variants(n: usize, delta_fraction: f64) -> Vec<Variant> {
    let f = delta_fraction.clamp(0.0, 1.0);
    (0..n)
        .map(|i| {
            if ((i + 1) as f64 * f).floor() > (i as f64 * f).floor() {
                Variant::Delta
            } else {
                Variant::Sotw
            }
        })
        .collect()
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) async fn metrics(admin: SocketAddr) -> BTreeMap<String, f64> {
    match probe::http_get(admin, "/metrics").await {
        Ok((200, body)) => parse_metrics(&body),
        _ => BTreeMap::new(),
    }
}

fn samples(target: &Target) -> Samples {
    Samples {
        server: probe::proc_sample(target.pid),
        client: probe::proc_sample(std::process::id()),
    }
}

/// Open the proxies' connections and streams; returns at once, the proxies
/// keep running on the runtime.
/// Connection `c` goes to `xds[c % xds.len()]`.
fn spawn_fleet(fleet: &Arc<Fleet>, xds: &[SocketAddr], connections: usize) {
    let gate = Arc::new(Semaphore::new(200));
    let n = fleet.proxies.len();
    for c in 0..connections {
        let fleet = fleet.clone();
        let gate = gate.clone();
        let xds = xds[c % xds.len()];
        tokio::spawn(async move {
            let members: Vec<usize> = (c..n).step_by(connections).collect();
            let channel = {
                let _permit = gate.acquire().await;
                proxy::connect(xds).await
            };
            match channel {
                Ok(ch) => {
                    for idx in members {
                        tokio::spawn(proxy::run(fleet.clone(), idx, ch.clone()));
                    }
                }
                Err(e) => {
                    for idx in members {
                        fleet.fail_connect(idx, &e);
                    }
                }
            }
        });
    }
}

async fn wait_synced(fleet: &Fleet, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline && fleet.synced() + fleet.failed() < fleet.proxies.len() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn updates(fleet: &Fleet) -> Vec<u64> {
    fleet
        .stats
        .iter()
        .map(|s| s.updates.load(Ordering::Acquire))
        .collect()
}

/// Apply change `k` and wait until it reached every affected proxy; the
/// figures and the sorted latencies of the proxies reached.
pub(crate) async fn measure_change(
    fleet: &Fleet,
    source: &mut dyn ChangeSource,
    k: usize,
    config: &RunConfig,
    target: &Target,
    by_node: &BTreeMap<&str, Vec<usize>>,
) -> Result<(ChangeFigures, Vec<Duration>), RunError> {
    let before_metrics = metrics(target.admin).await;
    let before = updates(fleet);
    let t0 = Instant::now();
    let wall0 = SystemTime::now();
    let change = source
        .apply(k)
        .map_err(|source| RunError::Change { k, source })?;
    // ACKs that came before the API's answer count as 0.
    let t0 = source.applied_at().filter(|at| *at > t0).unwrap_or(t0);
    let expected: Option<BTreeSet<usize>> = change.expected_nodes.as_ref().map(|nodes| {
        nodes
            .iter()
            .flat_map(|n| by_node.get(n.as_str()).into_iter().flatten().copied())
            .filter(|i| !fleet.stats[*i].stuck.load(Ordering::Relaxed))
            .collect()
    });
    let updated = |fleet: &Fleet| -> BTreeSet<usize> {
        updates(fleet)
            .iter()
            .zip(&before)
            .enumerate()
            .filter(|(_, (now, then))| now > then)
            .map(|(i, _)| i)
            .collect()
    };
    let deadline = t0 + config.change_timeout;
    let mut last_count = 0;
    let mut last_growth = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let now = updated(fleet);
        let done = match &expected {
            Some(exp) => exp
                .iter()
                .all(|i| now.contains(i) || fleet.stats[*i].failed.load(Ordering::Relaxed)),
            None => {
                if now.len() != last_count {
                    last_count = now.len();
                    last_growth = Instant::now();
                }
                last_count > 0 && last_growth.elapsed() > Duration::from_secs(2)
            }
        };
        if done || Instant::now() > deadline {
            break;
        }
    }
    // Updates that should not have happened come in too: wait a moment.
    let all_reached = t0.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut reached = updated(fleet);
    // A stuck proxy may take in the one response it was reading when it
    // stopped: neither expected nor odd.
    reached.retain(|i| !fleet.stats[*i].stuck.load(Ordering::Relaxed));
    let t0_ns = fleet.ns_of(t0);
    let mut latencies: Vec<Duration> = reached
        .iter()
        .map(|i| {
            let at = fleet.stats[*i].last_update_ns.load(Ordering::Relaxed);
            Duration::from_nanos(at.saturating_sub(t0_ns))
        })
        .collect();
    latencies.sort();
    let after_metrics = metrics(target.admin).await;
    let build_sum = metric_total(&after_metrics, "meshplane_snapshot_build_seconds_sum")
        - metric_total(&before_metrics, "meshplane_snapshot_build_seconds_sum");
    let build_count = metric_total(&after_metrics, "meshplane_snapshot_build_seconds_count")
        - metric_total(&before_metrics, "meshplane_snapshot_build_seconds_count");
    let delta =
        |name: &str| metric_total(&after_metrics, name) - metric_total(&before_metrics, name);
    let ack_sum = delta("meshplane_xds_push_ack_seconds_sum");
    let ack_count = delta("meshplane_xds_push_ack_seconds_count");
    let reload_at = metric_total(
        &after_metrics,
        "meshplane_last_reload_success_timestamp_seconds",
    );
    let wall0_s = wall0
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64();
    let (unexpected, missing) = match &expected {
        Some(exp) => (
            reached.difference(exp).count(),
            exp.difference(&reached).count(),
        ),
        None => (0, 0),
    };
    let figures = ChangeFigures {
        label: change.label,
        expected: expected.as_ref().map(BTreeSet::len),
        reached: reached.len(),
        unexpected,
        missing,
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies.last().copied().unwrap_or_default(),
        all_reached,
        server_reloads: build_count.max(0.0) as u64,
        server_push_ack_mean: (ack_count > 0.0)
            .then(|| Duration::from_secs_f64((ack_sum / ack_count).max(0.0))),
        server_build: (build_count > 0.0).then(|| Duration::from_secs_f64(build_sum.max(0.0))),
        server_reloaded_after: (reload_at > wall0_s)
            .then(|| Duration::from_secs_f64(reload_at - wall0_s)),
    };
    Ok((figures, latencies))
}

/// Run the whole measurement against a started server.
pub async fn run(
    config: &RunConfig,
    target: &Target,
    source: &mut dyn ChangeSource,
) -> Result<Report, RunError> {
    run_spread(config, target, &[], source).await
}

/// [`run`] with the proxies spread over `target` and the servers at
/// `more_xds` (replicas sharing one store): the connections go to each in
/// turn. Server-side figures (metrics, RSS, CPU) are `target`'s.
pub async fn run_spread(
    config: &RunConfig,
    target: &Target,
    more_xds: &[SocketAddr],
    source: &mut dyn ChangeSource,
) -> Result<Report, RunError> {
    run_scenarios(config, target, more_xds, source, Scenarios::default()).await
}

/// [`run_spread`] with the stuck period and the reconnect storm of
/// `scenarios`.
pub async fn run_scenarios(
    config: &RunConfig,
    target: &Target,
    more_xds: &[SocketAddr],
    source: &mut dyn ChangeSource,
    scenarios: Scenarios<'_>,
) -> Result<Report, RunError> {
    if config.node_arns.is_empty() {
        return Err(RunError::NoNodes);
    }
    let kinds = variants(config.proxies, config.delta_fraction);
    let specs: Vec<ProxySpec> = (0..config.proxies)
        .map(|i| ProxySpec {
            node_id: config.node_arns[i % config.node_arns.len()].clone(),
            variant: kinds[i],
        })
        .collect();
    let mut by_node: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in specs.iter().enumerate() {
        by_node.entry(s.node_id.as_str()).or_default().push(i);
    }
    let connections = config.max_connections.clamp(1, config.proxies.max(1));

    let idle = samples(target);
    let fleet = Fleet::new(specs.clone());
    let t_start = Instant::now();
    let servers: Vec<SocketAddr> = std::iter::once(target.xds)
        .chain(more_xds.iter().copied())
        .collect();
    spawn_fleet(&fleet, &servers, connections);
    wait_synced(&fleet, config.sync_timeout).await;
    let sync_wall = t_start.elapsed();
    let mut per_proxy: Vec<Duration> = fleet
        .stats
        .iter()
        .map(|s| s.synced_ns.load(Ordering::Acquire))
        .filter(|ns| *ns != 0)
        .map(|ns| Duration::from_nanos(ns.saturating_sub(fleet.ns_of(t_start))))
        .collect();
    per_proxy.sort();
    let synced_samples = samples(target);
    let m = metrics(target.admin).await;
    let sync = SyncFigures {
        synced: per_proxy.len(),
        failed: fleet.failed(),
        all_synced: (per_proxy.len() == config.proxies)
            .then(|| per_proxy.last().copied().unwrap_or_default()),
        waited: sync_wall,
        p50: percentile(&per_proxy, 50.0),
        p99: percentile(&per_proxy, 99.0),
        connected_gauge: metric_total(&m, "meshplane_connected_proxies"),
    };

    eprintln!(
        "synced: {} of {} proxies in {:.2} s",
        sync.synced,
        config.proxies,
        sync_wall.as_secs_f64()
    );
    tokio::time::sleep(config.settle).await;
    let mut changes = Vec::new();
    let mut baseline: Vec<Duration> = Vec::new();
    if sync.synced > 0 {
        for k in 0..config.changes {
            let (c, l) = measure_change(&fleet, source, k, config, target, &by_node).await?;
            changes.push(c);
            baseline.extend(l);
        }
    }
    baseline.sort();
    let stuck_ids = stuck::choose(&by_node, config);
    let (stuck, stuck_changes) = if stuck_ids.is_empty() || sync.synced == 0 {
        (None, Vec::new())
    } else {
        let period = stuck::Period {
            stuck: &stuck_ids,
            first_change: config.changes,
            hold: scenarios.stuck_for,
            without: (!baseline.is_empty())
                .then(|| (percentile(&baseline, 50.0), percentile(&baseline, 99.0))),
        };
        let (f, c) = stuck::run(&fleet, source, config, target, &by_node, period).await?;
        (Some(f), c)
    };
    let end = samples(target);
    let m = metrics(target.admin).await;
    let nacks = metric_total(&m, "meshplane_xds_nacks_total");
    let failed_at_end = fleet.failed();
    let errors = fleet.errors.lock().map(|e| e.clone()).unwrap_or_default();
    let storm = match scenarios.restart {
        Some((signal, control)) => {
            let mut moved = *target;
            Some(restart::storm(&fleet, control, signal, &mut moved, config.sync_timeout).await?)
        }
        None => None,
    };
    Ok(Report {
        proxies: config.proxies,
        delta: kinds.iter().filter(|k| **k == Variant::Delta).count(),
        nodes: config.node_arns.len().min(config.proxies),
        connections,
        sync,
        changes,
        idle,
        synced: synced_samples,
        end,
        nacks,
        stuck,
        stuck_changes,
        failed_at_end,
        errors,
        storm,
        changes_via: source.describe(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_interleave() {
        let v = variants(10, 0.5);
        assert_eq!(v.iter().filter(|k| **k == Variant::Delta).count(), 5);
        assert_eq!(v[0], Variant::Sotw);
        assert_eq!(v[1], Variant::Delta);
        assert!(variants(4, 0.0).iter().all(|k| *k == Variant::Sotw));
        assert!(variants(4, 1.0).iter().all(|k| *k == Variant::Delta));
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let d: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&d, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&d, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&d[..1], 99.0), Duration::from_millis(1));
    }
}
