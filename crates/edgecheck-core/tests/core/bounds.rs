//! Every documented bound at its worst, all at once, at the fleet limit:
//! 10,000 origins and 10,000 regions of 64-character names seen from 9
//! vantages, half the origins heartbeat checks with every ping time set, the
//! most declared windows open, a channel told every scope, and the most
//! drains and API windows the API accepts, each at its largest. Every round
//! commits through the memory store (which refuses what Durable Object SQLite
//! refuses, as the monitor's rounds and operator changes commit), and the
//! request past each bound gets its refusal, never a 500.

use edgecheck_core::aggregate::Probe;
use edgecheck_core::classify::{Health, Reason, Verdict};
use edgecheck_core::config::{Config, Named, LOCATION_HINTS, MAX_FLEET};
use edgecheck_core::drain::{self, MAX_DRAINS, MAX_REASON_BYTES, MAX_REASON_CHARS};
use edgecheck_core::heartbeat::PingKind;
use edgecheck_core::http::{self, MonitorCall, Reply};
use edgecheck_core::maintenance::{self, MAX_API_LENGTH_MS, MAX_API_WINDOWS, MAX_DECLARED_WINDOWS, MAX_SCOPE_NAMES};
use edgecheck_core::monitor::{advance_merged, take_ping, MonitorState};
use edgecheck_core::store::{self, Memory, MemoryStore, OperatorError, OperatorRow, Store};
use edgecheck_core::time::rfc3339;
use edgecheck_core::vantage::{Merged, VantageState};
use serde_json::Value;

use super::valid;

/// The origins probed; the rest of the [`MAX_FLEET`] are heartbeat checks.
const PROBED: usize = 5_000;
const AT: u64 = 1_795_000_000_000;
/// The latest time RFC 3339 writes in whole seconds: the longest `until` in JSON.
const LAST: &str = "9999-12-31T23:59:59Z";

/// A name of 64 characters, the longest validation allows.
fn long(kind: &str, i: usize) -> String {
    format!("{kind}-{i:05}-{}", "x".repeat(64 - kind.len() - 7))
}

/// The longest reason: [`MAX_REASON_CHARS`] characters of 4 bytes each.
fn longest_reason() -> String {
    "\u{1F6A7}".repeat(MAX_REASON_CHARS)
}

/// The fleet limit, every name at its longest: one origin per region, the
/// first [`PROBED`] probed from the 9 vantages, the rest heartbeat checks;
/// rise and fall 1 (every round changes every status); the most declared
/// windows, open from 10 s after [`AT`], each over one probed origin; one
/// webhook told every scope.
fn fleet_at_the_limit() -> Config {
    let hints = LOCATION_HINTS.map(|h| format!("\"{h}\"")).join(", ");
    let mut text = format!("[settings]\nshard_size = 1000\nrise = 1\nfall = 1\nvantages = [{hints}]\n");
    for i in 0..MAX_FLEET {
        text += &format!("[regions.{}]\n", long("region", i));
    }
    for i in 0..MAX_FLEET {
        let (name, region) = (long("origin", i), long("region", i));
        if i < PROBED {
            text += &format!(
                "[[origins]]\nname = \"{name}\"\nregion = \"{region}\"\nurl = \"https://o{i}.example.com/\"\n"
            );
        } else {
            text += &format!(
                "[[origins]]\nname = \"{name}\"\nregion = \"{region}\"\nkind = \"heartbeat\"\nperiod_s = 60\ngrace_s = 0\ntoken_secret = \"CHECK_TOKEN\"\n"
            );
        }
    }
    for k in 0..MAX_DECLARED_WINDOWS {
        text += &format!(
            "[[maintenance]]\nid = \"{}\"\nreason = \"{}\"\norigins = [\"{}\"]\nstart = \"{}\"\nend = \"{LAST}\"\n",
            long("declared", k),
            longest_reason(),
            long("origin", k),
            rfc3339(AT + 10_000)
        );
    }
    text += "[[notify]]\nname = \"everything\"\nkind = \"webhook\"\nurl_secret = \"U\"\nsigning_secret = \"S\"\n\
             global = true\nregions = [\"*\"]\norigins = [\"*\"]\n";
    valid(&text)
}

/// A refresh at `at` in which every probed origin got `health` from every
/// vantage (with the longest reason and latency), every vantage reporting
/// from a data centre of the longest name.
fn refresh(c: &Config, at: u64, health: Health) -> Merged {
    let (reason, status) = match health {
        Health::Up => (Reason::Ok, 200),
        Health::Degraded => (Reason::BodyDegraded, 207),
        Health::Down => (Reason::StatusMismatch, 503),
    };
    let probe = Probe {
        verdict: Verdict { health, reason, http_status: Some(status), condition: None },
        latency_ms: Some(u64::MAX / 2),
    };
    let vantages = c.settings().vantages.len();
    let origins = c.origins().len();
    let seen = |i: usize| i < PROBED;
    Merged {
        fleet: "f".repeat(64),
        checked_at_ms: at,
        duration_ms: 60_000,
        probes: (0..origins).map(|i| seen(i).then_some(probe)).collect(),
        by_vantage: (0..origins).map(|i| vec![seen(i).then_some(probe); vantages]).collect(),
        vantages: vec![VantageState::Reporting; vantages],
        colos: vec![Some("ABCDEFGH".into()); vantages],
        details: vec![None; origins],
    }
}

/// The monitor's round, as `src/monitor.rs` runs it: advance, then
/// [`store::record`], which must commit.
fn round(db: &MemoryStore, c: &Config, memory: Option<Memory>, merged: &Merged) -> Memory {
    let advance = advance_merged(c, memory.as_ref().map(|m| &m.state), merged);
    let (memory, problems) = store::record(db, c, memory, advance);
    assert!(problems.is_empty() && memory.saved, "the round at {} commits: {problems:?}", merged.checked_at_ms);
    memory
}

/// A drain request for origin `i` until 9999, as the worker reads it.
fn drain_request(c: &Config, i: usize, reason: &str, now: u64) -> Result<MonitorCall, Reply> {
    let body = serde_json::json!({ "reason": reason, "until": LAST }).to_string();
    http::drain_call(c, Named::Origin(i), false, &body, now)
}

/// A window request from `now` for `length_ms`, over the first `names`
/// regions, with the longest reason.
fn window_request(c: &Config, id: &str, names: usize, now: u64, length_ms: u64) -> Result<MonitorCall, Reply> {
    let regions: Vec<String> = (0..names).map(|i| long("region", i)).collect();
    let body = serde_json::json!({
        "id": id, "reason": longest_reason(), "regions": regions, "end": rfc3339(now + length_ms)
    });
    http::maintenance_call(c, None, &body.to_string(), now)
}

/// A drain through [`store::operator_change`], as the monitor makes it: made,
/// or the worker's answer to its refusal.
fn drain_through_the_monitor(db: &MemoryStore, memory: &mut Memory, call: MonitorCall, now: u64) -> Result<(), Reply> {
    let MonitorCall::Drain { name, drain } = call else { panic!("{call:?}") };
    let set = |state: &mut MonitorState| drain::apply(&mut state.drains, &name, drain.clone(), now);
    match store::operator_change(db, memory, OperatorRow::Monitor, set) {
        Ok(()) => Ok(()),
        Err(OperatorError::Refused(refused)) => Err(http::drain_refused(refused)),
        Err(OperatorError::NotSaved(e)) => panic!("a drain never makes a 500: {e}"),
    }
}

/// An API window started through [`store::operator_change`], likewise.
fn window_through_the_monitor(db: &MemoryStore, memory: &mut Memory, call: MonitorCall, now: u64) -> Result<(), Reply> {
    let MonitorCall::StartMaintenance { window } = call else { panic!("{call:?}") };
    let start = |state: &mut MonitorState| maintenance::start(&mut state.maintenance, window.clone(), now);
    match store::operator_change(db, memory, OperatorRow::Monitor, start) {
        Ok(()) => Ok(()),
        Err(OperatorError::Refused(refused)) => Err(http::window_refused(refused)),
        Err(OperatorError::NotSaved(e)) => panic!("a window never makes a 500: {e}"),
    }
}

/// A check's ping through [`store::operator_change`], likewise.
fn ping_through_the_monitor(
    c: &Config,
    db: &MemoryStore,
    memory: &mut Memory,
    name: &str,
    now: u64,
) -> Result<(), Reply> {
    let take = |state: &mut MonitorState| take_ping(c, state, name, PingKind::Success, now);
    match store::operator_change(db, memory, OperatorRow::Origin(name), take) {
        Ok(_) => Ok(()),
        Err(OperatorError::Refused(refused)) => Err(http::ping_refused(refused)),
        Err(OperatorError::NotSaved(e)) => panic!("a ping never makes a 500: {e}"),
    }
}

/// Bytes of the monitor's row as stored, were every region's and the
/// global status its longest word (`degraded`, which the region of a
/// heartbeat check or of a drained origin is never); of the largest origin
/// row; and of the largest notify channel row.
fn row_bytes(db: &MemoryStore) -> (usize, usize, usize) {
    let (monitor, origins) = db.raw();
    let channels = db.read_channels().unwrap();
    let longest_statuses = |row: &str| {
        let shorter =
            |word: &str| row.matches(&format!("\"status\":\"{word}\"")).count() * ("degraded".len() - word.len());
        row.len() + shorter("up") + shorter("down")
    };
    (
        monitor.as_deref().map_or(0, longest_statuses),
        origins.iter().map(|(n, j)| n.len() + j.len()).max().unwrap_or(0),
        channels.iter().map(|(c, n, s)| c.len() + n.len().max(s.len())).max().unwrap_or(0),
    )
}

fn error_of(reply: &Reply) -> String {
    let body: Value = serde_json::from_str(reply.body.as_deref().unwrap_or("{}")).unwrap_or(Value::Null);
    body["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn every_bound_at_its_worst_fits_the_platform_at_the_fleet_limit() {
    let c = fleet_at_the_limit();
    assert_eq!((c.origins().len(), c.regions().len(), c.settings().vantages.len()), (MAX_FLEET, MAX_FLEET, 9));
    assert!(c.origins().iter().all(|o| o.name.len() == 64) && c.regions().iter().all(|r| r.name.len() == 64));
    let db = MemoryStore::default();
    let mut worst = (0, 0, 0);
    let mut measure = |db: &MemoryStore| {
        let (m, o, n) = row_bytes(db);
        worst = (worst.0.max(m), worst.1.max(o), worst.2.max(n));
    };

    // The first round: every probed origin down, told (before any window
    // holds a scope); every check watched.
    let mut memory = round(&db, &c, None, &refresh(&c, AT, Health::Down));
    measure(&db);

    // Every check's pings at their worst: a start, a success, a failure and a
    // start again, so every time is set (the last check's through the monitor).
    let mut now = AT + 1_000;
    let checks: Vec<String> = c.origins()[PROBED..].iter().map(|o| o.name.clone()).collect();
    for kind in [PingKind::Start, PingKind::Success, PingKind::Fail, PingKind::Start] {
        for (k, name) in checks.iter().enumerate() {
            if k + 1 < checks.len() {
                // What `take_ping` does once it has found the check.
                let pings = memory.state.origins.get_mut(name).and_then(|t| t.pings.as_mut()).unwrap();
                pings.record(kind, now).unwrap();
            } else {
                let take = |state: &mut MonitorState| take_ping(&c, state, name, kind, now);
                store::operator_change(&db, &mut memory, OperatorRow::Origin(name), take).unwrap();
            }
        }
        now += 1_000;
    }

    // The most drains, each the largest the API accepts (the last through the monitor).
    let reason = longest_reason();
    assert_eq!(reason.len(), MAX_REASON_BYTES);
    for i in 0..MAX_DRAINS {
        let call = drain_request(&c, i, &reason, now).unwrap();
        if i + 1 < MAX_DRAINS {
            let MonitorCall::Drain { name, drain } = call else { panic!("{call:?}") };
            drain::apply(&mut memory.state.drains, &name, drain, now).unwrap();
        } else {
            drain_through_the_monitor(&db, &mut memory, call, now).unwrap();
        }
    }
    measure(&db);

    // The most API windows, each the largest the API accepts, open now.
    for k in 0..MAX_API_WINDOWS {
        let id = format!("{k:02}-{}", "w".repeat(61));
        let call = window_request(&c, &id, MAX_SCOPE_NAMES, now, MAX_API_LENGTH_MS).unwrap();
        window_through_the_monitor(&db, &mut memory, call, now).unwrap_or_else(|r| panic!("window {k}: {r:?}"));
    }
    measure(&db);

    // A round: every probed origin degraded, every check failed, every
    // region and the fleet changing, told; every window open.
    memory = round(&db, &c, Some(memory), &refresh(&c, AT + 15_000, Health::Degraded));
    assert_eq!(memory.state.drained.len(), MAX_DRAINS);
    measure(&db);

    // The drains lifted and as many others set before the next round: the
    // row holds the drains and, apart, the names the last round found drained.
    now = AT + 16_000;
    for i in 0..MAX_DRAINS {
        drain::apply(&mut memory.state.drains, &long("origin", i), None, now).unwrap();
        let call = drain_request(&c, MAX_DRAINS + i, &reason, now).unwrap();
        if i + 1 < MAX_DRAINS {
            let MonitorCall::Drain { name, drain } = call else { panic!("{call:?}") };
            drain::apply(&mut memory.state.drains, &name, drain, now).unwrap();
        } else {
            drain_through_the_monitor(&db, &mut memory, call, now).unwrap();
        }
    }
    assert!(memory.state.drains.keys().all(|name| !memory.state.drained.contains(name)));
    measure(&db);

    // Another round, everything down and changing again.
    memory = round(&db, &c, Some(memory), &refresh(&c, AT + 30_000, Health::Down));
    measure(&db);

    // The request past each bound, at its worst: refused, never a 500, and
    // nothing stored or served changes.
    now = AT + 46_000;
    let past_reason = "\u{1F6A7}".repeat(MAX_REASON_CHARS + 1);
    let refused = |request: Result<MonitorCall, Reply>| request.expect_err("refused before the monitor");
    type Request<'a> = Box<dyn Fn(&MemoryStore, &mut Memory) -> Reply + 'a>;
    let past: Vec<(&str, u16, &str, Request<'_>)> = vec![
        (
            "a drain past MAX_DRAINS active",
            409,
            "too_many_drains",
            Box::new(|db, memory| {
                let call = drain_request(&c, MAX_FLEET - 1, &reason, now).unwrap();
                drain_through_the_monitor(db, memory, call, now).expect_err("refused")
            }),
        ),
        (
            "an API window past MAX_API_WINDOWS",
            409,
            "too_many_windows",
            Box::new(|db, memory| {
                let call = window_request(&c, "one-more", 1, now, MAX_API_LENGTH_MS).unwrap();
                window_through_the_monitor(db, memory, call, now).expect_err("refused")
            }),
        ),
        (
            "a drain's reason of MAX_REASON_CHARS + 1 characters",
            400,
            "bad_request",
            Box::new(|_, _| {
                let body = serde_json::json!({ "reason": past_reason }).to_string();
                refused(http::drain_call(&c, Named::Origin(MAX_FLEET - 1), false, &body, now))
            }),
        ),
        (
            "a window of MAX_SCOPE_NAMES + 1 names",
            400,
            "bad_request",
            Box::new(|_, _| refused(window_request(&c, "w", MAX_SCOPE_NAMES + 1, now, MAX_API_LENGTH_MS))),
        ),
        (
            "a window of MAX_API_LENGTH_MS and a second",
            400,
            "bad_request",
            Box::new(|_, _| refused(window_request(&c, "w", 1, now, MAX_API_LENGTH_MS + 1_000))),
        ),
        (
            "a window's id of 65 characters",
            400,
            "bad_request",
            Box::new(|_, _| refused(window_request(&c, &"w".repeat(65), 1, now, MAX_API_LENGTH_MS))),
        ),
        (
            "a window's reason of MAX_REASON_CHARS + 1 characters",
            400,
            "bad_request",
            Box::new(|_, _| {
                let body = serde_json::json!({ "reason": past_reason, "end": rfc3339(now + 60_000) });
                refused(http::maintenance_call(&c, None, &body.to_string(), now))
            }),
        ),
        (
            "a check's second ping within a second",
            429,
            "too_many_requests",
            Box::new(|db, memory| {
                let name = long("origin", MAX_FLEET - 1);
                ping_through_the_monitor(&c, db, memory, &name, now).unwrap();
                ping_through_the_monitor(&c, db, memory, &name, now + 999).expect_err("refused")
            }),
        ),
        (
            "an operator body over MAX_OPERATOR_BODY_BYTES",
            413,
            "payload_too_large",
            Box::new(|_, _| {
                let body = format!("{{\"reason\": \"{}\"}}", "x".repeat(http::MAX_OPERATOR_BODY_BYTES as usize));
                refused(http::drain_call(&c, Named::Origin(0), false, &body, now))
            }),
        ),
    ];
    for (what, status, error, request) in &past {
        let (drains, windows) = (memory.state.drains.clone(), memory.state.maintenance.clone());
        let stored = db.raw().0;
        let reply = request(&db, &mut memory);
        assert_eq!((reply.status, error_of(&reply).as_str()), (*status, *error), "{what}: {:?}", reply.body);
        assert_eq!((&memory.state.drains, &memory.state.maintenance), (&drains, &windows), "{what}: unchanged");
        assert_eq!(db.raw().0, stored, "{what}: the monitor's row unchanged");
    }

    // Read back whole after a restart.
    let (restored, problems) = store::restore(&db, &c, AT + 50_000);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(restored.map(|m| m.state), Some(memory.state));

    let (monitor, origin, channel) = worst;
    eprintln!(
        "at the fleet limit, every bound at its worst: the monitor's row {monitor} bytes, an origin's {origin}, \
         a channel's {channel}; the largest value written {}",
        db.largest_value.get()
    );
    assert!(db.largest_value.get() <= store::MAX_ROW_BYTES);
    assert!(monitor < 1_900_000, "the monitor's row: {monitor} bytes");
    assert!(channel < 1_800_000, "a channel's row: {channel} bytes");
    assert!(origin < 2_000, "an origin's row: {origin} bytes");
}
