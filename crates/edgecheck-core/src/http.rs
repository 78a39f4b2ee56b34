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
//! | `/` | the status page, HTML |
//! | `/metrics` | Prometheus text exposition format 0.0.4 |
//! | `/badge/{scope}.json`, `.svg` | a shields.io endpoint document, or an SVG badge; scope `global`, a region or an origin |
//! | `POST /refresh` | with `Authorization: Bearer <EDGECHECK_ADMIN_TOKEN>`: runs a round now, answers `/health` |
//! | `/health?view=full` | with the same token: `/health` and what it hides ([`crate::detail`]); `private, no-store` |
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
//! Snapshot answers are `public, max-age=<refresh_s>` with an `Age` counted from
//! the round that made them, and are cached under a key made from the resolved
//! route and variant ([`Target::cache_key`]), never from the raw path, query or
//! headers; `/live` and errors are `no-store`.

use serde::{Deserialize, Serialize};

use crate::config::{Config, Named};
use crate::detail::ProbeDetail;
use crate::monitor::{age_s, Change};
use crate::render;
use crate::uptime::{Daily, Uptimes};
use crate::vantage::{Dropped, Report};
use crate::view::ShownView;

/// The header carrying the snapshot's round start (ms since the Unix epoch), so
/// a cached copy can recompute `Age`.
pub const CHECKED_AT_HEADER: &str = "x-edgecheck-checked-at";

/// Says whether a snapshot answer came from the Cache API (`hit`) or the monitor (`miss`).
pub const CACHE_STATUS_HEADER: &str = "x-edgecheck-cache";

/// Cache keys are URLs under this origin, which no request can name.
pub const CACHE_ORIGIN: &str = "https://edgecheck.cache.invalid";

/// Carries a cached copy's real status when it is stored as 200 (the Cache API
/// keeps no 503), so that not-ready answers are cached like ready ones.
pub const STORED_STATUS_HEADER: &str = "x-edgecheck-status";

/// How long the worker waits for the monitor beyond the round it may have to
/// run (`deadline_ms`), ms; then it answers a JSON 503 ([`monitor_unavailable`]).
pub const MONITOR_GRACE_MS: u64 = 5_000;

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
    /// `/`: the status page.
    StatusPage,
    /// `/metrics`: Prometheus.
    Metrics,
    /// `/badge/{scope}.{json,svg}`: `None` is `global`.
    Badge(Option<Named>, BadgeFormat),
}

/// The two badge formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BadgeFormat {
    /// The shields.io endpoint schema (`schemaVersion`, `label`, `message`, `color`).
    Json,
    /// A self-contained SVG badge.
    Svg,
}

/// The form of an answer, from a fixed set, so that no query string or header
/// makes a cache key of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Variant {
    /// The whole document.
    #[default]
    Full,
    /// `/health` and `/health/{region}` with `?detailed=false`: no per-origin lists.
    Summary,
    /// `/health` as `application/health+json` (IETF draft "Health Check Response
    /// Format for HTTP APIs").
    HealthJson,
    /// `/ready` and `/ready/{region}` with `?verbose`: `text/plain`, one line per
    /// region or origin, as Kubernetes' `/readyz?verbose`.
    Verbose,
}

impl Variant {
    /// The canonical query of this variant in a cache key.
    fn query(self) -> &'static str {
        match self {
            Variant::Full => "",
            Variant::Summary => "?detailed=false",
            Variant::HealthJson => "?format=health+json",
            Variant::Verbose => "?verbose",
        }
    }
}

/// A request as the core routes it: method, path, query string (without `?`)
/// and the `Accept` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub accept: Option<&'a str>,
}

impl<'a> Incoming<'a> {
    /// `method path`, without query or `Accept`.
    pub fn new(method: &'a str, path: &'a str) -> Incoming<'a> {
        Incoming { method, path, query: "", accept: None }
    }
}

impl Target {
    /// The region or origin name whose history this target shows: `Some(None)`
    /// for all of them (`/history`, and the status page's recent changes),
    /// `None` for targets that show no history.
    pub fn history_name(self, config: &Config) -> Option<Option<&str>> {
        match self {
            Target::History | Target::StatusPage => Some(None),
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
            Target::StatusPage => "/".into(),
            Target::Metrics => "/metrics".into(),
            Target::Badge(scope, format) => {
                let scope = scope.map_or("global", |named| named_str(config, named));
                format!("/badge/{scope}.{}", if format == BadgeFormat::Json { "json" } else { "svg" })
            }
        }
    }

    /// The Cache API key of this route's answer in `variant`, for the
    /// deployment called `deployment`: [`CACHE_ORIGIN`], the deployment, the
    /// canonical path and the variant's canonical query. Other query keys,
    /// headers and spellings never make new keys; another deployment, or this
    /// one with another fleet, never shares one (`caches.default` is one cache
    /// per zone). `deployment` is made by [`deployment`].
    pub fn cache_key(self, config: &Config, variant: Variant, deployment: &str) -> String {
        format!("{CACHE_ORIGIN}/{deployment}{}{}", self.path(config), variant.query())
    }

    /// Whether the answer shows the 30-day strips (the status page).
    pub fn is_status_page(self) -> bool {
        self == Target::StatusPage
    }

    /// Whether the indices exist in `config` (a call from a build with another
    /// fleet would not).
    fn fits(self, config: &Config) -> bool {
        let region = |r: usize| r < config.regions.len();
        let origin = |i: usize| i < config.origins.len();
        match self {
            Target::Ready
            | Target::Health
            | Target::History
            | Target::StatusPage
            | Target::Metrics
            | Target::Badge(None, _) => true,
            Target::ReadyRegion(r)
            | Target::HealthRegion(r)
            | Target::HistoryOf(Named::Region(r))
            | Target::Badge(Some(Named::Region(r)), _) => region(r),
            Target::HealthOrigin(i)
            | Target::HistoryOf(Named::Origin(i))
            | Target::Badge(Some(Named::Origin(i)), _) => origin(i),
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
    Snapshot { target: Target, variant: Variant, head: bool },
    /// `POST /refresh`: check [`authorize`], then [`MonitorCall::Refresh`].
    Refresh,
    /// `/health?view=full`: check [`authorize`], then [`MonitorCall::Detail`];
    /// never cached. `head`: the request is HEAD.
    Detail { head: bool },
}

/// What the worker asks the `Monitor` Durable Object, as the JSON body of its
/// request: the route already resolved, never a path to route again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorCall {
    /// The answer for a snapshot route in a variant (the monitor runs a round
    /// first only when [`crate::schedule::needs_round`] says so).
    Answer(Target, Variant),
    /// An authorized `POST /refresh`: run a round now, answer [`refreshed`].
    Refresh,
    /// The cron trigger: arm the alarm if none is set; answers [`alarm_armed`].
    EnsureAlarm,
    /// An authorized `/health?view=full`: answers [`detail`].
    Detail,
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
            Ok(MonitorCall::Answer(target, _)) if !target.fits(config) => {
                Err(Reply::error(400, "bad_monitor_call", "the target names no region or origin of this fleet".into()))
            }
            Ok(call) => Ok(call),
            Err(_) => Err(Reply::error(400, "bad_monitor_call", "expected a monitor call as JSON".into())),
        }
    }
}

/// The path under which a prober delivers its [`Report`] to the monitor.
pub const REPORT_PATH: &str = "/report";

/// What one request to the `Monitor` Durable Object carries: a worker's
/// [`MonitorCall`], or a prober's [`Report`] (at [`REPORT_PATH`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToMonitor {
    Call(MonitorCall),
    Report(Report),
}

impl ToMonitor {
    /// Reads a request to the monitor by its path and JSON body; anything that
    /// does not fit `config` is a JSON 400.
    pub fn from_request(config: &Config, path: &str, body: &str) -> Result<ToMonitor, Reply> {
        if path == REPORT_PATH {
            return serde_json::from_str::<Report>(body)
                .map(ToMonitor::Report)
                .map_err(|_| Reply::error(400, "bad_report", "expected a prober report as JSON".into()));
        }
        MonitorCall::from_json(config, body).map(ToMonitor::Call)
    }
}

/// The monitor's answer to a [`Report`] it kept for the round in progress: 202.
pub fn report_kept() -> Reply {
    Reply::json(202, &serde_json::json!({"report": "kept"}))
}

/// The monitor's answer to a [`Report`] it dropped (late, twice, another
/// fleet's): 409, saying why.
pub fn report_dropped(dropped: &Dropped) -> Reply {
    Reply::error(409, "report_dropped", dropped.to_string())
}

/// A prober's answer to a [`crate::vantage::ProberCall`] it accepted: 202; the report follows
/// in a call of its own.
pub fn prober_accepted() -> Reply {
    Reply::json(202, &serde_json::json!({"call": "accepted"}))
}

/// A prober's answer to a call that does not fit its fleet: 400, saying why.
pub fn prober_refused(why: &str) -> Reply {
    Reply::error(400, "bad_prober_call", why.to_string())
}

/// Whether a prober's or the monitor's answer means it took the call: a 2xx.
pub fn accepted(status: u16) -> bool {
    (200..300).contains(&status)
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

/// Routes a request: which answer, which target and variant.
pub fn dispatch(config: &Config, req: Incoming) -> Dispatch {
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method;
    if segments == ["refresh"] {
        return match method {
            "POST" => Dispatch::Refresh,
            "OPTIONS" => Dispatch::Answer(preflight(REFRESH_ALLOW)),
            _ => {
                let mut reply =
                    Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use POST"));
                reply.set("allow", REFRESH_ALLOW.into());
                Dispatch::Answer(reply)
            }
        };
    }
    let route = route(config, &segments);
    let head = method == "HEAD";
    match method {
        "GET" | "HEAD" => {}
        "OPTIONS" if route.is_ok() => return Dispatch::Answer(preflight(ALLOW)),
        _ if route.is_ok() => {
            let mut reply =
                Reply::error(405, "method_not_allowed", format!("{method} is not allowed here; use {ALLOW}"));
            reply.set("allow", ALLOW.into());
            return Dispatch::Answer(reply);
        }
        _ => {}
    }
    let target = match route {
        Ok(Some(target)) => target,
        Ok(None) => return Dispatch::Answer(Reply::json(200, &render::live()).for_head(head)),
        Err(reply) => return Dispatch::Answer(reply.for_head(head)),
    };
    if target == Target::Health {
        match full_view(req.query) {
            Ok(true) => return Dispatch::Detail { head },
            Ok(false) => {}
            Err(reply) => return Dispatch::Answer(reply.for_head(head)),
        }
    }
    match variant(target, req.query, req.accept) {
        Ok(variant) => Dispatch::Snapshot { target, variant, head },
        Err(reply) => Dispatch::Answer(reply.for_head(head)),
    }
}

/// Whether `/health`'s query asks for the full view (`view=full`); `view=public`
/// or no `view` is the public one, any other value a JSON 400.
fn full_view(query: &str) -> Result<bool, Reply> {
    let mut full = false;
    for (key, value) in query.split('&').filter_map(|p| p.split_once('=').or(Some((p, "")))) {
        if key == "view" {
            match value {
                "full" => full = true,
                "public" => full = false,
                _ => {
                    return Err(Reply::error(
                        400,
                        "bad_request",
                        format!("view={} is not understood here; use view=full or view=public", printable(value)),
                    ))
                }
            }
        }
    }
    Ok(full)
}

/// The methods of `POST /refresh`.
pub const REFRESH_ALLOW: &str = "POST, OPTIONS";

/// The 204 answer to `OPTIONS` (a CORS preflight) on a route allowing `allow`.
fn preflight(allow: &str) -> Reply {
    let mut reply = Reply::no_content();
    reply.set("allow", allow.into());
    reply.set("access-control-allow-methods", allow.into());
    reply.set("access-control-allow-headers", "authorization, accept".into());
    reply.set("access-control-max-age", "86400".into());
    reply
}

/// `Ok(None)` is `/live`.
fn route(config: &Config, segments: &[&str]) -> Result<Option<Target>, Reply> {
    let not_found = |what: String| {
        Reply::error(
            404,
            "not_found",
            format!("{what}; try /, /live, /ready, /ready/{{region}}, /health, /health/{{name}}, /metrics or /badge/global.svg"),
        )
    };
    let named = |name: &str| {
        config.find(name).ok_or_else(|| not_found(format!("no region or origin is called \"{}\"", printable(name))))
    };
    match segments {
        [] => Ok(Some(Target::StatusPage)),
        ["live"] => Ok(None),
        ["ready"] => Ok(Some(Target::Ready)),
        ["health"] => Ok(Some(Target::Health)),
        ["history"] => Ok(Some(Target::History)),
        ["metrics"] => Ok(Some(Target::Metrics)),
        ["ready", name] => match config.find(name) {
            Some(Named::Region(r)) => Ok(Some(Target::ReadyRegion(r))),
            _ => Err(not_found(format!("no region is called \"{}\"", printable(name)))),
        },
        ["health", name] => match named(name)? {
            Named::Region(r) => Ok(Some(Target::HealthRegion(r))),
            Named::Origin(i) => Ok(Some(Target::HealthOrigin(i))),
        },
        ["history", name] => Ok(Some(Target::HistoryOf(named(name)?))),
        ["badge", file] => {
            let (scope, format) = match file.rsplit_once('.') {
                Some((scope, "json")) => (scope, BadgeFormat::Json),
                Some((scope, "svg")) => (scope, BadgeFormat::Svg),
                _ => {
                    return Err(not_found(format!(
                        "\"{}\" is not a badge: use /badge/{{scope}}.json or /badge/{{scope}}.svg",
                        printable(file)
                    )))
                }
            };
            let scope = if scope == "global" { None } else { Some(named(scope)?) };
            Ok(Some(Target::Badge(scope, format)))
        }
        _ => Err(not_found("no such path".into())),
    }
}

/// At most 64 characters of what was asked for, without control characters,
/// to name it in an error.
fn printable(asked: &str) -> String {
    asked.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// The variant a request asks for. Only `format` and `detailed` (`/health`,
/// `/health/{region}`), `verbose` (`/ready`, `/ready/{region}`) and `Accept`
/// (`/health`) matter; other keys are ignored.
fn variant(target: Target, query: &str, accept: Option<&str>) -> Result<Variant, Reply> {
    let bad = |key: &str, value: &str, expected: &str| {
        Reply::error(400, "bad_request", format!("{key}={} is not understood here; {expected}", printable(value)))
    };
    let params = query.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (key, value) = p.split_once('=').unwrap_or((p, ""));
        (key, value.replace("%2B", "+").replace("%2b", "+").replace("%20", "+"))
    });
    let mut variant = Variant::Full;
    let mut format_asked = false;
    for (key, value) in params {
        match (target, key) {
            (Target::Health, "format") => {
                format_asked = true;
                match value.as_str() {
                    "json" => {}
                    // In a query string '+' may arrive as a space.
                    "health+json" | "health json" => variant = Variant::HealthJson,
                    _ => return Err(bad(key, &value, "use format=json or format=health+json")),
                }
            }
            (Target::Health | Target::HealthRegion(_), "detailed") => match value.as_str() {
                "true" | "" => {}
                "false" if variant == Variant::Full => variant = Variant::Summary,
                "false" => {}
                _ => return Err(bad(key, &value, "use detailed=true or detailed=false")),
            },
            (Target::Ready | Target::ReadyRegion(_), "verbose") => match value.as_str() {
                "" | "true" | "1" => variant = Variant::Verbose,
                "false" | "0" => {}
                _ => return Err(bad(key, &value, "use verbose, verbose=true or verbose=false")),
            },
            _ => {}
        }
    }
    if target == Target::Health && !format_asked && prefers_health_json(accept.unwrap_or("")) {
        variant = Variant::HealthJson;
    }
    Ok(variant)
}

/// Whether `Accept` asks for `application/health+json` at least as much as for
/// plain JSON. An `Accept` that names neither falls back to plain JSON.
fn prefers_health_json(accept: &str) -> bool {
    let q = |wanted: &str| {
        accept
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let media = parts.next()?.trim();
                if !media.eq_ignore_ascii_case(wanted) {
                    return None;
                }
                let q = parts
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some(q)
            })
            .fold(None, |best: Option<f32>, q| Some(best.map_or(q, |b| b.max(q))))
    };
    match (q("application/health+json"), q("application/json")) {
        (Some(h), Some(j)) => h > 0.0 && h >= j,
        (Some(h), None) => h > 0.0,
        _ => false,
    }
}

/// What the monitor adds to the view for some answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// Uptime windows, for `/health` documents and the status page.
    pub uptimes: Option<&'a Uptimes>,
    /// Recorded changes, newest first: for `/history` (already filtered by
    /// name) and the status page's recent changes.
    pub changes: &'a [Change],
    /// 30-day strips, for the status page.
    pub daily: Option<&'a Daily>,
}

/// The monitor's answer for `target` in `variant` from the view it shows.
pub fn answer(config: &Config, target: Target, variant: Variant, view: &ShownView, extras: Extras) -> Reply {
    let empty = Uptimes::new();
    let uptimes = extras.uptimes.unwrap_or(&empty);
    let ready_status = |ready| if ready { 200 } else { 503 };
    let mut reply = match (target, variant) {
        (Target::Ready, Variant::Verbose) => {
            Reply::text(ready_status(view.ready), render::verbose::ready(config, view))
        }
        (Target::ReadyRegion(r), Variant::Verbose) => {
            Reply::text(ready_status(view.regions[r].ready), render::verbose::region_ready(config, view, r))
        }
        (Target::Ready, _) => Reply::json(ready_status(view.ready), &render::ready(view)),
        (Target::ReadyRegion(r), _) => {
            Reply::json(ready_status(view.regions[r].ready), &render::region_ready(config, view, r))
        }
        (Target::Health, Variant::HealthJson) => {
            let doc = render::health_json::document(config, view);
            let mut reply = Reply::json(render::health_json::http_status(view), &doc);
            reply.set("content-type", "application/health+json".into());
            reply
        }
        (Target::Health, variant) => {
            Reply::json(200, &render::health(config, view, uptimes, variant == Variant::Summary))
        }
        (Target::HealthRegion(r), variant) => {
            Reply::json(200, &render::named_region(config, view, r, uptimes, variant == Variant::Summary))
        }
        (Target::HealthOrigin(i), _) => Reply::json(200, &render::named_origin(config, view, i, uptimes)),
        (Target::History | Target::HistoryOf(_), _) => Reply::json(200, &render::history(extras.changes)),
        (Target::StatusPage, _) => {
            let page = render::page::status_page(config, view, extras.daily, extras.changes);
            let mut reply = Reply::with_body(200, "text/html; charset=utf-8", Some(page));
            reply.set("content-security-policy", render::page::CONTENT_SECURITY_POLICY.into());
            reply
        }
        (Target::Metrics, _) => {
            Reply::with_body(200, render::metrics::CONTENT_TYPE, Some(render::metrics::exposition(config, view)))
        }
        (Target::Badge(scope, BadgeFormat::Json), _) => Reply::json(200, &render::badge::endpoint(config, view, scope)),
        (Target::Badge(scope, BadgeFormat::Svg), _) => {
            Reply::with_body(200, "image/svg+xml; charset=utf-8", Some(render::badge::svg(config, view, scope)))
        }
    };
    if target == Target::Health {
        reply.set("vary", "Accept".into());
    }
    set_freshness(&mut reply, config.settings.refresh_s, view.age_s);
    reply.set(CHECKED_AT_HEADER, view.checked_at_ms.to_string());
    reply
}

/// The answer to an authorized `POST /refresh`: the `/health` document of the
/// round just run, never cached.
pub fn refreshed(config: &Config, view: &ShownView, uptimes: &Uptimes) -> Reply {
    Reply::json(200, &render::health(config, view, uptimes, false))
}

/// The answer to an authorized `/health?view=full`: the full view
/// ([`render::detail`]) from the shown view and the last round's details,
/// `Cache-Control: private, no-store`.
pub fn detail(config: &Config, view: &ShownView, uptimes: &Uptimes, details: &[Option<ProbeDetail>]) -> Reply {
    let mut reply = Reply::json(200, &render::detail::document(config, view, uptimes, details));
    reply.set("cache-control", "private, no-store".into());
    reply
}

/// The monitor's answer to [`MonitorCall::EnsureAlarm`]: 204.
pub fn alarm_armed() -> Reply {
    Reply::no_content()
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
/// snapshot's next refresh, and never more than `refresh_s` whatever the
/// snapshot says (a round dated in the future cannot pin a copy). `None` (do
/// not cache) for answers other than 200 and 503, or already due.
pub fn cache_ttl_s(status: u16, checked_at_ms: u64, refresh_s: u32, now_ms: u64) -> Option<u64> {
    let next_refresh_ms = checked_at_ms.saturating_add(u64::from(refresh_s) * 1000);
    let ttl = (next_refresh_ms.saturating_sub(now_ms) / 1000).min(u64::from(refresh_s));
    (matches!(status, 200 | 503) && ttl > 0).then_some(ttl)
}

/// The identity of a deployment in its cache keys: the worker's monitor (a
/// Durable Object id, unique to the worker and its namespace) and the digest of
/// the embedded fleet (so a changed fleet never serves the old one's answers).
pub fn deployment(monitor_id: &str, fleet_digest: &str) -> String {
    let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).take(64).collect::<String>();
    format!("{}.{}", clean(monitor_id), clean(fleet_digest))
}

/// How long the worker waits for the monitor, ms: the round a call may have to
/// run first (`deadline_ms`) and [`MONITOR_GRACE_MS`].
pub fn monitor_wait_ms(config: &Config) -> u64 {
    u64::from(config.settings.deadline_ms) + MONITOR_GRACE_MS
}

/// The round start a snapshot answer carries ([`CHECKED_AT_HEADER`]), ms since the Unix epoch.
fn checked_at(reply: &Reply) -> Option<u64> {
    reply.header(CHECKED_AT_HEADER).and_then(|v| v.parse().ok())
}

/// The copy of the monitor's `answer` to put in the Cache API at `now_ms`, or
/// `None` when it must not be cached ([`cache_ttl_s`]). The copy lives until the
/// snapshot's next refresh (`Cache-Control: public, max-age=<seconds left>`)
/// and carries no `Age`: [`from_cache`] computes it when the copy is served.
/// An answer marked `private` (the admin token's full view) is never copied,
/// whatever else it carries.
pub fn cache_copy(config: &Config, answer: &Reply, now_ms: u64) -> Option<Reply> {
    if answer.header("cache-control").is_some_and(|v| v.split(',').any(|d| d.trim() == "private")) {
        return None;
    }
    let at = checked_at(answer)?;
    let ttl_s = cache_ttl_s(answer.status, at, config.settings.refresh_s, now_ms)?;
    let mut copy = answer.clone();
    copy.remove("age");
    copy.set("cache-control", format!("public, max-age={ttl_s}"));
    if copy.status != 200 {
        copy.set(STORED_STATUS_HEADER, copy.status.to_string());
        copy.status = 200;
    }
    Some(copy)
}

/// A cached copy served at `now_ms`: its real status, the public
/// `Cache-Control`, an `Age` counted from its round (and the same `age_s` in a
/// `/health` body), `x-edgecheck-cache: hit`, no body for HEAD.
pub fn from_cache(config: &Config, mut copy: Reply, now_ms: u64, head: bool) -> Reply {
    if let Some(status) = copy.header(STORED_STATUS_HEADER).and_then(|s| s.parse().ok()) {
        copy.status = status;
        copy.remove(STORED_STATUS_HEADER);
    }
    let at = checked_at(&copy).unwrap_or(0);
    let age = age_s(at, now_ms);
    set_freshness(&mut copy, config.settings.refresh_s, age);
    if let Some(body) = copy.body.as_mut() {
        set_age_s(body, age);
    }
    copy.set(CACHE_STATUS_HEADER, "hit".into());
    copy.for_head(head)
}

/// Rewrites the first `"age_s":<n>` of a JSON body (the top-level one of a
/// `/health` document, which is written before any nested object) to `age`.
fn set_age_s(body: &mut String, age: u64) {
    const KEY: &str = "\"age_s\":";
    let Some(start) = body.find(KEY).map(|i| i + KEY.len()) else { return };
    let end = body[start..].find(|c: char| !c.is_ascii_digit()).map_or(body.len(), |n| start + n);
    body.replace_range(start..end, &age.to_string());
}

/// The monitor's answer served as it is: `x-edgecheck-cache: miss`, no body for HEAD.
pub fn from_monitor(mut answer: Reply, head: bool) -> Reply {
    answer.set(CACHE_STATUS_HEADER, "miss".into());
    answer.for_head(head)
}

/// Checks `Authorization: Bearer <token>` against the admin token, in constant
/// time, for the admin routes (`POST /refresh`, `/health?view=full`). Without a
/// configured token they are closed (403). A missing, empty or wrong token gets
/// the same 401 with `WWW-Authenticate: Bearer`, which never says which it was.
pub fn authorize(authorization: Option<&str>, token: Option<&str>) -> Result<(), Reply> {
    use subtle::ConstantTimeEq;
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(Reply::error(
            403,
            "forbidden",
            format!("this route is closed: set the {ADMIN_TOKEN_SECRET} secret"),
        ));
    };
    // RFC 9110: the scheme is case-insensitive, followed by one or more spaces.
    let given = authorization
        .and_then(|h| h.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map_or("", |(_, token)| token.trim_start_matches(' '));
    if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        let mut reply = Reply::error(401, "unauthorized", "send Authorization: Bearer <admin token>".into());
        reply.set("www-authenticate", "Bearer".into());
        Err(reply)
    }
}

/// The JSON 500 for an error the worker met (a runtime call that failed, a
/// header it could not set): `{"error":"internal_error",..}` with
/// `Cache-Control: no-store`, never the runtime's bare plain-text 500. The
/// cause goes to the logs, not to the client.
pub fn internal_error() -> Reply {
    Reply::error(500, "internal_error", "edgecheck failed to answer; the cause is in its logs".into())
}

/// The answer when the monitor cannot be reached: 503, never cached, no detail
/// (the cause goes to the logs, not to the public).
pub fn monitor_unavailable() -> Reply {
    Reply::error(503, "monitor_unavailable", "the monitor could not be reached; try again shortly".into())
}
