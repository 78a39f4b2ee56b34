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
//! **The monitor's row at its worst.** At the fleet limit (10,000 regions of
//! 64-character names, 9 vantages) its fleet part is 1.14 MB. What operators
//! add is bounded in bytes, not only in counts: at most
//! [`MAX_DRAINS`](crate::drain::MAX_DRAINS) drains of at most 944 bytes each
//! (a 64-character name, a reason of at most
//! [`MAX_REASON_BYTES`](crate::drain::MAX_REASON_BYTES), two times), as many
//! names of scopes the last round found drained, and at most
//! [`MAX_API_WINDOWS`](crate::maintenance::MAX_API_WINDOWS) windows of at most
//! 7.8 KB each (100 names of 64 characters, an id, a reason of 800 bytes,
//! two times). With all of it at its worst at once the row is 1,802,830 bytes,
//! under 1.9 MB (`every_bound_at_its_worst_fits_the_platform_at_the_fleet_limit`):
//! so every drain and window the API accepts is committed, and so is every
//! round after it: past a bound the API refuses (409 for a count, 400 for a
//! field), never the storage (500).
//!
//! **Atomic rounds.** A round's writes are one list of [`Write`]s given to
//! [`Store::commit`], which applies all of them or none (the worker runs them
//! in `transactionSync`). A write that fails at any statement leaves the
//! previous state whole; the new state is served from memory and written in
//! full, with the changes it has not saved yet, by the next round. Until
//! then, what is written between rounds ([`operator_change`]: a ping, a
//! drain, a maintenance window) goes on top of the last committed round's
//! rows ([`Memory::committed`]), never the uncommitted round's.
//!
//! **Files.** This file holds the port ([`Store`], [`Memory`], [`Problem`])
//! and the rows' encoding; `memory.rs` the in-memory fake ([`MemoryStore`]);
//! `read.rs` what an answer reads ([`windows`], [`uptimes`], [`latency_chart`],
//! [`history`]); `repair.rs` [`restore`] with its repairs; `round.rs` what a
//! round writes ([`round_writes`], [`record`]); `operator.rs` what an operator
//! writes between rounds ([`operator_change`], [`save_monitor`], [`save_origin`]).

mod memory;
mod operator;
mod read;
mod repair;
mod round;

use std::collections::BTreeMap;
use std::fmt;

use crate::latency::{Histogram, Latencies};
use crate::monitor::{Change, MonitorState, OriginTrack};
use crate::uptime::Uptimes;
// A write lives in `write`, below `notify` (which plans writes); named here too.
pub use crate::write::Write;

pub use memory::{MemoryStore, WriteRefused};
pub use operator::{operator_change, save_monitor, save_origin, OperatorError, OperatorRow};
pub use read::{daily_uptimes, history, latency_chart, slo_sums, uptimes, windows};
pub use repair::restore;
pub use round::{record, round_writes};

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
    /// The newest change time and the newest bucket start of the uptime
    /// rollups and the objectives' counts, ms.
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
    /// Sums, per objective, its buckets of `width_ms` starting from
    /// `from_ms` up to `until_ms` (both included): `(objective, good, bad)`,
    /// in one read. A bucket dated after `until_ms` (damage) never counts.
    fn sum_slo(&self, width_ms: u64, from_ms: u64, until_ms: u64) -> Result<Vec<(String, u64, u64)>, Self::Error>;
    /// Every objective's state row: `(objective, SloState JSON)`.
    fn read_slo_states(&self) -> Result<Vec<(String, String)>, Self::Error>;
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
    /// Every objective's windows and state after the last round.
    pub slo: SloMemory,
}

// The objectives' part of `Memory` lives in `slo` (render shows it); named here too.
pub use crate::slo::SloMemory;

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
        windows_open: None,
    }
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
        #[serde(skip_serializing_if = "Option::is_none")]
        windows_open: Option<&'a std::collections::BTreeSet<String>>,
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
        windows_open: state.windows_open.as_ref(),
    })
    .map_err(|e| e.to_string())
}
