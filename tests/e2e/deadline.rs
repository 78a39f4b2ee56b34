//! The deadline: more hanging origins than `max_in_flight`.

use super::*;

pub(crate) const HANGING: usize = 20;
pub(crate) const HANGING_DEADLINE_MS: u64 = 2500;

pub(crate) fn hanging_fleet() -> Vec<(String, String)> {
    (0..HANGING).map(|i| (format!("hang-{i:02}"), "hang".to_string())).collect()
}

pub(crate) fn hanging_config(fleet: &Fleet) -> String {
    let mut toml = format!("[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = {HANGING_DEADLINE_MS}\nmax_in_flight = 6\n[regions.a]\n[regions.b]\n");
    for (i, name) in fleet.ports.keys().enumerate() {
        toml += &format!(
            "[[origins]]\nname = \"{name}\"\nregion = \"{}\"\nurl = \"{}\"\n",
            ["a", "b"][i % 2],
            fleet.url(name, "/health")
        );
    }
    toml
}

pub(crate) fn hanging_fleet_larger_than_max_in_flight_answers_by_the_deadline(p: &Prepared) {
    const N: usize = HANGING;
    const DEADLINE_MS: u64 = HANGING_DEADLINE_MS;
    let worker = p.fresh_worker();

    let started = Instant::now();
    let (status, health) = worker.get("/health");
    let elapsed = started.elapsed();
    assert_eq!(status, 200);
    assert!(elapsed < Duration::from_millis(DEADLINE_MS + 1500), "answered after {elapsed:?}");
    assert!(health["duration_ms"].as_u64().unwrap() <= DEADLINE_MS + 100, "{}", health["duration_ms"]);
    // Every origin failed for a network-class reason: the monitor cannot tell a
    // dead fleet from its own isolation, so the view is unknown, never down.
    assert_eq!(
        (health["status"].as_str(), health["ready"].as_bool(), health["stale"].as_bool()),
        (Some("unknown"), Some(false), Some(true))
    );
    let seen = origins(&health);
    assert_eq!(seen.len(), N, "every origin is accounted for");
    let count = |reason: &str| seen.values().filter(|o| o["reason"] == reason).count();
    assert_eq!(count("timeout") + count("skipped"), N, "{seen:?}");
    // Waves of 6 start at 0, 1000 and 2000 ms (the last cut to 500 ms): 18 time out, 2 never start.
    assert_eq!((count("timeout"), count("skipped")), (18, 2), "{seen:?}");
    for o in seen.values().filter(|o| o["reason"] == "skipped") {
        assert_eq!((o["probe_status"].as_str(), o["latency_ms"].as_u64()), (Some("down"), None));
    }
    // No probe is reported as timed out before its own timer could fire: the
    // first two waves had their whole 1000 ms; the third, started at 2000 ms
    // or later (later on a loaded machine), had its timeout cut to what was
    // left of the 2500 ms deadline, so at most 500 ms, and at least what a
    // wave starting up to 250 ms late leaves.
    let mut latencies: Vec<u64> =
        seen.values().filter(|o| o["reason"] == "timeout").map(|o| o["latency_ms"].as_u64().unwrap()).collect();
    latencies.sort_unstable();
    let (cut, whole) = latencies.split_at(6);
    assert!(whole.iter().all(|&ms| ms >= 990), "two waves with the whole timeout: {latencies:?}");
    assert!(cut.iter().all(|&ms| (250..=600).contains(&ms)), "a third wave cut to the deadline: {latencies:?}");
    assert_eq!(worker.get("/ready/a"), (503, json!({"region": "a", "status": "unknown", "ready": false})));
}
