//! HTTP decided in one place: which route a request names, and the status code,
//! headers and body of every answer. The shell only converts a [`Reply`] into a
//! `worker::Response`.
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
//! | `POST /refresh` | with `Authorization: Bearer <EDGECHECK_ADMIN_TOKEN>`: runs a round now, answers `/health` |
//!
//! Every route answers GET and HEAD (HEAD: same status and headers, no body) and
//! OPTIONS (204, for CORS preflights); other methods get a JSON 405 with `Allow`.
//! Answers from the monitor's snapshot are `public, max-age=<refresh_s>` with an
//! `Age` counted from the round that made them; `/live` and errors are `no-store`.

use serde::Serialize;

use crate::config::{Config, Named};
use crate::monitor::{age_s, Change, Shown, Snapshot};
use crate::render::{self, ErrorDoc, LiveDoc, NamedOriginDoc, NamedRegionDoc, ReadyDoc, RegionReadyDoc, Uptimes};

/// The header carrying the snapshot's round start (ms since the Unix epoch), so
/// a cached copy can recompute `Age`.
pub const CHECKED_AT_HEADER: &str = "x-edgecheck-checked-at";

/// The admin route that runs a round now.
pub const REFRESH_PATH: &str = "/refresh";

/// The wrangler secret holding the admin token for `POST /refresh`.
pub const ADMIN_TOKEN_SECRET: &str = "EDGECHECK_ADMIN_TOKEN";

/// The methods every route allows.
pub const ALLOW: &str = "GET, HEAD, OPTIONS";

/// A route answered from the monitor's snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Ready,
    /// Index into [`Config::regions`].
    ReadyRegion(usize),
    Health,
    HealthRegion(usize),
    /// Index into [`Config::origins`].
    HealthOrigin(usize),
    /// All recorded changes.
    History,
    /// Changes of one region or origin.
    HistoryOf(Named),
}

impl Target {
    /// The region or origin name whose history this target lists, if any.
    pub fn history_name(self, config: &Config) -> Option<Option<&str>> {
        match self {
            Target::History => Some(None),
            Target::HistoryOf(Named::Region(r)) => Some(Some(&config.regions[r].name)),
            Target::HistoryOf(Named::Origin(i)) => Some(Some(&config.origins[i].name)),
            _ => None,
        }
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// Answer now, without the monitor.
    Answer(Reply),
    /// Answer from the monitor's snapshot with [`answer`].
    Snapshot(Target),
    /// `POST /refresh`: check [`authorize`], make the monitor run a round now,
    /// answer with [`refreshed`].
    Refresh,
}

/// A complete HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// JSON text; `None` for HEAD and 204.
    pub body: Option<String>,
}

impl Reply {
    fn json(status: u16, doc: &impl Serialize) -> Reply {
        let body = serde_json::to_string(doc).expect("wire documents serialize");
        let headers = vec![
            ("content-type", "application/json".to_string()),
            ("cache-control", "no-store".to_string()),
            ("access-control-allow-origin", "*".to_string()),
            ("x-content-type-options", "nosniff".to_string()),
        ];
        Reply { status, headers, body: Some(body) }
    }

    fn error(status: u16, error: &'static str, message: String) -> Reply {
        Reply::json(status, &ErrorDoc { error, message })
    }

    /// Sets header `name` (lower case), replacing any value it had.
    pub fn set(&mut self, name: &'static str, value: String) {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value));
    }

    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// The same answer for a HEAD request: status and headers kept, body dropped.
    pub fn without_body(mut self) -> Reply {
        self.body = None;
        self
    }
}

/// The path a route and a cache key are made from: one trailing slash dropped
/// (`/ready/` is `/ready`).
pub fn normalize(path: String) -> String {
    match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => path,
    }
}

/// Routes a request by method and path (query string already removed), after
/// [`normalize`].
pub fn dispatch(config: &Config, method: &str, path: &str) -> Dispatch {
    let path = normalize(path.to_string());
    if path == REFRESH_PATH {
        if method == "POST" {
            return Dispatch::Refresh;
        }
        let mut reply = Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use POST"));
        reply.set("allow", "POST".into());
        return Dispatch::Answer(reply);
    }
    let route = route(config, &path);
    match method {
        "GET" | "HEAD" => {}
        "OPTIONS" if route.is_ok() => {
            let mut reply = Reply::json(204, &());
            reply.body = None; // 204: the headers without the body
            reply.headers.push(("allow", ALLOW.into()));
            reply.headers.push(("access-control-allow-methods", ALLOW.into()));
            reply.headers.push(("access-control-max-age", "86400".into()));
            return Dispatch::Answer(reply);
        }
        _ if route.is_ok() => {
            let mut reply =
                Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use {ALLOW}"));
            reply.headers.push(("allow", ALLOW.into()));
            return Dispatch::Answer(reply);
        }
        _ => {}
    }
    let reply = match route {
        Ok(Some(target)) => return Dispatch::Snapshot(target),
        Ok(None) => Reply::json(200, &LiveDoc { status: "live" }),
        Err(reply) => reply,
    };
    Dispatch::Answer(if method == "HEAD" { reply.without_body() } else { reply })
}

/// `Ok(None)` is `/live`.
fn route(config: &Config, path: &str) -> Result<Option<Target>, Reply> {
    let not_found = |what: &str| {
        Reply::error(
            404,
            "not_found",
            format!("{what}; try /live, /ready, /ready/{{region}}, /health or /health/{{name}}"),
        )
    };
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    match (parts.next().unwrap_or(""), parts.next()) {
        ("live", None) => Ok(None),
        ("ready", None) => Ok(Some(Target::Ready)),
        ("health", None) => Ok(Some(Target::Health)),
        ("ready", Some(name)) => match config.find(name) {
            Some(Named::Region(r)) => Ok(Some(Target::ReadyRegion(r))),
            _ => Err(not_found("no region has this name")),
        },
        ("health", Some(name)) => match config.find(name) {
            Some(Named::Region(r)) => Ok(Some(Target::HealthRegion(r))),
            Some(Named::Origin(i)) => Ok(Some(Target::HealthOrigin(i))),
            None => Err(not_found("no region or origin has this name")),
        },
        ("history", None) => Ok(Some(Target::History)),
        ("history", Some(name)) => match config.find(name) {
            Some(named) => Ok(Some(Target::HistoryOf(named))),
            None => Err(not_found("no region or origin has this name")),
        },
        _ => Err(not_found("no such path")),
    }
}

/// The answer for `target` from the monitor's snapshot. `uptimes` are needed for
/// the `/health` routes, `changes` (newest first, already filtered by name) for
/// the `/history` routes; other routes ignore them.
pub fn answer(config: &Config, target: Target, snap: &Snapshot, uptimes: &Uptimes, changes: &[Change]) -> Reply {
    let shown = snap.shown(config);
    let view = snap.view(config);
    let checked_at = || render::rfc3339(snap.state.checked_at_ms);
    let ready_status = |ready| if ready { 200 } else { 503 };
    let mut reply = match target {
        Target::Ready => {
            let ready = shown != Shown::Unknown && view.ready;
            Reply::json(ready_status(ready), &ReadyDoc { status: shown.as_str(), ready })
        }
        Target::ReadyRegion(r) => {
            let doc = render::region_doc(config, r, snap, &view, uptimes);
            let ready = doc.ready;
            Reply::json(
                ready_status(ready),
                &RegionReadyDoc { region: &config.regions[r].name, status: doc.status, ready },
            )
        }
        Target::Health => Reply::json(200, &render::health(config, snap, uptimes)),
        Target::HealthRegion(r) => Reply::json(
            200,
            &NamedRegionDoc {
                region: &config.regions[r].name,
                checked_at: checked_at(),
                stale: snap.stale(),
                detail: render::region_doc(config, r, snap, &view, uptimes),
            },
        ),
        Target::HealthOrigin(i) => Reply::json(
            200,
            &NamedOriginDoc {
                region: &config.regions[config.origins[i].region].name,
                checked_at: checked_at(),
                stale: snap.stale(),
                detail: render::origin_doc(config, i, snap, uptimes),
            },
        ),
        Target::History | Target::HistoryOf(_) => Reply::json(200, &render::history(changes)),
    };
    for (name, value) in freshness_headers(snap.state.checked_at_ms, config.settings.refresh_s, snap.now_ms) {
        reply.set(name, value);
    }
    reply.set(CHECKED_AT_HEADER, snap.state.checked_at_ms.to_string());
    reply
}

/// The caching headers of a snapshot answer made by the round that started at
/// `checked_at_ms` (ms since the Unix epoch): `Cache-Control` for its whole
/// life (`refresh_s`) and its `Age` now, so clients see how old it is.
pub fn freshness_headers(checked_at_ms: u64, refresh_s: u32, now_ms: u64) -> [(&'static str, String); 2] {
    [("cache-control", format!("public, max-age={refresh_s}")), ("age", age_s(checked_at_ms, now_ms).to_string())]
}

/// How many seconds a snapshot answer may stay in the Cache API: until its
/// snapshot's next refresh. `None` (do not cache) for answers other than 200 and
/// 503, or already due.
pub fn cache_ttl_s(status: u16, checked_at_ms: u64, refresh_s: u32, now_ms: u64) -> Option<u64> {
    let next_refresh_ms = checked_at_ms + u64::from(refresh_s) * 1000;
    let ttl = next_refresh_ms.saturating_sub(now_ms) / 1000;
    (matches!(status, 200 | 503) && ttl > 0).then_some(ttl)
}

/// Checks `Authorization: Bearer <token>` against the admin token, in constant
/// time. Without a configured token the admin route is closed (403).
pub fn authorize(authorization: Option<&str>, token: Option<&str>) -> Result<(), Reply> {
    use subtle::ConstantTimeEq;
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(Reply::error(
            403,
            "forbidden",
            format!("POST /refresh is closed: set the {ADMIN_TOKEN_SECRET} secret"),
        ));
    };
    let given = authorization.and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        let mut reply = Reply::error(401, "unauthorized", "send Authorization: Bearer <admin token>".into());
        reply.set("www-authenticate", "Bearer".into());
        Err(reply)
    }
}

/// The answer when the monitor cannot be reached: 503, never cached, no detail
/// (the cause goes to the logs, not to the public).
pub fn monitor_unavailable() -> Reply {
    Reply::error(503, "monitor_unavailable", "the monitor could not be reached; try again shortly".into())
}

/// The answer to an authorized `POST /refresh`: the `/health` document of the
/// round just run, never cached.
pub fn refreshed(config: &Config, snap: &Snapshot, uptimes: &Uptimes) -> Reply {
    Reply::json(200, &render::health(config, snap, uptimes))
}
