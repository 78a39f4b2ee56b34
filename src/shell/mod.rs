//! The worker shell: the `fetch` and `scheduled` entry points and the `Monitor`
//! Durable Object. It routes with [`crate::http`], serves snapshot answers from
//! the Cache API or, on a miss, from the monitor, and turns the core's
//! [`crate::http::Reply`] into a `worker::Response`. Nothing here decides health.

mod monitor;
mod probe;

use std::sync::OnceLock;

use worker::{
    event, Cache, Context, Date, Env, Headers, Request, Response, ResponseBuilder, Result, ScheduleContext,
    ScheduledEvent,
};

use crate::config::Config;
use crate::http::{self, Dispatch, Reply, CHECKED_AT_HEADER};

/// The Durable Object binding, as in `wrangler.toml`.
const MONITOR_BINDING: &str = "MONITOR";
/// The one monitor instance's name.
const MONITOR_NAME: &str = "fleet";
/// Says whether an answer came from the Cache API (`hit`) or the monitor (`miss`).
const CACHE_STATUS_HEADER: &str = "x-edgecheck-cache";
/// Cache keys are built from the path alone, under this origin.
const CACHE_ORIGIN: &str = "https://edgecheck.cache.invalid";

/// The validated fleet, parsed once per isolate.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(crate::embedded_config)
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    let config = config();
    let method = req.method().to_string();
    let path = http::normalize(req.path());
    let response = match http::dispatch(config, &method, &path) {
        Dispatch::Answer(reply) => return to_response(reply),
        Dispatch::Refresh => {
            let token = env.secret(http::ADMIN_TOKEN_SECRET).ok().map(|s| s.to_string());
            let authorization = req.headers().get("authorization")?;
            if let Err(reply) = http::authorize(authorization.as_deref(), token.as_deref()) {
                return to_response(reply);
            }
            let url = format!("https://monitor{}", monitor::REFRESH_NOW_PATH);
            return or_unavailable(call_monitor(&env, &url).await);
        }
        Dispatch::Snapshot(_) => match from_cache_or_monitor(&path, &env, &ctx).await {
            Ok(response) => response,
            Err(e) => return or_unavailable(Err(e)),
        },
    };
    if method == "HEAD" {
        let (builder, _) = response.into_parts();
        return Ok(builder.empty());
    }
    Ok(response)
}

/// The cron trigger: re-arms the monitor's alarm if it was lost.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let url = format!("https://monitor{}", monitor::ENSURE_ALARM_PATH);
    if let Err(e) = call_monitor(&env, &url).await {
        worker::console_error!("edgecheck: re-arming the monitor's alarm failed: {e}");
    }
}

/// A request to the one `Monitor` instance.
async fn call_monitor(env: &Env, url: &str) -> Result<Response> {
    env.durable_object(MONITOR_BINDING)?.get_by_name(MONITOR_NAME)?.fetch_with_str(url).await
}

/// The response, or a JSON 503 when the monitor failed; the cause goes to the logs.
fn or_unavailable(response: Result<Response>) -> Result<Response> {
    response.or_else(|e| {
        worker::console_error!("edgecheck: the monitor failed: {e}");
        to_response(http::monitor_unavailable())
    })
}

/// Serves a snapshot route: the cached copy if there is one, else the monitor's
/// answer, cached until the snapshot's next refresh.
async fn from_cache_or_monitor(path: &str, env: &Env, ctx: &Context) -> Result<Response> {
    let refresh_s = config().settings.refresh_s;
    let key = format!("{CACHE_ORIGIN}{path}");
    let cache = Cache::default();
    if let Some(hit) = cache.get(key.as_str(), false).await? {
        return with_age(hit, refresh_s);
    }
    let mut answer = call_monitor(env, &format!("https://monitor{path}")).await?;
    let status = answer.status_code();
    let body = answer.bytes().await?;
    let headers = answer.headers().clone();
    let ttl_s = checked_at(&headers).and_then(|at| http::cache_ttl_s(status, at, refresh_s, now_ms()));
    if let Some(ttl_s) = ttl_s {
        let stored = Headers::new();
        for (name, value) in headers.entries() {
            if name != "age" && name != "cache-control" {
                stored.set(&name, &value)?;
            }
        }
        stored.set("cache-control", &format!("public, max-age={ttl_s}"))?;
        let copy = ResponseBuilder::new().with_status(status).with_headers(stored).fixed(body.clone());
        ctx.wait_until(async move {
            if let Err(e) = Cache::default().put(key.as_str(), copy).await {
                worker::console_error!("edgecheck: cache put failed: {e}");
            }
        });
    }
    headers.set(CACHE_STATUS_HEADER, "miss")?;
    Ok(ResponseBuilder::new().with_status(status).with_headers(headers).fixed(body))
}

/// The round start a snapshot answer carries, ms since the Unix epoch.
fn checked_at(headers: &Headers) -> Option<u64> {
    headers.get(CHECKED_AT_HEADER).ok().flatten().and_then(|v| v.parse().ok())
}

/// A cached answer with `Age` counted from its round and the public `Cache-Control`.
fn with_age(hit: Response, refresh_s: u32) -> Result<Response> {
    let headers = hit.headers().clone();
    let checked_at = checked_at(&headers).unwrap_or(0);
    for (name, value) in http::freshness_headers(checked_at, refresh_s, now_ms()) {
        headers.set(name, &value)?;
    }
    headers.set(CACHE_STATUS_HEADER, "hit")?;
    let (builder, body) = hit.into_parts();
    Ok(builder.with_headers(headers).body(body))
}

fn to_response(reply: Reply) -> Result<Response> {
    let headers = Headers::new();
    for (name, value) in &reply.headers {
        headers.set(name, value)?;
    }
    let builder = ResponseBuilder::new().with_status(reply.status).with_headers(headers);
    Ok(match reply.body {
        Some(body) => builder.fixed(body.into_bytes()),
        None => builder.empty(),
    })
}
