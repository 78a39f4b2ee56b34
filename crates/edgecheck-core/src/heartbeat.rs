//! Heartbeat checks: origins that cannot be probed (cron jobs, queue workers,
//! hosts behind NAT) and report instead, as Healthchecks.io's checks, Uptime
//! Kuma's push monitors and Gatus's external endpoints do.
//!
//! A check's sender calls `POST /ping/{name}` when a run succeeded,
//! `/ping/{name}/fail` when it failed and `/ping/{name}/start` when one
//! starts ([`PingKind`]). The monitor keeps the times in the check's
//! [`Pings`] and judges the check at every trustworthy round ([`verdict`]):
//!
//! | last ping | verdict |
//! |---|---|
//! | a failure, after the last success | down, `heartbeat_failed` |
//! | a success at most `period_s` + `grace_s` ago | up, `ok` (latency: the run's duration after a `start`) |
//! | none, or a success older than that | down, `heartbeat_missed`, once `period_s` + `grace_s` have passed since the last success, or since the check was first watched |
//! | none yet, and not that long watched | no verdict (not judged yet) |
//!
//! A verdict then goes through rise/fall like any probe (a check's `rise` and
//! `fall` default to 1: `grace_s` already damps it). No vantage sees a check,
//! so the vantage quorum does not apply to it.

use serde::{Deserialize, Serialize};

use crate::aggregate::Probe;
use crate::classify::{Health, Reason, Verdict};
use crate::config::Heartbeat;

/// The least time between two pings of one check that are taken, ms; a ping
/// sooner than this after the last one is refused ([`PingError::TooSoon`])
/// and changes nothing.
pub const MIN_PING_INTERVAL_MS: u64 = 1_000;

/// What a ping says: `/ping/{name}` (a run succeeded), `/ping/{name}/fail`
/// or `/ping/{name}/start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PingKind {
    Success,
    Fail,
    Start,
}

impl PingKind {
    /// The kind named by the path's last segment after the check's name:
    /// none is a success, `fail` and `start` are themselves.
    pub fn from_suffix(suffix: Option<&str>) -> Option<PingKind> {
        match suffix {
            None => Some(PingKind::Success),
            Some("fail") => Some(PingKind::Fail),
            Some("start") => Some(PingKind::Start),
            Some(_) => None,
        }
    }

    /// The wire name: `success`, `fail` or `start`.
    pub fn as_str(self) -> &'static str {
        match self {
            PingKind::Success => "success",
            PingKind::Fail => "fail",
            PingKind::Start => "start",
        }
    }
}

/// One check's pings, kept in its [`crate::monitor::OriginTrack`]. Times are
/// ms since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pings {
    /// When the monitor first watched the check (the first round that had it):
    /// a check that never pings is missed from then on.
    pub watched_since_ms: u64,
    /// The last ping taken, of any kind.
    #[serde(default)]
    pub last_ms: Option<u64>,
    /// The last successful ping.
    #[serde(default)]
    pub success_ms: Option<u64>,
    /// The last failure ping.
    #[serde(default)]
    pub failure_ms: Option<u64>,
    /// The last start ping not yet followed by a success or a failure.
    #[serde(default)]
    pub started_ms: Option<u64>,
    /// The last run's duration (a start to the success after it), ms.
    #[serde(default)]
    pub duration_ms: Option<u64>,
}

/// Why a ping was not taken: it came sooner than [`MIN_PING_INTERVAL_MS`]
/// after the last one; retry after this many whole seconds (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooSoon {
    pub retry_after_s: u64,
}

/// Why a ping is not taken (`crate::monitor::take_ping`); `http` alone turns
/// it into an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingError {
    /// No heartbeat check of the fleet has this name.
    NotACheck(String),
    /// Check `check` was pinged less than [`MIN_PING_INTERVAL_MS`] ago;
    /// retry after `retry_after_s` whole seconds ([`TooSoon`]).
    TooSoon { check: String, retry_after_s: u64 },
}

impl Pings {
    /// A check first watched at `at_ms`, never pinged.
    pub fn watched_from(at_ms: u64) -> Pings {
        Pings {
            watched_since_ms: at_ms,
            last_ms: None,
            success_ms: None,
            failure_ms: None,
            started_ms: None,
            duration_ms: None,
        }
    }

    /// Takes a ping of `kind` at `now_ms`, or refuses it, changing nothing,
    /// when the last one is less than [`MIN_PING_INTERVAL_MS`] old.
    pub fn record(&mut self, kind: PingKind, now_ms: u64) -> Result<(), TooSoon> {
        if let Some(last) = self.last_ms {
            let since = now_ms.saturating_sub(last);
            if since < MIN_PING_INTERVAL_MS {
                return Err(TooSoon { retry_after_s: (MIN_PING_INTERVAL_MS - since).div_ceil(1000) });
            }
        }
        self.last_ms = Some(now_ms);
        match kind {
            PingKind::Start => self.started_ms = Some(now_ms),
            PingKind::Success => {
                self.duration_ms = self.started_ms.take().map(|start| now_ms.saturating_sub(start));
                self.success_ms = Some(now_ms);
            }
            PingKind::Fail => {
                self.started_ms = None;
                self.failure_ms = Some(now_ms);
            }
        }
        Ok(())
    }
}

/// The check's verdict at `now_ms` (the round's start), as the table in the
/// module's documentation; `None` while it has not pinged and has been
/// watched for less than `period_s` + `grace_s`.
pub fn verdict(check: &Heartbeat, pings: &Pings, now_ms: u64) -> Option<Probe> {
    let probe = |health, reason, latency_ms| Probe { verdict: Verdict::new(health, reason, None), latency_ms };
    if pings.failure_ms.is_some() && pings.failure_ms > pings.success_ms {
        return Some(probe(Health::Down, Reason::HeartbeatFailed, None));
    }
    let allowed_ms = (u64::from(check.period_s) + u64::from(check.grace_s)) * 1000;
    let from = pings.success_ms.unwrap_or(pings.watched_since_ms);
    if now_ms.saturating_sub(from) > allowed_ms {
        return Some(probe(Health::Down, Reason::HeartbeatMissed, None));
    }
    pings.success_ms.map(|_| probe(Health::Up, Reason::Ok, pings.duration_ms))
}
