//! The outbox: which queued notices are attempted now ([`due`], at most
//! [`MAX_DELIVERIES`], one per channel, in order), how an attempt is settled
//! ([`settle`]: delivered, retried with backoff and jitter or `Retry-After`,
//! dropped), and when the monitor's alarm delivers ([`delivery_budget_ms`],
//! [`alarm_in_ms`]).

use super::{to_json, ChannelState, NotifyState};
use crate::config::Channel;
use crate::write::Write;

/// Deliveries in flight at once: Cloudflare's 6 connections waiting for headers.
pub const MAX_DELIVERIES: usize = crate::config::MAX_CONNECTIONS_WAITING;
/// The first retry's wait before jitter, ms; it doubles with each attempt.
pub const RETRY_BASE_MS: u64 = 1_000;
/// The longest wait between two attempts, ms (a `Retry-After` may ask longer).
pub const RETRY_CAP_MS: u64 = 300_000;
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
