//! The schedule of a round: the probe budget.

#[test]
fn the_probe_budget_cuts_timeouts_to_the_deadline_and_skips_past_it() {
    use edgecheck_core::schedule::{probe_budget, Budget};
    let rows: &[(u32, u64, u64, Budget)] = &[
        // (timeout ms, deadline at, now, budget)
        (2_000, 10_000, 1_000, Budget::Send { timeout_ms: 2_000 }),
        (2_000, 10_000, 9_000, Budget::Send { timeout_ms: 1_000 }),
        (2_000, 10_000, 9_999, Budget::Send { timeout_ms: 1 }),
        (2_000, 10_000, 10_000, Budget::Skip),
        (2_000, 10_000, 12_000, Budget::Skip),
        (u32::MAX, u64::MAX, 0, Budget::Send { timeout_ms: u64::from(u32::MAX) }),
    ];
    for &(timeout, deadline, now, want) in rows {
        assert_eq!(probe_budget(timeout, deadline, now), want, "timeout {timeout}, deadline {deadline}, now {now}");
    }
}
