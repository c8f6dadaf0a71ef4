//! What the client prints: one [`Outcome`] per request (JSON lines in
//! continuous mode) and a [`Summary`].

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One request or connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    /// Index in this run.
    pub i: u64,
    /// When it started, milliseconds since the Unix epoch.
    pub t_ms: u64,
    /// HTTP status, when a response came back.
    pub status: Option<u16>,
    /// gRPC status (`grpc-status` trailer or header), for gRPC calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc_status: Option<u32>,
    /// The backend that answered (its `x-backend` header or greeting).
    pub backend: Option<String>,
    /// Transport error, when no response came back.
    pub error: Option<String>,
    pub latency_ms: f64,
}

impl Outcome {
    /// A 2xx response (or, for TCP/TLS, a greeting).
    pub fn ok(&self) -> bool {
        self.error.is_none()
            && self.status.is_none_or(|s| (200..300).contains(&s))
            && self.grpc_status.is_none_or(|g| g == 0)
    }
}

/// Counts over a run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub sent: u64,
    /// Requests without a 2xx response.
    pub failed: u64,
    /// Backend name (or `-` when none answered) -> count.
    pub by_backend: BTreeMap<String, u64>,
    /// Status code (or `error`) -> count.
    pub by_status: BTreeMap<String, u64>,
    /// The first few distinct transport errors.
    pub errors: Vec<String>,
    pub latency_ms_min: f64,
    pub latency_ms_p50: f64,
    pub latency_ms_max: f64,
    /// Every outcome, when asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outcomes: Vec<Outcome>,
}

impl Summary {
    pub fn of(outcomes: &[Outcome], keep: bool) -> Summary {
        let mut s = Summary {
            sent: outcomes.len() as u64,
            ..Summary::default()
        };
        let mut lat: Vec<f64> = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            if !o.ok() {
                s.failed += 1;
            }
            let backend = o.backend.clone().unwrap_or_else(|| "-".into());
            *s.by_backend.entry(backend).or_default() += 1;
            let status = match (o.status, &o.error) {
                (_, Some(_)) => "error".to_string(),
                (Some(_), None) if o.grpc_status.is_some() => {
                    format!("grpc-{}", o.grpc_status.unwrap_or_default())
                }
                (Some(code), None) => code.to_string(),
                (None, None) => "ok".to_string(),
            };
            *s.by_status.entry(status).or_default() += 1;
            if let Some(e) = &o.error {
                if s.errors.len() < 5 && !s.errors.contains(e) {
                    s.errors.push(e.clone());
                }
            }
            lat.push(o.latency_ms);
        }
        lat.sort_by(f64::total_cmp);
        if let (Some(first), Some(last)) = (lat.first(), lat.last()) {
            s.latency_ms_min = *first;
            s.latency_ms_max = *last;
            s.latency_ms_p50 = lat[lat.len() / 2];
        }
        if keep {
            s.outcomes = outcomes.to_vec();
        }
        s
    }

    /// How many answers came from `backend`.
    pub fn count(&self, backend: &str) -> u64 {
        self.by_backend.get(backend).copied().unwrap_or(0)
    }

    /// How many answers had `status` (`"200"`, `"error"`, ...).
    pub fn status(&self, status: &str) -> u64 {
        self.by_status.get(status).copied().unwrap_or(0)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
