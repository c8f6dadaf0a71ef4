//! Envoy's retry schedule for a broken xDS stream: jittered exponential
//! backoff, 500 ms doubling per attempt up to 30 s, each delay drawn
//! uniformly below the current bound ("full jitter"), reset once a stream
//! is accepted.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

pub const BASE: Duration = Duration::from_millis(500);
pub const MAX: Duration = Duration::from_secs(30);

/// The bound of attempt `attempt` (from 0): `BASE * 2^attempt`, at most `MAX`.
pub fn bound(attempt: u32) -> Duration {
    BASE.saturating_mul(1u32 << attempt.min(16)).min(MAX)
}

/// The delay before retry `attempt`, `unit` in [0, 1) being the random draw.
pub fn delay(attempt: u32, unit: f64) -> Duration {
    bound(attempt).mul_f64(unit.clamp(0.0, 1.0))
}

/// A draw in [0, 1) from the standard library's randomly keyed hasher.
pub fn unit_random(salt: usize) -> f64 {
    let h = RandomState::new().hash_one((salt, Instant::now()));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_doubles_up_to_thirty_seconds() {
        assert_eq!(bound(0), Duration::from_millis(500));
        assert_eq!(bound(1), Duration::from_secs(1));
        assert_eq!(bound(5), Duration::from_secs(16));
        assert_eq!(bound(6), MAX);
        assert_eq!(bound(60), MAX);
    }

    #[test]
    fn delay_stays_below_the_bound_and_spreads() {
        assert_eq!(delay(0, 0.0), Duration::ZERO);
        assert_eq!(delay(1, 0.5), Duration::from_millis(500));
        let draws: Vec<f64> = (0..200).map(unit_random).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        // 200 draws from [0, 1): both halves are hit.
        assert!(draws.iter().any(|u| *u < 0.5) && draws.iter().any(|u| *u >= 0.5));
    }
}
