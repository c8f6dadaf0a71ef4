//! A Prometheus histogram (cumulative buckets, sum, count).

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    inner: Mutex<Counts>,
}

#[derive(Debug, Default, Clone)]
struct Counts {
    buckets: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    pub const fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            inner: Mutex::new(Counts {
                buckets: Vec::new(),
                sum: 0.0,
                count: 0,
            }),
        }
    }

    pub fn observe(&self, d: Duration) {
        let v = d.as_secs_f64();
        let mut c = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if c.buckets.len() != self.bounds.len() {
            c.buckets = vec![0; self.bounds.len()];
        }
        for (i, b) in self.bounds.iter().enumerate() {
            if v <= *b {
                c.buckets[i] += 1;
            }
        }
        c.sum += v;
        c.count += 1;
    }

    pub fn count(&self) -> u64 {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).count
    }

    /// `name_bucket{le=...}`, `name_sum`, `name_count` lines.
    pub fn write(&self, out: &mut String, name: &str) {
        let c = self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for (i, b) in self.bounds.iter().enumerate() {
            let n = c.buckets.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {n}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", c.count);
        let _ = writeln!(out, "{name}_sum {}", c.sum);
        let _ = writeln!(out, "{name}_count {}", c.count);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative() {
        let h = Histogram::new(&[0.1, 1.0]);
        h.observe(Duration::from_millis(50));
        h.observe(Duration::from_millis(500));
        h.observe(Duration::from_secs(5));
        let mut out = String::new();
        h.write(&mut out, "x");
        assert!(out.contains("x_bucket{le=\"0.1\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"1\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("x_count 3\n"), "{out}");
    }
}
