//! A histogram of delays that many tasks add to and `/metrics` reads, in the buckets of a
//! Prometheus histogram.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

/// Delays counted by bucket (cumulative, as Prometheus reads them).
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

/// A histogram as read at one moment.
pub struct Reading {
    /// For each bucket's upper bound, how many delays were at most that.
    pub buckets: Vec<(f64, u64)>,
    /// How many delays in all.
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_secs: f64,
}

impl Histogram {
    /// Counts a delay.
    pub fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// What it holds now.
    pub fn read(&self) -> Reading {
        let r = Ordering::Relaxed;
        Reading {
            buckets: BUCKETS
                .iter()
                .zip(&self.buckets)
                .map(|(bound, n)| (*bound, n.load(r)))
                .collect(),
            count: self.count.load(r),
            sum_secs: self.sum_micros.load(r) as f64 / 1e6,
        }
    }
}
