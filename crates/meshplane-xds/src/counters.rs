//! Exact counts of what happens on the streams, kept as it happens: the
//! responses sent, ACKs and NACKs by type, and the time from a response to
//! its ACK. Unlike the event channel (which a slow receiver may lag
//! behind), nothing is ever lost, and reading them costs the same with one
//! stream or 50,000.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::ResourceType;

/// Upper bounds (seconds) of the push-to-ACK histogram buckets.
pub const ACK_LATENCY_BOUNDS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const TYPES: usize = ResourceType::ALL.len();

fn index(t: ResourceType) -> usize {
    ResourceType::ALL
        .iter()
        .position(|x| *x == t)
        .unwrap_or_default()
}

/// Counters shared by every stream of a server.
#[derive(Debug, Default)]
pub struct StreamCounters {
    sent: [AtomicU64; TYPES],
    acks: [AtomicU64; TYPES],
    nacks: [AtomicU64; TYPES],
    /// Per bucket of [`ACK_LATENCY_BOUNDS`] (not cumulative), then +Inf.
    ack_latency: [AtomicU64; ACK_LATENCY_BOUNDS.len() + 1],
    ack_latency_sum_ns: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountersSnapshot {
    /// By type, in [`ResourceType::ALL`] order, types never counted left out.
    pub sent: Vec<(ResourceType, u64)>,
    pub acks: Vec<(ResourceType, u64)>,
    pub nacks: Vec<(ResourceType, u64)>,
    /// Cumulative counts per bound of [`ACK_LATENCY_BOUNDS`].
    pub ack_latency_buckets: Vec<(f64, u64)>,
    pub ack_latency_sum_seconds: f64,
    pub ack_latency_count: u64,
}

impl StreamCounters {
    pub(crate) fn sent(&self, t: ResourceType) {
        self.sent[index(t)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn ack(&self, t: ResourceType, latency: Duration) {
        self.acks[index(t)].fetch_add(1, Ordering::Relaxed);
        let s = latency.as_secs_f64();
        let bucket = ACK_LATENCY_BOUNDS
            .iter()
            .position(|b| s <= *b)
            .unwrap_or(ACK_LATENCY_BOUNDS.len());
        self.ack_latency[bucket].fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.ack_latency_sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    pub(crate) fn nack(&self, t: ResourceType) {
        self.nacks[index(t)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CountersSnapshot {
        let by_type = |a: &[AtomicU64; TYPES]| {
            ResourceType::ALL
                .iter()
                .zip(a)
                .map(|(t, n)| (*t, n.load(Ordering::Relaxed)))
                .filter(|(_, n)| *n > 0)
                .collect()
        };
        let mut cumulative = 0;
        let mut buckets = Vec::with_capacity(ACK_LATENCY_BOUNDS.len());
        for (b, n) in ACK_LATENCY_BOUNDS.iter().zip(&self.ack_latency) {
            cumulative += n.load(Ordering::Relaxed);
            buckets.push((*b, cumulative));
        }
        let count = cumulative + self.ack_latency[ACK_LATENCY_BOUNDS.len()].load(Ordering::Relaxed);
        CountersSnapshot {
            sent: by_type(&self.sent),
            acks: by_type(&self.acks),
            nacks: by_type(&self.nacks),
            ack_latency_buckets: buckets,
            ack_latency_sum_seconds: self.ack_latency_sum_ns.load(Ordering::Relaxed) as f64 / 1e9,
            ack_latency_count: count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_type_and_latency_buckets() {
        let c = StreamCounters::default();
        c.sent(ResourceType::Cluster);
        c.sent(ResourceType::Cluster);
        c.ack(ResourceType::Cluster, Duration::from_millis(3));
        c.ack(ResourceType::Listener, Duration::from_secs(20));
        c.nack(ResourceType::Route);
        let s = c.snapshot();
        assert_eq!(s.sent, [(ResourceType::Cluster, 2)]);
        assert_eq!(
            s.acks,
            [(ResourceType::Listener, 1), (ResourceType::Cluster, 1)]
        );
        assert_eq!(s.nacks, [(ResourceType::Route, 1)]);
        assert_eq!(s.ack_latency_count, 2);
        assert_eq!(s.ack_latency_buckets[0], (0.001, 0));
        assert_eq!(s.ack_latency_buckets[1], (0.005, 1));
        assert_eq!(s.ack_latency_buckets.last(), Some(&(10.0, 1)));
    }
}
