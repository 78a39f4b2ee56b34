//! HTTP decided in one place: which route a request names, what the worker asks
//! the monitor, what the Cache API holds, and the status code, headers and body
//! of every answer, the monitor's own included. The shell only converts a [`Reply`]
//! to and from a `worker::Response`.
//!
//! | path | answers |
//! |---|---|
//! | `/live` | always 200 `{"status":"live"}`; never probes |
//! | `/ready` | 200 when ready, else 503; `{"status","ready"}` |
//! | `/ready/{region}` | the same for one region; 404 for an unknown region |
//! | `/health` | always 200; the whole view |
//! | `/health/{name}` | 200 for a region or origin name, else 404 |
//! | `/history` | 200; recorded status changes, newest first |
//! | `/history/{name}` | 200 for a region or origin name, else 404 |
//! | `/` | the status page, HTML |
//! | `/metrics` | Prometheus text exposition format 0.0.4 |
//! | `/badge/{scope}.json`, `.svg` | a shields.io endpoint document, or an SVG badge; scope `global`, a region or an origin |
//! | `POST /refresh` | with `Authorization: Bearer <EDGECHECK_ADMIN_TOKEN>`: runs a round now, answers `/health` |
//! | `/health?view=full` | with the same token: `/health` and what it hides ([`crate::detail`]); `private, no-store` |
//! | `POST`, `DELETE /admin/drain/{name}` | with the same token: drains a region or origin, or lifts its drain ([`admin`]) |
//! | `GET /admin/drain` | with the same token: the drains in effect ([`drain_list`]); never cached |
//! | `POST /admin/maintenance`, `DELETE /admin/maintenance/{id}` | with the same token: starts or ends a maintenance window ([`admin`]) |
//! | `GET /admin/maintenance` | with the same token: every window, declared and the API's ([`maintenance_list`]); never cached |
//! | `POST /ping/{check}[/fail\|/start]` | with the check's own token: a heartbeat check's ping ([`ping`]) |
//!
//! The bodies of the operator requests (a drain, a maintenance window, a
//! ping) have one bound, [`MAX_OPERATOR_BODY_BYTES`], and one 413
//! ([`body_too_large`]); one time bound, [`OPERATOR_BODY_TIMEOUT_MS`], and
//! one 408 ([`body_timed_out`]); and a kept body (a drain's, a window's) is
//! UTF-8 or the 400 of [`body_text`].
//!
//! Variants, from a fixed set ([`Variant`]): `/health?format=health+json` or
//! `Accept: application/health+json` (the IETF draft's format), `/health` and
//! `/health/{region}` with `?detailed=false` (no per-origin lists), `/ready` and
//! `/ready/{region}` with `?verbose` (Kubernetes-style text). Other query keys
//! are ignored; a bad value of these is a JSON 400 naming it.
//!
//! Empty path segments are ignored (`//health/` is `/health`). Every route
//! answers GET and HEAD (HEAD: same status and headers, no body) and OPTIONS
//! (204, for CORS preflights); other methods get a JSON 405 with `Allow`.
//! Snapshot answers are rendered where they are served, from the round's
//! published snapshot at the time of the request ([`crate::publish`]): they are
//! `public, max-age=<refresh_s>` with an `Age` counted from the round that
//! made them; `/live` and errors are `no-store`.

mod admin;
mod answer;
mod auth;
mod cache;
mod call;
mod path;
mod ping;
mod route;

pub use admin::*;
pub use answer::*;
pub use auth::*;
pub use cache::*;
pub use call::*;
pub use ping::*;
pub use route::*;

use serde::Serialize;

use crate::render;

/// The header carrying the snapshot's round start (ms since the Unix epoch):
/// which round an answer shows.
pub const CHECKED_AT_HEADER: &str = "x-edgecheck-checked-at";

/// Bytes of an operator request's body at most (a drain's, a maintenance
/// window's, a ping's; 10 KB, as Healthchecks.io's pings): more is the JSON
/// 413 of [`body_too_large`].
pub const MAX_OPERATOR_BODY_BYTES: u64 = 10 * 1024;

/// How much of an operator request's body over [`MAX_OPERATOR_BODY_BYTES`]
/// sent without a length (chunked) the worker still reads, and drops, before
/// it answers 413, bytes: the answer then follows a whole request (a body
/// cancelled halfway stalled the next request in wrangler dev); a body longer
/// than this is cancelled.
pub const OPERATOR_BODY_DRAIN_BYTES: u64 = 1024 * 1024;

/// The one 413 of the operator requests: `declared` is the request's
/// `Content-Length` (checked before the body is read, with `read` 0), `read`
/// what was read of the body so far; `None` while both are within
/// [`MAX_OPERATOR_BODY_BYTES`].
pub fn body_too_large(declared: Option<u64>, read: u64) -> Option<Reply> {
    let length = declared.unwrap_or(0).max(read);
    (length > MAX_OPERATOR_BODY_BYTES).then(|| {
        Reply::error(413, "payload_too_large", format!("body: {length} bytes; at most {MAX_OPERATOR_BODY_BYTES}"))
    })
}

/// How long the worker waits for an operator request's whole body (a
/// drain's, a maintenance window's, a ping's), ms from when it starts to read
/// it: 10 s, ample for 10 KB ([`MAX_OPERATOR_BODY_BYTES`]) on any link, so
/// that a body dripped a byte at a time never holds the worker. A body not
/// read whole by then is the JSON 408 of [`body_timed_out`].
pub const OPERATOR_BODY_TIMEOUT_MS: u64 = 10_000;

/// The one 408 of the operator requests: the body did not arrive whole
/// within [`OPERATOR_BODY_TIMEOUT_MS`]. Nothing was changed.
pub fn body_timed_out() -> Reply {
    Reply::error(
        408,
        "request_timeout",
        format!("body: not received whole within {OPERATOR_BODY_TIMEOUT_MS} ms; nothing was changed"),
    )
}

/// An operator request's kept body (a drain's, a maintenance window's) as
/// text, or the JSON 400 naming `body` when it is not UTF-8: a reason is
/// never made of replacement characters. (A ping's body is not kept, so its
/// bytes are never judged.)
pub fn body_text(bytes: Vec<u8>) -> Result<String, Reply> {
    String::from_utf8(bytes).map_err(|e| {
        Reply::error(
            400,
            "bad_request",
            format!("body: not UTF-8 (an invalid byte at offset {}); send JSON in UTF-8", e.utf8_error().valid_up_to()),
        )
    })
}

/// A complete HTTP answer. Header names are lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// JSON text; `None` for HEAD and 204.
    pub body: Option<String>,
}

impl Reply {
    /// An answer of `content_type` with the headers every answer has
    /// (`no-store` until [`answer`] sets its freshness).
    fn with_body(status: u16, content_type: &str, body: Option<String>) -> Reply {
        let headers = [
            ("content-type", content_type),
            ("cache-control", "no-store"),
            ("access-control-allow-origin", "*"),
            ("x-content-type-options", "nosniff"),
        ];
        Reply { status, headers: headers.map(|(n, v)| (n.to_string(), v.to_string())).into(), body }
    }

    fn json(status: u16, doc: &impl Serialize) -> Reply {
        let body = serde_json::to_string(doc).expect("wire documents serialize");
        Reply::with_body(status, "application/json", Some(body))
    }

    /// 204: the headers of a JSON answer without a body.
    fn no_content() -> Reply {
        Reply::with_body(204, "application/json", None)
    }

    fn error(status: u16, error: &'static str, message: String) -> Reply {
        Reply::json(status, &render::error(error, message))
    }

    /// A `text/plain; charset=utf-8` answer.
    fn text(status: u16, body: String) -> Reply {
        Reply::with_body(status, "text/plain; charset=utf-8", Some(body))
    }

    /// Sets header `name` (lower case), replacing any value it had.
    pub fn set(&mut self, name: &str, value: String) {
        self.remove(name);
        self.headers.push((name.to_string(), value));
    }

    /// Removes header `name` (lower case).
    pub fn remove(&mut self, name: &str) {
        self.headers.retain(|(n, _)| n != name);
    }

    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The same answer for a HEAD request when `head`: status and headers kept,
    /// with the `Content-Length` GET would have, body dropped.
    pub fn for_head(mut self, head: bool) -> Reply {
        if head {
            if let Some(body) = self.body.take() {
                self.set("content-length", body.len().to_string());
            }
        }
        self
    }
}

/// The JSON 500 for an error the worker met (a runtime call that failed, a
/// header it could not set): `{"error":"internal_error",..}` with
/// `Cache-Control: no-store`, never the runtime's bare plain-text 500. The
/// cause goes to the logs, not to the client.
pub fn internal_error() -> Reply {
    Reply::error(500, "internal_error", "edgecheck failed to answer; the cause is in its logs".into())
}

/// The answer to every route, `/live` included, when the bundle's fleet
/// document is missing or damaged ([`crate::config::Config::from_fleet_document`]):
/// `{"error":"fleet_document_invalid","message":<why>}`, 500, never cached.
/// The worker then never probes: it has no fleet it can trust.
pub fn fleet_document_invalid(why: &str) -> Reply {
    Reply::error(500, "fleet_document_invalid", format!("edgecheck cannot serve: {why}"))
}

/// The answer when the monitor cannot be reached: 503, never cached, no detail
/// (the cause goes to the logs, not to the public).
pub fn monitor_unavailable() -> Reply {
    Reply::error(503, "monitor_unavailable", "the monitor could not be reached; try again shortly".into())
}
