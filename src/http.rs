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
//!
//! Every route answers GET and HEAD (HEAD: same status and headers, no body) and
//! OPTIONS (204, for CORS preflights); other methods get a JSON 405 with `Allow`.
//! Every answer is `no-store`: it is computed by probing for this request.

use serde::Serialize;

use crate::aggregate::{Round, View};
use crate::config::{Config, Named};
use crate::render::{
    self, ErrorDoc, LiveDoc, NamedOriginDoc, NamedRegionDoc, ReadyDoc, RegionReadyDoc,
};

/// The methods every route allows.
pub const ALLOW: &str = "GET, HEAD, OPTIONS";

/// A route that needs a probing round before it can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Ready,
    /// Index into [`Config::regions`].
    ReadyRegion(usize),
    Health,
    HealthRegion(usize),
    /// Index into [`Config::origins`].
    HealthOrigin(usize),
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// Answer now, without probing.
    Answer(Reply),
    /// Probe, then answer with [`answer`].
    Probe(Target),
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
        Reply {
            status,
            headers,
            body: Some(body),
        }
    }

    fn error(status: u16, error: &'static str, message: String) -> Reply {
        Reply::json(status, &ErrorDoc { error, message })
    }

    /// The same answer for a HEAD request: status and headers kept, body dropped.
    pub fn without_body(mut self) -> Reply {
        self.body = None;
        self
    }
}

/// Routes a request by method and path (query string already removed). A single
/// trailing slash is ignored (`/ready/` is `/ready`).
pub fn dispatch(config: &Config, method: &str, path: &str) -> Dispatch {
    let path = if path.len() > 1 {
        path.strip_suffix('/').unwrap_or(path)
    } else {
        path
    };
    let route = route(config, path);
    match method {
        "GET" | "HEAD" => {}
        "OPTIONS" if route.is_ok() => {
            let mut reply = Reply::json(204, &());
            reply.body = None;
            reply.headers.push(("allow", ALLOW.into()));
            reply
                .headers
                .push(("access-control-allow-methods", ALLOW.into()));
            reply
                .headers
                .push(("access-control-max-age", "86400".into()));
            return Dispatch::Answer(reply);
        }
        _ if route.is_ok() => {
            let mut reply = Reply::error(
                405,
                "method_not_allowed",
                format!("{method} is not allowed here; use {ALLOW}"),
            );
            reply.headers.push(("allow", ALLOW.into()));
            return Dispatch::Answer(reply);
        }
        _ => {}
    }
    let reply = match route {
        Ok(Some(target)) => return Dispatch::Probe(target),
        Ok(None) => Reply::json(200, &LiveDoc { status: "live" }),
        Err(reply) => reply,
    };
    Dispatch::Answer(if method == "HEAD" {
        reply.without_body()
    } else {
        reply
    })
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
        _ => Err(not_found("no such path")),
    }
}

/// The answer for `target` once a round has been probed and aggregated.
pub fn answer(config: &Config, target: Target, round: &Round, view: &View) -> Reply {
    let ready_status = |ready| if ready { 200 } else { 503 };
    match target {
        Target::Ready => Reply::json(
            ready_status(view.ready),
            &ReadyDoc {
                status: view.overall.as_str(),
                ready: view.ready,
            },
        ),
        Target::ReadyRegion(r) => {
            let region = &view.regions[r];
            let doc = RegionReadyDoc {
                region: &config.regions[r].name,
                status: region.health.as_str(),
                ready: region.ready,
            };
            Reply::json(ready_status(region.ready), &doc)
        }
        Target::Health => Reply::json(200, &render::health(config, round, view)),
        Target::HealthRegion(r) => Reply::json(
            200,
            &NamedRegionDoc {
                region: &config.regions[r].name,
                checked_at: render::rfc3339(round.checked_at_ms),
                detail: render::region_doc(config, r, round, &view.regions[r]),
            },
        ),
        Target::HealthOrigin(i) => Reply::json(
            200,
            &NamedOriginDoc {
                region: &config.regions[config.origins[i].region].name,
                checked_at: render::rfc3339(round.checked_at_ms),
                detail: render::origin_doc(config, i, &round.probes[i]),
            },
        ),
    }
}
