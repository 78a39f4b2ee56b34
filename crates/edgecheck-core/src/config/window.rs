//! What a maintenance window is (its [`Window`], [`Schedule`] and [`Scope`])
//! and the checks of its id and reason: the shape the config declares and the
//! admin API starts. Below the rest of `config` and below
//! [`crate::maintenance`], which decides what an open window does.

use serde::{Deserialize, Serialize};

use crate::text::printable;
use crate::time::{DAY_MS, MINUTE_MS};

/// Characters of a window's reason at most.
pub const MAX_REASON_CHARS: usize = 200;

/// Windows declared in `edgecheck.toml` at most.
pub const MAX_DECLARED_WINDOWS: usize = 100;

/// Regions plus origins one window may name at most (more: cover the fleet or
/// a region instead).
pub const MAX_SCOPE_NAMES: usize = 100;

/// The longest weekly occurrence, minutes (one day), so that two occurrences
/// of one window never overlap.
pub const MAX_WEEKLY_MINUTES: u32 = 24 * 60;

/// The days of a weekly window, as written, Monday first (ISO 8601).
pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// When a window is open. Times are UTC, ms since the Unix epoch; every
/// interval is half-open, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Once, from `start_ms` to `end_ms`.
    Once { start_ms: u64, end_ms: u64 },
    /// Every week on `days` (bit 0 Monday … bit 6 Sunday), from `start_min`
    /// minutes after 00:00 UTC, for `minutes` (1 to [`MAX_WEEKLY_MINUTES`]);
    /// an occurrence may run past midnight.
    Weekly { days: u8, start_min: u32, minutes: u32 },
}

impl Schedule {
    /// The occurrence open at `at_ms`, as `(start_ms, end_ms)`; `None` when
    /// the window is closed then.
    pub fn window_at(&self, at_ms: u64) -> Option<(u64, u64)> {
        match *self {
            Schedule::Once { start_ms, end_ms } => (start_ms <= at_ms && at_ms < end_ms).then_some((start_ms, end_ms)),
            Schedule::Weekly { days, start_min, minutes } => {
                // An occurrence lasts at most a day, so only today's and
                // yesterday's can be open; today's (the later) first.
                let today = at_ms / DAY_MS;
                (0..=1u64).filter_map(|back| today.checked_sub(back)).find_map(|day| {
                    // 1970-01-01 was a Thursday: day 0 is weekday 3 (Monday 0).
                    let weekday = (day + 3) % 7;
                    // Saturating: a damaged stored window may hold any numbers.
                    let start = (day * DAY_MS).saturating_add(u64::from(start_min).saturating_mul(MINUTE_MS));
                    let end = start.saturating_add(u64::from(minutes).saturating_mul(MINUTE_MS));
                    (days & (1 << weekday) != 0 && start <= at_ms && at_ms < end).then_some((start, end))
                })
            }
        }
    }

    /// The next occurrence to open after `at_ms`, as `(start_ms, end_ms)`:
    /// for a one-off window itself while it has not begun, for a weekly one
    /// the first occurrence starting later (within a week); `None` when none
    /// will.
    pub fn next_after(&self, at_ms: u64) -> Option<(u64, u64)> {
        match *self {
            Schedule::Once { start_ms, end_ms } => (at_ms < start_ms).then_some((start_ms, end_ms)),
            Schedule::Weekly { days, start_min, minutes } => {
                // Today's occurrence may not have begun yet; a week on, the
                // first chosen day has come round again.
                let today = at_ms / DAY_MS;
                (0..=7u64).find_map(|ahead| {
                    let day = today.saturating_add(ahead);
                    let weekday = (day + 3) % 7;
                    let start =
                        day.saturating_mul(DAY_MS).saturating_add(u64::from(start_min).saturating_mul(MINUTE_MS));
                    let end = start.saturating_add(u64::from(minutes).saturating_mul(MINUTE_MS));
                    (days & (1 << weekday) != 0 && start > at_ms).then_some((start, end))
                })
            }
        }
    }
}

/// What a window covers: regions and origins by name; both empty is the
/// whole fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
}

impl Scope {
    /// Whether it is the whole fleet.
    pub fn is_fleet(&self) -> bool {
        self.regions.is_empty() && self.origins.is_empty()
    }
}

/// One maintenance window, declared or started through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Unique among all windows; a name (`[a-z0-9._-]`, 1 to 64).
    pub id: String,
    /// Why, as the operator said it (at most [`MAX_REASON_CHARS`]).
    pub reason: String,
    #[serde(default)]
    pub scope: Scope,
    pub schedule: Schedule,
}

/// Whether a reason is acceptable: non-empty once trimmed, at most
/// [`MAX_REASON_CHARS`], no control characters; the complaint otherwise.
pub fn check_reason(reason: &str) -> Result<(), String> {
    if reason.trim().is_empty() {
        return Err("say why: a non-empty string".into());
    }
    if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(format!("at most {MAX_REASON_CHARS} characters, without control characters"));
    }
    Ok(())
}

/// Whether `id` is a window id: 1 to 64 of `[a-z0-9._-]`, not only dots.
pub fn check_id(id: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || id.len() > 64 || !id.chars().all(ok_char) || id.chars().all(|c| c == '.') {
        return Err(format!("{:?} is not an id: 1 to 64 of a-z, 0-9, '-', '_' and '.', not only dots", printable(id)));
    }
    Ok(())
}
