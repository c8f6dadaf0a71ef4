//! Counters behind `/metrics`, written in the Prometheus text format.

pub mod allocator;
mod histogram;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use meshplane_spec::{ArnContext, ResourceId};
use meshplane_xds::{ProxyRegistry, ResourceType};

pub use allocator::{AllocatorStats, AllocatorStatsFn};
pub use histogram::Histogram;

use crate::clock::unix_seconds;

const BUILD_BUCKETS: &[f64] = &[0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Process-wide counters of the control layer. What happens on the streams
/// (open streams, NACKed proxies, responses, ACKs, NACKs, push-to-ACK time)
/// is read from the server's registry, which keeps it exactly as it
/// happens; refusals come from the server's events.
#[derive(Debug)]
pub struct Metrics {
    reload_errors: AtomicU64,
    last_success: Mutex<Option<f64>>,
    snapshot_build: Histogram,
    refused: Mutex<BTreeMap<String, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            reload_errors: AtomicU64::new(0),
            last_success: Mutex::new(None),
            snapshot_build: Histogram::new(BUILD_BUCKETS),
            refused: Mutex::default(),
        }
    }
}

impl Metrics {
    pub fn reload_failed(&self) {
        self.reload_errors.fetch_add(1, Ordering::Relaxed);
    }

    pub fn reload_errors(&self) -> u64 {
        self.reload_errors.load(Ordering::Relaxed)
    }

    pub fn reload_succeeded(&self, at: SystemTime) {
        *lock(&self.last_success) = Some(unix_seconds(at));
    }

    pub fn observe_snapshot_build(&self, d: Duration) {
        self.snapshot_build.observe(d);
    }

    pub fn refused(&self, code: tonic::Code) {
        *lock(&self.refused).entry(format!("{code:?}")).or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, registry: &ProxyRegistry, arn: &ArnContext) -> String {
        let mut out = String::new();

        // Kept by the registry as streams change: one entry per key, so a
        // scrape costs the same with 1,000 streams or 50,000.
        let mut connected: BTreeMap<(String, String), u64> = BTreeMap::new();
        let mut nacked: BTreeMap<(String, String, &'static str), u64> = BTreeMap::new();
        for (key, counts) in registry.counts_by_key() {
            let (mesh, resource) = match ResourceId::parse(key.as_str(), arn) {
                Ok(id) => (id.mesh.clone(), id.short()),
                Err(_) => (String::new(), key.to_string()),
            };
            for (t, n) in &counts.nacked {
                *nacked
                    .entry((mesh.clone(), resource.clone(), t.short_name()))
                    .or_default() += *n as u64;
            }
            *connected.entry((mesh, resource)).or_default() += counts.streams as u64;
        }
        header(
            &mut out,
            "meshplane_connected_proxies",
            "gauge",
            "Open xDS streams by mesh and App Mesh resource.",
        );
        for ((mesh, resource), n) in &connected {
            let _ = writeln!(
                out,
                "meshplane_connected_proxies{{mesh=\"{}\",resource=\"{}\"}} {n}",
                escape(mesh),
                escape(resource)
            );
        }

        // Proxies that rejected their latest configuration and still run
        // an older version (cleared by the ACK of a fixed one).
        header(
            &mut out,
            "meshplane_proxies_nacked",
            "gauge",
            "Open xDS streams whose proxy rejected the latest configuration of a type and runs an older version, by mesh, App Mesh resource and type.",
        );
        for ((mesh, resource, t), n) in &nacked {
            let _ = writeln!(
                out,
                "meshplane_proxies_nacked{{mesh=\"{}\",resource=\"{}\",type=\"{t}\"}} {n}",
                escape(mesh),
                escape(resource)
            );
        }

        let counters = registry.counters().snapshot();
        by_type(
            &mut out,
            "meshplane_xds_pushes_total",
            "xDS responses sent, by type.",
            &counters.sent,
        );
        by_type(
            &mut out,
            "meshplane_xds_acks_total",
            "ACKs received, by type.",
            &counters.acks,
        );
        by_type(
            &mut out,
            "meshplane_xds_nacks_total",
            "NACKs received, by type.",
            &counters.nacks,
        );

        header(
            &mut out,
            "meshplane_xds_refused_total",
            "counter",
            "Streams refused, by gRPC code.",
        );
        for (code, n) in lock(&self.refused).iter() {
            let _ = writeln!(out, "meshplane_xds_refused_total{{code=\"{code}\"}} {n}");
        }

        header(
            &mut out,
            "meshplane_xds_push_ack_seconds",
            "histogram",
            "Time from sending a response to its ACK.",
        );
        let name = "meshplane_xds_push_ack_seconds";
        for (bound, n) in &counters.ack_latency_buckets {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let count = counters.ack_latency_count;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", counters.ack_latency_sum_seconds);
        let _ = writeln!(out, "{name}_count {count}");
        header(
            &mut out,
            "meshplane_snapshot_build_seconds",
            "histogram",
            "Time to translate and publish a valid spec set.",
        );
        self.snapshot_build
            .write(&mut out, "meshplane_snapshot_build_seconds");

        header(
            &mut out,
            "meshplane_reload_errors_total",
            "counter",
            "Reloads not applied (spec or auth config errors).",
        );
        let _ = writeln!(
            out,
            "meshplane_reload_errors_total {}",
            self.reload_errors()
        );
        header(
            &mut out,
            "meshplane_last_reload_success_timestamp_seconds",
            "gauge",
            "When the spec set now served was applied (0: never).",
        );
        let last = lock(&self.last_success).unwrap_or(0.0);
        let _ = writeln!(
            out,
            "meshplane_last_reload_success_timestamp_seconds {last}"
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn by_type(out: &mut String, name: &str, help: &str, counts: &[(ResourceType, u64)]) {
    header(out, name, "counter", help);
    let mut counts: Vec<(&str, u64)> = counts.iter().map(|(t, n)| (t.short_name(), *n)).collect();
    counts.sort();
    for (t, n) in counts {
        let _ = writeln!(out, "{name}{{type=\"{t}\"}} {n}");
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
