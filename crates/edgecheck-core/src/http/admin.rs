//! The drain API ([`crate::drain`]): `POST /admin/drain/{name}` drains a
//! region or an origin, `DELETE /admin/drain/{name}` lifts its drain,
//! `GET /admin/drain` lists the drains in effect; and the maintenance API
//! ([`crate::maintenance`]): `POST /admin/maintenance` starts a window,
//! `DELETE /admin/maintenance/{id}` ends one, `GET /admin/maintenance` lists
//! every window. All with the admin token, as `POST /refresh`.
//!
//! | ask | answer |
//! |---|---|
//! | `POST` with `{"reason": "...", "until": "<RFC 3339, UTC>"}` (`until` optional) | 200 [`DrainedDoc`] |
//! | `DELETE` | 200 [`DrainedDoc`] with `"drain": null` (also when none was set) |
//! | `GET /admin/drain` | 200 [`DrainListDoc`], never cached |
//! | `GET /admin/maintenance` | 200 [`MaintenanceListDoc`], never cached |
//! | an unknown name | JSON 404 |
//! | a body that is not that JSON, no `reason`, `until` not in the future | JSON 400 naming the field |
//! | a body that is not UTF-8 | JSON 400 naming `body` ([`body_text`](super::body_text)) |
//! | a body over [`MAX_OPERATOR_BODY_BYTES`](super::MAX_OPERATOR_BODY_BYTES) | JSON 413 ([`body_too_large`]) |
//! | a body not whole within [`OPERATOR_BODY_TIMEOUT_MS`](super::OPERATOR_BODY_TIMEOUT_MS) | JSON 408 ([`body_timed_out`](super::body_timed_out)) |
//! | a drain beyond [`MAX_DRAINS`] active ones | JSON 409 |
//! | no or a wrong token | the same 401 (or 403 when closed) as `POST /refresh` |
//!
//! The lists are the monitor's, from memory at the time of the call: the
//! drains of [`MonitorState::drains`](crate::monitor::MonitorState::drains)
//! that hold, and the windows of `edgecheck.toml` ([`Config::maintenance`])
//! then those of
//! [`MonitorState::maintenance`](crate::monitor::MonitorState::maintenance).
//!
//! The domain modules decide and refuse ([`crate::drain::apply`],
//! [`crate::maintenance::start`] and [`crate::maintenance::end`], which the
//! monitor calls); the answer to each refusal is decided here alone, once
//! per API: [`drain_refused`] for a [`DrainError`], [`window_refused`] for a
//! [`WindowError`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::{Config, Named};
use crate::drain::{self, Drain, DrainError, MAX_DRAINS};
use crate::maintenance::{self, Schedule, Window, WindowError, MAX_API_WINDOWS, WEEKDAYS};
use crate::render::{self, DrainDoc};
use crate::text::printable;
use crate::view::ShownView;

use super::path::{method_not_allowed, named_str, no_such_name, preflight};
use super::{body_too_large, MonitorCall, Reply};

/// The methods of `/admin/drain/{name}`.
pub const DRAIN_ALLOW: &str = "POST, DELETE, OPTIONS";

/// The answer to a drain call: the scope, whether it is ready now, and its
/// active drain (`null` once lifted).
#[derive(Debug, Serialize)]
pub struct DrainedDoc<'a> {
    pub name: &'a str,
    /// `region` or `origin`.
    pub kind: &'static str,
    pub ready: bool,
    pub drain: Option<DrainDoc>,
}

/// Routes `/admin/drain/{name}` by method: `Ok((named, lift))` for `POST`
/// (`lift` false) and `DELETE` (true), or the answer itself (404, 405, 204).
pub(super) fn route_drain(config: &Config, method: &str, name: &str) -> Result<(Named, bool), Reply> {
    let Some(named) = config.find(name) else {
        return Err(Reply::error(404, "not_found", no_such_name(name)));
    };
    match method {
        "POST" => Ok((named, false)),
        "DELETE" => Ok((named, true)),
        "OPTIONS" => Err(preflight(DRAIN_ALLOW)),
        _ => Err(method_not_allowed(method, "POST or DELETE", DRAIN_ALLOW)),
    }
}

/// The methods of `/admin/drain`.
pub const DRAIN_LIST_ALLOW: &str = "GET, HEAD, OPTIONS";

/// Routes `/admin/drain` (the list of drains): `Ok(head)` for `GET` and
/// `HEAD`, or the answer itself (405, 204).
pub(super) fn route_drain_list(method: &str) -> Result<bool, Reply> {
    match method {
        "GET" | "HEAD" => Ok(method == "HEAD"),
        "OPTIONS" => Err(preflight(DRAIN_LIST_ALLOW)),
        _ => Err(method_not_allowed(method, "GET", DRAIN_LIST_ALLOW)),
    }
}

/// The monitor call of an authorized drain request at `now_ms`, or the JSON
/// 400 naming the field that is wrong (413 for a body over the bound; the
/// body of a `DELETE` is not read).
pub fn drain_call(config: &Config, named: Named, lift: bool, body: &str, now_ms: u64) -> Result<MonitorCall, Reply> {
    let name = named_str(config, named).to_string();
    if lift {
        return Ok(MonitorCall::Drain { name, drain: None });
    }
    if let Some(reply) = body_too_large(None, body.len() as u64) {
        return Err(reply);
    }
    let drain = drain::parse(body, now_ms).map_err(drain_refused)?;
    Ok(MonitorCall::Drain { name, drain: Some(drain) })
}

/// The answer to a refused drain ([`crate::drain::parse`],
/// [`crate::drain::apply`]): a JSON 400 naming the field, or a 409 when it
/// would make more than [`MAX_DRAINS`] active.
pub fn drain_refused(refused: DrainError) -> Reply {
    match refused {
        DrainError::Field(e) => Reply::error(400, "bad_request", format!("{}: {}", e.field, e.message)),
        DrainError::TooMany { active } => Reply::error(
            409,
            "too_many_drains",
            format!("{active} drains are active, at most {MAX_DRAINS}; drain a region instead, or lift one"),
        ),
    }
}

/// The 200 answer to a drain call, from the view after it; `no-store`.
pub fn drained(config: &Config, view: &ShownView, name: &str) -> Reply {
    let (kind, ready) = match config.find(name) {
        Some(Named::Region(r)) => ("region", view.regions[r].ready),
        Some(Named::Origin(i)) => ("origin", view.origin(config, i).ready),
        None => return Reply::error(404, "not_found", no_such_name(name)),
    };
    Reply::json(200, &DrainedDoc { name, kind, ready, drain: view.drain(name).map(render::drain_doc) })
}

/// The answer to `GET /admin/drain`: the drains in effect, by name.
#[derive(Debug, Serialize)]
pub struct DrainListDoc<'a> {
    pub drains: Vec<ListedDrainDoc<'a>>,
}

/// One drain in effect.
#[derive(Debug, Serialize)]
pub struct ListedDrainDoc<'a> {
    pub name: &'a str,
    /// `region` or `origin`.
    pub kind: &'static str,
    pub reason: &'a str,
    /// RFC 3339, UTC: when it was set.
    pub since: String,
    /// RFC 3339, UTC: when it lapses; `null` when it holds until lifted.
    pub until: Option<String>,
}

/// The 200 answer to `GET /admin/drain` at `now_ms`: the drains of `drains`
/// (the monitor's) that hold then, in name order, of the regions and origins
/// of `config`; `no-store`.
pub fn drain_list(config: &Config, drains: &BTreeMap<String, Drain>, now_ms: u64) -> Reply {
    let drains = drains
        .iter()
        .filter(|(_, d)| d.active(now_ms))
        .filter_map(|(name, d)| {
            let kind = match config.find(name)? {
                Named::Region(_) => "region",
                Named::Origin(_) => "origin",
            };
            Some(ListedDrainDoc {
                name,
                kind,
                reason: &d.reason,
                since: render::rfc3339(d.since_ms),
                until: d.until_ms.map(render::rfc3339),
            })
        })
        .collect();
    Reply::json(200, &DrainListDoc { drains })
}

/// The methods of `/admin/maintenance`.
pub const MAINTENANCE_ALLOW: &str = "GET, HEAD, POST, OPTIONS";
/// The methods of `/admin/maintenance/{id}`.
pub const MAINTENANCE_ID_ALLOW: &str = "DELETE, OPTIONS";

/// The answer to a maintenance call ([`crate::maintenance`]): the window as
/// kept, its times RFC 3339 in UTC, and whether it is open now.
#[derive(Debug, Serialize)]
pub struct WindowDoc<'a> {
    pub id: &'a str,
    pub reason: &'a str,
    /// Regions it covers; with `origins` both empty, the whole fleet.
    pub regions: &'a [String],
    pub origins: &'a [String],
    pub start: String,
    pub end: String,
    pub open: bool,
}

/// What a request to `/admin/maintenance[/{id}]` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MaintenanceAsk<'p> {
    /// `GET` (`head` false) or `HEAD` `/admin/maintenance`: the list.
    List { head: bool },
    /// `POST /admin/maintenance`: start a window.
    Start,
    /// `DELETE /admin/maintenance/{id}`: end window `id`.
    End(&'p str),
}

/// Routes `/admin/maintenance` (`GET`: the list; `POST`: start a window) and
/// `/admin/maintenance/{id}` (`DELETE`: end one), or answers itself (404 for
/// a longer path, 405, 204).
pub(super) fn route_maintenance<'p>(method: &str, rest: &[&'p str]) -> Result<MaintenanceAsk<'p>, Reply> {
    match (rest, method) {
        ([], "GET" | "HEAD") => return Ok(MaintenanceAsk::List { head: method == "HEAD" }),
        ([], "POST") => return Ok(MaintenanceAsk::Start),
        ([id], "DELETE") => return Ok(MaintenanceAsk::End(id)),
        _ => {}
    }
    let (wanted, allow) = match rest {
        [] => ("GET or POST", MAINTENANCE_ALLOW),
        [_] => ("DELETE", MAINTENANCE_ID_ALLOW),
        _ => {
            return Err(Reply::error(
                404,
                "not_found",
                "no such path: /admin/maintenance or /admin/maintenance/{id}".into(),
            ))
        }
    };
    if method == "OPTIONS" {
        return Err(preflight(allow));
    }
    Err(method_not_allowed(method, wanted, allow))
}

/// The monitor call of an authorized maintenance request at `now_ms`: a
/// window to start (its body bounded by [`body_too_large`], then read by
/// [`crate::maintenance::parse_start`]) or one to end
/// ([`crate::maintenance::check_end`]); otherwise the JSON 400, 404 or 413
/// naming the field (409 to end a declared window).
pub fn maintenance_call(config: &Config, end: Option<&str>, body: &str, now_ms: u64) -> Result<MonitorCall, Reply> {
    if let Some(id) = end {
        maintenance::check_end(config, id).map_err(window_refused)?;
        return Ok(MonitorCall::EndMaintenance { id: id.to_string() });
    }
    if let Some(reply) = body_too_large(None, body.len() as u64) {
        return Err(reply);
    }
    let window = maintenance::parse_start(config, body, now_ms).map_err(window_refused)?;
    Ok(MonitorCall::StartMaintenance { window })
}

/// The answer to a refused maintenance request
/// ([`crate::maintenance::parse_start`], [`crate::maintenance::check_end`],
/// [`crate::maintenance::start`], [`crate::maintenance::end`]): a JSON 400
/// naming the field, a 404 for an unknown region, origin or window, a 409
/// for a declared window or beyond [`MAX_API_WINDOWS`].
pub fn window_refused(refused: WindowError) -> Reply {
    match refused {
        WindowError::Field(e) => Reply::error(400, "bad_request", format!("{}: {}", e.field, e.message)),
        WindowError::UnknownScope(e) => Reply::error(404, "not_found", format!("{}: {}", e.field, e.message)),
        WindowError::Declared(id) => Reply::error(
            409,
            "conflict",
            format!("window {id:?} is declared in edgecheck.toml; change the file and deploy to end it"),
        ),
        WindowError::TooMany { kept } => Reply::error(
            409,
            "too_many_windows",
            format!("{kept} maintenance windows are kept, at most {MAX_API_WINDOWS}; end one, or cover a region or the fleet"),
        ),
        WindowError::NotFound(id) => Reply::error(
            404,
            "not_found",
            format!("no maintenance window {:?} was started through the API", printable(&id)),
        ),
    }
}

/// The 200 answer to a maintenance call: `window` as kept, at `now_ms`; `no-store`.
pub fn maintenance_window(window: &Window, now_ms: u64) -> Reply {
    let (start_ms, end_ms) = match window.schedule {
        Schedule::Once { start_ms, end_ms } => (start_ms, end_ms),
        Schedule::Weekly { .. } => (now_ms, now_ms),
    };
    Reply::json(
        200,
        &WindowDoc {
            id: &window.id,
            reason: &window.reason,
            regions: &window.scope.regions,
            origins: &window.scope.origins,
            start: render::rfc3339(start_ms),
            end: render::rfc3339(end_ms),
            open: window.schedule.window_at(now_ms).is_some(),
        },
    )
}

/// The answer to `GET /admin/maintenance`: every window, those declared in
/// `edgecheck.toml` first (in the file's order), then the API's.
#[derive(Debug, Serialize)]
pub struct MaintenanceListDoc<'a> {
    pub windows: Vec<ListedWindowDoc<'a>>,
}

/// One window of the list: what it covers, when, where it comes from, and
/// whether it is open at the time of the answer.
#[derive(Debug, Serialize)]
pub struct ListedWindowDoc<'a> {
    pub id: &'a str,
    pub reason: &'a str,
    /// `config` (declared in `edgecheck.toml`) or `api`.
    pub source: &'static str,
    /// Whether it covers the whole fleet (`regions` and `origins` empty).
    pub fleet: bool,
    pub regions: &'a [String],
    pub origins: &'a [String],
    pub schedule: ScheduleDoc,
    pub open: bool,
    /// The occurrence open now; `null` when closed.
    pub current: Option<OccurrenceDoc>,
    /// The next occurrence to open; `null` when none will.
    pub next: Option<OccurrenceDoc>,
}

/// When a window is open: `{"kind": "once", "start", "end"}` (RFC 3339, UTC)
/// or `{"kind": "weekly", "days": ["mon", ..], "start": "HH:MM", "minutes"}`
/// (UTC).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScheduleDoc {
    Once { start: String, end: String },
    Weekly { days: Vec<&'static str>, start: String, minutes: u32 },
}

/// One occurrence of a window, RFC 3339 in UTC; `end` excluded.
#[derive(Debug, Serialize)]
pub struct OccurrenceDoc {
    pub start: String,
    pub end: String,
}

fn occurrence_doc((start_ms, end_ms): (u64, u64)) -> OccurrenceDoc {
    OccurrenceDoc { start: render::rfc3339(start_ms), end: render::rfc3339(end_ms) }
}

fn schedule_doc(schedule: &Schedule) -> ScheduleDoc {
    match *schedule {
        Schedule::Once { start_ms, end_ms } => {
            ScheduleDoc::Once { start: render::rfc3339(start_ms), end: render::rfc3339(end_ms) }
        }
        Schedule::Weekly { days, start_min, minutes } => ScheduleDoc::Weekly {
            days: WEEKDAYS.iter().enumerate().filter(|(k, _)| days & (1 << k) != 0).map(|(_, d)| *d).collect(),
            start: format!("{:02}:{:02}", start_min / 60, start_min % 60),
            minutes,
        },
    }
}

/// The 200 answer to `GET /admin/maintenance` at `now_ms`: the windows of
/// `config`, then `started` (the API's, as the monitor keeps them), each
/// with its occurrence open now and the next one ([`Schedule::window_at`],
/// [`Schedule::next_after`]); `no-store`.
pub fn maintenance_list(config: &Config, started: &[Window], now_ms: u64) -> Reply {
    let declared = config.maintenance().iter().map(|w| ("config", w));
    let windows = declared
        .chain(started.iter().map(|w| ("api", w)))
        .map(|(source, w)| {
            let current = w.schedule.window_at(now_ms);
            ListedWindowDoc {
                id: &w.id,
                reason: &w.reason,
                source,
                fleet: w.scope.is_fleet(),
                regions: &w.scope.regions,
                origins: &w.scope.origins,
                schedule: schedule_doc(&w.schedule),
                open: current.is_some(),
                current: current.map(occurrence_doc),
                next: w.schedule.next_after(now_ms).map(occurrence_doc),
            }
        })
        .collect();
    Reply::json(200, &MaintenanceListDoc { windows })
}
