//! The stuck period: a few proxies stop reading their streams (stuck
//! Envoys) for a while, during which route changes keep coming. Measured:
//! the server's memory before, at its peak and at the end of the period
//! and after the stuck proxies caught up, and the other proxies' fan-out
//! during the period against the changes made before it (nobody stuck).
//!
//! The server queues at most `response_buffer` responses per stream (one
//! by default) and builds the next only when the stream takes it, so what a
//! stuck stream can hold is that response plus the HTTP/2 flow-control
//! windows; the RSS figures show whether that holds.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::change::{measure_change, ChangeError, ChangeSource};
use crate::probe;
use crate::proxy::Fleet;
use crate::report::{ChangeFigures, StuckFigures};
use crate::setup::{RunConfig, Target};
use crate::stats::percentile;

/// The proxies to get stuck: the first ones of the node after the first
/// (node 0 is the one the wide change leaves alone).
pub(crate) fn choose(by_node: &BTreeMap<&str, Vec<usize>>, config: &RunConfig) -> Vec<usize> {
    if config.stuck == 0 {
        return Vec::new();
    }
    let node = config
        .node_arns
        .get(1)
        .or(config.node_arns.first())
        .map(String::as_str)
        .unwrap_or_default();
    by_node
        .get(node)
        .map(|v| v.iter().copied().take(config.stuck).collect())
        .unwrap_or_default()
}

/// What the period is.
pub(crate) struct Period<'a> {
    pub stuck: &'a [usize],
    /// The number of the first change made during the period.
    pub first_change: usize,
    /// How long the proxies stay stuck (at least `changes` changes long,
    /// and two).
    pub hold: Duration,
    /// Fan-out p50 / p99 of the changes before the period.
    pub without: Option<(Duration, Duration)>,
}

/// Changes are made at most this often during the period.
const PACE: Duration = Duration::from_secs(1);

pub(crate) async fn run(
    fleet: &Fleet,
    source: &mut dyn ChangeSource,
    config: &RunConfig,
    target: &Target,
    by_node: &BTreeMap<&str, Vec<usize>>,
    period: Period<'_>,
) -> Result<(StuckFigures, Vec<ChangeFigures>), ChangeError> {
    let rss = || probe::proc_sample(target.pid).rss_kib;
    let rss_before = rss();
    for i in period.stuck {
        fleet.stats[*i].stuck.store(true, Ordering::Relaxed);
    }
    let t0 = Instant::now();
    let mut changes = Vec::new();
    let mut latencies = Vec::new();
    let mut rss_peak = rss_before;
    let mut k = period.first_change;
    // Two changes at least: one of them is a shared one, which the stuck
    // proxies miss.
    while changes.len() < config.changes.max(2) || t0.elapsed() < period.hold {
        let started = Instant::now();
        let (c, l) = measure_change(fleet, source, k, config, target, by_node).await?;
        changes.push(c);
        latencies.extend(l);
        rss_peak = rss_peak.max(rss());
        k += 1;
        let pause = PACE
            .saturating_sub(started.elapsed())
            .min(period.hold.saturating_sub(t0.elapsed()));
        tokio::time::sleep(pause).await;
    }
    let held = t0.elapsed();
    let rss_stuck = rss();
    latencies.sort();
    let (caught_up, after) = resume(fleet, period.stuck, config.change_timeout).await;
    Ok((
        StuckFigures {
            stuck: period.stuck.len(),
            held,
            changes: changes.len(),
            others_p50: percentile(&latencies, 50.0),
            others_p99: percentile(&latencies, 99.0),
            without: period.without,
            caught_up,
            after,
            server_rss_kib_before: rss_before,
            server_rss_kib_peak: rss_peak,
            server_rss_kib_while_stuck: rss_stuck,
            server_rss_kib_after: rss(),
        },
        changes,
    ))
}

/// Let the stuck proxies read again and wait until each got the updates it
/// missed: (how many did, how long the last took).
async fn resume(fleet: &Fleet, stuck: &[usize], timeout: Duration) -> (usize, Duration) {
    let before: Vec<u64> = stuck
        .iter()
        .map(|i| fleet.stats[*i].updates.load(Ordering::Acquire))
        .collect();
    let t0 = Instant::now();
    for i in stuck {
        fleet.stats[*i].stuck.store(false, Ordering::Relaxed);
    }
    let caught_up = |fleet: &Fleet| {
        stuck
            .iter()
            .zip(&before)
            .filter(|(i, b)| fleet.stats[**i].updates.load(Ordering::Acquire) > **b)
            .count()
    };
    while caught_up(fleet) < stuck.len() && t0.elapsed() < timeout {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (caught_up(fleet), t0.elapsed())
}
