//! The ping API of heartbeat checks ([`crate::heartbeat`]), as Healthchecks.io's:
//!
//! | ask | answer |
//! |---|---|
//! | `POST /ping/{name}`, `/ping/{name}/fail`, `/ping/{name}/start` with `Authorization: Bearer <token>` | 200 [`PingedDoc`] |
//! | `POST /ping/{token}/{name}[/fail\|/start]` (the token in the path, for senders that cannot set a header) | the same |
//! | a name that is not a heartbeat check | JSON 404 |
//! | no or a wrong token, or any token while the check's `token_secret` is not set | the one JSON 401 with `WWW-Authenticate: Bearer`, as `POST /refresh` (an unset secret is named in the worker's log only) |
//! | a body over [`MAX_OPERATOR_BODY_BYTES`](super::MAX_OPERATOR_BODY_BYTES) | JSON 413 ([`body_too_large`](super::body_too_large)) |
//! | a body not whole within [`OPERATOR_BODY_TIMEOUT_MS`](super::OPERATOR_BODY_TIMEOUT_MS) | JSON 408 ([`body_timed_out`](super::body_timed_out)) |
//! | a second ping of the check within [`MIN_PING_INTERVAL_MS`] | JSON 429 with `Retry-After` (seconds) |
//! | another method | JSON 405 with `Allow` |
//!
//! The token is checked by the worker, in constant time, before the monitor is
//! asked, so a flood of bad pings never reaches it; the monitor takes a ping
//! at once ([`crate::monitor::take_ping`]; no round is waited for) and judges
//! the check at the next round. A ping it refuses ([`PingError`]) is answered
//! by [`ping_refused`] alone.

use serde::Serialize;

use crate::config::{Config, Named};
use crate::heartbeat::{PingError, PingKind, MIN_PING_INTERVAL_MS};
use crate::render;
use crate::text::printable;

use super::path::{method_not_allowed, preflight};
use super::{MonitorCall, Reply};

/// The methods of `/ping/...`.
pub const PING_ALLOW: &str = "POST, OPTIONS";

/// A ping's route: the check (index into [`Config::origins`]), what the ping
/// says, and the token when it came in the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingRoute {
    /// Index into [`Config::origins`]: always a heartbeat check.
    pub check: usize,
    pub kind: PingKind,
    /// The token of `/ping/{token}/{check}`; `None`: it is in `Authorization`.
    pub path_token: Option<String>,
}

/// Routes the segments after `/ping`: `{name}[/{fail|start}]` (token in the
/// header) or `{token}/{name}[/{fail|start}]`. A name that is a check is read
/// as one first. `Err` is the answer itself (404, 405, 204).
pub(super) fn route_ping(config: &Config, method: &str, rest: &[&str]) -> Result<PingRoute, Reply> {
    let check = |name: &str| match config.find(name) {
        Some(Named::Origin(i)) if config.origins()[i].heartbeat.is_some() => Some(i),
        _ => None,
    };
    let header_form = match rest {
        [name] => check(name).map(|i| (i, PingKind::Success)),
        [name, suffix] => check(name).zip(PingKind::from_suffix(Some(suffix))),
        _ => None,
    };
    let route = match header_form {
        Some((check, kind)) => Some(PingRoute { check, kind, path_token: None }),
        None => match rest {
            [token, name, suffix @ ..] if suffix.len() <= 1 => check(name)
                .zip(PingKind::from_suffix(suffix.first().copied()))
                .map(|(check, kind)| PingRoute { check, kind, path_token: Some(token.to_string()) }),
            _ => None,
        },
    };
    let Some(route) = route else {
        let asked = rest.last().map_or(String::new(), |s| printable(s));
        return Err(Reply::error(
            404,
            "not_found",
            format!(
                "no heartbeat check at /ping/.../{asked}; use POST /ping/{{check}}, /ping/{{check}}/fail or /ping/{{check}}/start"
            ),
        ));
    };
    match method {
        "POST" => Ok(route),
        "OPTIONS" => Err(preflight(PING_ALLOW)),
        _ => Err(method_not_allowed(method, "POST", PING_ALLOW)),
    }
}

/// A ping [`authorize_ping`] refused: the answer, and a line for the
/// worker's log when the operator has something to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingDenied {
    /// The one 401, whatever the cause: a caller without the token learns
    /// nothing about the check's secret, not even whether it is set.
    pub reply: Reply,
    /// Set when the check's `token_secret` is not set (or empty): the line,
    /// naming the secret, that the worker logs.
    pub log: Option<String>,
}

/// The hint of a ping's 401.
const PING_HINT: &str = "send Authorization: Bearer <the check's token>, or POST /ping/<token>/<check>";

/// Checks a ping's token (the path's when it has one, else `Authorization:
/// Bearer`) against the check's secret `secret`, whose value is `token`, in
/// constant time. Refused with the same 401 as [`super::authorize`]'s for a
/// missing, empty or wrong token, and also while the secret is not set (no
/// token can be right then); only the log line of [`PingDenied`] tells the
/// operator which secret to set.
pub fn authorize_ping(
    authorization: Option<&str>,
    path_token: Option<&str>,
    secret: &str,
    token: Option<&str>,
) -> Result<(), PingDenied> {
    let given = match path_token {
        Some(given) => given,
        None => super::auth::bearer(authorization),
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(PingDenied {
            reply: super::auth::unauthorized(PING_HINT),
            log: Some(format!(
                "a ping was refused with 401: the check's token secret {secret} is not set (npx wrangler secret put {secret})"
            )),
        });
    };
    super::auth::matches(given, token, PING_HINT).map_err(|reply| PingDenied { reply, log: None })
}

/// The monitor call of an authorized ping.
pub fn ping_call(config: &Config, route: &PingRoute) -> MonitorCall {
    MonitorCall::Ping { name: config.origins()[route.check].name.clone(), kind: route.kind }
}

/// The answer to a ping the monitor took.
#[derive(Debug, Serialize)]
pub struct PingedDoc<'a> {
    pub check: &'a str,
    /// `success`, `fail` or `start`.
    pub ping: &'static str,
    /// When it was taken (RFC 3339, UTC).
    pub received_at: String,
}

/// The 200 answer to a ping of `kind` of check `name` the monitor took at
/// `now_ms` ([`crate::monitor::take_ping`]): [`PingedDoc`].
pub fn pinged(name: &str, kind: PingKind, now_ms: u64) -> Reply {
    Reply::json(200, &PingedDoc { check: name, ping: kind.as_str(), received_at: render::rfc3339(now_ms) })
}

/// The answer to a ping the monitor refused ([`crate::monitor::take_ping`]):
/// a JSON 404 for a name that is not a check, or a JSON 429 with
/// `Retry-After` when it came within [`MIN_PING_INTERVAL_MS`] of the last one.
pub fn ping_refused(refused: PingError) -> Reply {
    match refused {
        PingError::NotACheck(name) => {
            Reply::error(404, "not_found", format!("no heartbeat check is called \"{}\"", printable(&name)))
        }
        PingError::TooSoon { check, retry_after_s } => {
            let mut reply = Reply::error(
                429,
                "too_many_requests",
                format!(
                    "{check} was pinged less than {MIN_PING_INTERVAL_MS} ms ago; at most one ping a second is taken"
                ),
            );
            reply.set("retry-after", retry_after_s.to_string());
            reply
        }
    }
}
