//! Persistence behind a small port, as linkup does with its `StringStore`: the
//! [`Store`] trait is what the monitor needs of storage (a monitor row, one row
//! per origin, a change log, uptime rollups), [`MemoryStore`] implements it in
//! memory for host tests, and the worker implements it over the Durable
//! Object's SQLite.
//!
//! The functions here ([`restore`], [`record`], [`uptimes`], [`history`]) hold
//! every decision about what is written, read, repaired and pruned; a `Store`
//! only runs statements. They never fail outright: a problem becomes a
//! [`Problem`] to log and the monitor goes on from memory.
//!
//! **Layout.** The state is cut so that no row grows with the fleet: the
//! monitor's own row (regions, the global track, vantages, times; a few bytes
//! per region) and one row per origin (a few hundred bytes, at most about
//! 1.5 KB with 9 vantages). Durable Object SQLite refuses a row or value over
//! [`MAX_ROW_BYTES`] and a statement over [`MAX_STATEMENT_BYTES`]; every
//! statement here is a short fixed text with bound values.
//!
//! **Atomic rounds.** A round's writes are one list of [`Write`]s given to
//! [`Store::commit`], which applies all of them or none (the worker runs them
//! in `transactionSync`). A write that fails at any statement leaves the
//! previous state whole; the new state is served from memory and written in
//! full, with the changes it has not saved yet, by the next round. Until
//! then, what is written between rounds ([`operator_change`]: a ping, a
//! drain, a maintenance window) goes on top of the last committed round's
//! rows ([`Memory::committed`]), never the uncommitted round's.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::config::Config;
use crate::latency::{Histogram, Latencies, Latency, CHART_HOURS, WINDOWS};
use crate::monitor::{Advance, Change, MonitorState, OriginTrack};
use crate::schedule::Retention;
use crate::time::{bucket_start, HOUR_MS};
use crate::uptime::{daily, first_day, rollup_adds, Daily, Uptime, Uptimes, Window};
// A write lives in `write`, below `notify` (which plans writes); named here too.
pub use crate::write::Write;

/// Changes listed by `/history` at most.
pub const HISTORY_LIMIT: usize = 200;

/// The largest string, BLOB or row Durable Object SQLite stores: 2,000,000
/// bytes (Cloudflare's Durable Objects limits page).
pub const MAX_ROW_BYTES: usize = 2_000_000;

/// The longest SQL statement Durable Object SQLite runs: 100 KB.
pub const MAX_STATEMENT_BYTES: usize = 100_000;

/// Counts of rounds summed over a window: up, degraded, down (damped
/// statuses) and maintenance (rounds in a maintenance window, whatever the status).
pub type Counts = [u64; 4];

/// What the monitor needs of storage. Every method is synchronous.
pub trait Store {
    /// A storage failure, shown in logs only.
    type Error: fmt::Display;

    /// The monitor's row (JSON), if one was written.
    fn read_monitor(&self) -> Result<Option<String>, Self::Error>;
    /// Every origin row: `(name, json)`.
    fn read_origins(&self) -> Result<Vec<(String, String)>, Self::Error>;
    /// The newest change time and the newest rollup bucket start, ms.
    fn newest(&self) -> Result<(Option<u64>, Option<u64>), Self::Error>;
    /// Applies `writes` in order, all of them or none: when one fails, the
    /// storage is as it was before the call.
    fn commit(&self, writes: &[Write]) -> Result<(), Self::Error>;
    /// The newest changes (JSON), newest first, all or those of `name`; at most
    /// `limit`. Changes at the same ms come newest appended first.
    fn changes(&self, name: Option<&str>, limit: usize) -> Result<Vec<String>, Self::Error>;
    /// Sums, per name, the rollup buckets of `width_ms` starting at or after
    /// `from_ms`: the counts and the latency histogram, in one read.
    fn sum_rollups(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, Counts, Histogram)>, Self::Error>;
    /// The rollup buckets of `width_ms` starting at or after `from_ms`:
    /// `(name, bucket start ms, counts)`.
    fn rollup_buckets(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, u64, Counts)>, Self::Error>;
    /// The latency histograms of the rollup buckets of `width_ms` starting at
    /// or after `from_ms` that hold samples: `(name, bucket start ms, histogram)`.
    fn latency_buckets(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, u64, Histogram)>, Self::Error>;
    /// Every notify channel's row: `(channel, notified JSON, stats JSON)`.
    fn read_channels(&self) -> Result<Vec<(String, String, String)>, Self::Error>;
    /// Every queued notice: `(channel, seq, pending JSON)`.
    fn read_outbox(&self) -> Result<Vec<(String, u64, String)>, Self::Error>;
}

/// A storage problem the monitor survived, or a repair it made; for the log,
/// never for the public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(pub String);

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the monitor serves from: the last state and the uptimes computed with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    pub state: MonitorState,
    pub uptimes: Uptimes,
    /// Latency percentiles per window, summed with `uptimes` (the hourly
    /// chart is read when the snapshot is published: [`latency_chart`]).
    pub latency: Latencies,
    /// Whether storage holds `state` (the last commit succeeded). When not, the
    /// next round writes every origin row, not only those that moved.
    pub saved: bool,
    /// Changes of rounds whose commit failed, written with the next one.
    pub unsaved: Vec<Change>,
    /// What storage holds of the monitor's row and the origins' rows while
    /// `state` is not saved (a round's commit failed): the last committed
    /// round's state, with the operator changes made since. `None` when
    /// storage holds `state` (or, after restore, its repairs). An operator
    /// change between rounds writes its row from here ([`operator_change`]),
    /// so no part of a round that was not committed becomes durable.
    pub committed: Option<Box<MonitorState>>,
    /// Every notify channel's notified statuses, record and queue, as stored.
    pub notify: crate::notify::NotifyState,
}

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
///   (a `since`, a report) after the round that wrote it is clamped to that
///   round;
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
    (Some(Memory { state, uptimes, latency, saved, unsaved: Vec::new(), committed: None, notify }), problems)
}

/// The state of a monitor that knows nothing yet (no round, no view).
fn empty_state() -> MonitorState {
    MonitorState {
        fleet: String::new(),
        origins: BTreeMap::new(),
        regions: BTreeMap::new(),
        overall: None,
        checked_at_ms: 0,
        duration_ms: 0,
        fresh_at_ms: None,
        isolated: true,
        vantages: BTreeMap::new(),
        drains: BTreeMap::new(),
        maintenance: Vec::new(),
        drained: Default::default(),
    }
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
    for (name, track) in &mut state.origins {
        if track.since_ms > round {
            note(format!(
                "origin {name:?}: since {} ms is after the round that wrote it ({round} ms); clamped to that round",
                track.since_ms
            ));
            track.since_ms = round;
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
    // A drain that lapsed while the monitor was down is no problem: it is simply over.
    state.drains.retain(|_, drain| drain.active(now_ms));
    // API maintenance windows: more than the API keeps is damage. One that
    // ended while the monitor was down is kept: the next round records its end.
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

/// The row an operator change ([`operator_change`]) writes between rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRow<'a> {
    /// The monitor's row: a drain, an API maintenance window.
    Monitor,
    /// One origin's row: a heartbeat check's ping.
    Origin(&'a str),
}

/// Why an operator change was not made; memory and storage are then as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorError<E> {
    /// The change refused itself (its answer: a 404, 409 or 429).
    Refused(E),
    /// Storage refused the commit, saying why.
    NotSaved(String),
}

/// What a row held before a change, to put back when it is not made.
enum Kept {
    /// The monitor's row: the state without its origins.
    Monitor(Box<MonitorState>),
    /// One origin's track, or its absence.
    Origin(String, Option<OriginTrack>),
}

fn keep(state: &mut MonitorState, row: OperatorRow<'_>) -> Kept {
    match row {
        OperatorRow::Monitor => {
            let origins = std::mem::take(&mut state.origins);
            let kept = state.clone();
            state.origins = origins;
            Kept::Monitor(Box::new(kept))
        }
        OperatorRow::Origin(name) => Kept::Origin(name.to_string(), state.origins.get(name).cloned()),
    }
}

fn put_back(state: &mut MonitorState, kept: Kept) {
    match kept {
        Kept::Monitor(row) => {
            let origins = std::mem::take(&mut state.origins);
            *state = *row;
            state.origins = origins;
        }
        Kept::Origin(name, Some(track)) => {
            state.origins.insert(name, track);
        }
        Kept::Origin(name, None) => {
            state.origins.remove(&name);
        }
    }
}

/// Commits `row` of `state`: the monitor's row, or the origin's (its drop
/// when `state` has no such origin).
fn save_row(store: &impl Store, state: &MonitorState, row: OperatorRow<'_>) -> Result<(), String> {
    match row {
        OperatorRow::Monitor => save_monitor(store, state),
        OperatorRow::Origin(name) => match state.origins.get(name) {
            Some(track) => save_origin(store, name, track),
            None => store.commit(&[Write::DropOrigin(name.to_string())]).map_err(|e| e.to_string()),
        },
    }
}

/// An operator's change between rounds (a ping, a drain, an API maintenance
/// window), made in memory and committed at once, or not at all: `change`
/// edits `row` of the state and answers `Ok` (what the caller replies with)
/// or `Err` (its refusal, the state unchanged).
///
/// The change is applied to memory's state, which the answers and the next
/// round read. The row committed is the one storage holds with the change on
/// top: memory's when it is saved; after a failed round commit, that of
/// [`Memory::committed`] (the last committed round), to which `change` is
/// applied as well, so no part of the round that was not committed becomes
/// durable. `change` must therefore depend on the state and its arguments
/// only (one `now` for both). When it refuses or the commit fails, memory is
/// put back as it was and the refusal or the reason returned.
pub fn operator_change<T, E>(
    store: &impl Store,
    memory: &mut Memory,
    row: OperatorRow<'_>,
    mut change: impl FnMut(&mut MonitorState) -> Result<T, E>,
) -> Result<T, OperatorError<E>> {
    let kept = keep(&mut memory.state, row);
    let answer = match change(&mut memory.state) {
        Ok(answer) => answer,
        Err(refused) => {
            put_back(&mut memory.state, kept);
            return Err(OperatorError::Refused(refused));
        }
    };
    let stored_kept = match memory.committed.as_deref_mut() {
        None => None,
        Some(stored) => {
            let stored_kept = keep(stored, row);
            // Refused on the stored rows though not in memory: not made at all.
            if let Err(refused) = change(stored) {
                put_back(stored, stored_kept);
                put_back(&mut memory.state, kept);
                return Err(OperatorError::Refused(refused));
            }
            Some(stored_kept)
        }
    };
    if let Err(e) = save_row(store, memory.committed.as_deref().unwrap_or(&memory.state), row) {
        if let (Some(stored), Some(stored_kept)) = (memory.committed.as_deref_mut(), stored_kept) {
            put_back(stored, stored_kept);
        }
        put_back(&mut memory.state, kept);
        return Err(OperatorError::NotSaved(e));
    }
    Ok(answer)
}

/// Commits `state`'s monitor row between rounds (a drain, a maintenance
/// window from the API): the row is written whole (such calls are rare; the
/// row is written by every round anyway). The monitor calls it through
/// [`operator_change`], which chooses the state it is given.
/// An error, saying why, when the commit failed: storage is then as before.
pub fn save_monitor(store: &impl Store, state: &MonitorState) -> Result<(), String> {
    let json = monitor_json(state)?;
    if json.len() > MAX_ROW_BYTES {
        return Err(format!("the monitor's row would be {} bytes, over {MAX_ROW_BYTES}", json.len()));
    }
    store.commit(&[Write::Monitor(json)]).map_err(|e| e.to_string())
}

/// Commits one origin's row (a heartbeat check's ping, taken between
/// rounds; through [`operator_change`]). An error, saying why, when the
/// commit failed: storage is then as before.
pub fn save_origin(store: &impl Store, name: &str, track: &OriginTrack) -> Result<(), String> {
    store.commit(&[Write::Origin { name: name.to_string(), json: origin_json(track) }]).map_err(|e| e.to_string())
}

fn origin_json(track: &OriginTrack) -> String {
    serde_json::to_string(track).expect("an OriginTrack serializes")
}

/// The monitor's row: `state` without its origins.
fn monitor_json(state: &MonitorState) -> Result<String, String> {
    #[derive(serde::Serialize)]
    struct Row<'a> {
        fleet: &'a str,
        regions: &'a BTreeMap<String, crate::monitor::Track<crate::classify::Health>>,
        overall: Option<crate::monitor::Track<crate::aggregate::Overall>>,
        checked_at_ms: u64,
        duration_ms: u64,
        fresh_at_ms: Option<u64>,
        isolated: bool,
        vantages: &'a BTreeMap<String, crate::monitor::VantageTrack>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        drains: &'a BTreeMap<String, crate::drain::Drain>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        maintenance: &'a [crate::maintenance::Window],
        #[serde(skip_serializing_if = "std::collections::BTreeSet::is_empty")]
        drained: &'a std::collections::BTreeSet<String>,
    }
    serde_json::to_string(&Row {
        fleet: &state.fleet,
        regions: &state.regions,
        overall: state.overall,
        checked_at_ms: state.checked_at_ms,
        duration_ms: state.duration_ms,
        fresh_at_ms: state.fresh_at_ms,
        isolated: state.isolated,
        vantages: &state.vantages,
        drains: &state.drains,
        maintenance: &state.maintenance,
        drained: &state.drained,
    })
    .map_err(|e| e.to_string())
}

/// The writes of one round, given what storage held before it (`prev`): the
/// monitor's row, the rows of origins that moved ([`OriginTrack::same_but_latency`]
/// says which; all of them when `prev` was not saved), drops of origins that
/// left, the round's changes (with those not saved before), its rollups and
/// the prune.
pub fn round_writes(config: &Config, prev: Option<&Memory>, advance: &Advance) -> Result<Vec<Write>, String> {
    let state = &advance.state;
    let mut writes = vec![Write::Monitor(monitor_json(state)?)];
    let before = prev.filter(|m| m.saved).map(|m| &m.state.origins);
    for (name, track) in &state.origins {
        if before.and_then(|b| b.get(name)).is_none_or(|old| !old.same_but_latency(track)) {
            writes.push(Write::Origin { name: name.clone(), json: origin_json(track) });
        }
    }
    if let Some(prev) = prev {
        // Those stored (`committed`, after a failed commit) or served before, and gone now.
        let stored = prev.committed.iter().flat_map(|c| c.origins.keys());
        let gone: BTreeSet<&String> =
            prev.state.origins.keys().chain(stored).filter(|n| !state.origins.contains_key(*n)).collect();
        writes.extend(gone.into_iter().map(|name| Write::DropOrigin(name.clone())));
    }
    let unsaved = prev.map(|m| m.unsaved.as_slice()).unwrap_or_default();
    for change in unsaved.iter().chain(&advance.changes) {
        let json = serde_json::to_string(change).map_err(|e| e.to_string())?;
        writes.push(Write::Change { at_ms: change.at_ms, name: change.name.clone(), json });
    }
    writes.extend(rollup_adds(config, advance).into_iter().map(Write::Rollup));
    writes.push(Write::Prune(Retention::at(config.settings(), state.checked_at_ms)));
    Ok(writes)
}

/// Records one round: commits its writes ([`round_writes`]) atomically and
/// returns what to serve from next. A failed commit is a problem, not an
/// error: the storage keeps the previous state whole, the new state is served
/// from memory (with the uptimes of `prev` when they cannot be read), and the
/// next round writes it in full with the changes not saved. Until then,
/// [`Memory::committed`] keeps the state storage holds (that of the last
/// committed round; nothing when no round was), for the operator changes
/// made between rounds to be written on top of.
pub fn record(store: &impl Store, config: &Config, prev: Option<Memory>, advance: Advance) -> (Memory, Vec<Problem>) {
    let mut problems = Vec::new();
    let told = prev.as_ref().map(|m| m.notify.clone()).unwrap_or_default();
    let planned = crate::notify::plan(
        config,
        &told,
        prev.as_ref().map(|m| &m.state),
        &advance.state,
        advance.state.checked_at_ms,
    );
    let commit = round_writes(config, prev.as_ref(), &advance).and_then(|mut writes| {
        writes.extend(planned.writes);
        store.commit(&writes).map_err(|e| e.to_string())
    });
    // A failed commit told nothing: the next round plans again from what was told.
    let notify = if commit.is_ok() { planned.state } else { told };
    let (saved, unsaved) = match commit {
        Ok(()) => (true, Vec::new()),
        Err(e) => {
            problems
                .push(Problem(format!("storage write failed; the previous state is kept, serving from memory: {e}")));
            let mut unsaved = prev.as_ref().map(|m| m.unsaved.clone()).unwrap_or_default();
            unsaved.extend(advance.changes.iter().cloned());
            (false, unsaved)
        }
    };
    // Moved, never copied: `prev`'s state is dropped here unless it is what storage holds.
    let (fallback, stored) = match prev {
        Some(m) => (Some((m.uptimes, m.latency)), m.committed.unwrap_or_else(|| Box::new(m.state))),
        None => (None, Box::new(empty_state())),
    };
    let committed = (!saved).then_some(stored);
    let at = advance.state.checked_at_ms;
    let (uptimes, latency) = windows_or_log(store, at, &mut problems, fallback);
    (Memory { state: advance.state, uptimes, latency, saved, unsaved, committed, notify }, problems)
}

fn windows_or_log(
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

/// `windows` (an origin's latency percentiles, from [`Memory::latency`]) with
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

/// A [`Store`] in memory, for host tests. It refuses what Durable Object
/// SQLite refuses (a value or row over [`MAX_ROW_BYTES`]), and a commit applies
/// all of its writes or none. `fail_writes` makes every commit fail;
/// `fail_at` makes the n-th write (counted from 0 across commits) fail.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RefCell<Tables>,
    /// While set, every commit fails.
    pub fail_writes: Cell<bool>,
    /// When `Some(n)`, the n-th write from now fails (0: the next one).
    pub fail_at: Cell<Option<usize>>,
    /// The largest value a commit has written, bytes.
    pub largest_value: Cell<usize>,
}

#[derive(Debug, Default, Clone)]
struct Tables {
    monitor: Option<String>,
    origins: BTreeMap<String, String>,
    /// (at_ms, append order, name, json).
    changes: Vec<(u64, u64, String, String)>,
    /// (name, width_ms, bucket_ms) -> counts and latencies.
    rollups: BTreeMap<(String, u64, u64), (Counts, Histogram)>,
    appended: u64,
    /// channel -> (notified JSON, stats JSON).
    channels: BTreeMap<String, (String, String)>,
    /// (channel, seq) -> pending JSON.
    outbox: BTreeMap<(String, u64), String>,
}

/// Why a [`MemoryStore`] refused a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteRefused {
    /// `fail_writes` is set.
    Failing,
    /// `fail_at` reached this write of the commit.
    FailedAt(usize),
    /// A value over [`MAX_ROW_BYTES`], as SQLite's `SQLITE_TOOBIG`.
    TooBig(usize),
}

impl fmt::Display for WriteRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteRefused::Failing => f.write_str("the memory store refuses writes (fail_writes)"),
            WriteRefused::FailedAt(i) => write!(f, "write {i} of the commit failed (fail_at)"),
            WriteRefused::TooBig(n) => write!(f, "string or blob too big: {n} bytes (SQLITE_TOOBIG)"),
        }
    }
}

impl MemoryStore {
    /// Replaces the monitor's row with arbitrary text, as damaged storage would.
    pub fn put_raw_monitor(&self, text: &str) {
        self.tables.borrow_mut().monitor = Some(text.to_string());
    }

    /// Replaces or adds an origin's row with arbitrary text.
    pub fn put_raw_origin(&self, name: &str, text: &str) {
        self.tables.borrow_mut().origins.insert(name.to_string(), text.to_string());
    }

    /// Appends a change row with arbitrary text.
    pub fn put_raw_change(&self, at_ms: u64, name: &str, text: &str) {
        let mut t = self.tables.borrow_mut();
        let order = t.appended;
        t.appended += 1;
        t.changes.push((at_ms, order, name.to_string(), text.to_string()));
    }

    /// Deletes the monitor's row, as a dropped table would.
    pub fn drop_monitor(&self) {
        self.tables.borrow_mut().monitor = None;
    }

    /// The monitor's row and the origin rows, as stored.
    pub fn raw(&self) -> (Option<String>, BTreeMap<String, String>) {
        let t = self.tables.borrow();
        (t.monitor.clone(), t.origins.clone())
    }

    /// The notify outbox as stored: `(channel, seq) -> pending JSON`.
    pub fn outbox(&self) -> BTreeMap<(String, u64), String> {
        self.tables.borrow().outbox.clone()
    }

    /// Rows held: (changes, rollup buckets).
    pub fn rows(&self) -> (usize, usize) {
        let t = self.tables.borrow();
        (t.changes.len(), t.rollups.len())
    }
}

fn apply(t: &mut Tables, write: &Write) {
    match write {
        Write::Monitor(json) => t.monitor = Some(json.clone()),
        Write::Origin { name, json } => {
            t.origins.insert(name.clone(), json.clone());
        }
        Write::DropOrigin(name) => {
            t.origins.remove(name);
        }
        Write::Change { at_ms, name, json } => {
            let order = t.appended;
            t.appended += 1;
            t.changes.push((*at_ms, order, name.clone(), json.clone()));
        }
        Write::Rollup(add) => {
            let (counts, latency) = t.rollups.entry((add.name.clone(), add.width_ms, add.bucket_ms)).or_default();
            if let Some(ms) = add.latency_ms {
                latency.merge(&Histogram::of(ms));
            }
            counts[0] = counts[0].saturating_add(u64::from(add.up));
            counts[1] = counts[1].saturating_add(u64::from(add.degraded));
            counts[2] = counts[2].saturating_add(u64::from(add.down));
            counts[3] = counts[3].saturating_add(u64::from(add.maintenance));
        }
        Write::Prune(retention) => {
            t.changes.retain(|(at, ..)| *at >= retention.changes_before_ms);
            t.rollups.retain(|(_, width, bucket), _| *bucket >= retention.rollups_before_ms(*width));
        }
        Write::DropAfter(at_ms) => {
            t.changes.retain(|(at, ..)| at <= at_ms);
            t.rollups.retain(|(_, _, bucket), _| bucket <= at_ms);
        }
        Write::Notified { channel, json } => {
            t.channels.entry(channel.clone()).or_insert_with(|| ("{}".into(), "{}".into())).0 = json.clone();
        }
        Write::ChannelStats { channel, json } => {
            t.channels.entry(channel.clone()).or_insert_with(|| ("{}".into(), "{}".into())).1 = json.clone();
        }
        Write::Enqueue { channel, seq, json } => {
            t.outbox.insert((channel.clone(), *seq), json.clone());
        }
        Write::Dequeue { channel, seq } => {
            t.outbox.remove(&(channel.clone(), *seq));
        }
        Write::DropChannel(channel) => {
            t.channels.remove(channel);
            t.outbox.retain(|(c, _), _| c != channel);
        }
    }
}

impl Store for MemoryStore {
    type Error = WriteRefused;

    fn read_channels(&self) -> Result<Vec<(String, String, String)>, WriteRefused> {
        Ok(self.tables.borrow().channels.iter().map(|(c, (n, s))| (c.clone(), n.clone(), s.clone())).collect())
    }

    fn read_outbox(&self) -> Result<Vec<(String, u64, String)>, WriteRefused> {
        Ok(self.tables.borrow().outbox.iter().map(|((c, seq), j)| (c.clone(), *seq, j.clone())).collect())
    }

    fn read_monitor(&self) -> Result<Option<String>, WriteRefused> {
        Ok(self.tables.borrow().monitor.clone())
    }

    fn read_origins(&self) -> Result<Vec<(String, String)>, WriteRefused> {
        Ok(self.tables.borrow().origins.iter().map(|(n, j)| (n.clone(), j.clone())).collect())
    }

    fn newest(&self) -> Result<(Option<u64>, Option<u64>), WriteRefused> {
        let t = self.tables.borrow();
        Ok((t.changes.iter().map(|c| c.0).max(), t.rollups.keys().map(|k| k.2).max()))
    }

    fn commit(&self, writes: &[Write]) -> Result<(), WriteRefused> {
        if self.fail_writes.get() {
            return Err(WriteRefused::Failing);
        }
        // Applied to a copy, kept only when every write went through.
        let mut copy = self.tables.borrow().clone();
        for (i, write) in writes.iter().enumerate() {
            match self.fail_at.get() {
                Some(0) => {
                    self.fail_at.set(None);
                    return Err(WriteRefused::FailedAt(i));
                }
                Some(n) => self.fail_at.set(Some(n - 1)),
                None => {}
            }
            let bytes = write.value_bytes();
            if bytes > MAX_ROW_BYTES {
                return Err(WriteRefused::TooBig(bytes));
            }
            self.largest_value.set(self.largest_value.get().max(bytes));
            apply(&mut copy, write);
        }
        *self.tables.borrow_mut() = copy;
        Ok(())
    }

    fn changes(&self, name: Option<&str>, limit: usize) -> Result<Vec<String>, WriteRefused> {
        let t = self.tables.borrow();
        let mut rows: Vec<_> = t.changes.iter().filter(|(_, _, n, _)| name.is_none_or(|name| name == n)).collect();
        rows.sort_by_key(|row| std::cmp::Reverse((row.0, row.1)));
        Ok(rows.into_iter().take(limit).map(|(.., json)| json.clone()).collect())
    }

    fn sum_rollups(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, Counts, Histogram)>, WriteRefused> {
        let mut sums: BTreeMap<String, (Counts, Histogram)> = BTreeMap::new();
        for ((name, width, bucket), (counts, latency)) in self.tables.borrow().rollups.iter() {
            if *width == width_ms && *bucket >= from_ms {
                let (sum, histogram) = sums.entry(name.clone()).or_default();
                (0..4).for_each(|i| sum[i] = sum[i].saturating_add(counts[i]));
                histogram.merge(latency);
            }
        }
        Ok(sums.into_iter().map(|(name, (counts, histogram))| (name, counts, histogram)).collect())
    }

    fn rollup_buckets(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, u64, Counts)>, WriteRefused> {
        Ok(self
            .tables
            .borrow()
            .rollups
            .iter()
            .filter(|((_, width, bucket), _)| *width == width_ms && *bucket >= from_ms)
            .map(|((name, _, bucket), (counts, _))| (name.clone(), *bucket, *counts))
            .collect())
    }

    fn latency_buckets(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, u64, Histogram)>, WriteRefused> {
        Ok(self
            .tables
            .borrow()
            .rollups
            .iter()
            .filter(|((_, width, bucket), (_, h))| *width == width_ms && *bucket >= from_ms && h.count() > 0)
            .map(|((name, _, bucket), (_, h))| (name.clone(), *bucket, *h))
            .collect())
    }
}
