//! Persistence behind a small port, as linkup does with its `StringStore`: the
//! [`Store`] trait is what the monitor needs of storage (a state row, a change
//! log, uptime rollups), [`MemoryStore`] implements it in memory for host tests,
//! and the worker implements it over the Durable Object's SQLite.
//!
//! The functions here ([`restore`], [`record`], [`uptimes`], [`history`]) hold
//! every decision about what is written, read and pruned; a `Store` only runs
//! statements. They never fail outright: a problem becomes a [`Problem`] to log
//! and the monitor goes on from memory.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;

use crate::config::Config;
use crate::monitor::{Advance, Change, MonitorState};
use crate::schedule::Retention;
use crate::uptime::{daily, first_day, rollup_adds, Daily, RollupAdd, Uptime, Uptimes, Window, HOUR_MS};

/// Changes listed by `/history` at most.
pub const HISTORY_LIMIT: usize = 200;

/// Counts of damped statuses summed over a window: up, degraded, down.
pub type Counts = [u64; 3];

/// What the monitor needs of storage. Every method is synchronous, so the
/// writes of one round run with no `await` between them (a Durable Object then
/// commits them together).
pub trait Store {
    /// A storage failure, shown in logs only.
    type Error: fmt::Display;

    /// The state row (JSON), if one was written.
    fn read_state(&self) -> Result<Option<String>, Self::Error>;
    /// Replaces the state row.
    fn write_state(&self, json: &str) -> Result<(), Self::Error>;
    /// Appends one change (JSON) of `name` (`""` for the global view) at `at_ms`.
    fn append_change(&self, at_ms: u64, name: &str, json: &str) -> Result<(), Self::Error>;
    /// The newest changes (JSON), newest first, all or those of `name`; at most
    /// `limit`. Changes at the same ms come newest appended first.
    fn changes(&self, name: Option<&str>, limit: usize) -> Result<Vec<String>, Self::Error>;
    /// Adds counts to one rollup bucket, creating it at zero.
    fn add_rollup(&self, add: &RollupAdd) -> Result<(), Self::Error>;
    /// Sums, per name, the rollup buckets of `width_ms` starting at or after `from_ms`.
    fn sum_rollups(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, Counts)>, Self::Error>;
    /// The rollup buckets of `width_ms` starting at or after `from_ms`:
    /// `(name, bucket start ms, counts)`.
    fn rollup_buckets(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, u64, Counts)>, Self::Error>;
    /// Deletes changes before `retention.changes_before_ms` and rollup buckets
    /// before their width's cut-off.
    fn prune(&self, retention: &Retention) -> Result<(), Self::Error>;
}

/// A storage problem the monitor survived; for the log, never for the public.
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
}

/// Loads the persisted state, with uptimes at `now_ms`. A missing row is `None`;
/// an unreadable or damaged one is `None` with a problem (the monitor starts
/// afresh rather than stop probing).
pub fn restore(store: &impl Store, now_ms: u64) -> (Option<Memory>, Vec<Problem>) {
    let mut problems = Vec::new();
    let state = match store.read_state() {
        Ok(Some(json)) => match serde_json::from_str::<MonitorState>(&json) {
            Ok(state) => Some(state),
            Err(e) => {
                problems.push(Problem(format!("the stored state is damaged, starting afresh: {e}")));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            problems.push(Problem(format!("reading the stored state failed, starting afresh: {e}")));
            None
        }
    };
    let memory = state.map(|state| Memory { state, uptimes: uptimes_or_log(store, now_ms, &mut problems, None) });
    (memory, problems)
}

/// Records one round: writes the state row, its changes and rollup counts,
/// prunes what is past retention, and returns what to serve from next. A failed
/// write is a problem, not an error: the new state is served from memory (and
/// the uptimes of `prev` kept when they cannot be read), never half of it.
pub fn record(store: &impl Store, config: &Config, prev: Option<Memory>, advance: Advance) -> (Memory, Vec<Problem>) {
    let mut problems = Vec::new();
    if let Err(e) = write_round(store, config, &advance) {
        problems.push(Problem(format!("storage write failed; serving from memory: {e}")));
    }
    let at = advance.state.checked_at_ms;
    let uptimes = uptimes_or_log(store, at, &mut problems, prev.map(|m| m.uptimes));
    (Memory { state: advance.state, uptimes }, problems)
}

fn write_round<S: Store>(store: &S, config: &Config, advance: &Advance) -> Result<(), String> {
    let err = |e: S::Error| e.to_string();
    let state = serde_json::to_string(&advance.state).map_err(|e| e.to_string())?;
    store.write_state(&state).map_err(err)?;
    for change in &advance.changes {
        let json = serde_json::to_string(change).map_err(|e| e.to_string())?;
        store.append_change(change.at_ms, &change.name, &json).map_err(err)?;
    }
    for add in rollup_adds(config, advance) {
        store.add_rollup(&add).map_err(err)?;
    }
    store.prune(&Retention::at(&config.settings, advance.state.checked_at_ms)).map_err(err)
}

fn uptimes_or_log(store: &impl Store, now_ms: u64, problems: &mut Vec<Problem>, fallback: Option<Uptimes>) -> Uptimes {
    uptimes(store, now_ms).unwrap_or_else(|e| {
        problems.push(Problem(format!("computing uptime failed: {e}")));
        fallback.unwrap_or_default()
    })
}

/// Uptime of every origin and region over each window ending at `now_ms`.
pub fn uptimes<S: Store>(store: &S, now_ms: u64) -> Result<Uptimes, S::Error> {
    let mut out = Uptimes::new();
    for (w, window) in Window::ALL.iter().enumerate() {
        for (name, [up, degraded, down]) in store.sum_rollups(window.bucket_ms(), window.first_bucket(now_ms))? {
            out.entry(name).or_insert([None; 4])[w] = Uptime::from_counts(up, degraded, down);
        }
    }
    Ok(out)
}

/// The status page's 30-day strips ending today (`now_ms`), from the hour rollups.
pub fn daily_uptimes<S: Store>(store: &S, now_ms: u64) -> Result<Daily, S::Error> {
    Ok(daily(&store.rollup_buckets(HOUR_MS, first_day(now_ms))?, now_ms))
}

/// Recorded changes, newest first, at most [`HISTORY_LIMIT`]: all of them or
/// those of `name`. A row that does not decode is skipped.
pub fn history<S: Store>(store: &S, name: Option<&str>) -> Result<Vec<Change>, S::Error> {
    Ok(store.changes(name, HISTORY_LIMIT)?.iter().filter_map(|json| serde_json::from_str(json).ok()).collect())
}

/// A [`Store`] in memory, for host tests; `fail_writes` makes every write fail.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RefCell<Option<String>>,
    /// (at_ms, append order, name, json).
    changes: RefCell<Vec<(u64, u64, String, String)>>,
    /// (name, width_ms, bucket_ms) -> counts.
    rollups: RefCell<BTreeMap<(String, u64, u64), Counts>>,
    appended: Cell<u64>,
    /// While set, every write fails.
    pub fail_writes: Cell<bool>,
}

/// The error of a [`MemoryStore`] whose `fail_writes` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteRefused;

impl fmt::Display for WriteRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the memory store refuses writes (fail_writes)")
    }
}

impl MemoryStore {
    fn writable(&self) -> Result<(), WriteRefused> {
        if self.fail_writes.get() {
            Err(WriteRefused)
        } else {
            Ok(())
        }
    }

    /// Replaces the state row with arbitrary text, as damaged storage would.
    pub fn put_raw_state(&self, text: &str) {
        *self.state.borrow_mut() = Some(text.to_string());
    }

    /// Rows held: (changes, rollup buckets).
    pub fn rows(&self) -> (usize, usize) {
        (self.changes.borrow().len(), self.rollups.borrow().len())
    }
}

impl Store for MemoryStore {
    type Error = WriteRefused;

    fn read_state(&self) -> Result<Option<String>, WriteRefused> {
        Ok(self.state.borrow().clone())
    }

    fn write_state(&self, json: &str) -> Result<(), WriteRefused> {
        self.writable()?;
        *self.state.borrow_mut() = Some(json.to_string());
        Ok(())
    }

    fn append_change(&self, at_ms: u64, name: &str, json: &str) -> Result<(), WriteRefused> {
        self.writable()?;
        let order = self.appended.get();
        self.appended.set(order + 1);
        self.changes.borrow_mut().push((at_ms, order, name.to_string(), json.to_string()));
        Ok(())
    }

    fn changes(&self, name: Option<&str>, limit: usize) -> Result<Vec<String>, WriteRefused> {
        let mut rows: Vec<_> =
            self.changes.borrow().iter().filter(|(_, _, n, _)| name.is_none_or(|name| name == n)).cloned().collect();
        rows.sort_by_key(|row| std::cmp::Reverse((row.0, row.1)));
        Ok(rows.into_iter().take(limit).map(|(.., json)| json).collect())
    }

    fn add_rollup(&self, add: &RollupAdd) -> Result<(), WriteRefused> {
        self.writable()?;
        let mut rollups = self.rollups.borrow_mut();
        let counts = rollups.entry((add.name.clone(), add.width_ms, add.bucket_ms)).or_default();
        counts[0] += u64::from(add.up);
        counts[1] += u64::from(add.degraded);
        counts[2] += u64::from(add.down);
        Ok(())
    }

    fn sum_rollups(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, Counts)>, WriteRefused> {
        let mut sums: BTreeMap<String, Counts> = BTreeMap::new();
        for ((name, width, bucket), counts) in self.rollups.borrow().iter() {
            if *width == width_ms && *bucket >= from_ms {
                let sum = sums.entry(name.clone()).or_default();
                (0..3).for_each(|i| sum[i] += counts[i]);
            }
        }
        Ok(sums.into_iter().collect())
    }

    fn rollup_buckets(&self, width_ms: u64, from_ms: u64) -> Result<Vec<(String, u64, Counts)>, WriteRefused> {
        Ok(self
            .rollups
            .borrow()
            .iter()
            .filter(|((_, width, bucket), _)| *width == width_ms && *bucket >= from_ms)
            .map(|((name, _, bucket), counts)| (name.clone(), *bucket, *counts))
            .collect())
    }

    fn prune(&self, retention: &Retention) -> Result<(), WriteRefused> {
        self.writable()?;
        self.changes.borrow_mut().retain(|(at, ..)| *at >= retention.changes_before_ms);
        self.rollups.borrow_mut().retain(|(_, width, bucket), _| *bucket >= retention.rollups_before_ms(*width));
        Ok(())
    }
}
