//! When the monitor acts, decided from the clock reading the shell passes in:
//! the alarm's next round, whether a snapshot is too old to serve without a
//! round (its alarm is dead), and which history and rollup rows are past
//! retention. All times are ms since the Unix epoch.

use crate::config::Settings;
use crate::monitor::MonitorState;
use crate::time::{HOUR_MS, MINUTE_MS};
use crate::uptime::Window;

/// The shortest wait before the next alarm, ms: a round that ran late never
/// makes the next one start at once.
pub const MIN_ALARM_WAIT_MS: u64 = 1_000;

/// How long minute rollups are kept: the longest window summed from them
/// (24 h) and one hour of margin for the bucket that straddles its start.
pub const MINUTE_ROLLUPS_KEPT_MS: u64 = 25 * HOUR_MS;

/// How many ms from `now_ms` the alarm fires for the next round: `refresh_s`
/// after the last round started (`None`: no round yet), at least
/// [`MIN_ALARM_WAIT_MS`].
///
/// A last round more than one `refresh_s` in the future (clock skew, or a
/// damaged state row) is not believed: the next round is due now, so a bad
/// time can never park the alarm.
pub fn next_alarm_in_ms(last_round_ms: Option<u64>, refresh_s: u32, now_ms: u64) -> u64 {
    let refresh_ms = u64::from(refresh_s) * 1000;
    let last = last_round_ms.filter(|&at| at <= now_ms.saturating_add(refresh_ms)).unwrap_or(0);
    last.saturating_add(refresh_ms).saturating_sub(now_ms).max(MIN_ALARM_WAIT_MS)
}

/// Whether a request must wait for a round before it is answered: there is no
/// state yet, or the last round started more than `2 × refresh_s` ago, so the
/// alarm that should have run one is dead. Otherwise requests never probe.
///
/// A last round more than one `refresh_s` in the future is not believed either.
pub fn needs_round(last_round_ms: Option<u64>, refresh_s: u32, now_ms: u64) -> bool {
    let refresh_ms = u64::from(refresh_s) * 1000;
    match last_round_ms {
        None => true,
        Some(at) if at > now_ms.saturating_add(refresh_ms) => true,
        Some(at) => now_ms.saturating_sub(at) > 2 * refresh_ms,
    }
}

/// Whether a request must wait for a round before it is answered, given the
/// state in memory and the fleet being served (its digest): no state, a state
/// of another fleet (a deploy changed the config, so the stored statuses were
/// judged under other rules and the added origins are unjudged), or
/// [`needs_round`].
pub fn round_due(state: Option<&MonitorState>, fleet: &str, refresh_s: u32, now_ms: u64) -> bool {
    match state {
        None => true,
        Some(state) => state.fleet != fleet || needs_round(Some(state.checked_at_ms), refresh_s, now_ms),
    }
}

/// How early an alarm may fire and still start the round it was armed for, ms.
pub const ALARM_EARLY_MS: u64 = 250;

/// Whether the monitor's alarm, firing at `now_ms`, starts a round: none has
/// run yet, or `refresh_s` have passed since the last one started (less
/// [`ALARM_EARLY_MS`]). An alarm armed before a round that a request ran
/// therefore starts no second round: it is re-armed instead. A last round
/// dated in the future is not believed.
pub fn alarm_starts_round(last_round_ms: Option<u64>, refresh_s: u32, now_ms: u64) -> bool {
    let refresh_ms = u64::from(refresh_s) * 1000;
    match last_round_ms {
        None => true,
        Some(at) if at > now_ms.saturating_add(refresh_ms) => true,
        Some(at) => now_ms.saturating_add(ALARM_EARLY_MS) >= at.saturating_add(refresh_ms),
    }
}

/// Rows older than these times are deleted after a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Status changes (`/history`) before this are pruned: `retention_days`.
    pub changes_before_ms: u64,
    /// Minute rollups before this are pruned: [`MINUTE_ROLLUPS_KEPT_MS`].
    pub minute_rollups_before_ms: u64,
    /// Hour rollups before this are pruned: `retention_days`.
    pub hour_rollups_before_ms: u64,
    /// The round's start: an objective's bucket kept until this or before
    /// ([`crate::slo::SloAdd::keep_until_ms`]) is pruned.
    pub now_ms: u64,
}

impl Retention {
    /// The cut-offs for a round that started at `now_ms`.
    pub fn at(settings: &Settings, now_ms: u64) -> Retention {
        let kept_ms = u64::from(settings.retention_days) * 24 * HOUR_MS;
        Retention {
            changes_before_ms: now_ms.saturating_sub(kept_ms),
            minute_rollups_before_ms: now_ms.saturating_sub(MINUTE_ROLLUPS_KEPT_MS),
            hour_rollups_before_ms: now_ms.saturating_sub(kept_ms),
            now_ms,
        }
    }

    /// The cut-off for rollup buckets of `width_ms` ([`MINUTE_MS`] or [`HOUR_MS`]).
    pub fn rollups_before_ms(&self, width_ms: u64) -> u64 {
        if width_ms == MINUTE_MS {
            self.minute_rollups_before_ms
        } else {
            self.hour_rollups_before_ms
        }
    }
}

const _: () = assert!(MINUTE_ROLLUPS_KEPT_MS > Window::H24.length_ms(), "minute rollups cover the 24 h window");

/// What a probe may do when its slot in the fan-out comes up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Send it, with this timeout (ms) covering headers and body.
    Send { timeout_ms: u64 },
    /// The round's deadline has passed: do not send it; the origin is
    /// `skipped` (the canary: not answered).
    Skip,
}

/// The budget of a probe whose slot comes up at `now_ms`, in a round that must
/// end by `deadline_at_ms` (ms since the Unix epoch): its own `timeout_ms` cut
/// to what is left of the deadline, so the round ends by the deadline whatever
/// the origins do, or [`Budget::Skip`] when nothing is left.
pub fn probe_budget(timeout_ms: u32, deadline_at_ms: u64, now_ms: u64) -> Budget {
    match deadline_at_ms.saturating_sub(now_ms) {
        0 => Budget::Skip,
        left => Budget::Send { timeout_ms: u64::from(timeout_ms).min(left) },
    }
}
