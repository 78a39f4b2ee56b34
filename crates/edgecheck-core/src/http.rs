//! HTTP decided in one place: which route a request names, what the worker asks
//! the monitor, how answers are cached, and the status code, headers and body of
//! every answer, the monitor's own included. The shell only converts a [`Reply`]
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
//! | `POST /refresh` | with `Authorization: Bearer <EDGECHECK_ADMIN_TOKEN>`: runs a round now, answers `/health` |
//!
//! Empty path segments are ignored (`//health/` is `/health`). Every route
//! answers GET and HEAD (HEAD: same status and headers, no body) and OPTIONS
//! (204, for CORS preflights); other methods get a JSON 405 with `Allow`.
//! Snapshot answers are `public, max-age=<refresh_s>` with an `Age` counted from
//! the round that made them, and are cached under a key made from the resolved
//! route ([`Target::cache_key`]), never from the raw path or query; `/live` and
//! errors are `no-store`.

use serde::{Deserialize, Serialize};

use crate::config::{Config, Named};
use crate::monitor::{age_s, Change};
use crate::render;
use crate::uptime::Uptimes;
use crate::view::ShownView;

/// The header carrying the snapshot's round start (ms since the Unix epoch), so
/// a cached copy can recompute `Age`.
pub const CHECKED_AT_HEADER: &str = "x-edgecheck-checked-at";

/// Says whether a snapshot answer came from the Cache API (`hit`) or the monitor (`miss`).
pub const CACHE_STATUS_HEADER: &str = "x-edgecheck-cache";

/// Cache keys are URLs under this origin, which no request can name.
pub const CACHE_ORIGIN: &str = "https://edgecheck.cache.invalid";

/// The admin route that runs a round now.
pub const REFRESH_PATH: &str = "/refresh";

/// The wrangler secret holding the admin token for `POST /refresh`.
pub const ADMIN_TOKEN_SECRET: &str = "EDGECHECK_ADMIN_TOKEN";

/// The methods every route allows.
pub const ALLOW: &str = "GET, HEAD, OPTIONS";

/// A route answered from the monitor's snapshot. Indices are into the
/// [`Config`] both the worker and the monitor embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The region or origin name whose history this target lists: `Some(None)`
    /// for all of them, `None` for targets that list no history.
    pub fn history_name(self, config: &Config) -> Option<Option<&str>> {
        match self {
            Target::History => Some(None),
            Target::HistoryOf(named) => Some(Some(named_str(config, named))),
            _ => None,
        }
    }

    /// The canonical path of this route, e.g. `/health/api-use1-a`: every
    /// spelling that resolves to it (`//health/api-use1-a/`) shares it.
    pub fn path(self, config: &Config) -> String {
        match self {
            Target::Ready => "/ready".into(),
            Target::ReadyRegion(r) => format!("/ready/{}", config.regions[r].name),
            Target::Health => "/health".into(),
            Target::HealthRegion(r) => format!("/health/{}", config.regions[r].name),
            Target::HealthOrigin(i) => format!("/health/{}", config.origins[i].name),
            Target::History => "/history".into(),
            Target::HistoryOf(named) => format!("/history/{}", named_str(config, named)),
        }
    }

    /// The Cache API key of this route's answer: [`CACHE_ORIGIN`] and the
    /// canonical path. Query strings, headers and spellings never make new keys.
    pub fn cache_key(self, config: &Config) -> String {
        format!("{CACHE_ORIGIN}{}", self.path(config))
    }

    /// Whether the indices exist in `config` (a call from a build with another
    /// fleet would not).
    fn fits(self, config: &Config) -> bool {
        let region = |r: usize| r < config.regions.len();
        let origin = |i: usize| i < config.origins.len();
        match self {
            Target::Ready | Target::Health | Target::History => true,
            Target::ReadyRegion(r) | Target::HealthRegion(r) | Target::HistoryOf(Named::Region(r)) => region(r),
            Target::HealthOrigin(i) | Target::HistoryOf(Named::Origin(i)) => origin(i),
        }
    }
}

fn named_str(config: &Config, named: Named) -> &str {
    match named {
        Named::Region(r) => &config.regions[r].name,
        Named::Origin(i) => &config.origins[i].name,
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// Answer now, without the monitor.
    Answer(Reply),
    /// Answer from the snapshot: the cached copy ([`from_cache`]) or the
    /// monitor's answer to [`MonitorCall::Answer`] ([`from_monitor`]). `head`:
    /// the request is HEAD, so the answer has no body.
    Snapshot { target: Target, head: bool },
    /// `POST /refresh`: check [`authorize`], then [`MonitorCall::Refresh`].
    Refresh,
}

/// What the worker asks the `Monitor` Durable Object, as the JSON body of its
/// request: the route already resolved, never a path to route again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorCall {
    /// The answer for a snapshot route (the monitor runs a round first only
    /// when [`crate::schedule::needs_round`] says so).
    Answer(Target),
    /// An authorized `POST /refresh`: run a round now, answer [`refreshed`].
    Refresh,
    /// The cron trigger: arm the alarm if none is set; answers [`alarm_armed`].
    EnsureAlarm,
}

impl MonitorCall {
    /// The request body.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).expect("a MonitorCall serializes")
    }

    /// Reads a request body; anything else than a call that fits `config` is a
    /// JSON 400 (the caller is a worker of another build, or not ours).
    pub fn from_json(config: &Config, body: &str) -> Result<MonitorCall, Reply> {
        match serde_json::from_str::<MonitorCall>(body) {
            Ok(MonitorCall::Answer(target)) if !target.fits(config) => {
                Err(Reply::error(400, "bad_monitor_call", "the target names no region or origin of this fleet".into()))
            }
            Ok(call) => Ok(call),
            Err(_) => Err(Reply::error(400, "bad_monitor_call", "expected a monitor call as JSON".into())),
        }
    }
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
    fn json(status: u16, doc: &impl Serialize) -> Reply {
        let body = serde_json::to_string(doc).expect("wire documents serialize");
        let headers = [
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
            ("access-control-allow-origin", "*"),
            ("x-content-type-options", "nosniff"),
        ];
        Reply { status, headers: headers.map(|(n, v)| (n.to_string(), v.to_string())).into(), body: Some(body) }
    }

    fn error(status: u16, error: &'static str, message: String) -> Reply {
        Reply::json(status, &render::error(error, message))
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
    /// body dropped.
    fn for_head(mut self, head: bool) -> Reply {
        if head {
            self.body = None;
        }
        self
    }
}

/// Routes a request by method and path (the query string already removed).
pub fn dispatch(config: &Config, method: &str, path: &str) -> Dispatch {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments == ["refresh"] {
        if method == "POST" {
            return Dispatch::Refresh;
        }
        let mut reply = Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use POST"));
        reply.set("allow", "POST".into());
        return Dispatch::Answer(reply);
    }
    let route = route(config, &segments);
    let head = method == "HEAD";
    match method {
        "GET" | "HEAD" => {}
        "OPTIONS" if route.is_ok() => {
            let mut reply = Reply::json(204, &());
            reply.body = None; // 204: the headers without the body
            reply.set("allow", ALLOW.into());
            reply.set("access-control-allow-methods", ALLOW.into());
            reply.set("access-control-max-age", "86400".into());
            return Dispatch::Answer(reply);
        }
        _ if route.is_ok() => {
            let mut reply =
                Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use {ALLOW}"));
            reply.set("allow", ALLOW.into());
            return Dispatch::Answer(reply);
        }
        _ => {}
    }
    match route {
        Ok(Some(target)) => Dispatch::Snapshot { target, head },
        Ok(None) => Dispatch::Answer(Reply::json(200, &render::live()).for_head(head)),
        Err(reply) => Dispatch::Answer(reply.for_head(head)),
    }
}

/// `Ok(None)` is `/live`.
fn route(config: &Config, segments: &[&str]) -> Result<Option<Target>, Reply> {
    let not_found = |what: &str| {
        Reply::error(
            404,
            "not_found",
            format!("{what}; try /live, /ready, /ready/{{region}}, /health or /health/{{name}}"),
        )
    };
    let named = |name: &str| config.find(name).ok_or_else(|| not_found("no region or origin has this name"));
    match segments {
        ["live"] => Ok(None),
        ["ready"] => Ok(Some(Target::Ready)),
        ["health"] => Ok(Some(Target::Health)),
        ["history"] => Ok(Some(Target::History)),
        ["ready", name] => match config.find(name) {
            Some(Named::Region(r)) => Ok(Some(Target::ReadyRegion(r))),
            _ => Err(not_found("no region has this name")),
        },
        ["health", name] => match named(name)? {
            Named::Region(r) => Ok(Some(Target::HealthRegion(r))),
            Named::Origin(i) => Ok(Some(Target::HealthOrigin(i))),
        },
        ["history", name] => Ok(Some(Target::HistoryOf(named(name)?))),
        _ => Err(not_found("no such path")),
    }
}

/// The monitor's answer for `target` from the view it shows. `uptimes` are
/// needed for the `/health` routes, `changes` (newest first, already filtered by
/// name) for the `/history` routes; other routes ignore them.
pub fn answer(config: &Config, target: Target, view: &ShownView, uptimes: &Uptimes, changes: &[Change]) -> Reply {
    let ready_status = |ready| if ready { 200 } else { 503 };
    let mut reply = match target {
        Target::Ready => Reply::json(ready_status(view.ready), &render::ready(view)),
        Target::ReadyRegion(r) => {
            Reply::json(ready_status(view.regions[r].ready), &render::region_ready(config, view, r))
        }
        Target::Health => Reply::json(200, &render::health(config, view, uptimes)),
        Target::HealthRegion(r) => Reply::json(200, &render::named_region(config, view, r, uptimes)),
        Target::HealthOrigin(i) => Reply::json(200, &render::named_origin(config, view, i, uptimes)),
        Target::History | Target::HistoryOf(_) => Reply::json(200, &render::history(changes)),
    };
    set_freshness(&mut reply, config.settings.refresh_s, view.age_s);
    reply.set(CHECKED_AT_HEADER, view.checked_at_ms.to_string());
    reply
}

/// The answer to an authorized `POST /refresh`: the `/health` document of the
/// round just run, never cached.
pub fn refreshed(config: &Config, view: &ShownView, uptimes: &Uptimes) -> Reply {
    Reply::json(200, &render::health(config, view, uptimes))
}

/// The monitor's answer to [`MonitorCall::EnsureAlarm`]: 204.
pub fn alarm_armed() -> Reply {
    let mut reply = Reply::json(204, &());
    reply.body = None;
    reply
}

/// The caching headers of a snapshot answer made by the round that started at
/// `checked_at_ms` (ms since the Unix epoch): `Cache-Control` for its whole
/// life (`refresh_s`) and its `Age` now, so clients see how old it is.
pub fn freshness_headers(checked_at_ms: u64, refresh_s: u32, now_ms: u64) -> [(&'static str, String); 2] {
    [("cache-control", format!("public, max-age={refresh_s}")), ("age", age_s(checked_at_ms, now_ms).to_string())]
}

fn set_freshness(reply: &mut Reply, refresh_s: u32, age_s: u64) {
    reply.set("cache-control", format!("public, max-age={refresh_s}"));
    reply.set("age", age_s.to_string());
}

/// How many seconds a snapshot answer may stay in the Cache API: until its
/// snapshot's next refresh. `None` (do not cache) for answers other than 200 and
/// 503, or already due.
pub fn cache_ttl_s(status: u16, checked_at_ms: u64, refresh_s: u32, now_ms: u64) -> Option<u64> {
    let next_refresh_ms = checked_at_ms + u64::from(refresh_s) * 1000;
    let ttl = next_refresh_ms.saturating_sub(now_ms) / 1000;
    (matches!(status, 200 | 503) && ttl > 0).then_some(ttl)
}

/// The round start a snapshot answer carries ([`CHECKED_AT_HEADER`]), ms since the Unix epoch.
fn checked_at(reply: &Reply) -> Option<u64> {
    reply.header(CHECKED_AT_HEADER).and_then(|v| v.parse().ok())
}

/// The copy of the monitor's `answer` to put in the Cache API at `now_ms`, or
/// `None` when it must not be cached ([`cache_ttl_s`]). The copy lives until the
/// snapshot's next refresh (`Cache-Control: public, max-age=<seconds left>`)
/// and carries no `Age`: [`from_cache`] computes it when the copy is served.
pub fn cache_copy(config: &Config, answer: &Reply, now_ms: u64) -> Option<Reply> {
    let at = checked_at(answer)?;
    let ttl_s = cache_ttl_s(answer.status, at, config.settings.refresh_s, now_ms)?;
    let mut copy = answer.clone();
    copy.remove("age");
    copy.set("cache-control", format!("public, max-age={ttl_s}"));
    Some(copy)
}

/// A cached copy served at `now_ms`: the public `Cache-Control`, an `Age`
/// counted from its round, `x-edgecheck-cache: hit`, no body for HEAD.
pub fn from_cache(config: &Config, mut copy: Reply, now_ms: u64, head: bool) -> Reply {
    let at = checked_at(&copy).unwrap_or(0);
    set_freshness(&mut copy, config.settings.refresh_s, age_s(at, now_ms));
    copy.set(CACHE_STATUS_HEADER, "hit".into());
    copy.for_head(head)
}

/// The monitor's answer served as it is: `x-edgecheck-cache: miss`, no body for HEAD.
pub fn from_monitor(mut answer: Reply, head: bool) -> Reply {
    answer.set(CACHE_STATUS_HEADER, "miss".into());
    answer.for_head(head)
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
