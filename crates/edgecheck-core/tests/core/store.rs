//! Persistence, uptime, history and retention through the storage port, on the
//! host with [`MemoryStore`]; and the monitor's schedule.

use edgecheck_core::monitor::{advance, Kind};
use edgecheck_core::schedule::{needs_round, next_alarm_in_ms, Retention};
use edgecheck_core::store::{self, Memory, MemoryStore, Store};
use edgecheck_core::uptime::{Uptime, HOUR_MS, MINUTE_MS};

use super::{round, valid, PAIR};

/// Runs rounds through the store as the monitor does: advance, record.
fn record_rounds(store: &MemoryStore, config: &edgecheck_core::config::Config, rounds: &[(u64, &str)]) -> Memory {
    continue_rounds(store, config, None, rounds)
}

/// The same, from the memory an earlier call returned.
fn continue_rounds(
    store: &MemoryStore,
    config: &edgecheck_core::config::Config,
    mut memory: Option<Memory>,
    rounds: &[(u64, &str)],
) -> Memory {
    for &(at, codes) in rounds {
        let next = advance(config, memory.as_ref().map(|m| &m.state), &round(at, codes), true);
        let (m, problems) = store::record(store, config, memory, next);
        assert!(problems.is_empty(), "{problems:?}");
        memory = Some(m);
    }
    memory.expect("at least one round")
}

#[test]
fn state_survives_a_restart() {
    let c = valid(PAIR);
    let store = MemoryStore::default();
    assert_eq!(store::restore(&store, &c, 0), (None, vec![]), "nothing stored yet");
    let before = record_rounds(&store, &c, &[(0, "uu"), (15_000, "ux"), (30_000, "ux")]);
    let (after, problems) = store::restore(&store, &c, 30_000);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(after, Some(before), "the state and the uptimes read back as they were served");
}


#[test]
fn a_failed_write_serves_from_memory() {
    let c = valid(PAIR);
    let store = MemoryStore::default();
    let memory = record_rounds(&store, &c, &[(0, "uu")]);
    store.fail_writes.set(true);
    let next = advance(&c, Some(&memory.state), &round(15_000, "ux"), true);
    let (served, problems) = store::record(&store, &c, Some(memory.clone()), next.clone());
    assert_eq!(served.state, next.state, "the new state is served");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].0.contains("serving from memory"));
    // The stored rows are still the whole previous state, never half of the new one.
    assert_eq!(store::restore(&store, &c, 15_000).0.map(|m| m.state), Some(memory.state));
}

#[test]
fn history_is_newest_first_by_name_and_limited() {
    let c = valid(PAIR); // b: rise 1, fall 1
    let store = MemoryStore::default();
    record_rounds(&store, &c, &[(0, "uu"), (15_000, "ux"), (30_000, "uu"), (45_000, "ux")]);
    let b: Vec<(u64, Option<String>, String)> =
        store::history(&store, Some("b")).unwrap().into_iter().map(|ch| (ch.at_ms, ch.from, ch.to)).collect();
    assert_eq!(
        b,
        [
            (45_000, Some("up".into()), "down".into()),
            (30_000, Some("down".into()), "up".into()),
            (15_000, Some("up".into()), "down".into()),
            (0, None, "up".into()),
        ]
    );
    let all = store::history(&store, None).unwrap();
    // Within one round, the change appended last (the global view) comes first.
    assert_eq!((all[0].kind, all[0].at_ms), (Kind::Global, 45_000));
    assert_eq!(all.len(), 4 + 3 + 3 + 3, "a, b, r and the global view at 0; b, r and the global view at each change");

    let many = MemoryStore::default();
    for i in 0..250u64 {
        many.put_raw_change(
            i,
            "x",
            &format!(r#"{{"at_ms":{i},"kind":"origin","name":"x","from":null,"to":"up","reason":null}}"#),
        );
    }
    let listed = store::history(&many, Some("x")).unwrap();
    assert_eq!((listed.len(), listed[0].at_ms, listed[199].at_ms), (store::HISTORY_LIMIT, 249, 50));
}

#[test]
fn uptime_is_summed_from_rollups() {
    let c = valid(PAIR); // b: rise 1, fall 1; a: fall 3
    let store = MemoryStore::default();
    // Four rounds a minute apart: b up, down, down, up; a stays up.
    let t = 10 * HOUR_MS;
    let memory = record_rounds(
        &store,
        &c,
        &[(t, "uu"), (t + MINUTE_MS, "ux"), (t + 2 * MINUTE_MS, "ux"), (t + 3 * MINUTE_MS, "uu")],
    );
    let up = |name: &str| memory.uptimes[name][0];
    assert_eq!(up("a"), Uptime::from_counts(4, 0, 0));
    assert_eq!(up("b"), Uptime::from_counts(2, 0, 2));
    assert_eq!(up("r"), Uptime::from_counts(2, 2, 0), "the region was degraded while b was down");
    // Isolated rounds count nothing.
    let isolated = advance(&c, Some(&memory.state), &round(t + 4 * MINUTE_MS, "tt"), true);
    let (after, _) = store::record(&store, &c, Some(memory.clone()), isolated);
    assert_eq!(after.uptimes["a"], memory.uptimes["a"]);
    // Two hours later the 1 h window is empty, the 24 h one is not.
    let later = store::uptimes(&store, t + 2 * HOUR_MS + 4 * MINUTE_MS).unwrap();
    assert_eq!((later["b"][0], later["b"][1]), (None, Uptime::from_counts(2, 0, 2)));
}

#[test]
fn rows_past_retention_are_pruned() {
    let c = valid(&PAIR.replace("max_stale_s = 60", "max_stale_s = 60\nretention_days = 2"));
    let store = MemoryStore::default();
    let memory = record_rounds(&store, &c, &[(0, "uu"), (HOUR_MS, "ux")]);
    // 4 first statuses and 3 changes; minute and hour buckets of a, b and r in two hours.
    assert_eq!(store.rows(), (7, 12));
    // At 26 h the minute buckets of hour 0 are gone (kept 25 h); hour buckets and changes stay.
    let memory = continue_rounds(&store, &c, Some(memory), &[(26 * HOUR_MS, "ux")]);
    assert_eq!(store.rows(), (7, 18 - 3));
    // At 50 h, past retention_days = 2 for the first two hours: their changes and
    // hour buckets go, and the minute buckets older than 25 h.
    continue_rounds(&store, &c, Some(memory), &[(50 * HOUR_MS, "ux")]);
    assert_eq!(store.rows(), (0, 12), "minute and hour buckets at 26 h and 50 h");
    assert!(store::history(&store, None).unwrap().is_empty());
}

#[test]
fn retention_cut_offs() {
    let c = valid(PAIR); // retention_days = 30
    let now = 40 * 24 * HOUR_MS;
    let r = Retention::at(&c.settings, now);
    assert_eq!(
        (r.changes_before_ms, r.minute_rollups_before_ms, r.hour_rollups_before_ms),
        (10 * 24 * HOUR_MS, now - 25 * HOUR_MS, 10 * 24 * HOUR_MS)
    );
    assert_eq!((r.rollups_before_ms(MINUTE_MS), r.rollups_before_ms(HOUR_MS)), (now - 25 * HOUR_MS, 10 * 24 * HOUR_MS));
    assert_eq!(Retention::at(&c.settings, 5).changes_before_ms, 0, "no underflow near the epoch");
}

#[test]
fn the_schedule() {
    // (last round, refresh_s, now) -> next alarm in ms, needs a round before answering.
    let rows: &[(Option<u64>, u32, u64, u64, bool)] = &[
        (None, 15, 1_000_000, 1_000, true),
        (Some(1_000_000), 15, 1_000_000, 15_000, false),
        (Some(1_000_000), 15, 1_010_000, 5_000, false),
        (Some(1_000_000), 15, 1_014_500, 1_000, false),
        (Some(1_000_000), 15, 1_030_000, 1_000, false),
        (Some(1_000_000), 15, 1_030_001, 1_000, true),
        // A last round more than refresh_s in the future is not believed.
        (Some(1_010_000), 15, 1_000_000, 25_000, false),
        (Some(2_000_000), 15, 1_000_000, 1_000, true),
        (Some(u64::MAX), 15, 1_000_000, 1_000, true),
    ];
    for &(last, refresh_s, now, alarm_in, round) in rows {
        assert_eq!(
            (next_alarm_in_ms(last, refresh_s, now), needs_round(last, refresh_s, now)),
            (alarm_in, round),
            "{last:?} {refresh_s} {now}"
        );
    }
}
