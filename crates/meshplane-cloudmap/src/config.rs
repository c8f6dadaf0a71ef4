//! How often Cloud Map is asked, and how the source backs off.

use std::time::Duration;

/// Cloud Map polling settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudMapConfig {
    /// Time between two polls of a service (default 5 s).
    pub interval: Duration,
    /// Each wait is drawn uniformly in `interval * (1 ± jitter)` so that
    /// pollers do not move in lockstep (default 0.2; clamped to 0..=0.9).
    pub jitter: f64,
    /// Longest wait after failures: the wait doubles with each failed poll
    /// in a row, from `interval`, up to this (default 60 s).
    pub max_backoff: Duration,
    /// Read the instances with `DiscoverInstances` at least this often even
    /// when the revision did not move (default 30 s; `None`: trust the
    /// revision). Cloud Map's `InstancesRevision` moves on registrations
    /// and deregistrations but not on health status changes, so this bounds
    /// how long an instance that turned unhealthy (or healthy) goes
    /// unnoticed; it also guards against servers whose revision can repeat.
    pub full_refresh: Option<Duration>,
    /// `MaxResults` of `DiscoverInstances` (Cloud Map's limit is 1000; its
    /// default without this parameter would be 100).
    pub max_results: i32,
}

impl Default for CloudMapConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            jitter: 0.2,
            max_backoff: Duration::from_secs(60),
            full_refresh: Some(Duration::from_secs(30)),
            max_results: MAX_RESULTS_LIMIT,
        }
    }
}

/// The most instances one `DiscoverInstances` call may return.
pub const MAX_RESULTS_LIMIT: i32 = 1000;

impl CloudMapConfig {
    /// The `max_results` sent, clamped to Cloud Map's 1..=1000.
    pub fn max_results(&self) -> i32 {
        self.max_results.clamp(1, MAX_RESULTS_LIMIT)
    }

    /// The wait before the next poll after `consecutive_errors` failed polls
    /// in a row, before jitter: `interval`, or `interval * 2^n` capped at
    /// `max_backoff` (never below `interval`).
    pub fn base_delay(&self, consecutive_errors: u32) -> Duration {
        if consecutive_errors == 0 {
            return self.interval;
        }
        let factor = 1u32 << consecutive_errors.min(16);
        let cap = self.max_backoff.max(self.interval);
        self.interval.saturating_mul(factor).min(cap)
    }

    /// [`Self::base_delay`] spread by `± jitter` with `unit` drawn in [0, 1).
    pub fn jittered(&self, base: Duration, unit: f64) -> Duration {
        let j = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 0.9)
        } else {
            0.0
        };
        let factor = 1.0 - j + 2.0 * j * unit.clamp(0.0, 1.0);
        base.mul_f64(factor)
    }

    /// The wait before the next poll, with fresh randomness.
    pub fn next_delay(&self, consecutive_errors: u32) -> Duration {
        self.jittered(self.base_delay(consecutive_errors), fastrand::f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = CloudMapConfig::default();
        let secs: Vec<u64> = (0..9).map(|n| c.base_delay(n).as_secs()).collect();
        assert_eq!(secs, vec![5, 10, 20, 40, 60, 60, 60, 60, 60]);
        assert_eq!(c.base_delay(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_twenty_percent() {
        let c = CloudMapConfig::default();
        let base = Duration::from_secs(5);
        assert_eq!(c.jittered(base, 0.0), Duration::from_secs(4));
        assert_eq!(c.jittered(base, 0.5), Duration::from_secs(5));
        assert_eq!(c.jittered(base, 1.0), Duration::from_secs(6));
        for _ in 0..1000 {
            let d = c.next_delay(0);
            assert!(
                d >= Duration::from_secs(4) && d <= Duration::from_secs(6),
                "{d:?}"
            );
        }
        let odd = CloudMapConfig {
            jitter: f64::NAN,
            ..c
        };
        assert_eq!(odd.jittered(base, 0.9), base);
    }

    #[test]
    fn max_results_within_the_api_limits() {
        let mut c = CloudMapConfig::default();
        assert_eq!(c.max_results(), 1000);
        c.max_results = 5000;
        assert_eq!(c.max_results(), 1000);
        c.max_results = 0;
        assert_eq!(c.max_results(), 1);
    }
}
