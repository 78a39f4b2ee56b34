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
//! The fleet is bound at deploy time, not compiled in: `edgecheck check --out`
//! validates `edgecheck.toml` (or the file named by `EDGECHECK_CONFIG`) and
//! writes the fleet document, which the entry module (`src/entry.mjs`) hands
//! to the wasm; [`runtime::fleet`] checks its digest once per isolate. The
//! worker carries no TOML parser, no URL parser and no validation code, and
//! its wasm is the same bytes whatever the fleet.

mod monitor;
mod notify;
mod probe;
mod prober;
mod runtime;
mod snapshot;
mod store;
mod tcp;

use edgecheck_core::config::Config;
use edgecheck_core::http::{self, Dispatch, MonitorCall, Reply, Source};
use futures::StreamExt;
use worker::{event, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use runtime::{call_monitor_at, respond};

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
    let config = match runtime::fleet() {
        Ok(fleet) => &fleet.config,
        Err(reply) => return Ok(reply),
    };
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
            Ok(()) => operator(req, env, !lift, |body, now| http::drain_call(config, named, lift, body, now)).await?,
            Err(reply) => reply,
        },
        Dispatch::Maintenance { end } => match authorize(&req, env)? {
            Ok(()) => {
                let keep = end.is_none();
                operator(req, env, keep, |body, now| http::maintenance_call(config, end.as_deref(), body, now)).await?
            }
            Err(reply) => reply,
        },
        Dispatch::ListDrains { head } => list(&req, env, MonitorCall::ListDrains, head).await?,
        Dispatch::ListMaintenance { head } => list(&req, env, MonitorCall::ListMaintenance, head).await?,
        Dispatch::Ping(route) => ping(config, route, req, env).await?,
        Dispatch::Snapshot { target, variant, head } => snapshot::serve(config, target, variant, head, env, ctx).await,
    })
}

/// An authorized operator request (a drain, a maintenance window): its body
/// read ([`read_body`]; kept only when `keep`, a `DELETE`'s is dropped),
/// made a monitor call by the core (`call`, with the time of the request;
/// its refusal is the answer), and handed to the monitor.
async fn operator(
    mut req: Request,
    env: &Env,
    keep: bool,
    call: impl FnOnce(&str, u64) -> std::result::Result<MonitorCall, Reply>,
) -> Result<Reply> {
    let body = match read_body(&mut req, keep).await? {
        Ok(body) => body,
        Err(reply) => return Ok(reply),
    };
    Ok(match call(&body, runtime::now_ms()) {
        Ok(call) => call_monitor(env, call).await.unwrap_or_else(unavailable),
        Err(reply) => reply,
    })
}

/// `GET` or `HEAD` of an admin list (`/admin/drain`, `/admin/maintenance`):
/// the admin token checked, then `call` answered by the monitor from memory,
/// never cached.
async fn list(req: &Request, env: &Env, call: MonitorCall, head: bool) -> Result<Reply> {
    let reply = match authorize(req, env)? {
        Ok(()) => call_monitor(env, call).await.unwrap_or_else(unavailable),
        Err(reply) => reply,
    };
    Ok(reply.for_head(head))
}

/// The body of an operator request (a drain, a maintenance window, a ping),
/// bounded by the core's rules: its `Content-Length` first
/// ([`http::body_too_large`]: over the bound, 413, the body unread), then
/// what is read as it streams, all of it within
/// [`http::OPERATOR_BODY_TIMEOUT_MS`] ([`http::body_timed_out`]: 408). The
/// body is kept, when `keep`, up to [`http::MAX_OPERATOR_BODY_BYTES`]; past
/// that it is still read and dropped, up to
/// [`http::OPERATOR_BODY_DRAIN_BYTES`], so that the 413 follows a whole
/// request, and cancelled beyond. What is kept is text only if it is UTF-8
/// ([`http::body_text`]: 400). `Ok(Err(_))` is the core's answer.
async fn read_body(req: &mut Request, keep: bool) -> Result<std::result::Result<String, Reply>> {
    let declared = req.headers().get("content-length")?.and_then(|l| l.trim().parse::<u64>().ok());
    if let Some(reply) = http::body_too_large(declared, 0) {
        return Ok(Err(reply));
    }
    let mut kept = Vec::new();
    let mut read: u64 = 0;
    if req.inner().body().is_some() {
        let mut body = req.stream()?;
        let whole = runtime::within(http::OPERATOR_BODY_TIMEOUT_MS, async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                read = read.saturating_add(chunk.len() as u64);
                if keep && read <= http::MAX_OPERATOR_BODY_BYTES {
                    kept.extend_from_slice(&chunk);
                }
                if read > http::OPERATOR_BODY_DRAIN_BYTES {
                    break;
                }
            }
            Ok::<(), worker::Error>(())
        })
        .await;
        match whole {
            Some(streamed) => streamed?,
            None => return Ok(Err(http::body_timed_out())),
        }
    }
    if let Some(reply) = http::body_too_large(declared, read) {
        return Ok(Err(reply));
    }
    Ok(http::body_text(kept))
}

/// A heartbeat check's ping: its token checked against the check's secret
/// before anything else, its body read and dropped ([`read_body`]), then
/// handed to the monitor.
async fn ping(config: &Config, route: http::PingRoute, mut req: Request, env: &Env) -> Result<Reply> {
    let check = &config.origins()[route.check];
    let secret = check.heartbeat.as_ref().map_or("", |h| h.token_secret.as_str());
    let token = env.secret(secret).ok().map(|s| s.to_string());
    let authorization = req.headers().get("authorization")?;
    if let Err(denied) =
        http::authorize_ping(authorization.as_deref(), route.path_token.as_deref(), secret, token.as_deref())
    {
        if let Some(line) = denied.log {
            worker::console_error!("edgecheck: /ping/{}: {line}", check.name);
        }
        return Ok(denied.reply);
    }
    if let Err(reply) = read_body(&mut req, false).await? {
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
    if runtime::fleet().is_err() {
        return; // logged by `fleet`: the monitor is never woken with a fleet that failed its check
    }
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
