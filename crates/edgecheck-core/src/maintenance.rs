//! Maintenance windows: planned work on the whole fleet, some regions or some
//! origins, declared in `edgecheck.toml` (`[[maintenance]]`, one-off or
//! weekly in UTC) or started and ended through the admin API
//! (`POST /admin/maintenance`, `DELETE /admin/maintenance/{id}`).
//!
//! A window changes what is *told*, never what is *seen*:
//!
//! - probing goes on and readiness stays truthful: a load balancer still sees
//!   reality ([`crate::view::shown`] does not read windows for `ready`);
//! - the scope shows `"maintenance": {id, reason, since, until}` in `/health`,
//!   on the page, on badges and in `/metrics`;
//! - a round that finds a scope in a window counts it as `maintenance` in the
//!   uptime rollups, apart from up, degraded and down ([`crate::uptime`]);
//! - notifications about the scope are held: the channel keeps what it last
//!   told, and once the window is over it is told only if the damped status
//!   then differs from that ([`crate::notify`]);
//! - `/history` records each window's start and end (kind `maintenance`).
//!
//! Windows from the API are kept in [`crate::monitor::MonitorState::maintenance`]
//! (at most [`MAX_API_WINDOWS`], each of at most [`MAX_SCOPE_NAMES`] names, an
//! id of 64 characters and a reason of [`MAX_REASON_CHARS`]: at most 7.8 KB
//! each in the monitor's row, 0.16 MB in all) and
//! survive a restart; a window's times decide alone whether it is open, at the
//! time of the answer or of the round, so it ends on time across a restart.
//!
//! An API request is read by [`parse_start`] or [`check_end`] and made by
//! [`start`] or [`end`]; each refusal is a [`WindowError`], which `http`
//! alone turns into an answer.

use std::collections::BTreeMap;

use serde::Deserialize;

pub use crate::config::window::{
    check_id, check_reason, Schedule, Scope, Window, MAX_DECLARED_WINDOWS, MAX_REASON_CHARS, MAX_SCOPE_NAMES,
    MAX_WEEKLY_MINUTES, WEEKDAYS,
};
use crate::config::{Config, FieldError, Named};
use crate::text::printable;
pub use crate::time::parse_time;
use crate::time::DAY_MS;

/// Windows from the API kept at once at most; more is refused
/// ([`WindowError::TooMany`]). With each at its largest (7.8 KB), they are
/// 0.16 MB of the monitor's row, which every bound at its worst keeps under
/// 1.9 MB at the fleet limit.
pub const MAX_API_WINDOWS: usize = 20;

/// The longest window the API starts, ms (31 days): a forgotten window must
/// not hold notifications for ever.
pub const MAX_API_LENGTH_MS: u64 = 31 * DAY_MS;

/// A window open at some time: the occurrence's bounds, ms since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub id: String,
    pub reason: String,
    pub since_ms: u64,
    pub until_ms: u64,
}

/// The windows open at one time, by what they cover: the one rule of which
/// scope is in maintenance. Where several cover a scope, the one that ends
/// last is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InMaintenance {
    fleet: Option<Open>,
    regions: BTreeMap<String, Open>,
    origins: BTreeMap<String, Open>,
}

impl InMaintenance {
    /// The windows of `config` and `started` (the API's) open at `at_ms`.
    pub fn at(config: &Config, started: &[Window], at_ms: u64) -> InMaintenance {
        let mut out = InMaintenance::default();
        for window in config.maintenance().iter().chain(started) {
            let Some((since_ms, until_ms)) = window.schedule.window_at(at_ms) else { continue };
            let open = Open { id: window.id.clone(), reason: window.reason.clone(), since_ms, until_ms };
            if window.scope.is_fleet() {
                keep_longer(&mut out.fleet, open);
                continue;
            }
            for name in &window.scope.regions {
                keep_longer_in(&mut out.regions, name, &open);
            }
            for name in &window.scope.origins {
                keep_longer_in(&mut out.origins, name, &open);
            }
        }
        out
    }

    /// Whether no window is open.
    pub fn is_empty(&self) -> bool {
        self.fleet.is_none() && self.regions.is_empty() && self.origins.is_empty()
    }

    /// Each scope a window names, with the window shown for it:
    /// `("global", "global", open)` for the whole fleet, then
    /// `("region", name, open)` and `("origin", name, open)` in name order.
    /// Origins covered through their region are not listed again.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, &str, &Open)> {
        let fleet = self.fleet.iter().map(|o| ("global", "global", o));
        let regions = self.regions.iter().map(|(n, o)| ("region", n.as_str(), o));
        fleet.chain(regions).chain(self.origins.iter().map(|(n, o)| ("origin", n.as_str(), o)))
    }

    /// The window over the whole fleet, if one is open (the global scope).
    pub fn fleet(&self) -> Option<&Open> {
        self.fleet.as_ref()
    }

    /// The window over region `r`: its own or the fleet's.
    pub fn region(&self, config: &Config, r: usize) -> Option<&Open> {
        longer(self.fleet.as_ref(), self.regions.get(&config.regions()[r].name))
    }

    /// The window over origin `i`: its own, its region's or the fleet's.
    pub fn origin(&self, config: &Config, i: usize) -> Option<&Open> {
        let origin = &config.origins()[i];
        longer(self.region(config, origin.region), self.origins.get(&origin.name))
    }

    /// The window over a region or an origin.
    pub fn of(&self, config: &Config, named: Named) -> Option<&Open> {
        match named {
            Named::Region(r) => self.region(config, r),
            Named::Origin(i) => self.origin(config, i),
        }
    }
}

fn keep_longer(slot: &mut Option<Open>, open: Open) {
    if slot.as_ref().is_none_or(|o| o.until_ms < open.until_ms) {
        *slot = Some(open);
    }
}

fn keep_longer_in(map: &mut BTreeMap<String, Open>, name: &str, open: &Open) {
    if map.get(name).is_none_or(|o| o.until_ms < open.until_ms) {
        map.insert(name.to_string(), open.clone());
    }
}

fn longer<'a>(a: Option<&'a Open>, b: Option<&'a Open>) -> Option<&'a Open> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.until_ms > a.until_ms { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The history of windows between two rounds: `(id, at_ms, started)` for
/// each window that opened (`started`) or closed after `prev_ms` and by
/// `at_ms`, with the time it did. A one-off window is recorded even when it
/// opened and closed between two rounds (an API window started and ended
/// in between); a weekly one is compared at the two times. On the first
/// round (`prev_ms` `None`) only the windows open then are recorded.
pub fn transitions(config: &Config, started: &[Window], prev_ms: Option<u64>, at_ms: u64) -> Vec<(String, u64, bool)> {
    let mut out = Vec::new();
    for window in config.maintenance().iter().chain(started) {
        let id = || window.id.clone();
        let now = window.schedule.window_at(at_ms);
        let Some(prev_ms) = prev_ms else {
            if let Some((start, _)) = now {
                out.push((id(), start, true));
            }
            continue;
        };
        match window.schedule {
            Schedule::Once { start_ms, end_ms } => {
                if prev_ms < start_ms && start_ms <= at_ms {
                    out.push((id(), start_ms, true));
                }
                if prev_ms < end_ms && end_ms <= at_ms {
                    out.push((id(), end_ms, false));
                }
            }
            Schedule::Weekly { .. } => match (window.schedule.window_at(prev_ms), now) {
                (Some(b), Some(n)) if b == n => {}
                (before, now) => {
                    if let Some((_, end)) = before {
                        out.push((id(), end.min(at_ms), false));
                    }
                    if let Some((start, _)) = now {
                        out.push((id(), start, true));
                    }
                }
            },
        }
    }
    out
}

/// A `POST /admin/maintenance` body:
/// `{"id": "db-upgrade", "reason": "...", "regions": ["eu"], "origins": [],
/// "start": "<RFC 3339, UTC>", "end": "<RFC 3339, UTC>"}`. `id` is optional
/// (one is made from the start time), `start` defaults to now, `end` is
/// required; no `regions` and no `origins` is the whole fleet.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    id: Option<String>,
    reason: Option<String>,
    #[serde(default)]
    regions: Vec<String>,
    #[serde(default)]
    origins: Vec<String>,
    start: Option<String>,
    end: Option<String>,
}

/// Why a maintenance request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowError {
    /// The body is wrong: the field (`body`, `reason`, `regions`, `start`,
    /// `end` or `id`) and why.
    Field(FieldError),
    /// `regions` or `origins` names no region or origin of the fleet.
    UnknownScope(FieldError),
    /// Window `id` is declared in `edgecheck.toml`: the API does not end it.
    Declared(String),
    /// Keeping it would keep more than [`MAX_API_WINDOWS`]: `kept` others are.
    TooMany { kept: usize },
    /// No window `id` was started through the API.
    NotFound(String),
}

fn field(field: &str, message: impl Into<String>) -> WindowError {
    WindowError::Field(FieldError::new(field, message))
}

/// Reads a `POST /admin/maintenance` body at `now_ms` under `config`: the
/// one-off [`Window`] it asks for, or why not: an unknown region or origin
/// ([`WindowError::UnknownScope`]); a bad body, an `end` not after `start` or
/// not in the future, a window longer than [`MAX_API_LENGTH_MS`], or an `id`
/// declared in `edgecheck.toml` ([`WindowError::Field`]). The body's size is
/// bounded before, by the one rule of operator bodies (`http::body_too_large`).
pub fn parse_start(config: &Config, body: &str, now_ms: u64) -> Result<Window, WindowError> {
    let body: StartBody = serde_json::from_str(body).map_err(|e| {
        field(
            "body",
            format!("expected {{\"reason\": \"...\", \"end\": \"<RFC 3339, UTC>\", \"regions\": [...], \"origins\": [...]}} as JSON: {e}"),
        )
    })?;
    let reason = body.reason.unwrap_or_default();
    check_reason(&reason).map_err(|why| field("reason", why))?;
    if body.regions.len() + body.origins.len() > MAX_SCOPE_NAMES {
        return Err(field(
            "regions",
            format!("at most {MAX_SCOPE_NAMES} regions and origins in all; cover a region or the fleet instead"),
        ));
    }
    for name in &body.regions {
        if !matches!(config.find(name), Some(Named::Region(_))) {
            return Err(WindowError::UnknownScope(FieldError::new(
                "regions",
                format!("no region named {:?} in this fleet", printable(name)),
            )));
        }
    }
    for name in &body.origins {
        if !matches!(config.find(name), Some(Named::Origin(_))) {
            return Err(WindowError::UnknownScope(FieldError::new(
                "origins",
                format!("no origin named {:?} in this fleet", printable(name)),
            )));
        }
    }
    let start_ms = match body.start.as_deref() {
        None => now_ms,
        Some(text) => parse_time(text).map_err(|why| field("start", why))?,
    };
    let Some(end) = body.end.as_deref() else {
        return Err(field("end", "required: when the window ends, an RFC 3339 time in UTC (DELETE ends it early)"));
    };
    let end_ms = parse_time(end).map_err(|why| field("end", why))?;
    if end_ms <= start_ms {
        return Err(field("end", format!("{end} is not after the start")));
    }
    if end_ms <= now_ms {
        return Err(field("end", format!("{end} is not in the future")));
    }
    if end_ms - start_ms > MAX_API_LENGTH_MS {
        return Err(field("end", "a window lasts at most 31 days; start another when it ends"));
    }
    let id = match body.id {
        Some(id) => {
            if let Err(why) = check_id(&id) {
                return Err(field("id", why));
            }
            if config.maintenance().iter().any(|w| w.id == id) {
                return Err(field("id", format!("{id:?} is declared in edgecheck.toml; choose another id")));
            }
            id
        }
        None => format!("api-{start_ms}"),
    };
    let scope = Scope { regions: body.regions, origins: body.origins };
    Ok(Window { id, reason: reason.trim().to_string(), scope, schedule: Schedule::Once { start_ms, end_ms } })
}

/// Whether API window `id` may be ended: [`WindowError::Declared`] when
/// `config` declares it (the file is changed and deployed to end it).
pub fn check_end(config: &Config, id: &str) -> Result<(), WindowError> {
    if config.maintenance().iter().any(|w| w.id == id) {
        return Err(WindowError::Declared(id.to_string()));
    }
    Ok(())
}

/// Adds (or replaces, by id) an API window in `started` (the monitor's,
/// [`crate::monitor::MonitorState::maintenance`]) at `now_ms`, dropping the
/// ones over by then; [`WindowError::TooMany`] when it would keep more than
/// [`MAX_API_WINDOWS`], and `started` is then unchanged.
pub fn start(started: &mut Vec<Window>, window: Window, now_ms: u64) -> Result<(), WindowError> {
    let kept = started.iter().filter(|w| w.id != window.id && !over(w, now_ms)).count();
    if kept >= MAX_API_WINDOWS {
        return Err(WindowError::TooMany { kept });
    }
    started.retain(|w| w.id != window.id && !over(w, now_ms));
    started.push(window);
    Ok(())
}

/// Ends API window `id` in `started` at `now_ms`: one not yet begun is
/// removed, an open one is cut to end now (so the next round records its
/// end). [`WindowError::NotFound`] when there is no such window.
pub fn end(started: &mut Vec<Window>, id: &str, now_ms: u64) -> Result<(), WindowError> {
    let Some(k) = started.iter().position(|w| w.id == id) else {
        return Err(WindowError::NotFound(id.to_string()));
    };
    match &mut started[k].schedule {
        Schedule::Once { start_ms, .. } if *start_ms > now_ms => {
            started.remove(k);
        }
        Schedule::Once { end_ms, .. } => *end_ms = (*end_ms).min(now_ms),
        Schedule::Weekly { .. } => {
            started.remove(k);
        }
    }
    Ok(())
}

/// Whether window `w` will never be open again after `now_ms`.
pub fn over(w: &Window, now_ms: u64) -> bool {
    matches!(w.schedule, Schedule::Once { end_ms, .. } if end_ms <= now_ms)
}
