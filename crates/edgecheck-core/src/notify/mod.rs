//! Notifications: what each `[[notify]]` channel is told after a round, and
//! how its deliveries are retried. Pure: the monitor gives it the round's
//! state and the answers of the receivers, with the time; it gives back the
//! writes to commit and the requests to send ([`deliver`]).
//!
//! - **Diffed against what was told.** Each channel keeps the status it last
//!   told per scope ([`Notified`]: `global`, `region:<name>`, `origin:<name>`,
//!   `vantage:<name>`). A round tells a channel only what differs from that,
//!   so a restart, a redeploy or a change of fleet re-tells nothing, and the
//!   first `up` of a scope is a silent baseline (a first `down` is told).
//!   Scopes not yet judged (`unknown`) are never told.
//! - **Held during maintenance.** A scope a maintenance window covers at the
//!   round ([`crate::maintenance`]) is treated as not judged: what was told
//!   before the window stands, so a down and back within it tells nothing,
//!   and the first round after it tells once, only if the damped status
//!   then differs from what was told. A `cloudflare_pool` channel is not
//!   held: it follows readiness, which a window never changes.
//! - **In the round's commit.** [`plan`]'s writes (the notified statuses and
//!   the queued [`Notice`]s) go into the same atomic commit as the round's
//!   state ([`crate::store::record`]); when that commit fails, nothing was
//!   told and the next round plans again from the same notified statuses.
//! - **Rolled up.** A round's changes to one channel are one [`Notice`]: the
//!   counts of all of them and the first [`NOTICE_CHANGES`] listed.
//! - **At least once, ordered, with a stable id.** A channel's notices are
//!   delivered one at a time in order (a resolve never overtakes its
//!   trigger), several in one delivery pass, retried with capped exponential
//!   backoff and full jitter ([`retry_wait_ms`]) or as `Retry-After` asks
//!   ([`retry_after_ms`], floored by [`retry_floor_ms`]) until accepted or
//!   `max_age_s` old, then dropped and counted. A retry repeats the notice's
//!   id (`webhook-id`; PagerDuty's `dedup_key` is the channel's); an id is
//!   never sent with another body.
//! - **Bounded.** A channel's queue holds at most [`MAX_PENDING_NOTICES`]
//!   notices and [`MAX_PENDING_BYTES`]; past either, all but the head are
//!   folded into one that says what changed since ([`fold`]).
//!
//! This file holds what a channel's state is ([`Notified`], [`Stats`],
//! [`Pending`], [`Notice`]), how it is rebuilt from storage ([`restore`]) and
//! summed for `/metrics` ([`summaries`]); `plan.rs` what a round tells
//! ([`plan`]); `outbox.rs` when and how a queued notice is attempted, retried,
//! dropped or folded ([`due`], [`head_due`], [`settle`], [`retry_wait_ms`],
//! [`fold`], [`alarm_in_ms`]); `burn.rs` what an objective's burn-rate
//! alert tells each channel it names ([`burn_notices`], planned only: no
//! round queues them yet);
//! `deliver.rs` the requests that deliver it.

mod burn;
mod outbox;
mod plan;

pub mod deliver;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::Reason;
use crate::config::{ConditionName, Config};
use crate::write::Write;

pub use burn::{burn_dedup_key, burn_notices, BurnNotice};
pub use outbox::{
    alarm_in_ms, due, fold, head_due, next_due_ms, requests_per_delivery, retry_after_ms, retry_floor_ms,
    retry_wait_ms, settle, Outcome, Settled, MAX_DELIVERIES, MAX_PASS_MS, MAX_PASS_REQUESTS, MAX_PENDING_BYTES,
    MAX_PENDING_NOTICES, RETRY_BASE_MS, SECRET_WAIT_MS,
};
pub use plan::{plan, Planned, DRAINED};

/// Changes listed in one notice at most; the counts cover all of them.
pub const NOTICE_CHANGES: usize = 1_000;

/// What a channel last told, persisted per channel: the status per scope key
/// of the scopes that are not up (absent means up, `reporting` or a pool
/// enabled), and the sequence number of its last notice. At the fleet limit
/// (10,000 origins and regions of 64-character names, all down) the row is
/// under 1.8 MB, inside Durable Object SQLite's 2 MB.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Notified {
    /// Scope key (`global`, `region:<name>`, `origin:<name>`, `vantage:<name>`,
    /// `incident` for PagerDuty, `pool` for a Cloudflare pool) to the status told.
    pub statuses: BTreeMap<String, String>,
    /// The sequence number of the channel's last notice (0: none yet).
    pub seq: u64,
}

/// A channel's delivery record, persisted per channel; shown to operators.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub delivered: u64,
    /// Notices given up on: refused for good, or older than `max_age_s`.
    pub dropped: u64,
    /// When a receiver last accepted a notice, ms.
    pub last_success_ms: Option<u64>,
    /// The last failure, without any secret or URL.
    pub last_error: Option<String>,
    pub last_error_ms: Option<u64>,
}

/// One queued notice and its delivery so far (a row of the outbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub seq: u64,
    /// When it was queued (its round's end), ms.
    pub created_ms: u64,
    /// When it may be attempted next, ms.
    pub due_ms: u64,
    /// Attempts made.
    pub attempts: u32,
    pub notice: Notice,
    /// The length of its stored JSON, bytes (not stored: measured when it is
    /// queued or read back), for [`MAX_PENDING_BYTES`].
    #[serde(skip)]
    pub bytes: usize,
}

impl Pending {
    /// A notice queued as `seq`, at `created_ms`, first due at `due_ms`, not
    /// yet attempted; its [`Pending::bytes`] measured.
    pub fn queued(seq: u64, created_ms: u64, due_ms: u64, notice: Notice) -> Pending {
        let mut pending = Pending { seq, created_ms, due_ms, attempts: 0, notice, bytes: 0 };
        pending.bytes = to_json(&pending).len();
        pending
    }
}

/// A channel's whole state: what it told, its record, and its queue in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelState {
    pub notified: Notified,
    pub stats: Stats,
    pub pending: Vec<Pending>,
}

/// Every channel's state, by channel name.
pub type NotifyState = BTreeMap<String, ChannelState>;

/// One message to one channel: a round's changes to it, rolled up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable across retries and restarts: `<channel>-<round ms>-<seq>`.
    pub id: String,
    pub channel: String,
    /// The round that caused it (its start), ms.
    pub round_ms: u64,
    /// The global status after the round: `up`, `degraded`, `down`; `None`: not judged yet.
    pub overall: Option<String>,
    /// The first [`NOTICE_CHANGES`] changes, in the order global, regions, origins, vantages.
    pub changes: Vec<Told>,
    /// How many changes went to each status (`up`, `degraded`, `down`,
    /// `reporting`, `isolated`, `missing`), listed or not.
    pub counts: BTreeMap<String, usize>,
    /// Changes beyond those listed.
    pub more: usize,
    pub action: Action,
    /// Set when this notice stands for several folded into one ([`fold`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folded: Option<Folded>,
    /// Set for a burn-rate alert's notice: the pair that started or stopped
    /// firing ([`BurnNotice`]); `changes`, `counts` and `more` are then empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burn: Option<BurnNotice>,
}

/// What a folded notice stands for: `notices` queued notices (folded ones
/// counted by what they stood for) with `transitions` changes in all, the
/// first of them in the round of `since_round_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folded {
    pub notices: u64,
    pub transitions: u64,
    pub since_round_ms: u64,
}

/// What delivering a notice does, beyond posting its changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// A message (webhook, Slack, Discord).
    Message,
    /// PagerDuty: open or update the channel's incident.
    Trigger { severity: String },
    /// PagerDuty: close the channel's incident.
    Resolve,
    /// Cloudflare: set the pool's (or its origin's) `enabled`.
    Pool { enabled: bool },
}

/// One change told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    /// `global`, `region`, `origin` or `vantage`.
    pub scope: String,
    /// The region's, origin's or vantage's name; `""` for the global view.
    pub name: String,
    /// The status told before; `None` for a first one.
    pub from: Option<String>,
    pub to: String,
    /// For origins: the reason class of its last probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// For an origin whose reason is `assertion_failed`: the condition that
    /// failed (its name, at most 32 bytes; never what it saw).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionName>,
    /// For an origin whose reason is `slow`: its threshold, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded_after_ms: Option<u32>,
    /// In a folded notice ([`fold`]): the changes this scope went through
    /// between `from` and `to` (`from == to` when it came back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transitions: Option<u32>,
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("notify state serializes")
}

/// A channel's counts as published with each round (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChannelSummary {
    /// Notices queued, not yet delivered or dropped.
    pub pending: usize,
    pub delivered: u64,
    pub dropped: u64,
}

/// Every channel's [`ChannelSummary`], by name.
pub fn summaries(state: &NotifyState) -> BTreeMap<String, ChannelSummary> {
    state
        .iter()
        .map(|(name, cs)| {
            let summary =
                ChannelSummary { pending: cs.pending.len(), delivered: cs.stats.delivered, dropped: cs.stats.dropped };
            (name.clone(), summary)
        })
        .collect()
}

/// Notices waiting, all channels.
pub fn pending_count(state: &NotifyState) -> usize {
    state.values().map(|cs| cs.pending.len()).sum()
}

/// Rebuilds the channels' state from stored rows: `(channel, notified JSON,
/// stats JSON)` and the outbox `(channel, seq, pending JSON)`. A row that does
/// not decode is dropped with a problem line; so are channels no longer in the
/// config (their rows are deleted by the returned writes).
pub fn restore(
    config: &Config,
    channels: Vec<(String, String, String)>,
    outbox: Vec<(String, u64, String)>,
) -> (NotifyState, Vec<Write>, Vec<String>) {
    let mut state = NotifyState::new();
    let mut writes = Vec::new();
    let mut problems = Vec::new();
    let known = |name: &str| config.channels().iter().any(|c| c.name == name);
    for (name, notified, stats) in channels {
        if !known(&name) {
            problems
                .push(format!("notify channel {name:?} is no longer in the config; its state and queue are dropped"));
            writes.push(Write::DropChannel(name));
            continue;
        }
        let cs = state.entry(name.clone()).or_default();
        cs.notified = serde_json::from_str(&notified).unwrap_or_else(|e| {
            problems.push(format!("notify channel {name:?}: its notified statuses are damaged ({e}); starting afresh"));
            Notified::default()
        });
        cs.stats = serde_json::from_str(&stats).unwrap_or_default();
    }
    for (name, seq, json) in outbox {
        if !known(&name) {
            if !writes.contains(&Write::DropChannel(name.clone())) {
                writes.push(Write::DropChannel(name));
            }
            continue;
        }
        match serde_json::from_str::<Pending>(&json) {
            Ok(mut p) => {
                p.bytes = json.len();
                let cs = state.entry(name).or_default();
                cs.notified.seq = cs.notified.seq.max(p.seq);
                cs.pending.push(p);
            }
            Err(e) => {
                problems.push(format!("notify channel {name:?}: queued notice {seq} is damaged ({e}); dropped"));
                writes.push(Write::Dequeue { channel: name, seq });
            }
        }
    }
    for cs in state.values_mut() {
        cs.pending.sort_by_key(|p| p.seq);
    }
    (state, writes, problems)
}
