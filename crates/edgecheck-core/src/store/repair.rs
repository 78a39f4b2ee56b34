//! [`restore`]: the persisted state loaded and repaired against the fleet and
//! the clock, each repair a [`Problem`] and all of them one commit.

use super::read::{slo_sums, windows_or_log};
use super::{empty_state, monitor_json, origin_json, Memory, Problem, SloMemory, Store, Write};
use crate::config::Config;
use crate::heartbeat::Pings;
use crate::maintenance::{Schedule, Window, MAX_API_LENGTH_MS};
use crate::monitor::{MonitorState, OriginTrack};
use crate::slo::SloState;
use crate::text::printable;

/// Loads the persisted state, with uptimes at `now_ms`, and repairs it against
/// the fleet and the clock. `None` when nothing was stored.
///
/// Every stored field is checked; each repair is one [`Problem`] saying what
/// was wrong and what was kept, and the repairs are committed:
/// - a monitor row that does not decode is replaced by an empty one (the
///   origins' rows are kept, the view is `unknown` until the next round);
/// - an origin row that does not decode, or names an origin no longer in the
///   fleet, is dropped; so are regions and vantages no longer in it;
/// - a round dated after `now_ms` is clamped to `now_ms`, and every other time
///   of the monitor's row (a region's or the global `since`, a vantage's
///   report) after the round that wrote it is clamped to that round;
/// - an origin's row is checked against `now_ms` alone (never against the
///   monitor's row, which may be the empty one): a `since` after now is
///   clamped to now; a check's ping times after now are forgotten (a
///   first watch after now is clamped to now), and its last ping is the
///   newest one kept;
/// - a drain set after now has its `since` clamped to now; one that lapses
///   before it was set never held and is dropped;
/// - an API maintenance window longer than
///   [`crate::maintenance::MAX_API_LENGTH_MS`] ends that long after its
///   start; a weekly one, or one that ends before it starts, is dropped;
/// - changes and rollup buckets dated after `now_ms` are deleted.
pub fn restore(store: &impl Store, config: &Config, now_ms: u64) -> (Option<Memory>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut repairs = Vec::new();
    let monitor = match store.read_monitor() {
        Ok(row) => row,
        Err(e) => {
            problems.push(Problem(format!("reading the monitor's row failed, starting afresh: {e}")));
            return (None, problems);
        }
    };
    let rows = store.read_origins().unwrap_or_else(|e| {
        problems.push(Problem(format!("reading the origins' rows failed, their statuses start unknown: {e}")));
        Vec::new()
    });
    if monitor.is_none() && rows.is_empty() {
        return (None, problems);
    }
    let mut state = match monitor.as_deref().map(serde_json::from_str::<MonitorState>) {
        Some(Ok(state)) => state,
        Some(Err(e)) => {
            problems.push(Problem(format!(
                "the monitor's row is damaged ({e}); replaced by an empty one, the origins' rows kept"
            )));
            empty_state()
        }
        None => {
            problems.push(Problem("the monitor's row is missing; the origins' rows kept".into()));
            empty_state()
        }
    };
    // Origins stored in the monitor's row by the one-row layout move to rows of their own.
    if !state.origins.is_empty() {
        problems.push(Problem(format!(
            "the monitor's row holds {} origins (the one-row layout); moved to rows of their own",
            state.origins.len()
        )));
        repairs
            .extend(state.origins.iter().map(|(name, t)| Write::Origin { name: name.clone(), json: origin_json(t) }));
    }
    for (name, json) in rows {
        match serde_json::from_str::<OriginTrack>(&json) {
            Ok(track) => {
                state.origins.insert(name, track);
            }
            Err(e) => {
                problems
                    .push(Problem(format!("the row of origin {name:?} is damaged ({e}); dropped, it starts unknown")));
                repairs.push(Write::DropOrigin(name));
            }
        }
    }
    repair(config, &mut state, now_ms, &mut problems, &mut repairs);
    match store.newest() {
        Ok((changes, rollups)) => {
            let future = changes.into_iter().chain(rollups).filter(|&at| at > now_ms).max();
            if let Some(at) = future {
                problems.push(Problem(format!(
                    "changes or uptime rows dated after now (the newest at {at} ms, now {now_ms} ms) are deleted"
                )));
                repairs.push(Write::DropAfter(now_ms));
            }
        }
        Err(e) => problems.push(Problem(format!("reading the newest stored times failed: {e}"))),
    }
    let channels = store.read_channels().unwrap_or_else(|e| {
        problems.push(Problem(format!("reading the notify channels failed, they start afresh: {e}")));
        Vec::new()
    });
    let outbox = store.read_outbox().unwrap_or_else(|e| {
        problems.push(Problem(format!("reading the notify outbox failed: {e}")));
        Vec::new()
    });
    let (notify, notify_repairs, notify_problems) = crate::notify::restore(config, channels, outbox);
    problems.extend(notify_problems.into_iter().map(Problem));
    repairs.extend(notify_repairs);
    let slo = restore_slo(store, config, now_ms, &mut problems, &mut repairs);
    let mut saved = true;
    if !problems.is_empty() {
        // The repaired monitor's row, with the origins' repairs, in one commit.
        match monitor_json(&state) {
            Ok(json) => repairs.insert(0, Write::Monitor(json)),
            Err(e) => problems.push(Problem(format!("the repaired state does not serialize: {e}"))),
        }
        if let Err(e) = store.commit(&repairs) {
            problems.push(Problem(format!("writing the repairs failed; serving the repaired state from memory: {e}")));
            saved = false;
        }
    }
    let (uptimes, latency) = windows_or_log(store, now_ms, &mut problems, None);
    (Some(Memory { state, uptimes, latency, saved, unsaved: Vec::new(), committed: None, notify, slo }), problems)
}

/// Every configured objective's windows at `now_ms` and the state it kept.
/// A state row that does not decode starts with no pair firing and is
/// rewritten; an objective no longer configured has its rows dropped (its
/// buckets too, found by the read of the windows); a stored pair no longer
/// configured is let go at the next round ([`crate::slo::round`]). Each is a
/// [`Problem`]. Unreadable storage leaves the windows empty until the next
/// round reads them again.
fn restore_slo(
    store: &impl Store,
    config: &Config,
    now_ms: u64,
    problems: &mut Vec<Problem>,
    repairs: &mut Vec<Write>,
) -> SloMemory {
    let states = store.read_slo_states().unwrap_or_else(|e| {
        problems.push(Problem(format!("reading the objectives' states failed, no pair starts firing: {e}")));
        Vec::new()
    });
    let mut sums = slo_sums(store, config, now_ms).unwrap_or_else(|e| {
        problems.push(Problem(format!("reading the objectives' counts failed: {e}")));
        Default::default()
    });
    let mut memory = SloMemory::new();
    let mut gone = std::collections::BTreeSet::new();
    for (name, json) in states {
        if !config.slos().iter().any(|s| s.name == name) {
            gone.insert(name);
            continue;
        }
        let state = serde_json::from_str::<SloState>(&json).unwrap_or_else(|e| {
            problems.push(Problem(format!(
                "the state of objective {name:?} is damaged ({e}); no pair of it is firing now"
            )));
            let json = serde_json::to_string(&SloState::default()).expect("an SloState serializes");
            repairs.push(Write::SloState { slo: name.clone(), json });
            SloState::default()
        });
        memory.insert(name.clone(), (sums.remove(&name).unwrap_or_default(), state));
    }
    for (name, windows) in sums {
        if config.slos().iter().any(|s| s.name == name) {
            memory.insert(name, (windows, SloState::default()));
        } else {
            gone.insert(name);
        }
    }
    for name in gone {
        problems.push(Problem(format!("objective {name:?} is no longer configured; its counts are dropped")));
        repairs.push(Write::DropSlo(name));
    }
    memory
}

/// Checks a loaded state against the fleet and the clock (see [`restore`]).
fn repair(
    config: &Config,
    state: &mut MonitorState,
    now_ms: u64,
    problems: &mut Vec<Problem>,
    repairs: &mut Vec<Write>,
) {
    let mut note = |problem: String| problems.push(Problem(problem));
    if state.checked_at_ms > now_ms {
        note(format!(
            "the last round is dated {} ms, after now ({now_ms} ms); its times clamped to now",
            state.checked_at_ms
        ));
        state.checked_at_ms = now_ms;
        state.fresh_at_ms = state.fresh_at_ms.map(|f| f.min(now_ms));
    }
    let round = state.checked_at_ms;
    if let Some(fresh) = state.fresh_at_ms.filter(|&f| f > round) {
        note(format!(
            "the last trustworthy round is dated {fresh} ms, after the last round ({round} ms); clamped to it"
        ));
        state.fresh_at_ms = Some(round);
    }
    let removed: Vec<String> =
        state.origins.keys().filter(|name| !config.origins().iter().any(|o| &o.name == *name)).cloned().collect();
    for name in removed {
        note(format!("origin {name:?} is no longer in the fleet; its row is dropped"));
        state.origins.remove(&name);
        repairs.push(Write::DropOrigin(name));
    }
    // An origin's row is its own record: its times are checked against the
    // clock only, never against the monitor's row (which may be damaged, or
    // older than a ping written after it).
    for (name, track) in &mut state.origins {
        let mut wrong = Vec::new();
        if track.since_ms > now_ms {
            wrong.push(format!("since {} ms is after now ({now_ms} ms); clamped to now", track.since_ms));
            track.since_ms = now_ms;
        }
        if let Some(pings) = track.pings.as_mut() {
            wrong.extend(repair_pings(pings, now_ms));
        }
        if !wrong.is_empty() {
            note(format!("origin {name:?}: {}", wrong.join("; ")));
            repairs.push(Write::Origin { name: name.clone(), json: origin_json(track) });
        }
    }
    state.regions.retain(|name, _| {
        let kept = config.regions().iter().any(|r| &r.name == name);
        if !kept {
            note(format!("region {name:?} is no longer in the fleet; dropped"));
        }
        kept
    });
    for (name, track) in &mut state.regions {
        if track.since_ms > round {
            note(format!("region {name:?}: since {} ms is after the last round; clamped to it", track.since_ms));
            track.since_ms = round;
        }
    }
    if let Some(overall) = state.overall.as_mut().filter(|o| o.since_ms > round) {
        note(format!("the global status: since {} ms is after the last round; clamped to it", overall.since_ms));
        overall.since_ms = round;
    }
    state.vantages.retain(|name, _| {
        let kept = config.settings().vantages.iter().any(|v| &v.name == name);
        if !kept {
            note(format!("vantage {name:?} is no longer in the fleet; dropped"));
        }
        kept
    });
    for (name, track) in &mut state.vantages {
        if track.since_ms > round || track.reported_at_ms.is_some_and(|at| at > round) {
            note(format!("vantage {name:?}: a time after the last round; clamped to it"));
            track.since_ms = track.since_ms.min(round);
            track.reported_at_ms = track.reported_at_ms.map(|at| at.min(round));
        }
    }
    // The drained scopes the last round saw: those of a name no longer in
    // the fleet are gone with it (no `lifted` is recorded for them).
    state.drained.retain(|name| config.find(name).is_some());
    state.drains.retain(|name, _| {
        let kept = config.find(name).is_some();
        if !kept {
            note(format!("the drain of {name:?} names nothing in the fleet; dropped"));
        }
        kept
    });
    // A drain is set at the time of its request, and lapses after it.
    state.drains.retain(|name, drain| {
        if drain.since_ms > now_ms {
            note(format!(
                "the drain of {name:?} is dated {} ms, after now ({now_ms} ms); its since clamped to now, the drain kept",
                drain.since_ms
            ));
            drain.since_ms = now_ms;
        }
        match drain.until_ms {
            Some(until) if until <= drain.since_ms => {
                note(format!(
                    "the drain of {name:?} lapses at {until} ms, not after it was set ({} ms): it never held; dropped",
                    drain.since_ms
                ));
                false
            }
            _ => true,
        }
    });
    // A drain that lapsed while the monitor was down is no problem: it is simply over.
    state.drains.retain(|_, drain| drain.active(now_ms));
    // API maintenance windows: what the API starts is one-off, ends after it
    // starts and lasts at most `MAX_API_LENGTH_MS`.
    state.maintenance.retain_mut(|window| match repair_window(window) {
        Ok(None) => true,
        Ok(Some(wrong)) => {
            note(wrong);
            true
        }
        Err(wrong) => {
            note(wrong);
            false
        }
    });
    // More than the API keeps is damage. One that ended while the monitor
    // was down is kept: the next round records its end.
    if state.maintenance.len() > crate::maintenance::MAX_API_WINDOWS {
        note(format!(
            "{} maintenance windows, more than the {} the API keeps; the first {} kept",
            state.maintenance.len(),
            crate::maintenance::MAX_API_WINDOWS,
            crate::maintenance::MAX_API_WINDOWS
        ));
        state.maintenance.truncate(crate::maintenance::MAX_API_WINDOWS);
    }
}

/// A check's stored pings against the clock: a ping time after `now_ms` is
/// not believed (forgotten: the check is judged from the pings before now, so
/// a ping dated in the future neither keeps it up nor refuses real pings),
/// a first watch after now is clamped to now, and the last ping is the newest
/// one kept. What was wrong and what was kept, if anything.
fn repair_pings(pings: &mut Pings, now_ms: u64) -> Option<String> {
    let mut forgotten = Vec::new();
    for (kind, at) in [
        ("success", &mut pings.success_ms),
        ("failure", &mut pings.failure_ms),
        ("start", &mut pings.started_ms),
        ("last ping", &mut pings.last_ms),
    ] {
        if let Some(ms) = at.filter(|&ms| ms > now_ms) {
            forgotten.push(format!("{kind} at {ms} ms"));
            *at = None;
        }
    }
    let mut wrong = Vec::new();
    if !forgotten.is_empty() {
        wrong.push(format!(
            "pings dated after now ({now_ms} ms) forgotten ({}); judged from the pings before now",
            forgotten.join(", ")
        ));
    }
    if pings.watched_since_ms > now_ms {
        wrong.push(format!("first watched at {} ms, after now; clamped to now", pings.watched_since_ms));
        pings.watched_since_ms = now_ms;
    }
    // The last ping is the newest of the kinds a ping sets.
    let newest = [pings.success_ms, pings.failure_ms, pings.started_ms].into_iter().flatten().max();
    if pings.last_ms != newest {
        if forgotten.is_empty() {
            wrong.push(format!(
                "the last ping ({}) is not the newest ping kept ({}); set to it",
                ms_or_none(pings.last_ms),
                ms_or_none(newest)
            ));
        }
        pings.last_ms = newest;
    }
    (!wrong.is_empty()).then(|| wrong.join("; "))
}

fn ms_or_none(ms: Option<u64>) -> String {
    ms.map_or("none".to_string(), |ms| format!("{ms} ms"))
}

/// An API window against what the API could have written
/// ([`crate::maintenance::parse_start`], [`crate::maintenance::end`]): `Ok(None)`
/// when it could have; `Ok(Some(what))` when it was repaired and kept (a
/// window longer than [`MAX_API_LENGTH_MS`] ends that long after its start:
/// the shorter window holds fewer notices, never more); `Err(what)` when it
/// is dropped (a weekly one, which only the file declares; one that ends
/// before it starts, never open).
fn repair_window(window: &mut Window) -> Result<Option<String>, String> {
    let id = printable(&window.id);
    match &mut window.schedule {
        Schedule::Weekly { .. } => Err(format!(
            "maintenance window {id:?} is weekly, which the API never starts (only the file declares one); dropped"
        )),
        Schedule::Once { start_ms, end_ms } if *end_ms < *start_ms => Err(format!(
            "maintenance window {id:?} ends at {end_ms} ms, before it starts ({start_ms} ms): never open; dropped"
        )),
        Schedule::Once { start_ms, end_ms } if *end_ms - *start_ms > MAX_API_LENGTH_MS => {
            let cut = *start_ms + MAX_API_LENGTH_MS;
            let wrong = format!(
                "maintenance window {id:?} lasts {} ms, longer than the API's {MAX_API_LENGTH_MS} ms (31 days); its end ({end_ms} ms) cut to {cut} ms, its start kept",
                *end_ms - *start_ms
            );
            *end_ms = cut;
            Ok(Some(wrong))
        }
        Schedule::Once { .. } => Ok(None),
    }
}
