//! [`MemoryStore`], the [`Store`] in memory for host tests: the same
//! limits as Durable Object SQLite, all-or-nothing commits, and failures on
//! demand.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;

use super::{Counts, Store, Write, MAX_ROW_BYTES};
use crate::latency::Histogram;

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
    /// (objective, width_ms, bucket_ms) -> (good, bad, keep_until_ms).
    slo_buckets: BTreeMap<(String, u64, u64), (u64, u64, u64)>,
    /// objective -> state JSON.
    slo_states: BTreeMap<String, String>,
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

    /// The objectives' buckets as stored: `(objective, width_ms, bucket_ms)
    /// -> (good, bad, keep_until_ms)`.
    pub fn slo_buckets(&self) -> BTreeMap<(String, u64, u64), (u64, u64, u64)> {
        self.tables.borrow().slo_buckets.clone()
    }

    /// Adds or replaces an objective's bucket with arbitrary counts, as
    /// damaged storage would.
    pub fn put_raw_slo_bucket(&self, slo: &str, width_ms: u64, bucket_ms: u64, counts: (u64, u64, u64)) {
        self.tables.borrow_mut().slo_buckets.insert((slo.to_string(), width_ms, bucket_ms), counts);
    }

    /// Replaces or adds an objective's state row with arbitrary text.
    pub fn put_raw_slo_state(&self, slo: &str, text: &str) {
        self.tables.borrow_mut().slo_states.insert(slo.to_string(), text.to_string());
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
            t.slo_buckets.retain(|_, (_, _, keep_until)| *keep_until > retention.now_ms);
        }
        Write::DropAfter(at_ms) => {
            t.changes.retain(|(at, ..)| at <= at_ms);
            t.rollups.retain(|(_, _, bucket), _| bucket <= at_ms);
            t.slo_buckets.retain(|(_, _, bucket), _| bucket <= at_ms);
        }
        Write::Slo(add) => {
            let row = t.slo_buckets.entry((add.slo.clone(), add.width_ms, add.bucket_ms)).or_default();
            row.0 = row.0.saturating_add(u64::from(add.good));
            row.1 = row.1.saturating_add(u64::from(add.bad));
            row.2 = add.keep_until_ms;
        }
        Write::SloState { slo, json } => {
            t.slo_states.insert(slo.clone(), json.clone());
        }
        Write::DropSlo(slo) => {
            t.slo_states.remove(slo);
            t.slo_buckets.retain(|(name, ..), _| name != slo);
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
        let buckets = t.rollups.keys().map(|k| k.2).chain(t.slo_buckets.keys().map(|k| k.2));
        Ok((t.changes.iter().map(|c| c.0).max(), buckets.max()))
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

    fn sum_slo(&self, width_ms: u64, from_ms: u64, until_ms: u64) -> Result<Vec<(String, u64, u64)>, WriteRefused> {
        let mut sums: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for ((slo, width, bucket), (good, bad, _)) in self.tables.borrow().slo_buckets.iter() {
            if *width == width_ms && (from_ms..=until_ms).contains(bucket) {
                let sum = sums.entry(slo.clone()).or_default();
                *sum = (sum.0.saturating_add(*good), sum.1.saturating_add(*bad));
            }
        }
        Ok(sums.into_iter().map(|(slo, (good, bad))| (slo, good, bad)).collect())
    }

    fn read_slo_states(&self) -> Result<Vec<(String, String)>, WriteRefused> {
        Ok(self.tables.borrow().slo_states.iter().map(|(s, j)| (s.clone(), j.clone())).collect())
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
