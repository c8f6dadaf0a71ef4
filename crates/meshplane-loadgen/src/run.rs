//! One measurement: connect the proxies, wait for the initial sync, apply
//! the changes one after the other and time their fan-out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::change::{measure_change, metrics, ChangeError};
pub use crate::change::{Change, ChangeSource, RouteFiles};
use crate::probe::{self, metric_total};
use crate::proxy::{self, Fleet, ProxySpec, Variant};
use crate::report::{Report, Samples, SyncFigures};
use crate::restart::{self, RestartError, ServerControl, StopSignal};
pub use crate::setup::{RunConfig, Target};
use crate::stats::percentile;
use crate::stuck;

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

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("no node ARNs to connect as")]
    NoNodes,
    #[error(transparent)]
    Change(#[from] ChangeError),
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
}
