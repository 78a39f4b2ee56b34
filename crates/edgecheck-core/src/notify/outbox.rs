//! The outbox: which queued notices are attempted now ([`due`], at most
//! [`MAX_DELIVERIES`] channels at once, each in order), how an attempt is
//! settled ([`settle`]: delivered, retried with backoff and jitter or
//! `Retry-After`, dropped), how a channel's queue is kept within its bounds
//! ([`fold`]), and when the monitor's alarm delivers ([`alarm_in_ms`]).
//!
//! A delivery pass is not cut by the next round: an attempt has its channel's
//! whole `timeout_ms` (a Cloudflare pool's `GET` and `PATCH` together), and
//! the monitor runs rounds beside the pass. A pass makes at most
//! [`MAX_PASS_REQUESTS`] requests in all, and starts none after [`MAX_PASS_MS`].

use std::collections::BTreeMap;

use super::{to_json, ChannelState, Folded, Notice, NotifyState, Pending, Told, NOTICE_CHANGES};
use crate::config::{Channel, ChannelKind};
use crate::write::Write;

/// Channels delivering at once: Cloudflare's 6 connections waiting for headers.
pub const MAX_DELIVERIES: usize = crate::config::MAX_CONNECTIONS_WAITING;
/// Requests one delivery pass (one alarm) makes at most, all channels: under
/// the Free plan's 50 subrequests per invocation. A Cloudflare pool's
/// delivery is two.
pub const MAX_PASS_REQUESTS: usize = 32;
/// How long after a delivery pass began it may start another attempt, ms:
/// with the longest `timeout_ms` (30 s), a pass ends within 150 s, far inside
/// an alarm's 15 minutes.
pub const MAX_PASS_MS: u64 = 120_000;
/// The first retry's wait before jitter, ms; it doubles with each attempt up
/// to the channel's `retry_max_s`.
pub const RETRY_BASE_MS: u64 = 1_000;
/// The most notices a channel keeps queued; past it, [`fold`] folds them.
pub const MAX_PENDING_NOTICES: usize = 16;
/// The most bytes (of their stored JSON) a channel's queued notices take;
/// past it, [`fold`] folds them. One notice lists at most [`NOTICE_CHANGES`]
/// changes, about 150 KB at 64-character names.
pub const MAX_PENDING_BYTES: usize = 512 * 1024;
/// How long a channel whose secret is not set waits before it looks again, ms.
pub const SECRET_WAIT_MS: u64 = 60_000;

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
/// from [`RETRY_BASE_MS`], capped at `cap_ms` (the channel's `retry_max_s`),
/// with full jitter drawn from the id and attempt (the same for a given
/// retry, different across notices, so receivers coming back are not hit by
/// every channel at once). Always at least half the uncapped ceiling of its
/// attempt, or half of `cap_ms`: [`retry_floor_ms`].
pub fn retry_wait_ms(id: &str, attempts: u32, cap_ms: u64) -> u64 {
    let ceiling = retry_ceiling_ms(attempts, cap_ms);
    // FNV-1a over the id and attempt: a spread, not a secret.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.bytes().chain(attempts.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    ceiling / 2 + hash % (ceiling / 2 + 1)
}

fn retry_ceiling_ms(attempts: u32, cap_ms: u64) -> u64 {
    RETRY_BASE_MS.saturating_mul(1u64 << attempts.min(20)).min(cap_ms.max(RETRY_BASE_MS))
}

/// The least [`retry_wait_ms`] can be for attempt `attempts + 1`, ms: the
/// floor under a `Retry-After`, so that `Retry-After: 0` backs off as a
/// failure would.
pub fn retry_floor_ms(attempts: u32, cap_ms: u64) -> u64 {
    retry_ceiling_ms(attempts, cap_ms) / 2
}

/// `Retry-After` (RFC 9110, 10.2.3) as a wait from `now_ms`, ms: delta-seconds,
/// or an HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms)
/// less `now_ms` (0 when it is past). Anything else is `None`: the backoff
/// decides.
pub fn retry_after_ms(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(seconds.saturating_mul(1000));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at_ms = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis();
    Some(u64::try_from(at_ms).unwrap_or(u64::MAX).saturating_sub(now_ms))
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
/// - a 2xx status line (or nothing to do): delivered, removed from the queue;
///   the answer's body is not waited for;
/// - a 429 or 503 with `Retry-After`: retried after it, but never sooner than
///   the backoff's floor ([`retry_floor_ms`]); a 429 without one: the backoff;
/// - a 408, a 5xx, a failed request or a timeout: retried after the backoff;
/// - a 3xx (a redirect is never followed), any other 4xx, or an impossible
///   notice: dropped (it will never succeed);
/// - a retry that would start past `max_age_s` since the notice was queued
///   (a `Retry-After` included): dropped;
/// - a secret not set: no attempt counted, looked at again in [`SECRET_WAIT_MS`].
///
/// Every drop and retry is a log line naming the notice and why.
pub fn settle(channel: &Channel, cs: &mut ChannelState, seq: u64, outcome: &Outcome, now_ms: u64) -> Settled {
    let Some(at) = cs.pending.iter().position(|p| p.seq == seq) else {
        return Settled { writes: Vec::new(), log: None };
    };
    let name = channel.name.clone();
    let cap_ms = u64::from(channel.retry_max_s) * 1000;
    let p = &mut cs.pending[at];
    let id = p.notice.id.clone();
    let what = match outcome {
        Outcome::Answered { status, .. } if (300..400).contains(status) => {
            format!("answered {status}, a redirect (never followed)")
        }
        Outcome::Answered { status, .. } => format!("answered {status}"),
        Outcome::Failed(e) => format!("failed: {e}"),
        Outcome::TimedOut => format!("no status line within its timeout_ms of {} ms", channel.timeout_ms),
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
    let backoff = retry_wait_ms(&id, p.attempts, cap_ms);
    let asked = match outcome {
        Outcome::Answered { status: 429 | 503, retry_after: Some(v) } => retry_after_ms(v, now_ms),
        _ => None,
    };
    let next = match outcome {
        Outcome::Answered { status, .. } if (200..300).contains(status) => Next::Done,
        Outcome::AlreadyDone => Next::Done,
        Outcome::Answered { status, .. } if *status == 429 || *status == 408 || *status >= 500 => {
            Next::Retry(asked.map_or(backoff, |wait| wait.max(retry_floor_ms(p.attempts, cap_ms))))
        }
        Outcome::Answered { .. } | Outcome::Impossible(_) => Next::Drop,
        Outcome::Failed(_) | Outcome::TimedOut => Next::Retry(backoff),
        Outcome::SecretMissing(_) => Next::Wait,
    };
    let max_age_ms = u64::from(channel.max_age_s) * 1000;
    let expires_ms = p.created_ms.saturating_add(max_age_ms);
    let (next, what) = match next {
        Next::Retry(wait) if now_ms.saturating_add(wait) > expires_ms => {
            let why = match asked {
                Some(_) => {
                    format!("{what} with Retry-After {} s, past its max_age_s of {}", wait / 1000, channel.max_age_s)
                }
                None => format!("{what}; a retry would be past its max_age_s of {}", channel.max_age_s),
            };
            (Next::Drop, why)
        }
        Next::Wait if now_ms.saturating_add(SECRET_WAIT_MS) > expires_ms => (Next::Drop, what),
        other => (other, what),
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
            let json = to_json(&*p);
            p.bytes = json.len();
            writes.push(Write::Enqueue { channel: name.clone(), seq, json });
            let by = if asked.is_some() { "as its Retry-After asks" } else { "by the backoff" };
            Some(format!("notify {name}: notice {id} attempt {attempts} {what}; retried in {wait} ms {by}"))
        }
        Next::Wait => {
            p.due_ms = now_ms.saturating_add(SECRET_WAIT_MS);
            let json = to_json(&*p);
            p.bytes = json.len();
            writes.push(Write::Enqueue { channel: name.clone(), seq, json });
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

/// The monitor's alarm wait, ms: the next round's (`round_in_ms`), or sooner
/// when a notice is due, but never under [`crate::schedule::MIN_ALARM_WAIT_MS`].
pub fn alarm_in_ms(round_in_ms: u64, state: &NotifyState, now_ms: u64) -> u64 {
    next_due_ms(state)
        .map_or(round_in_ms, |due| due.saturating_sub(now_ms).min(round_in_ms))
        .max(crate::schedule::MIN_ALARM_WAIT_MS)
}

/// The notice a channel attempts next, if it is due at `now_ms`: its queue's
/// head `(seq, notice)`. Its notices go one at a time, in order.
pub fn head_due(state: &NotifyState, channel: &str, now_ms: u64) -> Option<(u64, Notice)> {
    let head = state.get(channel)?.pending.first()?;
    (head.due_ms <= now_ms).then(|| (head.seq, head.notice.clone()))
}

/// Requests one delivery to `channel` makes at most: a Cloudflare pool's
/// `GET` and `PATCH`, else one.
pub fn requests_per_delivery(channel: &Channel) -> usize {
    match channel.kind {
        ChannelKind::CloudflarePool { .. } => 2,
        _ => 1,
    }
}

/// Keeps `cs`'s queue within [`MAX_PENDING_NOTICES`] and [`MAX_PENDING_BYTES`]:
/// past either, every queued notice but the head (which may be in flight, or
/// seen by the receiver already) is folded into one new notice at the seq
/// and id of the newest, never sent before. The folded notice says what
/// changed since the receiver was last told:
///
/// - one change per scope, `from` the status before its first folded change
///   and `to` its last, with `transitions` (how many folded changes it went
///   through); a scope that went down and came back is listed with
///   `from == to`, so no transition is folded away unnamed;
/// - `counts` the listed changes' new statuses, plus the counts of changes
///   the folded notices did not list (summed, not merged; `more` too);
/// - the newest notice's round, global status and action (the incident's or
///   the pool's last state);
/// - [`Folded`]: how many notices and transitions were folded, since which round.
///
/// A burn-rate alert's notices ([`Notice::burn`]) are not folded into the
/// status notice: each pair keeps its newest notice (a trigger then a
/// resolve leaves the resolve), in queue order; should more pairs be queued
/// than the bound holds, the oldest are dropped and counted in `dropped`.
///
/// Returns the writes: the folded-away rows deleted, the folded one stored.
pub fn fold(channel: &str, cs: &mut ChannelState) -> Vec<Write> {
    let bytes: usize = cs.pending.iter().map(|p| p.bytes).sum();
    if cs.pending.len() <= MAX_PENDING_NOTICES && bytes <= MAX_PENDING_BYTES || cs.pending.len() < 3 {
        return Vec::new();
    }
    let rest: Vec<Pending> = cs.pending.drain(1..).collect();
    let mut writes: Vec<Write> =
        rest.iter().map(|p| Write::Dequeue { channel: channel.to_string(), seq: p.seq }).collect();
    let (burns, statuses): (Vec<Pending>, Vec<Pending>) = rest.into_iter().partition(|p| p.notice.burn.is_some());
    let mut kept: Vec<Pending> = Vec::new();
    if !statuses.is_empty() {
        kept.push(fold_statuses(channel, &statuses));
    }
    // A burn-rate alert's newest notice says where its pair stands: older
    // ones of the same pair (its dedup key) go.
    let mut newest: BTreeMap<String, Pending> = BTreeMap::new();
    for p in burns {
        let key = p.notice.burn.as_ref().map(|b| b.dedup_key.clone()).unwrap_or_default();
        newest.insert(key, p);
    }
    let mut burns: Vec<Pending> = newest.into_values().collect();
    burns.sort_by_key(|p| p.seq);
    let room = MAX_PENDING_NOTICES.saturating_sub(1 + kept.len());
    if burns.len() > room {
        // More pairs changed than the queue holds: the oldest are dropped, counted.
        let gone = burns.len() - room;
        burns.drain(..gone);
        cs.stats.dropped = cs.stats.dropped.saturating_add(gone as u64);
        writes.push(Write::ChannelStats { channel: channel.to_string(), json: to_json(&cs.stats) });
    }
    kept.extend(burns);
    kept.sort_by_key(|p| p.seq);
    for p in &kept {
        writes.push(Write::Enqueue { channel: channel.to_string(), seq: p.seq, json: to_json(p) });
    }
    cs.pending.extend(kept);
    writes
}

/// The status notices `folded` (in queue order, at least one) as one
/// notice at the seq and id of the newest ([`fold`]).
fn fold_statuses(channel: &str, folded: &[Pending]) -> Pending {
    let newest = folded.last().expect("at least one notice is folded");
    let mut merged: Vec<Told> = Vec::new();
    let mut at: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut unlisted: BTreeMap<String, usize> = BTreeMap::new();
    let mut more = 0;
    let mut summary = Folded { notices: 0, transitions: 0, since_round_ms: folded[0].notice.round_ms };
    for p in folded {
        let notice = &p.notice;
        let prior = notice.folded.as_ref();
        summary.notices += prior.map_or(1, |f| f.notices);
        summary.since_round_ms = summary.since_round_ms.min(prior.map_or(notice.round_ms, |f| f.since_round_ms));
        more += notice.more;
        let mut listed: BTreeMap<&str, usize> = BTreeMap::new();
        for told in &notice.changes {
            *listed.entry(told.to.as_str()).or_default() += 1;
            let steps = told.transitions.unwrap_or(1);
            summary.transitions += u64::from(steps);
            let key = (told.scope.clone(), told.name.clone());
            match at.get(&key) {
                Some(&i) => {
                    let kept = &mut merged[i];
                    kept.to = told.to.clone();
                    kept.reason = told.reason;
                    kept.condition = told.condition;
                    kept.degraded_after_ms = told.degraded_after_ms;
                    kept.transitions = Some(kept.transitions.unwrap_or(1) + steps);
                }
                None => {
                    at.insert(key, merged.len());
                    merged.push(Told { transitions: Some(steps), ..told.clone() });
                }
            }
        }
        for (status, n) in &notice.counts {
            let n = n.saturating_sub(listed.get(status.as_str()).copied().unwrap_or(0));
            *unlisted.entry(status.clone()).or_default() += n;
        }
    }
    summary.transitions += more as u64;
    let mut counts = unlisted;
    for told in &merged {
        *counts.entry(told.to.clone()).or_default() += 1;
    }
    counts.retain(|_, n| *n > 0);
    more += merged.len().saturating_sub(NOTICE_CHANGES);
    merged.truncate(NOTICE_CHANGES);
    let notice = Notice {
        id: newest.notice.id.clone(),
        channel: channel.to_string(),
        round_ms: newest.notice.round_ms,
        overall: newest.notice.overall.clone(),
        changes: merged,
        counts,
        more,
        action: newest.notice.action.clone(),
        folded: Some(summary),
        burn: None,
    };
    Pending::queued(newest.seq, newest.created_ms, newest.due_ms.min(folded[0].due_ms), notice)
}
