//! The edgecheck worker: the thin shell around `edgecheck_core`. It converts and
//! does I/O; the core decides (see `ARCHITECTURE.md`).
//!
//! - this file: the `fetch` and `scheduled` entry points;
//! - [`snapshot`]: the isolate's held snapshot, the answers rendered from it,
//!   and the Cache API and the monitor behind it;
//! - [`monitor`]: the `Monitor` Durable Object (alarm, joined refreshes, the
//!   vantage merge, memory);
//! - [`prober`]: the `Prober` Durable Object, one per vantage and shard;
//! - [`probe`]: a prober's fan-out (fetch, timers, body reads);
//! - [`store`]: the core's `Store` port over the Durable Object's SQLite;
//! - [`runtime`]: what they all share of the runtime: the embedded fleet, the
//!   clock, calls to the monitor, [`Reply`](edgecheck_core::http::Reply) ↔
//!   `worker::Response`, and the one timeout helper.
//!
//! The fleet is embedded at build time by `build.rs` (from `edgecheck.toml`, or
//! the file named by `EDGECHECK_CONFIG`) as the JSON of a validated `Config`, so
//! the worker carries no TOML parser, no URL parser and no validation code.

mod monitor;
mod notify;
mod probe;
mod prober;
mod runtime;
mod snapshot;
mod store;

use edgecheck_core::config::Config;
use edgecheck_core::http::{self, Dispatch, MonitorCall, Reply, Source};
use futures::StreamExt;
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use runtime::{call_monitor_at, config, respond};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let reply = serve(req, &env, &ctx).await.unwrap_or_else(|e| {
        worker::console_error!("edgecheck: answering failed: {e}");
        http::internal_error()
    });
    respond(reply)
}

/// The answer to `req`: the core routes it, the shell fetches what it needs.
/// An `Err` is a runtime call that failed; [`fetch`] answers it as
/// [`http::internal_error`].
async fn serve(req: Request, env: &Env, ctx: &Context) -> Result<Reply> {
    let config = config();
    let url = req.url()?;
    let accept = req.headers().get("accept")?;
    let method = req.method();
    let incoming = http::Incoming {
        method: method.as_ref(),
        path: url.path(),
        query: url.query().unwrap_or(""),
        accept: accept.as_deref(),
    };
    Ok(match http::dispatch(config, incoming) {
        Dispatch::Answer(reply) => reply,
        Dispatch::Refresh => match authorize(&req, env)? {
            Ok(()) => call_monitor(env, MonitorCall::Refresh).await.unwrap_or_else(unavailable),
            Err(reply) => reply,
        },
        Dispatch::Detail { head } => {
            let reply = match authorize(&req, env)? {
                Ok(()) => match call_monitor(env, MonitorCall::Detail).await {
                    Ok(answer) => http::served(answer, Source::Monitor, head),
                    Err(e) => unavailable(e),
                },
                Err(reply) => reply.for_head(head),
            };
            reply
        }
        Dispatch::Drain { named, lift } => match authorize(&req, env)? {
            Ok(()) => drain(config, named, lift, req, env).await?,
            Err(reply) => reply,
        },
        Dispatch::Maintenance { end } => match authorize(&req, env)? {
            Ok(()) => maintenance(config, end, req, env).await?,
            Err(reply) => reply,
        },
        Dispatch::Ping(route) => ping(config, route, req, env).await?,
        Dispatch::Snapshot { target, variant, head } => snapshot::serve(config, target, variant, head, env, ctx).await,
    })
}

/// An authorized drain request: its body read (bounded before reading),
/// validated by the core, and handed to the monitor.
async fn drain(
    config: &edgecheck_core::config::Config,
    named: edgecheck_core::config::Named,
    lift: bool,
    mut req: Request,
    env: &Env,
) -> Result<Reply> {
    if let Some(reply) = http::drain_body_too_large(req.headers().get("content-length")?.as_deref()) {
        return Ok(reply);
    }
    let body = if lift {
        String::new()
    } else {
        match admin_body(&mut req).await? {
            Ok(body) => body,
            Err(reply) => return Ok(reply),
        }
    };
    Ok(match http::drain_call(config, named, lift, &body, runtime::now_ms()) {
        Ok(call) => call_monitor(env, call).await.unwrap_or_else(unavailable),
        Err(reply) => reply,
    })
}

/// An authorized maintenance request: its body read (bounded), validated by
/// the core, and handed to the monitor.
async fn maintenance(config: &Config, end: Option<String>, mut req: Request, env: &Env) -> Result<Reply> {
    if let Some(reply) = http::drain_body_too_large(req.headers().get("content-length")?.as_deref()) {
        return Ok(reply);
    }
    let body = if end.is_some() {
        String::new()
    } else {
        match admin_body(&mut req).await? {
            Ok(body) => body,
            Err(reply) => return Ok(reply),
        }
    };
    Ok(match http::maintenance_call(config, end.as_deref(), &body, runtime::now_ms()) {
        Ok(call) => call_monitor(env, call).await.unwrap_or_else(unavailable),
        Err(reply) => reply,
    })
}

/// An admin request's body as text, read while it streams and kept only up
/// to the 10 KB bound ([`http::drain_body_too_large`] answers what is over
/// it; a body of unknown length is read to its end, up to
/// `PING_DRAIN_BYTES`, as a ping's is). Text that is not UTF-8 is kept
/// lossily, for the core to refuse as JSON.
async fn admin_body(req: &mut Request) -> Result<std::result::Result<String, Reply>> {
    let mut kept = Vec::new();
    let mut read: u64 = 0;
    if req.inner().body().is_some() {
        let mut body = req.stream()?;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            read = read.saturating_add(chunk.len() as u64);
            if kept.len() <= edgecheck_core::drain::MAX_BODY_BYTES {
                kept.extend_from_slice(&chunk);
            }
            if read > http::PING_DRAIN_BYTES {
                break;
            }
        }
    }
    if let Some(reply) = http::drain_body_too_large(Some(&read.to_string())) {
        return Ok(Err(reply));
    }
    Ok(Ok(String::from_utf8_lossy(&kept).into_owned()))
}

/// A heartbeat check's ping: its token checked against the check's secret
/// before anything else, its body bounded (by `Content-Length`, then while
/// it streams; it is not kept), then handed to the monitor.
async fn ping(config: &Config, route: http::PingRoute, mut req: Request, env: &Env) -> Result<Reply> {
    let check = &config.origins()[route.check];
    let secret = check.heartbeat.as_ref().map_or("", |h| h.token_secret.as_str());
    let token = env.secret(secret).ok().map(|s| s.to_string());
    let authorization = req.headers().get("authorization")?;
    if let Err(reply) =
        http::authorize_ping(authorization.as_deref(), route.path_token.as_deref(), secret, token.as_deref())
    {
        return Ok(reply);
    }
    let declared = req.headers().get("content-length")?.and_then(|l| l.trim().parse::<u64>().ok());
    if let Some(reply) = http::ping_body_too_large(declared) {
        return Ok(reply);
    }
    // A body of unknown length (chunked) is read and dropped as it streams;
    // one over the bound is still read to its end, up to
    // `PING_DRAIN_BYTES`, so that the answer follows a whole request (a body
    // cancelled halfway stalled the next request in wrangler dev), and is
    // cancelled beyond that.
    let mut read: u64 = 0;
    if req.inner().body().is_some() {
        let mut body = req.stream()?;
        while let Some(chunk) = body.next().await {
            read = read.saturating_add(chunk?.len() as u64);
            if read > http::PING_DRAIN_BYTES {
                break;
            }
        }
    }
    if let Some(reply) = http::ping_body_too_large(Some(read)) {
        return Ok(reply);
    }
    Ok(call_monitor(env, http::ping_call(config, &route)).await.unwrap_or_else(unavailable))
}

/// Checks the request's `Authorization` against the admin token secret
/// ([`http::authorize`]).
fn authorize(req: &Request, env: &Env) -> Result<std::result::Result<(), Reply>> {
    let token = env.secret(http::ADMIN_TOKEN_SECRET).ok().map(|s| s.to_string());
    let authorization = req.headers().get("authorization")?;
    Ok(http::authorize(authorization.as_deref(), token.as_deref()))
}

/// The cron trigger: re-arms the monitor's alarm if it was lost.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    if let Err(e) = call_monitor(&env, MonitorCall::EnsureAlarm).await {
        worker::console_error!("edgecheck: re-arming the monitor's alarm failed: {e}");
    }
}

/// One call on the one `Monitor` instance, its answer as a [`Reply`]; an error
/// when it fails or does not answer within [`http::monitor_wait_ms`].
pub(crate) async fn call_monitor(env: &Env, call: MonitorCall) -> Result<Reply> {
    call_monitor_at(env, "/", call.to_json()).await
}

/// The JSON 503 when the monitor failed; the cause goes to the logs.
fn unavailable(e: worker::Error) -> Reply {
    worker::console_error!("edgecheck: the monitor failed: {e}");
    http::monitor_unavailable()
}
