//! Latency history: each origin's probe latencies rolled up with the uptime
//! buckets ([`crate::uptime`]) as a small fixed histogram, and the percentiles
//! read back from it. Pure: the buckets live in a [`crate::store::Store`].
//!
//! The histogram has [`BUCKETS`] buckets on a 1-2.5-5 log scale: upper bounds
//! of [`BOUNDS_MS`] (inclusive), then one for everything above the last bound.
//! With the sum and the maximum it takes 14 integers per rollup bucket, so the
//! storage grows by a constant per row and never with the number of probes.
//!
//! A percentile is estimated as Prometheus's `histogram_quantile` does: find
//! the bucket holding the sample of that rank (nearest rank, `⌈q·n⌉`), then
//! interpolate linearly within the bucket's bounds. The estimate is clamped to
//! the largest latency seen, which is also the upper bound of the last
//! bucket. So it always lies in the same bucket as the true percentile of the
//! raw samples: within a factor of 2.5 of it, and exact for the maximum.

use serde::{Deserialize, Serialize};

/// Upper bounds of the histogram's buckets, ms, inclusive. A latency above the
/// last one falls in the last bucket.
pub const BOUNDS_MS: [u64; 11] = [10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000];

/// Buckets of a [`Histogram`]: one per bound and one above them.
pub const BUCKETS: usize = BOUNDS_MS.len() + 1;

/// Probe latencies in one rollup bucket (or summed over a window): a count per
/// bucket of [`BOUNDS_MS`], their sum and their maximum, ms. Sums saturate:
/// counts read from storage may be anything.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    pub counts: [u64; BUCKETS],
    pub sum_ms: u64,
    pub max_ms: u64,
}

/// The index of the bucket that holds `latency_ms`.
pub fn bucket_of(latency_ms: u64) -> usize {
    BOUNDS_MS.iter().position(|&bound| latency_ms <= bound).unwrap_or(BOUNDS_MS.len())
}

impl Histogram {
    /// A histogram of one sample.
    pub fn of(latency_ms: u64) -> Histogram {
        let mut h = Histogram::default();
        h.counts[bucket_of(latency_ms)] = 1;
        h.sum_ms = latency_ms;
        h.max_ms = latency_ms;
        h
    }

    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine = mine.saturating_add(theirs);
        }
        self.sum_ms = self.sum_ms.saturating_add(other.sum_ms);
        self.max_ms = self.max_ms.max(other.max_ms);
    }

    /// How many samples it holds.
    pub fn count(&self) -> u64 {
        self.counts.iter().fold(0u64, |n, &c| n.saturating_add(c))
    }

    /// The `q`-quantile (`0 < q <= 1`) in ms, estimated as the module says;
    /// `None` without samples.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        // Nearest rank, 1-based: the smallest sample with at least q·n at or below it.
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).clamp(1, n);
        let mut below = 0u64;
        for (b, &count) in self.counts.iter().enumerate() {
            if count == 0 || below.saturating_add(count) < rank {
                below = below.saturating_add(count);
                continue;
            }
            let lower = if b == 0 { 0 } else { BOUNDS_MS[b - 1] };
            let upper = BOUNDS_MS.get(b).copied().unwrap_or(self.max_ms).min(self.max_ms.max(lower));
            let within = (rank - below) as f64 / count as f64;
            let estimate = lower as f64 + (upper.saturating_sub(lower)) as f64 * within;
            return Some((estimate.round() as u64).clamp(lower.min(self.max_ms), self.max_ms));
        }
        Some(self.max_ms)
    }

    /// Its percentiles, `None` without samples.
    pub fn percentiles(&self) -> Option<Percentiles> {
        let count = self.count();
        Some(Percentiles {
            count,
            p50_ms: self.quantile(0.5)?,
            p95_ms: self.quantile(0.95)?,
            max_ms: self.max_ms,
            mean_ms: self.sum_ms.checked_div(count)?,
        })
    }
}

/// What `/health/{origin}` shows for one window: the samples counted, the
/// median and 95th percentile estimated from the histogram, the exact maximum
/// and the mean, ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50_ms: u64,
    pub p95_ms: u64,
    pub max_ms: u64,
    pub mean_ms: u64,
}

/// The windows latency percentiles are shown for, in this order: `1h`, `24h`
/// and `7d` (the first three of [`crate::uptime::Window::ALL`]).
pub const WINDOWS: [crate::uptime::Window; 3] =
    [crate::uptime::Window::H1, crate::uptime::Window::H24, crate::uptime::Window::D7];

/// Hours in the status page's response-time chart.
pub const CHART_HOURS: usize = 24;

/// One origin's latency history as published: the percentiles per window of
/// [`WINDOWS`] (`None` without samples), and per hour of the last
/// [`CHART_HOURS`] (oldest first, the last one the current hour) its
/// `[p50, p95]` in ms, `None` for an hour without samples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    pub windows: [Option<Percentiles>; 3],
    pub hourly: Vec<Option<[u64; 2]>>,
}

/// Latency histories by origin name.
pub type Latencies = std::collections::BTreeMap<String, Latency>;
