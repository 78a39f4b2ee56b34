//! The drain API ([`crate::drain`]): `POST /admin/drain/{name}` drains a
//! region or an origin, `DELETE /admin/drain/{name}` lifts its drain, both
//! with the admin token, as `POST /refresh`.
//!
//! | ask | answer |
//! |---|---|
//! | `POST` with `{"reason": "...", "until": "<RFC 3339, UTC>"}` (`until` optional) | 200 [`DrainedDoc`] |
//! | `DELETE` | 200 [`DrainedDoc`] with `"drain": null` (also when none was set) |
//! | an unknown name | JSON 404 |
//! | a body that is not that JSON, no `reason`, `until` not in the future | JSON 400 naming the field |
//! | a body over [`MAX_BODY_BYTES`] | JSON 413 |
//! | a drain beyond [`MAX_DRAINS`] active ones | JSON 409 |
//! | no or a wrong token | the same 401 (or 403 when closed) as `POST /refresh` |

use serde::Serialize;

use crate::config::{Config, Named};
use crate::drain::{self, Drain, MAX_BODY_BYTES, MAX_DRAINS};
use crate::maintenance::{self, Schedule, Window, MAX_API_WINDOWS};
use crate::monitor::MonitorState;
use crate::render::{self, DrainDoc};
use crate::view::ShownView;

use super::route::{named_str, preflight};
use super::{MonitorCall, Reply};

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
        return Err(Reply::error(404, "not_found", super::route::no_such_name(name)));
    };
    match method {
        "POST" => Ok((named, false)),
        "DELETE" => Ok((named, true)),
        "OPTIONS" => Err(preflight(DRAIN_ALLOW)),
        _ => {
            let mut reply =
                Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use POST or DELETE"));
            reply.set("allow", DRAIN_ALLOW.into());
            Err(reply)
        }
    }
}

/// The 413 for a drain request whose `Content-Length` is over
/// [`MAX_BODY_BYTES`], before its body is read; `None` otherwise.
pub fn drain_body_too_large(content_length: Option<&str>) -> Option<Reply> {
    let length = content_length?.trim().parse::<u64>().ok()?;
    (length > MAX_BODY_BYTES as u64)
        .then(|| Reply::error(413, "payload_too_large", format!("body: {length} bytes; at most {MAX_BODY_BYTES}")))
}

/// The monitor call of an authorized drain request at `now_ms`, or the JSON
/// 400 naming the field that is wrong.
pub fn drain_call(config: &Config, named: Named, lift: bool, body: &str, now_ms: u64) -> Result<MonitorCall, Reply> {
    let name = named_str(config, named).to_string();
    if lift {
        return Ok(MonitorCall::Drain { name, drain: None });
    }
    match drain::parse(body, now_ms) {
        Ok(drain) => Ok(MonitorCall::Drain { name, drain: Some(drain) }),
        Err((field, why)) => Err(Reply::error(400, "bad_request", format!("{field}: {why}"))),
    }
}

/// Sets (`Some`) or lifts (`None`) the drain of `name` in `state` at `now_ms`,
/// dropping the drains that lapsed; a JSON 409 when it would make more than
/// [`MAX_DRAINS`] active, and `state` is then unchanged.
pub fn apply_drain(state: &mut MonitorState, name: &str, drain: Option<Drain>, now_ms: u64) -> Result<(), Reply> {
    let others = state.drains.iter().filter(|(n, d)| n.as_str() != name && d.active(now_ms)).count();
    if drain.is_some() && others >= MAX_DRAINS {
        return Err(Reply::error(
            409,
            "too_many_drains",
            format!("{others} drains are active, at most {MAX_DRAINS}; drain a region instead, or lift one"),
        ));
    }
    state.drains.retain(|_, d| d.active(now_ms));
    match drain {
        Some(drain) => state.drains.insert(name.to_string(), drain),
        None => state.drains.remove(name),
    };
    Ok(())
}

/// The 200 answer to a drain call, from the view after it; `no-store`.
pub fn drained(config: &Config, view: &ShownView, name: &str) -> Reply {
    let (kind, ready) = match config.find(name) {
        Some(Named::Region(r)) => ("region", view.regions[r].ready),
        Some(Named::Origin(i)) => ("origin", view.origin(config, i).ready),
        None => return Reply::error(404, "not_found", super::route::no_such_name(name)),
    };
    Reply::json(200, &DrainedDoc { name, kind, ready, drain: view.drain(name).map(render::drain_doc) })
}

/// The methods of `/admin/maintenance`.
pub const MAINTENANCE_ALLOW: &str = "POST, OPTIONS";
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

/// Routes `/admin/maintenance` (`POST`: start a window) and
/// `/admin/maintenance/{id}` (`DELETE`: end one): `Ok(None)` to start,
/// `Ok(Some(id))` to end, or the answer itself (404 for a longer path, 405,
/// 204).
pub(super) fn route_maintenance<'p>(method: &str, rest: &[&'p str]) -> Result<Option<&'p str>, Reply> {
    let (wanted, allow, id) = match rest {
        [] => ("POST", MAINTENANCE_ALLOW, None),
        [id] => ("DELETE", MAINTENANCE_ID_ALLOW, Some(*id)),
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
    if method != wanted {
        let mut reply = Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use {wanted}"));
        reply.set("allow", allow.into());
        return Err(reply);
    }
    Ok(id)
}

/// The monitor call of an authorized maintenance request at `now_ms`: a
/// window to start (its body read by [`crate::maintenance::parse_start`]) or
/// one to end; otherwise the JSON 400, 404 or 413 naming the field.
pub fn maintenance_call(config: &Config, end: Option<&str>, body: &str, now_ms: u64) -> Result<MonitorCall, Reply> {
    if let Some(id) = end {
        if config.maintenance().iter().any(|w| w.id == id) {
            return Err(Reply::error(
                409,
                "conflict",
                format!("window {id:?} is declared in edgecheck.toml; change the file and deploy to end it"),
            ));
        }
        return Ok(MonitorCall::EndMaintenance { id: id.to_string() });
    }
    match maintenance::parse_start(config, body, now_ms) {
        Ok(window) => Ok(MonitorCall::StartMaintenance { window }),
        Err(refused) => {
            let code = match refused.status {
                404 => "not_found",
                413 => "payload_too_large",
                _ => "bad_request",
            };
            Err(Reply::error(refused.status, code, format!("{}: {}", refused.field, refused.message)))
        }
    }
}

/// Starts (`Ok`) API window `window` in `state` at `now_ms`: a JSON 409 when
/// [`MAX_API_WINDOWS`] are kept already, and `state` is then unchanged.
pub fn apply_start_maintenance(state: &mut MonitorState, window: Window, now_ms: u64) -> Result<(), Reply> {
    maintenance::start(&mut state.maintenance, window, now_ms).map_err(|kept| {
        Reply::error(
            409,
            "too_many_windows",
            format!("{kept} maintenance windows are kept, at most {MAX_API_WINDOWS}; end one, or cover a region or the fleet"),
        )
    })
}

/// Ends API window `id` in `state` at `now_ms`; a JSON 404 when there is none.
pub fn apply_end_maintenance(state: &mut MonitorState, id: &str, now_ms: u64) -> Result<(), Reply> {
    if maintenance::end(&mut state.maintenance, id, now_ms) {
        Ok(())
    } else {
        Err(Reply::error(
            404,
            "not_found",
            format!("no maintenance window {:?} was started through the API", super::printable(id)),
        ))
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
