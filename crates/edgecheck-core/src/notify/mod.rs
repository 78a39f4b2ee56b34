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
//!   trigger), retried with capped exponential backoff and full jitter
//!   ([`retry_wait_ms`]) until accepted or `max_age_s` old, then dropped and
//!   counted. A retry repeats the notice's id (`webhook-id`; PagerDuty's
//!   `dedup_key` is the channel's).

pub mod deliver;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::{Health, Reason};
use crate::config::{Channel, ChannelKind, Config, Named};
use crate::maintenance::InMaintenance;
use crate::monitor::{MonitorState, Snapshot};
use crate::write::Write;

/// Changes listed in one notice at most; the counts cover all of them.
pub const NOTICE_CHANGES: usize = 1_000;
/// Deliveries in flight at once: Cloudflare's 6 connections waiting for headers.
pub const MAX_DELIVERIES: usize = crate::config::MAX_CONNECTIONS_WAITING;
/// The first retry's wait before jitter, ms; it doubles with each attempt.
pub const RETRY_BASE_MS: u64 = 1_000;
/// The longest wait between two attempts, ms (a `Retry-After` may ask longer).
pub const RETRY_CAP_MS: u64 = 300_000;
/// How long a channel whose secret is not set waits before it looks again, ms.
pub const SECRET_WAIT_MS: u64 = 60_000;

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
}

/// What [`plan`] decided: the channels' new state and the writes for the
/// round's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub state: NotifyState,
    pub writes: Vec<Write>,
}

/// The notices a round causes, from `state` (the round's new state; `prev_state`
/// the one before it, `None` on the first round) against what each channel
/// told (`prev`), with `now_ms` as their queue time. Channels no longer in the
/// config are dropped with their queues.
pub fn plan(
    config: &Config,
    prev: &NotifyState,
    prev_state: Option<&MonitorState>,
    state: &MonitorState,
    now_ms: u64,
) -> Planned {
    let mut out = NotifyState::new();
    let mut writes = Vec::new();
    for name in prev.keys().filter(|n| !config.channels().iter().any(|c| &c.name == *n)) {
        writes.push(Write::DropChannel(name.clone()));
    }
    for channel in config.channels() {
        let mut cs = prev.get(&channel.name).cloned().unwrap_or_default();
        if let Some((notified, notice)) = plan_channel(config, channel, &cs.notified, prev_state, state, now_ms) {
            writes.push(Write::Notified { channel: channel.name.clone(), json: to_json(&notified) });
            if let Some(notice) = notice {
                let pending = Pending { seq: notified.seq, created_ms: now_ms, due_ms: now_ms, attempts: 0, notice };
                writes.push(Write::Enqueue {
                    channel: channel.name.clone(),
                    seq: pending.seq,
                    json: to_json(&pending),
                });
                cs.pending.push(pending);
            }
            cs.notified = notified;
        }
        out.insert(channel.name.clone(), cs);
    }
    Planned { state: out, writes }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("notify state serializes")
}

/// The status a drained region or origin is told as.
pub const DRAINED: &str = "drained";

/// A scope a channel covers, with its status now (`None`: not judged).
struct Scope {
    scope: &'static str,
    name: String,
    status: Option<String>,
    reason: Option<Reason>,
    /// A maintenance window covers it at the round: what was told stands.
    held: bool,
}

impl Scope {
    fn key(&self) -> String {
        if self.scope == "global" {
            "global".into()
        } else {
            format!("{}:{}", self.scope, self.name)
        }
    }
}

/// The scopes `channel` covers in `state`; each one a maintenance window
/// covers at the round's start is `held` (the global scope only by a window
/// over the whole fleet; vantages never). A region or origin the round
/// found drained (`MonitorState::drained`) is told as `drained`, a status of
/// its own; what the drain does to its region's and the global status is in
/// their tracks already (`monitor::drained_view`).
fn scopes(config: &Config, channel: &Channel, state: &MonitorState) -> Vec<Scope> {
    let mut out = Vec::new();
    let windows = InMaintenance::at(config, &state.maintenance, state.checked_at_ms);
    let health = |h: Health| h.as_str().to_string();
    let drained = |name: &str, status: Option<String>| {
        if state.drained.contains(name) {
            Some(DRAINED.to_string())
        } else {
            status
        }
    };
    if channel.covers.global {
        let status = state.overall.map(|t| health(t.status.health()));
        let held = windows.fleet().is_some();
        out.push(Scope { scope: "global", name: String::new(), status, reason: None, held });
    }
    for &r in &channel.covers.regions {
        let name = config.regions()[r].name.clone();
        let status = drained(&name, state.regions.get(&name).map(|t| health(t.status)));
        let held = windows.region(config, r).is_some();
        out.push(Scope { scope: "region", name, status, reason: None, held });
    }
    for &o in &channel.covers.origins {
        let name = config.origins()[o].name.clone();
        let track = state.origins.get(&name);
        let status = drained(&name, track.and_then(|t| t.health).map(health));
        let (reason, held) = (track.map(|t| t.last.verdict.reason), windows.origin(config, o).is_some());
        out.push(Scope { scope: "origin", name, status, reason, held });
    }
    if channel.events.vantage {
        for v in &config.settings().vantages {
            let status = state.vantages.get(&v.name).map(|t| t.state.as_str().to_string());
            out.push(Scope { scope: "vantage", name: v.name.clone(), status, reason: None, held: false });
        }
    }
    out
}

/// One channel's new notified statuses and notice, or `None` when nothing it
/// told changed.
fn plan_channel(
    config: &Config,
    channel: &Channel,
    told: &Notified,
    prev: Option<&MonitorState>,
    state: &MonitorState,
    now_ms: u64,
) -> Option<(Notified, Option<Notice>)> {
    // Scopes judged before this round: absent from what was told means `up` for them.
    let judged: std::collections::BTreeSet<String> = prev
        .map(|p| scopes(config, channel, p).into_iter().filter(|s| s.status.is_some()).map(|s| s.key()).collect())
        .unwrap_or_default();
    let mut statuses = BTreeMap::new();
    let mut changes = Vec::new();
    for scope in scopes(config, channel, state) {
        let key = scope.key();
        let before = told.statuses.get(&key);
        let Some(now) = scope.status.clone().filter(|_| !scope.held) else {
            // Not judged, or held by a maintenance window: what was told stands.
            if let Some(b) = before {
                statuses.insert(key.clone(), b.clone());
            }
            continue;
        };
        // Only what is not `up` (`reporting`) is kept: absent means up, so the
        // row holds the scopes in trouble, not the whole fleet.
        let ok = matches!(now.as_str(), "up" | "reporting");
        if !ok {
            statuses.insert(key.clone(), now.clone());
        }
        if before == Some(&now) || (ok && before.is_none()) {
            // Unchanged; or a first `up`, where the channel starts, not news.
            continue;
        }
        let wanted = if scope.scope == "vantage" { channel.events.vantage } else { channel.events.wants(&now) };
        if wanted {
            changes.push(Told {
                scope: scope.scope.to_string(),
                name: scope.name,
                from: before.cloned().or_else(|| judged.contains(&key).then(|| "up".to_string())),
                to: now,
                reason: scope.reason.filter(|_| scope.scope == "origin"),
            });
        }
    }
    let action = match &channel.kind {
        ChannelKind::PagerDuty { .. } => {
            let worst = |s: &str| statuses.iter().any(|(k, v)| !k.starts_with("vantage:") && v == s);
            let severity = if channel.events.down && worst("down") {
                Some("critical")
            } else if channel.events.degraded && worst("degraded") {
                Some("warning")
            } else {
                None
            };
            let open = told.statuses.get("incident").cloned();
            match severity {
                Some(s) => statuses.insert("incident".into(), s.into()),
                None => statuses.remove("incident"),
            };
            match (severity, open) {
                (Some(s), open) if open.as_deref() != Some(s) => Some(Action::Trigger { severity: s.into() }),
                (None, Some(_)) => Some(Action::Resolve),
                _ => None,
            }
        }
        ChannelKind::CloudflarePool { follows, .. } => {
            // Readiness as `/ready/{region}` answers it, from the shown view;
            // unknown (`None`) or a self-isolated round sets nothing: fail-static.
            let view = crate::view::shown(config, Snapshot { state, now_ms });
            let (status, ready) = match follows {
                Named::Region(r) => (view.regions[*r].status, view.regions[*r].ready),
                Named::Origin(o) => {
                    let shown = view.origin(config, *o);
                    (shown.status, shown.ready)
                }
            };
            let before = told.statuses.get("pool").cloned();
            if status.is_none() || state.isolated {
                if let Some(b) = &before {
                    statuses.insert("pool".into(), b.clone());
                }
                None
            } else {
                // Absent means enabled (or never touched): only a disabled pool is kept.
                if !ready {
                    statuses.insert("pool".into(), "disabled".into());
                }
                match (before.is_some(), ready) {
                    (true, false) | (false, true) => None,
                    _ => Some(Action::Pool { enabled: ready }),
                }
            }
        }
        _ => (!changes.is_empty()).then_some(Action::Message),
    };
    if statuses == told.statuses {
        return None;
    }
    let mut notified = Notified { statuses, seq: told.seq };
    let notice = action.map(|action| {
        notified.seq += 1;
        let mut counts = BTreeMap::new();
        for c in &changes {
            *counts.entry(c.to.clone()).or_insert(0) += 1;
        }
        let more = changes.len().saturating_sub(NOTICE_CHANGES);
        changes.truncate(NOTICE_CHANGES);
        Notice {
            id: format!("{}-{}-{}", channel.name, state.checked_at_ms, notified.seq),
            channel: channel.name.clone(),
            round_ms: state.checked_at_ms,
            overall: state.overall.map(|t| t.status.health().as_str().to_string()),
            changes,
            counts,
            more,
            action,
        }
    });
    Some((notified, notice))
}

/// The notices to attempt now: the oldest pending notice of each channel that
/// is due and whose channel has no attempt in flight, at most
/// [`MAX_DELIVERIES`]; `(channel name, seq)`.
pub fn due(state: &NotifyState, now_ms: u64) -> Vec<(String, u64)> {
    state
        .iter()
        .filter_map(|(name, cs)| cs.pending.first().filter(|p| p.due_ms <= now_ms).map(|p| (name.clone(), p.seq)))
        .take(MAX_DELIVERIES)
        .collect()
}

/// When the next notice is due, ms: the earliest head of a channel's queue.
pub fn next_due_ms(state: &NotifyState) -> Option<u64> {
    state.values().filter_map(|cs| cs.pending.first().map(|p| p.due_ms)).min()
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

/// How an attempt ended, as the shell saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered `status`; `retry_after` is its `Retry-After` header.
    Answered { status: u16, retry_after: Option<String> },
    /// The request failed before an answer (refused connection, DNS, reset).
    Failed(String),
    /// No answer within the channel's `timeout_ms`.
    TimedOut,
    /// A secret the channel needs is not set: the channel waits ([`SECRET_WAIT_MS`]).
    SecretMissing(String),
    /// The notice cannot be delivered as configured (a Cloudflare pool without
    /// the named origin, a signing secret that is not base64): dropped.
    Impossible(String),
    /// Nothing to do (a pool already as asked): counted as delivered.
    AlreadyDone,
}

/// The wait before attempt `attempts + 1` of notice `id`, ms: exponential
/// from [`RETRY_BASE_MS`], capped at [`RETRY_CAP_MS`], with full jitter drawn
/// from the id and attempt (the same for a given retry, different across
/// notices, so receivers coming back are not hit by every channel at once).
pub fn retry_wait_ms(id: &str, attempts: u32) -> u64 {
    let ceiling = RETRY_BASE_MS.saturating_mul(1u64 << attempts.min(20)).min(RETRY_CAP_MS);
    // FNV-1a over the id and attempt: a spread, not a secret.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes().chain(attempts.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    ceiling / 2 + hash % (ceiling / 2 + 1)
}

/// `Retry-After` as delta-seconds (RFC 9110, 10.2.3), ms; an HTTP-date or
/// anything else is `None` (the backoff decides).
pub fn retry_after_ms(value: &str) -> Option<u64> {
    value.trim().parse::<u64>().ok().map(|s| s.saturating_mul(1000))
}

/// What [`settle`] decided about one attempt: the writes to commit and the
/// line to log (`None` for a plain success).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub writes: Vec<Write>,
    pub log: Option<String>,
}

/// Settles one attempt of the head notice `seq` of `channel` at `now_ms`:
///
/// - a 2xx (or nothing to do): delivered, removed from the queue;
/// - a 429: retried after its `Retry-After`, else the backoff;
/// - a 408, a 5xx, a failed request or a timeout: retried after the backoff;
/// - any other 4xx, or an impossible notice: dropped (it will never succeed);
/// - a retry that would start past `max_age_s` since the notice was queued: dropped;
/// - a secret not set: no attempt counted, looked at again in [`SECRET_WAIT_MS`].
pub fn settle(channel: &Channel, cs: &mut ChannelState, seq: u64, outcome: &Outcome, now_ms: u64) -> Settled {
    let Some(at) = cs.pending.iter().position(|p| p.seq == seq) else {
        return Settled { writes: Vec::new(), log: None };
    };
    let name = channel.name.clone();
    let p = &mut cs.pending[at];
    let id = p.notice.id.clone();
    let what = match outcome {
        Outcome::Answered { status, .. } => format!("answered {status}"),
        Outcome::Failed(e) => format!("failed: {e}"),
        Outcome::TimedOut => format!("no answer within {} ms", channel.timeout_ms),
        Outcome::SecretMissing(s) => format!("the secret {s} is not set"),
        Outcome::Impossible(why) => why.clone(),
        Outcome::AlreadyDone => "already as asked".into(),
    };
    enum Next {
        Done,
        Retry(u64),
        Drop,
        Wait,
    }
    let next = match outcome {
        Outcome::Answered { status, .. } if (200..300).contains(status) => Next::Done,
        Outcome::AlreadyDone => Next::Done,
        Outcome::Answered { status: 429, retry_after } => {
            Next::Retry(retry_after.as_deref().and_then(retry_after_ms).unwrap_or(retry_wait_ms(&id, p.attempts)))
        }
        Outcome::Answered { status, .. } if *status == 408 || *status >= 500 => {
            Next::Retry(retry_wait_ms(&id, p.attempts))
        }
        Outcome::Answered { .. } | Outcome::Impossible(_) => Next::Drop,
        Outcome::Failed(_) | Outcome::TimedOut => Next::Retry(retry_wait_ms(&id, p.attempts)),
        Outcome::SecretMissing(_) => Next::Wait,
    };
    let max_age_ms = u64::from(channel.max_age_s) * 1000;
    let next = match next {
        Next::Retry(wait) if now_ms.saturating_add(wait) > p.created_ms.saturating_add(max_age_ms) => Next::Drop,
        Next::Wait if now_ms.saturating_add(SECRET_WAIT_MS) > p.created_ms.saturating_add(max_age_ms) => Next::Drop,
        other => other,
    };
    let mut writes = Vec::new();
    let attempts = p.attempts + u32::from(!matches!(outcome, Outcome::SecretMissing(_)));
    let log = match next {
        Next::Done => {
            cs.pending.remove(at);
            cs.stats.delivered += 1;
            cs.stats.last_success_ms = Some(now_ms);
            writes.push(Write::Dequeue { channel: name.clone(), seq });
            None
        }
        Next::Drop => {
            cs.pending.remove(at);
            cs.stats.dropped += 1;
            writes.push(Write::Dequeue { channel: name.clone(), seq });
            Some(format!("notify {name}: notice {id} dropped after {attempts} attempts: {what}"))
        }
        Next::Retry(wait) => {
            p.attempts = attempts;
            p.due_ms = now_ms.saturating_add(wait);
            writes.push(Write::Enqueue { channel: name.clone(), seq, json: to_json(&*p) });
            Some(format!("notify {name}: notice {id} attempt {attempts} {what}; retried in {wait} ms"))
        }
        Next::Wait => {
            p.due_ms = now_ms.saturating_add(SECRET_WAIT_MS);
            writes.push(Write::Enqueue { channel: name.clone(), seq, json: to_json(&*p) });
            Some(format!("notify {name}: stopped: {what}; the other channels go on"))
        }
    };
    if log.is_some() {
        cs.stats.last_error = Some(what);
        cs.stats.last_error_ms = Some(now_ms);
    }
    writes.push(Write::ChannelStats { channel: name, json: to_json(&cs.stats) });
    Settled { writes, log }
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
            Ok(p) => {
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

/// Time kept free before the next round starts when delivering, ms.
pub const ROUND_MARGIN_MS: u64 = 250;

/// How long one alarm's deliveries may take, ms: until the next round is due
/// (`refresh_s` after the last round started at `last_round_ms`), less
/// [`ROUND_MARGIN_MS`], so delivery never delays a round; `None` when under
/// 500 ms would remain, or before any round (they go after the round).
pub fn delivery_budget_ms(last_round_ms: Option<u64>, refresh_s: u32, now_ms: u64) -> Option<u64> {
    let next_round = last_round_ms?.saturating_add(u64::from(refresh_s) * 1000);
    let budget = next_round.saturating_sub(now_ms).saturating_sub(ROUND_MARGIN_MS);
    (budget >= 500).then_some(budget)
}

/// The monitor's alarm wait, ms: the next round's (`round_in_ms`), or sooner
/// when a notice is due, but never under [`crate::schedule::MIN_ALARM_WAIT_MS`].
pub fn alarm_in_ms(round_in_ms: u64, state: &NotifyState, now_ms: u64) -> u64 {
    next_due_ms(state)
        .map_or(round_in_ms, |due| due.saturating_sub(now_ms).min(round_in_ms))
        .max(crate::schedule::MIN_ALARM_WAIT_MS)
}
