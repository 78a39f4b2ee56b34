//! One write of a round ([`Write`]): the rows storage keeps, as every layer
//! that persists something says it. Here, below [`crate::notify`] (which plans
//! the writes of what a round tells) and [`crate::store`] (which commits a
//! round's writes and the notices' in one transaction).

use crate::latency::BUCKETS;
use crate::schedule::Retention;
use crate::slo::SloAdd;
use crate::uptime::RollupAdd;

/// One write of a round, in the order [`crate::store::Store::commit`] applies them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Replaces the monitor's row: the [`crate::monitor::MonitorState`] without its origins, as JSON.
    Monitor(String),
    /// Replaces the row of origin `name` (its [`crate::monitor::OriginTrack`] as JSON).
    Origin { name: String, json: String },
    /// Deletes the row of origin `name` (removed from the fleet, or damaged).
    DropOrigin(String),
    /// Appends one change (JSON) of `name` (`""` for the global view and the
    /// config) at `at_ms`.
    Change { at_ms: u64, name: String, json: String },
    /// Adds counts (and a latency to its histogram) to one rollup bucket,
    /// creating it at zero.
    Rollup(RollupAdd),
    /// Deletes changes and rollup buckets past retention, and an
    /// objective's buckets no window reaches any more.
    Prune(Retention),
    /// Deletes changes, rollup buckets and objectives' buckets dated after
    /// this time, ms (damage: they would never be pruned).
    DropAfter(u64),
    /// Adds a slice to one bucket of an objective's counts, creating it at zero.
    Slo(SloAdd),
    /// Replaces what objective `slo` keeps between rounds
    /// ([`crate::slo::SloState`], JSON).
    SloState { slo: String, json: String },
    /// Deletes an objective's buckets and state (no longer in the config).
    DropSlo(String),
    /// Replaces what a notify channel last told ([`crate::notify::Notified`], JSON).
    Notified { channel: String, json: String },
    /// Replaces a notify channel's delivery record ([`crate::notify::Stats`], JSON).
    ChannelStats { channel: String, json: String },
    /// Queues, or replaces, a channel's notice `seq` ([`crate::notify::Pending`], JSON).
    Enqueue { channel: String, seq: u64, json: String },
    /// Removes a channel's notice `seq` from the queue (delivered or dropped).
    Dequeue { channel: String, seq: u64 },
    /// Deletes a channel's state and queue (no longer in the config).
    DropChannel(String),
}

impl Write {
    /// The bytes of the largest value this write binds: what must fit in
    /// [`crate::store::MAX_ROW_BYTES`].
    pub fn value_bytes(&self) -> usize {
        match self {
            Write::Monitor(json) => json.len(),
            Write::Origin { name, json } => name.len() + json.len(),
            Write::Change { name, json, .. } => name.len() + json.len(),
            Write::DropOrigin(name) => name.len(),
            Write::Rollup(add) => add.name.len() + 8 * (6 + BUCKETS),
            Write::Notified { channel, json }
            | Write::ChannelStats { channel, json }
            | Write::Enqueue { channel, json, .. } => channel.len() + json.len(),
            Write::Dequeue { channel, .. } | Write::DropChannel(channel) => channel.len(),
            Write::Slo(add) => add.value_bytes(),
            Write::SloState { slo, json } => slo.len() + json.len(),
            Write::DropSlo(slo) => slo.len(),
            Write::Prune(_) | Write::DropAfter(_) => 0,
        }
    }
}
