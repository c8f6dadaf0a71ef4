//! One change and its fan-out: what to change (a [`ChangeSource`]), and the
//! time from the change until each affected proxy ACKed its update.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::mesh_gen::GeneratedMesh;
use crate::probe::{self, metric_total, parse_metrics};
use crate::proxy::Fleet;
use crate::report::ChangeFigures;
use crate::setup::{RunConfig, Target};
use crate::spec_edit::{rewrite_weights, EditError};
use crate::stats::percentile;

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

/// A change that could not be made.
#[derive(Debug, thiserror::Error)]
#[error("change {k}: {source}")]
pub struct ChangeError {
    pub k: usize,
    #[source]
    pub source: EditError,
}

pub(crate) async fn metrics(admin: SocketAddr) -> BTreeMap<String, f64> {
    match probe::http_get(admin, "/metrics").await {
        Ok((200, body)) => parse_metrics(&body),
        _ => BTreeMap::new(),
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
) -> Result<(ChangeFigures, Vec<Duration>), ChangeError> {
    let before_metrics = metrics(target.admin).await;
    let before = updates(fleet);
    let t0 = Instant::now();
    let wall0 = SystemTime::now();
    let change = source
        .apply(k)
        .map_err(|source| ChangeError { k, source })?;
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
    // The server records a reload's build once it published every proxy:
    // wait for it (a reload of few proxies ends after their updates).
    let since_before = |m: &BTreeMap<String, f64>, name: &str| {
        metric_total(m, name) - metric_total(&before_metrics, name)
    };
    const BUILDS: &str = "meshplane_snapshot_build_seconds_count";
    let mut after_metrics = metrics(target.admin).await;
    while since_before(&after_metrics, BUILDS) <= 0.0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        after_metrics = metrics(target.admin).await;
    }
    let delta = |name: &str| since_before(&after_metrics, name);
    let build_sum = delta("meshplane_snapshot_build_seconds_sum");
    let build_count = delta(BUILDS);
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
