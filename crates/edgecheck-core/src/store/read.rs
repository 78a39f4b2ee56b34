//! What an answer reads from storage: uptimes and latency percentiles per
//! window, the 30-day strips, the hourly latency chart and the change log.

use std::collections::BTreeMap;

use super::{Problem, Store, HISTORY_LIMIT};
use crate::config::Config;
use crate::latency::{Latencies, Latency, CHART_HOURS, WINDOWS};
use crate::monitor::Change;
use crate::slo::{Sums, WindowSums};
use crate::time::{bucket_start, HOUR_MS};
use crate::uptime::{daily, first_day, Daily, Uptime, Uptimes, Window};

/// [`windows`] at `now_ms`, or `fallback` (nothing when `None`) with a
/// [`Problem`] when storage cannot be read.
pub(super) fn windows_or_log(
    store: &impl Store,
    now_ms: u64,
    problems: &mut Vec<Problem>,
    fallback: Option<(Uptimes, Latencies)>,
) -> (Uptimes, Latencies) {
    windows(store, now_ms).unwrap_or_else(|e| {
        problems.push(Problem(format!("computing uptime failed: {e}")));
        fallback.unwrap_or_default()
    })
}

/// Uptime of every origin and region over each window ending at `now_ms`.
pub fn uptimes<S: Store>(store: &S, now_ms: u64) -> Result<Uptimes, S::Error> {
    Ok(windows(store, now_ms)?.0)
}

/// Uptime of every origin and region over each window ending at `now_ms`,
/// and each origin's latency percentiles over [`WINDOWS`] (the same sums:
/// one read per window). An origin without a latency sample in 7 days has no
/// [`Latency`]; the hourly chart of each is left empty.
pub fn windows<S: Store>(store: &S, now_ms: u64) -> Result<(Uptimes, Latencies), S::Error> {
    let mut uptimes = Uptimes::new();
    let mut latency = Latencies::new();
    for (w, window) in Window::ALL.iter().enumerate() {
        for (name, counts, histogram) in store.sum_rollups(window.bucket_ms(), window.first_bucket(now_ms))? {
            uptimes.entry(name.clone()).or_insert([None; 4])[w] = Uptime::from_counts(&counts);
            if let (Some(l), Some(p)) = (WINDOWS.iter().position(|lw| lw == window), histogram.percentiles()) {
                let empty = || Latency { windows: [None; 3], hourly: vec![None; CHART_HOURS] };
                latency.entry(name).or_insert_with(empty).windows[l] = Some(p);
            }
        }
    }
    Ok((uptimes, latency))
}

/// The status page's 30-day strips ending today (`now_ms`), from the hour rollups.
pub fn daily_uptimes<S: Store>(store: &S, now_ms: u64) -> Result<Daily, S::Error> {
    Ok(daily(&store.rollup_buckets(HOUR_MS, first_day(now_ms))?, now_ms))
}

/// `windows` (an origin's latency percentiles, from [`Memory::latency`](super::Memory::latency)) with
/// the hourly `[p50, p95]` of the [`CHART_HOURS`] hours ending at `now_ms`,
/// from the hour rollups: the latency history the snapshot publishes.
pub fn latency_chart<S: Store>(store: &S, now_ms: u64, mut windows: Latencies) -> Result<Latencies, S::Error> {
    let first_hour = bucket_start(now_ms, HOUR_MS).saturating_sub((CHART_HOURS as u64 - 1) * HOUR_MS);
    for (name, bucket_ms, histogram) in store.latency_buckets(HOUR_MS, first_hour)? {
        let Some(hour) = bucket_ms.checked_sub(first_hour).map(|d| (d / HOUR_MS) as usize).filter(|&h| h < CHART_HOURS)
        else {
            continue;
        };
        if let (Some(latency), Some(p)) = (windows.get_mut(&name), histogram.percentiles()) {
            latency.hourly[hour] = Some([p.p50_ms, p.p95_ms]);
        }
    }
    Ok(windows)
}

/// Recorded changes, newest first, at most [`HISTORY_LIMIT`]: all of them or
/// those of `name`. A row that does not decode is skipped.
pub fn history<S: Store>(store: &S, name: Option<&str>) -> Result<Vec<Change>, S::Error> {
    Ok(store.changes(name, HISTORY_LIMIT)?.iter().filter_map(|json| serde_json::from_str(json).ok()).collect())
}

/// Every objective's [`WindowSums`] at `now_ms`, from its stored buckets:
/// one read ([`Store::sum_slo`]) per distinct bucket width and first bucket
/// among every objective's windows ([`crate::slo::reach`]), so the reads do
/// not grow with the number of objectives. A name stored but no longer
/// configured comes back too, for the caller to drop.
pub fn slo_sums<S: Store>(store: &S, config: &Config, now_ms: u64) -> Result<BTreeMap<String, WindowSums>, S::Error> {
    // (width, first bucket) -> objective -> the windows that read answers.
    let mut reads: BTreeMap<(u64, u64), BTreeMap<&str, Vec<u64>>> = BTreeMap::new();
    for slo in config.slos() {
        let layout = slo.layout();
        for window_ms in crate::slo::windows(slo) {
            if let Some(read) = crate::slo::reach(layout, window_ms, now_ms) {
                reads.entry(read).or_default().entry(&slo.name).or_default().push(window_ms);
            }
        }
    }
    let mut out: BTreeMap<String, WindowSums> =
        config.slos().iter().map(|slo| (slo.name.clone(), WindowSums::default())).collect();
    for ((width_ms, from_ms), asked) in reads {
        for (name, good, bad) in store.sum_slo(width_ms, from_ms, now_ms)? {
            let windows = asked.get(name.as_str()).map(Vec::as_slice).unwrap_or_default();
            let entry = out.entry(name).or_default();
            for &window_ms in windows {
                entry.0.insert(window_ms, Sums { good, bad });
            }
        }
    }
    Ok(out)
}
