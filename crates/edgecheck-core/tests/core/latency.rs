//! Latency history: the histogram and its percentiles against the raw
//! samples, what a round records, the windows and hours read back from a
//! store, and what `/health/{origin}`, `/metrics` and the page show of it.

use edgecheck_core::latency::{bucket_of, Histogram, Latencies, Latency, Percentiles, BOUNDS_MS, BUCKETS};
use edgecheck_core::store::{self, MemoryStore};
use edgecheck_core::uptime::{bucket_start, HOUR_MS, MINUTE_MS};

use super::*;

fn histogram(samples: &[u64]) -> Histogram {
    let mut h = Histogram::default();
    samples.iter().for_each(|&ms| h.merge(&Histogram::of(ms)));
    h
}

/// The nearest-rank `q`-quantile of the raw samples: the smallest sample with
/// at least `q·n` samples at or below it.
fn reference(samples: &[u64], q: f64) -> u64 {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// The closed range of latencies in bucket `b`, ms.
fn bucket_range(b: usize, max_ms: u64) -> (u64, u64) {
    let lower = if b == 0 { 0 } else { BOUNDS_MS[b - 1] };
    (lower, BOUNDS_MS.get(b).copied().unwrap_or(max_ms))
}

#[test]
fn buckets_and_percentiles_as_a_table() {
    // Bounds are inclusive: a latency on a bound is in the bucket it closes.
    for (ms, bucket) in [(0, 0), (10, 0), (11, 1), (25, 1), (26, 2), (1_000, 6), (30_000, 10), (30_001, 11)] {
        assert_eq!(bucket_of(ms), bucket, "{ms} ms");
    }
    assert_eq!(BUCKETS, 12);
    assert_eq!(Histogram::default().percentiles(), None, "no samples, no percentiles");
    let rows: &[(&[u64], Percentiles)] = &[
        // One sample: every percentile is it (clamped to the maximum).
        (&[42], Percentiles { count: 1, p50_ms: 42, p95_ms: 42, max_ms: 42, mean_ms: 42 }),
        // Ten samples in (10, 25]: interpolated within the bucket, never above the maximum.
        (
            &[11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
            Percentiles { count: 10, p50_ms: 15, p95_ms: 20, max_ms: 20, mean_ms: 15 },
        ),
        // 95 fast and 5 slow: the median is fast, the 95th still fast, the max exact.
        (
            &[[5u64; 95].as_slice(), [4_000u64; 5].as_slice()].concat(),
            Percentiles { count: 100, p50_ms: 5, p95_ms: 10, max_ms: 4_000, mean_ms: 204 },
        ),
        // Above the last bound: the last bucket reaches to the maximum.
        (&[40_000, 50_000], Percentiles { count: 2, p50_ms: 40_000, p95_ms: 50_000, max_ms: 50_000, mean_ms: 45_000 }),
    ];
    for (samples, expected) in rows {
        assert_eq!(histogram(samples).percentiles(), Some(*expected), "{samples:?}");
    }
}

proptest! {
    /// Percentiles from the histogram against the reference computed from the
    /// raw samples: each lies within the bucket that holds the true
    /// percentile, so within its bounds (a factor of 2.5 at most), and never
    /// above the maximum; count, maximum and mean are exact.
    #[test]
    fn percentiles_lie_in_the_bucket_of_the_true_percentile(
        samples in prop::collection::vec(prop_oneof![0u64..60, 0u64..3_000, 0u64..70_000], 1..400),
    ) {
        let h = histogram(&samples);
        let p = h.percentiles().unwrap();
        let max = *samples.iter().max().unwrap();
        prop_assert_eq!((p.count, p.max_ms), (samples.len() as u64, max));
        prop_assert_eq!(p.mean_ms, samples.iter().sum::<u64>() / samples.len() as u64);
        for (q, estimate) in [(0.5, p.p50_ms), (0.95, p.p95_ms)] {
            let truth = reference(&samples, q);
            let (lower, upper) = bucket_range(bucket_of(truth), max);
            prop_assert!(
                lower <= estimate && estimate <= upper.min(max),
                "q {}: estimate {} outside [{}, {}] holding the true {}", q, estimate, lower, upper.min(max), truth
            );
        }
        prop_assert!(p.p50_ms <= p.p95_ms);
    }
}

/// A round of one origin `a` answering in `ms` (`None`: timed out).
fn latency_round(
    c: &Config,
    prev: Option<&edgecheck_core::monitor::MonitorState>,
    at: u64,
    ms: Option<u64>,
) -> Advance {
    let (health, reason, http_status, latency_ms) = match ms {
        Some(ms) => (Health::Up, Reason::Ok, Some(200), Some(ms)),
        None => (Health::Down, Reason::Timeout, None, Some(2_000)),
    };
    let probes = vec![Probe { verdict: Verdict { health, reason, http_status, condition: None }, latency_ms }];
    advance(c, prev, &Round { checked_at_ms: at, duration_ms: 5, probes }, true)
}

use edgecheck_core::monitor::Advance;

#[test]
fn rounds_roll_latency_up_and_the_windows_and_hours_read_it_back() {
    let c = valid(BASE);
    let db = MemoryStore::default();
    let now = bucket_start(1_795_000_000_000, HOUR_MS) + 30 * MINUTE_MS;
    // 25 hours of one round per hour at 20 ms, then, in the current hour,
    // rounds at 100 ms, a timeout (not a sample: its latency is the
    // timeout's) and 400 ms, and one more at 400 ms in the same minute.
    let mut samples: Vec<(u64, Option<u64>)> = (0..25).map(|h| (now - (25 - h) * HOUR_MS, Some(20))).collect();
    samples.extend([(now - 3 * MINUTE_MS, Some(100)), (now - 2 * MINUTE_MS, None), (now - MINUTE_MS, Some(400))]);
    samples.push((now - MINUTE_MS + 5_000, Some(400)));
    let mut memory = None;
    for (at, ms) in samples {
        let next = latency_round(&c, memory.as_ref().map(|m: &store::Memory| &m.state), at, ms);
        let (m, problems) = store::record(&db, &c, memory, next);
        assert!(problems.is_empty(), "{problems:?}");
        memory = Some(m);
    }
    // The windows are summed with the uptime, in the round (the last one's
    // commit, at its own time); the chart is read when the snapshot is published.
    let (_, at_publish) = store::windows(&db, now).unwrap();
    assert_eq!(memory.as_ref().unwrap().latency.keys().collect::<Vec<_>>(), vec!["a"]);
    let latencies = store::latency_chart(&db, now, at_publish).unwrap();
    let a = &latencies["a"];
    let [h1, h24, d7] = a.windows;
    // 1 h: 100, 400 and 400 (the 20 ms round an hour ago just left it, and
    // the timeout is not a sample).
    assert_eq!(h1.map(|p| (p.count, p.max_ms)), Some((3, 400)), "{a:?}");
    // 24 h: the 23 hourly rounds inside it and the last three; the median is
    // interpolated within (10, 25] ms, where the true one (20 ms) lies.
    assert_eq!(h24.map(|p| (p.count, p.p50_ms, p.max_ms)), Some((26, 18, 400)), "{a:?}");
    // 7 d counts every sample, summed from the hour buckets.
    assert_eq!(d7.map(|p| p.count), Some(28), "{a:?}");
    assert_eq!(a.hourly.len(), 24);
    // The hour now is the last: 100, 400 and 400 ms; its median is
    // interpolated within (250, 400] ms, where the true one (400) lies.
    assert_eq!(a.hourly[23], Some([325, 400]), "{a:?}");
    assert_eq!(a.hourly[0], Some([20, 20]));
    assert!(a.hourly.iter().all(Option::is_some), "one round every hour: {a:?}");
    // Regions have no latency history.
    assert!(!latencies.contains_key("us-east"), "{latencies:?}");
}

fn named(c: &Config, latency: &Latencies) -> (Value, String, String) {
    let state = latency_round(c, None, 1_795_000_000_000, Some(30)).state;
    let view = shown(c, Snapshot { state: &state, now_ms: 1_795_000_001_000 });
    let extras = Extras { latency: Some(latency), ..Extras::default() };
    let doc = edgecheck_core::http::answer(c, Target::HealthOrigin(0), Variant::Full, &view, extras).body.unwrap();
    let metrics = edgecheck_core::http::answer(c, Target::Metrics, Variant::Full, &view, extras).body.unwrap();
    let page = edgecheck_core::http::answer(c, Target::StatusPage, Variant::Full, &view, extras).body.unwrap();
    (serde_json::from_str(&doc).unwrap(), metrics, page)
}

use serde_json::Value;

#[test]
fn the_origin_document_metrics_and_page_show_the_history() {
    let c = valid(BASE);
    let p = |p50_ms, p95_ms| Percentiles { count: 60, p50_ms, p95_ms, max_ms: 900, mean_ms: 50 };
    let mut hourly = vec![None; 24];
    hourly[0] = Some([12, 40]);
    hourly[23] = Some([30, 80]);
    let latency: Latencies = [("a".to_string(), Latency { windows: [Some(p(30, 80)), Some(p(20, 60)), None], hourly })]
        .into_iter()
        .collect();
    let (doc, metrics, page) = named(&c, &latency);
    assert_eq!(
        doc["latency"]["1h"],
        serde_json::json!({"count": 60, "p50_ms": 30, "p95_ms": 80, "max_ms": 900, "mean_ms": 50})
    );
    assert_eq!(doc["latency"]["24h"]["p95_ms"], 60);
    assert_eq!(doc["latency"]["7d"], Value::Null, "a window without samples is null");
    for line in [
        "# TYPE edgecheck_origin_latency_p50_seconds gauge",
        "# TYPE edgecheck_origin_latency_p95_seconds gauge",
        "edgecheck_origin_latency_p50_seconds{region=\"us-east\",origin=\"a\",window=\"1h\"} 0.030",
        "edgecheck_origin_latency_p95_seconds{region=\"us-east\",origin=\"a\",window=\"24h\"} 0.060",
    ] {
        assert!(metrics.lines().any(|l| l == line), "no {line:?} in\n{metrics}");
    }
    assert!(!metrics.contains("window=\"7d\""), "no series for a window without samples");
    // The chart: two hours drawn, each a p95 bar behind a p50 one, scaled to
    // the day's largest p95 (80 ms = the whole height, 30 units).
    assert!(
        page.contains(
            r#"<svg class="lat" role="img" aria-label="a, response time, last 24 hours: p50 20 ms, p95 60 ms""#
        ),
        "{page}"
    );
    assert_eq!(page.matches(r#"<rect class="p95""#).count(), 2);
    assert_eq!(page.matches(r#"<rect class="p50""#).count(), 2);
    assert!(page.contains(r#"<rect class="p95" x="115" y="0" width="4" height="30">"#), "{page}");
    assert!(page.contains(r#"<rect class="p50" x="115" y="19" width="4" height="11">"#), "{page}");
    assert!(page.contains("p50 12 ms, p95 40 ms</title>"), "{page}");

    // Without a history: null windows, no series, an empty chart that says so.
    let (doc, metrics, page) = named(&c, &Latencies::new());
    assert_eq!(doc["latency"], serde_json::json!({"1h": null, "24h": null, "7d": null}));
    assert!(!metrics.contains("edgecheck_origin_latency_p"), "{metrics}");
    assert!(page.contains("last 24 hours: no data"), "{page}");
    assert!(!page.contains("<rect class=\"p50\""));
}

/// At the fleet limit, with every origin's history full (every window and
/// hour with 5-digit figures) and names of 36 characters, the latency history
/// adds at most 640 bytes per origin to the published snapshot (6.4 MB in
/// all; it is not stored, and the Cache API holds up to 512 MB); and a rollup
/// row with its histogram stays far below a row's 2,000,000 bytes.
#[test]
fn the_history_fits_the_snapshot_and_the_row_at_the_fleet_limit() {
    let c = fleet_limit("shard_size = 500\n");
    let worst = Percentiles { count: 10_080, p50_ms: 29_999, p95_ms: 30_000, max_ms: 59_999, mean_ms: 29_999 };
    let latency = Latency { windows: [Some(worst); 3], hourly: vec![Some([29_999, 30_000]); 24] };
    let all: Latencies = c.origins().iter().map(|o| (o.name.clone(), latency.clone())).collect();
    let bytes = serde_json::to_string(&all).unwrap().len();
    eprintln!("latency history at the fleet limit: {bytes} bytes, {} per origin", bytes / all.len());
    assert!(bytes <= 640 * all.len(), "{bytes} bytes for {} origins", all.len());
    let add = edgecheck_core::uptime::RollupAdd {
        name: c.origins()[0].name.clone(),
        width_ms: HOUR_MS,
        bucket_ms: 0,
        up: 1,
        degraded: 0,
        down: 0,
        maintenance: 0,
        latency_ms: Some(u64::MAX),
    };
    assert!(edgecheck_core::store::Write::Rollup(add).value_bytes() < 1_000);
}
