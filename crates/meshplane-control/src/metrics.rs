//! Counters behind `/metrics`, written in the Prometheus text format.

mod histogram;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use meshplane_spec::{ArnContext, ResourceId};
use meshplane_xds::ProxyRegistry;

pub use histogram::Histogram;

use crate::clock::unix_seconds;

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BUILD_BUCKETS: &[f64] = &[0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Process-wide counters, fed by the server's events. Connected proxies are
/// read from the server's registry when scraped.
#[derive(Debug)]
pub struct Metrics {
    reload_errors: AtomicU64,
    last_success: Mutex<Option<f64>>,
    snapshot_build: Histogram,
    push_to_ack: Histogram,
    acks: Mutex<BTreeMap<&'static str, u64>>,
    nacks: Mutex<BTreeMap<&'static str, u64>>,
    refused: Mutex<BTreeMap<String, u64>>,
    /// Responses sent, by type (one `Sent` event each).
    pushes: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            reload_errors: AtomicU64::new(0),
            last_success: Mutex::new(None),
            snapshot_build: Histogram::new(BUILD_BUCKETS),
            push_to_ack: Histogram::new(LATENCY_BUCKETS),
            acks: Mutex::default(),
            nacks: Mutex::default(),
            refused: Mutex::default(),
            pushes: Mutex::default(),
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

    pub fn ack(&self, type_name: &'static str, latency: Duration) {
        *lock(&self.acks).entry(type_name).or_default() += 1;
        self.push_to_ack.observe(latency);
    }

    pub fn nack(&self, type_name: &'static str) {
        *lock(&self.nacks).entry(type_name).or_default() += 1;
    }

    pub fn nacks_total(&self) -> u64 {
        lock(&self.nacks).values().sum()
    }

    pub fn refused(&self, code: tonic::Code) {
        *lock(&self.refused).entry(format!("{code:?}")).or_default() += 1;
    }

    /// A response of this type was sent.
    pub fn pushed(&self, type_name: &'static str) {
        *lock(&self.pushes).entry(type_name).or_default() += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self, registry: &ProxyRegistry, arn: &ArnContext) -> String {
        let mut out = String::new();

        let mut connected: BTreeMap<(String, String), u64> = BTreeMap::new();
        for s in registry.streams() {
            let (mesh, resource) = match ResourceId::parse(s.key.as_str(), arn) {
                Ok(id) => (id.mesh.clone(), id.short()),
                Err(_) => (String::new(), s.key.to_string()),
            };
            *connected.entry((mesh, resource)).or_default() += 1;
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
        let mut nacked: BTreeMap<(String, String, &'static str), u64> = BTreeMap::new();
        for s in registry.streams() {
            let (mesh, resource) = match ResourceId::parse(s.key.as_str(), arn) {
                Ok(id) => (id.mesh.clone(), id.short()),
                Err(_) => (String::new(), s.key.to_string()),
            };
            for (t, status) in &s.types {
                if status.last_nack.is_some() {
                    *nacked
                        .entry((mesh.clone(), resource.clone(), t.short_name()))
                        .or_default() += 1;
                }
            }
        }
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

        by_type(
            &mut out,
            "meshplane_xds_pushes_total",
            "xDS responses sent, by type.",
            &lock(&self.pushes),
        );
        by_type(
            &mut out,
            "meshplane_xds_acks_total",
            "ACKs received, by type.",
            &lock(&self.acks),
        );
        by_type(
            &mut out,
            "meshplane_xds_nacks_total",
            "NACKs received, by type.",
            &lock(&self.nacks),
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
        self.push_to_ack
            .write(&mut out, "meshplane_xds_push_ack_seconds");
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

fn by_type(out: &mut String, name: &str, help: &str, counts: &BTreeMap<&'static str, u64>) {
    header(out, name, "counter", help);
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
