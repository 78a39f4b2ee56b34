//! Persistence, uptime, history and retention through the storage port, on the
//! host with [`MemoryStore`]; and the monitor's schedule.

use edgecheck_core::monitor::{advance, Kind};
use edgecheck_core::schedule::{needs_round, next_alarm_in_ms, Retention};
use edgecheck_core::store::{self, Memory, MemoryStore, Store, Write};
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
    assert_eq!(up("a"), Uptime::from_counts(&[4, 0, 0, 0]));
    assert_eq!(up("b"), Uptime::from_counts(&[2, 0, 2, 0]));
    assert_eq!(up("r"), Uptime::from_counts(&[2, 2, 0, 0]), "the region was degraded while b was down");
    // Isolated rounds count nothing.
    let isolated = advance(&c, Some(&memory.state), &round(t + 4 * MINUTE_MS, "tt"), true);
    let (after, _) = store::record(&store, &c, Some(memory.clone()), isolated);
    assert_eq!(after.uptimes["a"], memory.uptimes["a"]);
    // Two hours later the 1 h window is empty, the 24 h one is not.
    let later = store::uptimes(&store, t + 2 * HOUR_MS + 4 * MINUTE_MS).unwrap();
    assert_eq!((later["b"][0], later["b"][1]), (None, Uptime::from_counts(&[2, 0, 2, 0])));
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
    let r = Retention::at(c.settings(), now);
    assert_eq!(
        (r.changes_before_ms, r.minute_rollups_before_ms, r.hour_rollups_before_ms),
        (10 * 24 * HOUR_MS, now - 25 * HOUR_MS, 10 * 24 * HOUR_MS)
    );
    assert_eq!((r.rollups_before_ms(MINUTE_MS), r.rollups_before_ms(HOUR_MS)), (now - 25 * HOUR_MS, 10 * 24 * HOUR_MS));
    assert_eq!(Retention::at(c.settings(), 5).changes_before_ms, 0, "no underflow near the epoch");
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

// ---------------------------------------------------------------------------
// Atomic rounds, repairs on restore, the fleet limit, fleet changes
// ---------------------------------------------------------------------------

/// For every write of a round, a commit that fails at that write leaves the
/// previous state whole; the next round, once writes work, saves the new state
/// and the changes the failed round did not.
#[test]
fn a_commit_failing_at_any_write_keeps_the_old_state_whole() {
    let c = valid(PAIR); // b: rise 1, fall 1
    let probe = MemoryStore::default();
    let first = record_rounds(&probe, &c, &[(0, "uu")]);
    let next = advance(&c, Some(&first.state), &round(15_000, "ux"), true);
    let writes = store::round_writes(&c, Some(&first), &next).unwrap();
    assert!(writes.len() >= 6, "the monitor's row, b's row, changes, rollups, the prune: {writes:?}");
    for n in 0..writes.len() {
        let db = MemoryStore::default();
        let memory = record_rounds(&db, &c, &[(0, "uu")]);
        let history_before = store::history(&db, None).unwrap();
        db.fail_at.set(Some(n));
        let (served, problems) = store::record(&db, &c, Some(memory.clone()), next.clone());
        assert_eq!(problems.len(), 1, "write {n}: {problems:?}");
        assert_eq!(served.state, next.state, "write {n}: the new state is served from memory");
        assert!(!served.saved && !served.unsaved.is_empty(), "write {n}");
        let (restored, _) = store::restore(&db, &c, 15_000);
        assert_eq!(restored.map(|m| m.state), Some(memory.state.clone()), "write {n}: the old state, whole");
        assert_eq!(store::history(&db, None).unwrap(), history_before, "write {n}: no change of the failed round");
        // The next round writes everything the failed one did not.
        let third = advance(&c, Some(&served.state), &round(30_000, "ux"), true);
        let (saved, problems) = store::record(&db, &c, Some(served), third.clone());
        assert!(problems.is_empty() && saved.saved, "write {n}: {problems:?}");
        assert_eq!(store::restore(&db, &c, 30_000).0.map(|m| m.state), Some(third.state), "write {n}");
        let b: Vec<(u64, String)> =
            store::history(&db, Some("b")).unwrap().into_iter().map(|ch| (ch.at_ms, ch.to)).collect();
        assert_eq!(
            b,
            [(15_000, "down".to_string()), (0, "up".to_string())],
            "write {n}: the failed round's change is kept"
        );
    }
}

/// Two probed origins and a heartbeat check, all in one region.
const WITH_CHECK: &str = r#"
[regions.r]
[[origins]]
name = "a"
region = "r"
url = "https://a.example.com/"
[[origins]]
name = "b"
region = "r"
url = "https://b.example.com/"
rise = 1
fall = 1
[[origins]]
name = "nightly"
region = "r"
kind = "heartbeat"
period_s = 10
grace_s = 0
fall = 1
token_secret = "NIGHTLY_TOKEN"
"#;

/// After a round whose commit failed, a ping, a drain and a maintenance
/// window are saved at once, each on top of the rows of the last committed
/// round: a restart finds that round whole (statuses, counters, `since`, its
/// time, its changes) with the three operator changes, and nothing of the
/// round that was not committed. The next round that commits writes it all.
#[test]
fn a_failed_round_stays_undone_while_operator_changes_are_saved() {
    use edgecheck_core::drain::{self, Drain};
    use edgecheck_core::heartbeat::{PingError, PingKind};
    use edgecheck_core::http::{self, MonitorCall};
    use edgecheck_core::maintenance;
    use edgecheck_core::monitor::{take_ping, MonitorState};
    use edgecheck_core::store::{OperatorError, OperatorRow};
    use edgecheck_core::time::rfc3339;

    const AT: u64 = 1_795_000_000_000;
    let c = valid(WITH_CHECK);
    let db = MemoryStore::default();
    // The check's slot is never probed: what a prober would leave there is ignored.
    let first = advance(&c, None, &round(AT, "uur"), true);
    let (memory, problems) = store::record(&db, &c, None, first);
    assert!(problems.is_empty(), "{problems:?}");
    let committed = memory.state.clone();
    let history = store::history(&db, None).unwrap();
    let rows = db.rows();

    // The next round moves b (fall 1) and the check (missed, fall 1), and its commit fails.
    let second = advance(&c, Some(&memory.state), &round(AT + 15_000, "uxr"), true);
    assert!(second.changes.iter().any(|ch| ch.name == "b" && ch.to == "down"), "{:?}", second.changes);
    assert!(second.changes.iter().any(|ch| ch.name == "nightly" && ch.to == "down"), "{:?}", second.changes);
    db.fail_at.set(Some(2));
    let (mut memory, problems) = store::record(&db, &c, Some(memory), second.clone());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(!memory.saved);

    // Between rounds: a ping, a drain and a window, each saved at once.
    let ping = |state: &mut MonitorState| take_ping(&c, state, "nightly", PingKind::Success, AT + 20_000);
    let drain = Drain { reason: "rack move".into(), since_ms: AT + 21_000, until_ms: None };
    let set_drain = |state: &mut MonitorState| drain::apply(&mut state.drains, "a", Some(drain.clone()), AT + 21_000);
    let body =
        format!(r#"{{"id": "db", "reason": "db upgrade", "origins": ["b"], "end": "{}"}}"#, rfc3339(AT + 3_600_000));
    let window = match http::maintenance_call(&c, None, &body, AT + 22_000) {
        Ok(MonitorCall::StartMaintenance { window }) => window,
        other => panic!("{other:?}"),
    };
    let start = |state: &mut MonitorState| maintenance::start(&mut state.maintenance, window.clone(), AT + 22_000);
    let track = store::operator_change(&db, &mut memory, OperatorRow::Origin("nightly"), ping).unwrap();
    assert_eq!(track.pings.and_then(|p| p.success_ms), Some(AT + 20_000));
    store::operator_change(&db, &mut memory, OperatorRow::Monitor, set_drain).unwrap();
    store::operator_change(&db, &mut memory, OperatorRow::Monitor, start).unwrap();
    // A refused change changes nothing, in memory or in storage.
    let too_soon = |state: &mut MonitorState| take_ping(&c, state, "nightly", PingKind::Fail, AT + 20_500);
    let served = memory.clone();
    match store::operator_change(&db, &mut memory, OperatorRow::Origin("nightly"), too_soon) {
        Err(OperatorError::Refused(refused @ PingError::TooSoon { .. })) => {
            assert_eq!(http::ping_refused(refused).status, 429)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(memory, served);
    // So does one storage refuses: memory (and what it keeps of storage) as before.
    db.fail_writes.set(true);
    let lift = |state: &mut MonitorState| drain::apply(&mut state.drains, "a", None, AT + 22_500);
    match store::operator_change(&db, &mut memory, OperatorRow::Monitor, lift) {
        Err(OperatorError::NotSaved(why)) => assert!(why.contains("fail_writes"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(memory, served);
    db.fail_writes.set(false);

    // Memory serves the failed round with the three changes.
    let mut expected = second.state.clone();
    ping(&mut expected).unwrap();
    set_drain(&mut expected).unwrap();
    start(&mut expected).unwrap();
    assert_eq!(memory.state, expected, "memory: the failed round and the operator's changes");

    // A restart finds the committed round whole, with the three changes on top.
    let (restored, problems) = store::restore(&db, &c, AT + 23_000);
    assert!(problems.is_empty(), "{problems:?}");
    let mut expected = committed.clone();
    ping(&mut expected).unwrap();
    set_drain(&mut expected).unwrap();
    start(&mut expected).unwrap();
    let restored = restored.unwrap().state;
    assert_eq!(restored.checked_at_ms, AT, "the monitor's row is the committed round's");
    assert_eq!(restored.origins["b"], committed.origins["b"], "b as committed: up, its counters and since");
    let pings = restored.origins["nightly"].pings.clone().unwrap();
    assert_eq!((pings.success_ms, pings.watched_since_ms), (Some(AT + 20_000), AT), "the ping on the check's row");
    assert_eq!(restored.drains["a"], drain);
    assert_eq!(restored.maintenance, std::slice::from_ref(&window));
    assert_eq!(restored, expected, "the committed round whole, with the ping, the drain and the window");
    assert_eq!(store::history(&db, None).unwrap(), history, "no change of the failed round");
    assert_eq!(db.rows(), rows, "no change or rollup of the failed round");

    // The next round that commits writes everything, the failed round's changes with it.
    let third = advance(&c, Some(&memory.state), &round(AT + 30_000, "uxr"), true);
    let (saved, problems) = store::record(&db, &c, Some(memory), third.clone());
    assert!(problems.is_empty() && saved.saved, "{problems:?}");
    let (restored, problems) = store::restore(&db, &c, AT + 30_000);
    assert!(problems.is_empty(), "{problems:?}");
    let restored = restored.unwrap().state;
    assert_eq!(restored.origins, third.state.origins, "every origin row, the check's pings with them");
    assert_eq!(
        (restored.checked_at_ms, &restored.regions, restored.overall),
        (AT + 30_000, &third.state.regions, third.state.overall)
    );
    assert_eq!((&restored.drains, &restored.maintenance), (&third.state.drains, &third.state.maintenance));
    let b: Vec<(u64, String)> =
        store::history(&db, Some("b")).unwrap().into_iter().map(|ch| (ch.at_ms, ch.to)).collect();
    assert_eq!(b, [(AT + 15_000, "down".to_string()), (AT, "up".to_string())], "the failed round's change, saved");
}

/// A healthy fleet writes no origin row from round to round: only rows that moved.
#[test]
fn a_round_writes_only_the_origins_that_moved() {
    let c = valid(PAIR);
    let db = MemoryStore::default();
    let memory = record_rounds(&db, &c, &[(0, "uu")]);
    let origin_rows = |writes: &[Write]| {
        writes
            .iter()
            .filter_map(|w| if let Write::Origin { name, .. } = w { Some(name.clone()) } else { None })
            .collect::<Vec<_>>()
    };
    let same = advance(&c, Some(&memory.state), &round(15_000, "uu"), true);
    assert_eq!(origin_rows(&store::round_writes(&c, Some(&memory), &same).unwrap()), Vec::<String>::new());
    let moved = advance(&c, Some(&memory.state), &round(15_000, "ux"), true);
    assert_eq!(origin_rows(&store::round_writes(&c, Some(&memory), &moved).unwrap()), ["b"]);
    let unsaved = Memory { saved: false, ..memory.clone() };
    assert_eq!(origin_rows(&store::round_writes(&c, Some(&unsaved), &same).unwrap()), ["a", "b"]);
}

/// The fleet limit: 10,000 origins seen from 9 vantages, in 10,000 regions
/// (one origin each, the most regions a fleet can have). No value written is
/// over Durable Object SQLite's 2 MB, which the memory store refuses as
/// production would.
#[test]
fn stored_rows_fit_the_platform_at_the_fleet_limit() {
    use edgecheck_core::aggregate::Probe;
    use edgecheck_core::classify::{Health, Reason, Verdict};
    use edgecheck_core::monitor::advance_merged;
    use edgecheck_core::vantage::{merge, Report};
    let hints = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"];
    let settings = format!(
        "shard_size = 500\nvantages = [{}]\n",
        hints.iter().map(|h| format!("\"{h}\"")).collect::<Vec<_>>().join(", ")
    );
    let c = super::fleet_limit(&settings);
    let probe = Probe {
        verdict: Verdict {
            health: Health::Degraded,
            reason: Reason::BodyDegraded,
            http_status: Some(207),
            condition: None,
        },
        latency_ms: Some(123_456),
    };
    let reports: Vec<Report> = (0..9)
        .flat_map(|v| (0..c.shard_count()).map(move |s| (v, s)))
        .map(|(v, s)| Report {
            fleet: "f".into(),
            round: 0,
            vantage: v,
            shard: s,
            canary_ok: true,
            colo: Some("ABCDEFGH".into()),
            duration_ms: 1,
            probes: vec![probe; c.shard(s).len()],
            details: Vec::new(),
        })
        .collect();
    let (merged, dropped) = merge(&c, "f", 1_000, 1, reports);
    assert!(dropped.is_empty());
    let advance = advance_merged(&c, None, &merged);
    let db = MemoryStore::default();
    let (memory, problems) = store::record(&db, &c, None, advance);
    assert!(problems.is_empty() && memory.saved, "{problems:?}");
    let largest = db.largest_value.get();
    assert!(largest <= store::MAX_ROW_BYTES, "{largest} bytes");
    assert!(largest < 1_000_000, "half the limit left for growth: {largest} bytes");
    // The old layout, one row of every origin, is what the store refuses.
    let whole = serde_json::to_string(&memory.state).unwrap();
    assert!(whole.len() > store::MAX_ROW_BYTES, "the one-row state would be {} bytes", whole.len());
    let bytes = whole.len();
    assert_eq!(db.commit(&[Write::Monitor(whole)]), Err(store::WriteRefused::TooBig(bytes)));
    // Restore reads it back whole.
    let (restored, problems) = store::restore(&db, &c, 2_000);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(restored.map(|m| m.state), Some(memory.state));
}

/// Damaged storage: each kind restored to a state that renders truthfully,
/// with one log line saying what was wrong and what was kept.
#[test]
fn damaged_storage_is_repaired_with_a_log_line() {
    use edgecheck_core::monitor::Snapshot;
    use edgecheck_core::view::shown;
    let c = valid(PAIR);
    let now = 100_000;
    // (what, the damage, a word every log line must hold, what must hold after)
    type Check = fn(&edgecheck_core::monitor::MonitorState) -> bool;
    type Damage = fn(&MemoryStore);
    let cases: &[(&str, Damage, &str, Check)] = &[
        (
            "a monitor row that is not JSON",
            |db| db.put_raw_monitor("{not json"),
            "damaged",
            |s| s.fresh_at_ms.is_none() && s.origins["a"].health.is_some(),
        ),
        (
            "the monitor's table dropped",
            |db| db.drop_monitor(),
            "missing",
            |s| s.fresh_at_ms.is_none() && s.origins.len() == 2,
        ),
        (
            "an origin row that is not JSON",
            |db| db.put_raw_origin("a", "[1,"),
            "damaged",
            |s| !s.origins.contains_key("a") && s.origins.contains_key("b"),
        ),
        (
            "an origin no longer in the fleet",
            |db| db.put_raw_origin("gone", &db.raw().1["a"].clone()),
            "no longer in the fleet",
            |s| !s.origins.contains_key("gone"),
        ),
        (
            "an origin's since in the far future",
            |db| {
                let row = db.raw().1["a"].replace("\"since_ms\":0", "\"since_ms\":253402300799999");
                db.put_raw_origin("a", &row);
            },
            "clamped to now",
            |s| s.origins["a"].since_ms == 100_000,
        ),
        (
            "a round dated in the future",
            |db| {
                let row = db
                    .raw()
                    .0
                    .unwrap()
                    .replace("\"checked_at_ms\":30000", "\"checked_at_ms\":4102444800000")
                    .replace("\"fresh_at_ms\":30000", "\"fresh_at_ms\":4102444800000");
                db.put_raw_monitor(&row);
            },
            "clamped",
            |s| s.checked_at_ms == 100_000 && s.fresh_at_ms == Some(100_000),
        ),
        (
            "a change row dated 2286",
            |db| {
                db.put_raw_change(
                    9_999_999_999_999,
                    "a",
                    r#"{"at_ms":9999999999999,"kind":"origin","name":"a","from":null,"to":"up","reason":null}"#,
                );
            },
            "dated after now",
            |_| true,
        ),
        (
            "a region no longer in the fleet",
            |db| {
                let row = db
                    .raw()
                    .0
                    .unwrap()
                    .replace("\"regions\":{", "\"regions\":{\"old\":{\"status\":\"down\",\"since_ms\":0},");
                db.put_raw_monitor(&row);
            },
            "no longer in the fleet",
            |s| !s.regions.contains_key("old"),
        ),
        (
            "a vantage no longer in the fleet",
            |db| {
                let row = db.raw().0.unwrap().replace(
                    "\"vantages\":{",
                    "\"vantages\":{\"mars\":{\"state\":\"reporting\",\"since_ms\":0,\"reported_at_ms\":0},",
                );
                db.put_raw_monitor(&row);
            },
            "no longer in the fleet",
            |s| !s.vantages.contains_key("mars"),
        ),
    ];
    for (what, damage, word, holds) in cases {
        let db = MemoryStore::default();
        record_rounds(&db, &c, &[(0, "uu"), (15_000, "uu"), (30_000, "uu")]);
        damage(&db);
        let (memory, problems) = store::restore(&db, &c, now);
        let memory = memory.unwrap_or_else(|| panic!("{what}: restored nothing"));
        assert_eq!(problems.len(), 1, "{what}: one line: {problems:?}");
        assert!(problems[0].0.contains(word), "{what}: {problems:?}");
        assert!(holds(&memory.state), "{what}: {:?}", memory.state);
        // Renders truthfully: no time after now, and nothing shown as fresh that is not.
        let view = shown(&c, Snapshot { state: &memory.state, now_ms: now });
        assert!(view.checked_at_ms <= now && view.since_ms.is_none_or(|s| s <= now), "{what}");
        for i in 0..c.origins().len() {
            assert!(view.origin(&c, i).since_ms.is_none_or(|s| s <= now), "{what}: origin {i}");
        }
        let history = store::history(&db, None).unwrap();
        assert!(history.iter().all(|ch| ch.at_ms <= now), "{what}: {history:?}");
        // The repair was written: a second restore finds nothing to repair.
        let (again, problems) = store::restore(&db, &c, now);
        assert!(problems.is_empty(), "{what}: repaired once: {problems:?}");
        assert_eq!(again.map(|m| m.state), Some(memory.state), "{what}");
    }
}

/// A deploy with another fleet: kept origins keep their state, removed ones
/// leave, added ones start unknown, the regions and the global view follow the
/// new rules at once, and the change of fleet is recorded once.
#[test]
fn the_state_follows_the_fleet_across_deploys() {
    use edgecheck_core::monitor::{advance_merged, Snapshot};
    use edgecheck_core::schedule::round_due;
    use edgecheck_core::vantage::Merged;
    use edgecheck_core::view::shown;
    let old = valid(
        "[settings]\nmin_regions_up = 1\n[regions.east]\n[regions.west]\n\
         [[origins]]\nname = \"e1\"\nregion = \"east\"\nurl = \"https://e1.example.com/\"\n\
         [[origins]]\nname = \"e2\"\nregion = \"east\"\nurl = \"https://e2.example.com/\"\n\
         [[origins]]\nname = \"w1\"\nregion = \"west\"\nurl = \"https://w1.example.com/\"\n",
    );
    let db = MemoryStore::default();
    let mut merged = Merged::single(&round(0, "uux"), true);
    merged.fleet = "old-fleet-digest".into();
    let first = advance_merged(&old, None, &merged);
    let (memory, _) = store::record(&db, &old, None, first);
    assert_eq!(
        shown(&old, Snapshot { state: &memory.state, now_ms: 1_000 }).status.map(|s| s.as_str()),
        Some("degraded")
    );

    // The new fleet: west removed, e2 renamed e3, n1 added in a new region, and every region needed.
    let new = valid(
        "[settings]\nmin_regions_up = 2\n[regions.east]\nmin_up = 2\n[regions.north]\n\
         [[origins]]\nname = \"e1\"\nregion = \"east\"\nurl = \"https://e1.example.com/\"\n\
         [[origins]]\nname = \"e3\"\nregion = \"east\"\nurl = \"https://e2.example.com/\"\n\
         [[origins]]\nname = \"n1\"\nregion = \"north\"\nurl = \"https://n1.example.com/\"\n",
    );
    let (restored, problems) = store::restore(&db, &new, 5_000);
    let restored = restored.unwrap();
    assert_eq!(problems.len(), 3, "e2, w1 and the region west leave, one line each: {problems:?}");
    assert_eq!(restored.state.origins.keys().collect::<Vec<_>>(), ["e1"], "kept by name");
    assert_eq!(restored.state.origins["e1"], memory.state.origins["e1"], "e1 keeps since and counters");
    // Before the first round of the new fleet: the current rules, never the stored view.
    let view = shown(&new, Snapshot { state: &restored.state, now_ms: 5_000 });
    assert_eq!(view.status.map(|s| s.as_str()), Some("down"), "min_regions_up = 2 with e3 and n1 unjudged");
    assert_eq!(view.regions.len(), 2);
    assert_eq!((view.origin(&new, 1).status, view.origin(&new, 2).status), (None, None), "added: unknown");
    assert!(
        round_due(Some(&restored.state), "new-fleet-digest", 15, 5_000),
        "a new fleet is probed before it is served"
    );
    assert!(!round_due(Some(&restored.state), "old-fleet-digest", 15, 5_000));

    // Its first round: one config change, the new origins judged.
    let mut merged = Merged::single(&round(6_000, "uuu"), true);
    merged.fleet = "new-fleet-digest".into();
    let next = advance_merged(&new, Some(&restored.state), &merged);
    let config_changes: Vec<_> = next.changes.iter().filter(|ch| ch.kind == Kind::Config).collect();
    assert_eq!(config_changes.len(), 1, "{:?}", next.changes);
    assert_eq!(
        (config_changes[0].from.as_deref(), config_changes[0].to.as_str()),
        (Some("old-fleet-di"), "new-fleet-di")
    );
    let (after, _) = store::record(&db, &new, Some(restored), next);
    let view = shown(&new, Snapshot { state: &after.state, now_ms: 7_000 });
    assert_eq!(view.status.map(|s| s.as_str()), Some("ok"));
    let mut merged = Merged::single(&round(21_000, "uuu"), true);
    merged.fleet = "new-fleet-digest".into();
    let later = advance_merged(&new, Some(&after.state), &merged);
    assert!(later.changes.iter().all(|ch| ch.kind != Kind::Config), "recorded once");
}

/// Edits a stored row as JSON, as damaged storage would.
fn edit_row(db: &MemoryStore, origin: Option<&str>, edit: impl FnOnce(&mut serde_json::Value)) {
    let (monitor, origins) = db.raw();
    let row = match origin {
        Some(name) => origins[name].clone(),
        None => monitor.unwrap(),
    };
    let mut value: serde_json::Value = serde_json::from_str(&row).unwrap();
    edit(&mut value);
    match origin {
        Some(name) => db.put_raw_origin(name, &value.to_string()),
        None => db.put_raw_monitor(&value.to_string()),
    }
}

/// Damaged stored states, each restored to the truth the rest of storage
/// still holds, with one log line saying what was wrong and what was kept;
/// written back at once, and the next round and a real ping go on from the
/// truth. A time is only ever checked against the clock or the row that
/// wrote it: an origin's row is never clamped to a damaged monitor's row.
#[test]
fn damaged_states_are_restored_truthfully_with_a_log_line() {
    use edgecheck_core::drain::Drain;
    use edgecheck_core::heartbeat::PingKind;
    use edgecheck_core::maintenance::{self, Schedule, Scope, Window, MAX_API_LENGTH_MS};
    use edgecheck_core::monitor::{take_ping, MonitorState, Snapshot};
    use edgecheck_core::view::shown;
    use serde_json::json;
    const AT: u64 = 1_795_000_000_000;
    const NOW: u64 = AT + 100_000;
    const Y2100: u64 = 4_102_444_800_000;
    const DAY: u64 = 86_400_000;
    let c = valid(WITH_CHECK);
    // What storage holds before the damage: three rounds, a ping, a drain and an API window.
    let db = MemoryStore::default();
    let mut memory = record_rounds(&db, &c, &[(AT, "uu"), (AT + 15_000, "ux")]);
    take_ping(&c, &mut memory.state, "nightly", PingKind::Success, AT + 20_000).unwrap();
    let drain = Drain { reason: "rack move".into(), since_ms: AT + 21_000, until_ms: Some(AT + DAY) };
    memory.state.drains.insert("a".into(), drain);
    let window = Window {
        id: "db".into(),
        reason: "db upgrade".into(),
        scope: Scope { regions: vec![], origins: vec!["b".into()] },
        schedule: Schedule::Once { start_ms: AT + 22_000, end_ms: AT + DAY },
    };
    maintenance::start(&mut memory.state.maintenance, window, AT + 22_000).unwrap();
    let memory = continue_rounds(&db, &c, Some(memory), &[(AT + 30_000, "ux")]);
    let before = memory.state;
    let (b_since, a_since) = (before.origins["b"].since_ms, before.origins["a"].since_ms);
    assert_eq!((a_since, b_since), (AT, AT + 15_000));
    let stored = db.raw();

    type Damage = fn(&MemoryStore);
    type Holds = fn(&MonitorState, &MonitorState) -> bool;
    // (what, the damage, words the one log line holds, what holds after it against the state before)
    let cases: &[(&str, Damage, &[&str], Holds)] = &[
        (
            "a monitor row that is garbage",
            |db| db.put_raw_monitor("\u{0}garbage"),
            &["damaged", "origins' rows kept"],
            // Every origin's since as its own row says, not the empty row's 0.
            |s, before| s.origins == before.origins && s.fresh_at_ms.is_none(),
        ),
        (
            "an origin's since dated 2100",
            |db| edit_row(db, Some("b"), |row| row["since_ms"] = json!(Y2100)),
            &["origin \"b\"", "since 4102444800000 ms is after now", "clamped to now"],
            |s, _| s.origins["b"].since_ms == NOW,
        ),
        (
            "a check's success ping dated 2100",
            |db| {
                edit_row(db, Some("nightly"), |row| {
                    row["pings"]["success_ms"] = json!(Y2100);
                    row["pings"]["last_ms"] = json!(Y2100);
                })
            },
            &["origin \"nightly\"", "forgotten", "success at 4102444800000 ms", "judged from the pings before now"],
            // No success believed: judged from its first watch; the newest ping kept is none.
            |s, before| {
                let (p, b) = (s.origins["nightly"].pings.as_ref().unwrap(), before.origins["nightly"].pings.as_ref());
                p.success_ms.is_none() && p.last_ms.is_none() && p.watched_since_ms == b.unwrap().watched_since_ms
            },
        ),
        (
            "a check's failure ping dated 2100",
            |db| {
                edit_row(db, Some("nightly"), |row| {
                    row["pings"]["failure_ms"] = json!(Y2100);
                    row["pings"]["last_ms"] = json!(Y2100);
                })
            },
            &["origin \"nightly\"", "failure at 4102444800000 ms", "forgotten"],
            // The real success is kept, and is the last ping again.
            |s, _| {
                let p = s.origins["nightly"].pings.as_ref().unwrap();
                p.failure_ms.is_none() && p.success_ms == Some(AT + 20_000) && p.last_ms == Some(AT + 20_000)
            },
        ),
        (
            "a check first watched in 2100",
            |db| edit_row(db, Some("nightly"), |row| row["pings"]["watched_since_ms"] = json!(Y2100)),
            &["origin \"nightly\"", "first watched at 4102444800000 ms", "clamped to now"],
            |s, _| s.origins["nightly"].pings.as_ref().unwrap().watched_since_ms == NOW,
        ),
        (
            "a check's last ping that is no ping it kept",
            |db| edit_row(db, Some("nightly"), |row| row["pings"]["last_ms"] = json!(NOW - 1)),
            &["origin \"nightly\"", "not the newest ping kept", "set to it"],
            |s, _| s.origins["nightly"].pings.as_ref().unwrap().last_ms == Some(AT + 20_000),
        ),
        (
            "a drain set in 2100",
            |db| edit_row(db, None, |row| row["drains"]["a"]["since_ms"] = json!(Y2100)),
            &["the drain of \"a\"", "after now", "since clamped to now, the drain kept"],
            |s, before| s.drains["a"] == Drain { since_ms: NOW, ..before.drains["a"].clone() },
        ),
        (
            "a drain that lapses before it was set",
            |db| edit_row(db, None, |row| row["drains"]["a"]["until_ms"] = json!(AT + 20_000)),
            &["the drain of \"a\"", "not after it was set", "never held; dropped"],
            |s, _| s.drains.is_empty(),
        ),
        (
            "an API window of 40 days",
            |db| edit_row(db, None, |row| row["maintenance"][0]["schedule"]["once"]["end_ms"] = json!(AT + 40 * DAY)),
            &["maintenance window \"db\"", "longer than the API's", "cut to", "its start kept"],
            |s, _| {
                s.maintenance[0].schedule
                    == Schedule::Once { start_ms: AT + 22_000, end_ms: AT + 22_000 + MAX_API_LENGTH_MS }
            },
        ),
        (
            "an API window that ends before it starts",
            |db| edit_row(db, None, |row| row["maintenance"][0]["schedule"]["once"]["end_ms"] = json!(AT)),
            &["maintenance window \"db\"", "before it starts", "never open; dropped"],
            |s, _| s.maintenance.is_empty(),
        ),
        (
            "a weekly API window",
            |db| {
                edit_row(db, None, |row| {
                    row["maintenance"][0]["schedule"] = json!({"weekly": {"days": 127, "start_min": 0, "minutes": 60}})
                })
            },
            &["maintenance window \"db\"", "weekly", "dropped"],
            |s, _| s.maintenance.is_empty(),
        ),
    ];
    for (what, damage, words, holds) in cases {
        let db = MemoryStore::default();
        db.put_raw_monitor(stored.0.as_deref().unwrap());
        for (name, row) in &stored.1 {
            db.put_raw_origin(name, row);
        }
        damage(&db);
        let (memory, problems) = store::restore(&db, &c, NOW);
        let mut memory = memory.unwrap_or_else(|| panic!("{what}: restored nothing"));
        assert_eq!(problems.len(), 1, "{what}: one line: {problems:?}");
        for word in *words {
            assert!(problems[0].0.contains(word), "{what}: {word:?} in {problems:?}");
        }
        assert!(holds(&memory.state, &before), "{what}: {:?}", memory.state);
        // Renders truthfully: no time after now.
        let view = shown(&c, Snapshot { state: &memory.state, now_ms: NOW });
        for i in 0..c.origins().len() {
            assert!(view.origin(&c, i).since_ms.is_none_or(|s| s <= NOW), "{what}: origin {i}");
        }
        // The repair was written: a second restore finds nothing to repair.
        let (again, problems) = store::restore(&db, &c, NOW);
        assert!(problems.is_empty(), "{what}: repaired once: {problems:?}");
        assert_eq!(again.map(|m| m.state), Some(memory.state.clone()), "{what}");
        // A real ping is taken (no ping dated later refuses it), and the next
        // round keeps every origin's since its row says (b is down again).
        let take = |state: &mut MonitorState| take_ping(&c, state, "nightly", PingKind::Start, NOW);
        store::operator_change(&db, &mut memory, store::OperatorRow::Origin("nightly"), take)
            .unwrap_or_else(|e| panic!("{what}: a real ping is taken: {e:?}"));
        let restored = memory.state.clone();
        let next = continue_rounds(&db, &c, Some(memory), &[(NOW + 1_000, "ux")]);
        for name in ["a", "b"] {
            assert_eq!(next.state.origins[name].since_ms, restored.origins[name].since_ms, "{what}: {name}");
        }
        assert!(next.state.origins.values().all(|t| t.since_ms <= NOW + 1_000), "{what}");
    }
}
