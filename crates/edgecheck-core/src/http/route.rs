//! Routing: which [`Target`] and [`Variant`] a request names, answered at
//! once ([`Dispatch::Answer`]) or handed on.

use serde::{Deserialize, Serialize};

use crate::config::{Config, Named};
use crate::render;

use super::admin::MaintenanceAsk;
use super::path::{method_not_allowed, named_str, no_such_name, preflight};
use super::Reply;
use crate::text::printable;

/// The admin route that runs a round now.
pub const REFRESH_PATH: &str = "/refresh";

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
    /// `/slo`: every objective's error budget.
    Slo,
    /// `/slo/{name}`: index into [`Config::slos`].
    SloOf(usize),
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
    /// `/slo?format=openslo`: the objectives as OpenSLO v1 YAML.
    OpenSlo,
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
            Target::ReadyRegion(r) => format!("/ready/{}", config.regions()[r].name),
            Target::Health => "/health".into(),
            Target::HealthRegion(r) => format!("/health/{}", config.regions()[r].name),
            Target::HealthOrigin(i) => format!("/health/{}", config.origins()[i].name),
            Target::History => "/history".into(),
            Target::HistoryOf(named) => format!("/history/{}", named_str(config, named)),
            Target::StatusPage => "/".into(),
            Target::Metrics => "/metrics".into(),
            Target::Badge(scope, format) => {
                let scope = scope.map_or("global", |named| named_str(config, named));
                format!("/badge/{scope}.{}", if format == BadgeFormat::Json { "json" } else { "svg" })
            }
            Target::Slo => "/slo".into(),
            Target::SloOf(i) => format!("/slo/{}", config.slos()[i].name),
        }
    }

    /// Whether the answer shows the 30-day strips (the status page).
    pub fn is_status_page(self) -> bool {
        self == Target::StatusPage
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// Answer now, without the monitor.
    Answer(Reply),
    /// Answer from the round's published snapshot
    /// ([`crate::publish::answer`]), rendered where it is served. `head`: the
    /// request is HEAD, so the answer has no body.
    Snapshot { target: Target, variant: Variant, head: bool },
    /// `POST /refresh`: check [`authorize`], then [`MonitorCall::Refresh`].
    Refresh,
    /// `/health?view=full`: check [`authorize`], then [`MonitorCall::Detail`];
    /// never cached. `head`: the request is HEAD.
    Detail { head: bool },
    /// `POST` (`lift` false) or `DELETE` (`lift` true) `/admin/drain/{name}`:
    /// check [`authorize`], read the body (bounded: [`body_too_large`],
    /// [`body_timed_out`]; UTF-8: [`body_text`]), then [`drain_call`].
    Drain { named: Named, lift: bool },
    /// `GET /admin/drain`: check [`authorize`], then
    /// [`MonitorCall::ListDrains`]; never cached. `head`: the request is HEAD.
    ListDrains { head: bool },
    /// `POST /admin/maintenance` (`end` `None`) or `DELETE
    /// /admin/maintenance/{id}` (`end` the id): check [`authorize`], read the
    /// body (bounded: [`body_too_large`], [`body_timed_out`]; UTF-8:
    /// [`body_text`]), then [`maintenance_call`].
    Maintenance { end: Option<String> },
    /// `GET /admin/maintenance`: check [`authorize`], then
    /// [`MonitorCall::ListMaintenance`]; never cached. `head`: the request is
    /// HEAD.
    ListMaintenance { head: bool },
    /// `POST /ping/...`: check [`authorize_ping`] with the check's secret,
    /// read the body (bounded: [`body_too_large`], [`body_timed_out`]; not
    /// kept, so never judged), then [`ping_call`].
    Ping(super::PingRoute),
}

/// Routes a request: which answer, which target and variant. Every answer
/// given here to a HEAD (`/live`, a 400, 404 or 405) goes through
/// [`Reply::for_head`], on every path (`/refresh`, `/ping/...` and
/// `/admin/...` included): its status and headers, with the `Content-Length`
/// of the body it drops.
pub fn dispatch(config: &Config, req: Incoming) -> Dispatch {
    match routed(config, req) {
        Dispatch::Answer(reply) => Dispatch::Answer(reply.for_head(req.method == "HEAD")),
        other => other,
    }
}

fn routed(config: &Config, req: Incoming) -> Dispatch {
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method;
    if segments == ["refresh"] {
        return match method {
            "POST" => Dispatch::Refresh,
            "OPTIONS" => Dispatch::Answer(preflight(REFRESH_ALLOW)),
            _ => Dispatch::Answer(method_not_allowed(method, "POST", REFRESH_ALLOW)),
        };
    }
    if let ["ping", rest @ ..] = &segments[..] {
        return match super::ping::route_ping(config, method, rest) {
            Ok(route) => Dispatch::Ping(route),
            Err(reply) => Dispatch::Answer(reply),
        };
    }
    if let ["admin", "maintenance", rest @ ..] = &segments[..] {
        return match super::admin::route_maintenance(method, rest) {
            Ok(MaintenanceAsk::List { head }) => Dispatch::ListMaintenance { head },
            Ok(MaintenanceAsk::Start) => Dispatch::Maintenance { end: None },
            Ok(MaintenanceAsk::End(id)) => Dispatch::Maintenance { end: Some(id.to_string()) },
            Err(reply) => Dispatch::Answer(reply),
        };
    }
    if let ["admin", "drain"] = segments[..] {
        return match super::admin::route_drain_list(method) {
            Ok(head) => Dispatch::ListDrains { head },
            Err(reply) => Dispatch::Answer(reply),
        };
    }
    if let ["admin", "drain", name] = segments[..] {
        return match super::admin::route_drain(config, method, name) {
            Ok((named, lift)) => Dispatch::Drain { named, lift },
            Err(reply) => Dispatch::Answer(reply),
        };
    }
    let route = route(config, &segments);
    let head = method == "HEAD";
    match method {
        "GET" | "HEAD" => {}
        "OPTIONS" if route.is_ok() => return Dispatch::Answer(preflight(ALLOW)),
        _ if route.is_ok() => return Dispatch::Answer(method_not_allowed(method, ALLOW, ALLOW)),
        _ => {}
    }
    let target = match route {
        Ok(Some(target)) => target,
        Ok(None) => return Dispatch::Answer(Reply::json(200, &render::live())),
        Err(reply) => return Dispatch::Answer(reply),
    };
    if target == Target::Health {
        match full_view(req.query) {
            Ok(true) => return Dispatch::Detail { head },
            Ok(false) => {}
            Err(reply) => return Dispatch::Answer(reply),
        }
    }
    match variant(target, req.query, req.accept) {
        Ok(variant) => Dispatch::Snapshot { target, variant, head },
        Err(reply) => Dispatch::Answer(reply),
    }
}

/// Whether `/health`'s query asks for the full view (`view=full`); `view=public`
/// or no `view` is the public one, any other value a JSON 400.
pub(super) fn full_view(query: &str) -> Result<bool, Reply> {
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

/// `Ok(None)` is `/live`.
pub(super) fn route(config: &Config, segments: &[&str]) -> Result<Option<Target>, Reply> {
    let not_found = |what: String| {
        Reply::error(
            404,
            "not_found",
            format!("{what}; try /, /live, /ready, /ready/{{region}}, /health, /health/{{name}}, /slo, /metrics or /badge/global.svg"),
        )
    };
    let named = |name: &str| config.find(name).ok_or_else(|| not_found(no_such_name(name)));
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
        ["slo"] => Ok(Some(Target::Slo)),
        ["slo", name] => match config.slos().iter().position(|s| s.name == *name) {
            Some(i) => Ok(Some(Target::SloOf(i))),
            None => Err(not_found(format!("no objective is called \"{}\"", printable(name)))),
        },
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

/// The variant a request asks for. Only `format` and `detailed` (`/health`,
/// `/health/{region}`), `verbose` (`/ready`, `/ready/{region}`) and `Accept`
/// (`/health`) matter; other keys are ignored.
pub(super) fn variant(target: Target, query: &str, accept: Option<&str>) -> Result<Variant, Reply> {
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
            (Target::Slo, "format") => match value.as_str() {
                "json" => {}
                "openslo" => variant = Variant::OpenSlo,
                _ => return Err(bad(key, &value, "use format=json or format=openslo")),
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
pub(super) fn prefers_health_json(accept: &str) -> bool {
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
