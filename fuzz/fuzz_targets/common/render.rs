//! Any stored monitor row: the Durable Object keeps its `MonitorState` as a
//! monitor row (and one row per origin, which the one-row layout held inside
//! it) and loads it with `store::restore`, which repairs it against the fleet
//! and the clock. A row that loads is rendered
//! at any time through every target and variant of the fleet, with uptimes,
//! 30-day strips and history made from the state itself, and as the answer to
//! `POST /refresh`.
//!
//! Input: 8 bytes of `now_ms` (little endian), then the row.

use edgecheck_core::aggregate::{Probe, Round};
use edgecheck_core::classify::{Health, Reason, Verdict};
use edgecheck_core::monitor::{self, Change, Kind};
use edgecheck_core::store::{self, MemoryStore, Store, Write};
use edgecheck_core::uptime::{bucket_start, RollupAdd, HOUR_MS, MINUTE_MS};

/// The `render` target: any bytes (fewer than 8, or a row that is not UTF-8, are skipped).
pub fn run(data: &[u8]) {
    let Some((now, row)) = data.split_first_chunk::<8>() else { return };
    let now_ms = u64::from_le_bytes(*now);
    let Ok(row) = std::str::from_utf8(row) else { return };

    let config = super::fleet();
    let db = MemoryStore::default();
    db.put_raw_monitor(row);
    let (memory, _problems) = store::restore(&db, config, now_ms);
    let Some(memory) = memory else { return };
    let state = &memory.state;

    // History and rollups as the rounds that made this state would have
    // written them: a change when each status was set, and its counts.
    let origins = state.origins.iter().map(|(name, t)| {
        let to = t.health.map_or("unknown", |h| h.as_str());
        (Kind::Origin, name, t.since_ms, to, Some(t.last.verdict.reason), [t.better, t.worse, 1])
    });
    let regions =
        state.regions.iter().map(|(name, t)| (Kind::Region, name, t.since_ms, t.status.as_str(), None, [1, 0, 0]));
    let global = String::new();
    let overall = state.overall.iter().map(|t| (Kind::Global, &global, t.since_ms, t.status.as_str(), None, [0, 1, 0]));
    for (kind, name, at_ms, to, reason, [up, degraded, down]) in origins.chain(regions).chain(overall) {
        let change = Change { at_ms, kind, name: name.clone(), from: None, to: to.into(), reason };
        let json = serde_json::to_string(&change).expect("a change serializes");
        let mut writes = vec![Write::Change { at_ms, name: name.clone(), json }];
        for width_ms in [MINUTE_MS, HOUR_MS] {
            let add = RollupAdd {
                name: name.clone(),
                width_ms,
                bucket_ms: bucket_start(at_ms, width_ms),
                up,
                degraded,
                down,
                // Some buckets hold rounds in maintenance too.
                maintenance: up & 1,
                latency_ms: None,
            };
            writes.push(Write::Rollup(add));
        }
        db.commit(&writes).expect("the memory store writes");
    }
    let uptimes = store::uptimes(&db, now_ms).expect("the memory store reads");
    let daily = store::daily_uptimes(&db, now_ms).expect("the memory store reads");
    let changes = store::history(&db, None).expect("the memory store reads");

    super::serve_all(config, state, now_ms, &uptimes, &changes, Some(&daily));
    super::serve_all(config, state, now_ms, &memory.uptimes, &[], None);

    // The loaded row advanced by one round, each origin's health from two bits
    // of `now_ms` (a loaded `better` at u32::MAX once overflowed here).
    let probes = (0..config.origins().len())
        .map(|i| {
            let (health, reason) = match (now_ms >> (2 * i)) & 3 {
                0 => (Health::Down, Reason::Timeout),
                1 => (Health::Degraded, Reason::BodyDegraded),
                2 => (Health::Down, Reason::StatusMismatch),
                _ => (Health::Up, Reason::Ok),
            };
            Probe {
                verdict: Verdict { health, reason, http_status: Some(200), condition: None },
                latency_ms: Some(now_ms % 5_000),
            }
        })
        .collect();
    let round = Round { checked_at_ms: now_ms, duration_ms: 1, probes };
    let next = monitor::advance(config, Some(state), &round, now_ms & 1 == 0).state;
    super::serve_all(config, &next, now_ms, &memory.uptimes, &[], None);
}
