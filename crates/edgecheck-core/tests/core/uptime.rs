//! Uptime windows and their arithmetic.

#[test]
fn uptime_windows_and_arithmetic() {
    use edgecheck_core::uptime::{bucket_start, Uptime, Window, HOUR_MS, MINUTE_MS};
    let now = 1_795_000_000_123; // 2026-11-18T11:06:40.123Z
    let rows: &[(Window, u64, u64)] = &[
        // (window, bucket width, first bucket inside the window)
        (Window::H1, MINUTE_MS, 1_794_996_420_000),  // 10:07:00
        (Window::H24, MINUTE_MS, 1_794_913_620_000), // the day before, 11:07:00
        (Window::D7, HOUR_MS, 1_794_398_400_000),    // 7 days before, 12:00:00
        (Window::D30, HOUR_MS, 1_792_411_200_000),
    ];
    for &(window, width, first) in rows {
        assert_eq!((window.bucket_ms(), window.first_bucket(now)), (width, first), "{}", window.label());
        assert_eq!(first % width, 0);
        assert!(first > now - window.length_ms() && first <= now - window.length_ms() + width);
    }
    assert_eq!(bucket_start(now, MINUTE_MS), 1_795_000_000_000 - 40_000);
    assert_eq!(Uptime::from_counts(&[0, 0, 0, 0]), None);
    assert_eq!(
        Uptime::from_counts(&[1998, 1, 1, 0]),
        Some(Uptime { up: 0.999, degraded: 0.0005, down: 0.0005, maintenance: 0.0 })
    );
    assert_eq!(
        Uptime::from_counts(&[1, 1, 1, 0]),
        Some(Uptime { up: 0.333333, degraded: 0.333333, down: 0.333333, maintenance: 0.0 })
    );
    // Counts read back from storage can be anything: no sum overflows.
    let huge = Uptime::from_counts(&[u64::MAX, u64::MAX, 0, 0]).unwrap();
    assert_eq!((huge.up, huge.degraded, huge.down), (0.5, 0.5, 0.0));
    let buckets = vec![("a".to_string(), bucket_start(now, HOUR_MS), [u64::MAX, 0, 0, 0]); 2];
    let daily = edgecheck_core::uptime::daily(&buckets, now);
    assert_eq!(daily["a"].last().copied().flatten().map(|u| u.up), Some(1.0), "saturated, not wrapped");
}
