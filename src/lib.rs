//! The edgecheck worker: the thin shell around `edgecheck_core`. It converts and
//! does I/O; the core decides (see `ARCHITECTURE.md`).
//!
//! - this file: the `fetch` and `scheduled` entry points and the Cache API in
//!   front of the monitor;
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
mod probe;
mod prober;
mod runtime;
mod store;

use std::sync::OnceLock;

use edgecheck_core::config::Config;
use edgecheck_core::http::{self, Dispatch, MonitorCall, Reply, Target, Variant};
use worker::{event, Cache, Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent};

use runtime::{
    call_monitor_at, config, from_response, now_ms, respond, to_response, FLEET_DIGEST, MONITOR_BINDING, MONITOR_NAME,
};

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
                    Ok(answer) => http::from_monitor(answer, false),
                    Err(e) => unavailable(e),
                },
                Err(reply) => reply,
            };
            reply.for_head(head)
        }
        Dispatch::Snapshot { target, variant, head } => snapshot(config, target, variant, head, env, ctx).await,
    })
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

/// Serves a snapshot route: the cached copy if there is one, else the monitor's
/// answer, stored in the cache as the core says.
async fn snapshot(config: &Config, target: Target, variant: Variant, head: bool, env: &Env, ctx: &Context) -> Reply {
    let deployment = match deployment(env) {
        Ok(deployment) => deployment,
        Err(e) => return unavailable(e),
    };
    let key = target.cache_key(config, variant, deployment);
    match Cache::default().get(key.as_str(), false).await {
        Ok(Some(hit)) => match from_response(hit).await {
            Ok(copy) => return http::from_cache(config, copy, now_ms(), head),
            Err(e) => worker::console_error!("edgecheck: reading a cached answer failed: {e}"),
        },
        Ok(None) => {}
        Err(e) => worker::console_error!("edgecheck: cache lookup failed: {e}"),
    }
    let answer = match call_monitor(env, MonitorCall::Answer(target, variant)).await {
        Ok(answer) => answer,
        Err(e) => return unavailable(e),
    };
    if let Some(copy) = http::cache_copy(config, &answer, now_ms()) {
        ctx.wait_until(async move {
            let stored = match to_response(copy) {
                Ok(stored) => Cache::default().put(key.as_str(), stored).await,
                Err(e) => Err(e),
            };
            if let Err(e) = stored {
                worker::console_error!("edgecheck: cache put failed: {e}");
            }
        });
    }
    http::from_monitor(answer, head)
}

/// This deployment's identity in cache keys ([`http::deployment`]): the id of
/// its monitor, unique to the worker, and the fleet's digest. Made once per isolate.
fn deployment(env: &Env) -> Result<&'static str> {
    static DEPLOYMENT: OnceLock<String> = OnceLock::new();
    if let Some(deployment) = DEPLOYMENT.get() {
        return Ok(deployment);
    }
    let monitor_id = env.durable_object(MONITOR_BINDING)?.id_from_name(MONITOR_NAME)?.to_string();
    Ok(DEPLOYMENT.get_or_init(|| http::deployment(&monitor_id, FLEET_DIGEST)))
}

/// One call on the one `Monitor` instance, its answer as a [`Reply`]; an error
/// when it fails or does not answer within [`http::monitor_wait_ms`].
async fn call_monitor(env: &Env, call: MonitorCall) -> Result<Reply> {
    call_monitor_at(env, "/", call.to_json()).await
}

/// The JSON 503 when the monitor failed; the cause goes to the logs.
fn unavailable(e: worker::Error) -> Reply {
    worker::console_error!("edgecheck: the monitor failed: {e}");
    http::monitor_unavailable()
}
