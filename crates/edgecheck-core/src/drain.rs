//! Manual drain: an operator takes a region or an origin out of rotation by
//! hand, as Envoy's `POST /healthcheck/fail` does, before touching it.
//!
//! A drain is a promise to the load balancer: while it is active the scope is
//! not ready, whatever the probes say, until it is lifted or its `until`
//! passes. Probing goes on and every status stays what the probes saw; only
//! readiness and the quorums change ([`crate::view::shown`] applies it, at the
//! time of the answer, so an expiry is exact across restarts and needs no
//! timer):
//!
//! - a drained region answers 503 on `/ready/{region}` with
//!   `"reason": "drained"`, and counts as down in the global view;
//! - a drained origin is not ready, and counts as down in its region's quorum.
//!
//! Drains are kept by scope name in [`crate::monitor::MonitorState::drains`],
//! so they are written with the monitor's row and survive a restart; at most
//! [`MAX_DRAINS`] are active at once. A drain is bounded in bytes, not only in
//! characters: a name of at most 64 ASCII characters, a reason of at most
//! [`MAX_REASON_CHARS`] characters without control characters, so at most
//! [`MAX_REASON_BYTES`] in UTF-8 and in the row's JSON (which escapes no
//! other character to more than 4 bytes), and two times: at most 944 bytes in
//! the row. With every other bound of the row at its worst too, the row stays
//! under 1.9 MB at the fleet limit, inside Durable Object SQLite's 2 MB
//! (`store`'s layout says how the row adds up).
//!
//! A request is read by [`parse`] and made by [`apply`]; each refusal is a
//! [`DrainError`], which `http` alone turns into an answer.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::FieldError;

/// Characters of a drain's reason at most.
pub const MAX_REASON_CHARS: usize = 200;

/// Bytes of a drain's reason at most, in UTF-8 and in JSON: 4 per character
/// (control characters, which JSON escapes to 6, are refused).
pub const MAX_REASON_BYTES: usize = 4 * MAX_REASON_CHARS;

/// Drains active at once at most; more is refused ([`DrainError::TooMany`]:
/// drain the region instead). 500 of the longest drains are 0.47 MB of the
/// monitor's row (and their names, in `MonitorState::drained`, 0.03 MB more).
pub const MAX_DRAINS: usize = 500;

/// One drain of a region or an origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drain {
    /// Why, as the operator said it (at most [`MAX_REASON_CHARS`]).
    pub reason: String,
    /// When it was set, ms since the Unix epoch.
    pub since_ms: u64,
    /// When it lapses, ms since the Unix epoch; `None` holds until lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<u64>,
}

impl Drain {
    /// Whether the drain holds at `now_ms`: set, and not past its `until`.
    pub fn active(&self, now_ms: u64) -> bool {
        self.until_ms.is_none_or(|until| now_ms < until)
    }
}

/// A drain request's body: `{"reason": "...", "until": "2026-12-01T22:00:00Z"}`
/// (`until` optional, RFC 3339 in UTC).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DrainBody {
    reason: Option<String>,
    until: Option<String>,
}

/// Why a drain is not set: the request's wrong field, or too many drains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrainError {
    /// The body is wrong: the field (`body`, `reason` or `until`) and why.
    Field(FieldError),
    /// Setting it would make more than [`MAX_DRAINS`] active: `active` others are.
    TooMany { active: usize },
}

fn field(field: &str, message: impl Into<String>) -> DrainError {
    DrainError::Field(FieldError::new(field, message))
}

/// Reads a drain request's body at `now_ms`: the [`Drain`] it asks for, or
/// the field that is wrong and why ([`DrainError::Field`]: `body`, `reason`
/// or `until`). The body's size is bounded before, by the one rule of
/// operator bodies (`http::body_too_large`).
pub fn parse(body: &str, now_ms: u64) -> Result<Drain, DrainError> {
    let body: DrainBody = serde_json::from_str(body).map_err(|e| {
        field("body", format!("expected {{\"reason\": \"...\", \"until\": \"<RFC 3339, UTC>\"}} as JSON: {e}"))
    })?;
    let reason = body.reason.unwrap_or_default();
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(field("reason", "say why the scope is drained: a non-empty string"));
    }
    if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(field("reason", format!("at most {MAX_REASON_CHARS} characters, without control characters")));
    }
    let until_ms = match body.until.as_deref() {
        None => None,
        Some(text) => {
            let at = humantime::parse_rfc3339(text).map_err(|e| {
                field("until", format!("{e}: an RFC 3339 time in UTC is expected, for example 2026-12-01T22:00:00Z"))
            })?;
            let ms = at.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
            if ms <= now_ms {
                return Err(field("until", format!("{text} is not in the future")));
            }
            Some(ms)
        }
    };
    Ok(Drain { reason: reason.to_string(), since_ms: now_ms, until_ms })
}

/// Sets (`Some`) or lifts (`None`) the drain of `name` in `drains` (the
/// monitor's, [`crate::monitor::MonitorState::drains`]) at `now_ms`, dropping
/// the drains that lapsed; [`DrainError::TooMany`] when it would make more
/// than [`MAX_DRAINS`] active, and `drains` is then unchanged.
pub fn apply(
    drains: &mut BTreeMap<String, Drain>,
    name: &str,
    drain: Option<Drain>,
    now_ms: u64,
) -> Result<(), DrainError> {
    let active = drains.iter().filter(|(n, d)| n.as_str() != name && d.active(now_ms)).count();
    if drain.is_some() && active >= MAX_DRAINS {
        return Err(DrainError::TooMany { active });
    }
    drains.retain(|_, d| d.active(now_ms));
    match drain {
        Some(drain) => drains.insert(name.to_string(), drain),
        None => drains.remove(name),
    };
    Ok(())
}
