//! The isolate's held snapshot: the round's published snapshot
//! ([`Published`]) this isolate serves from, the answers rendered from it in
//! the current second, and the Cache API and the monitor behind it. When to
//! ask for a newer one is the core's ([`publish::next_ask_ms`]); this module
//! holds, asks and converts.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::OnceLock;

use edgecheck_core::config::Config;
use edgecheck_core::http::{self, MonitorCall, Reply, Source, Target, Variant};
use edgecheck_core::publish::{self, Published, RenderKey};
use worker::{Cache, Context, Env, Result};

use crate::call_monitor;
use crate::runtime::{self, fleet_digest, from_response, now_ms, to_response, MONITOR_BINDING, MONITOR_NAME};

/// What this isolate holds of the round's published snapshot.
struct Held {
    doc: Rc<Published>,
    /// When to ask for a newer one, ms since the Unix epoch ([`publish::next_ask_ms`]).
    next_ask_ms: u64,
    /// Asks since `doc` was taken that found nothing newer.
    fruitless: u32,
}

thread_local! {
    /// The snapshot this isolate serves from; `None` until its first request.
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
    /// Answers rendered from the held snapshot in the current second, by
    /// [`RenderKey`] (see [`rendered`]).
    static RENDERED: RefCell<Vec<(RenderKey, Reply)>> = const { RefCell::new(Vec::new()) };
    /// Whether a request of this isolate is asking for a newer snapshot ([`Asking`]).
    static ASKING: Cell<bool> = const { Cell::new(false) };
}

/// At most this many bytes of rendered answers are kept for reuse in one second.
const RENDERED_MAX_BYTES: usize = 8 << 20;

/// Serves a snapshot route from the published snapshot, rendered here with the
/// time of the request ([`publish::answer`]).
pub(crate) async fn serve(
    config: &Config,
    target: Target,
    variant: Variant,
    head: bool,
    env: &Env,
    ctx: &Context,
) -> Reply {
    match held_snapshot(config, env, ctx).await {
        Some((doc, source)) => http::served(rendered(config, &doc, target, variant, now_ms()), source, head),
        None => http::monitor_unavailable(),
    }
}

/// While set, a request of this isolate is asking for a newer snapshot.
struct Asking;

impl Asking {
    fn start() -> Asking {
        ASKING.set(true);
        Asking
    }

    fn now() -> bool {
        ASKING.get()
    }
}

impl Drop for Asking {
    fn drop(&mut self) {
        ASKING.set(false);
    }
}

/// How often a request of a cold isolate looks whether the request that is
/// asking has brought the snapshot, ms.
const COLD_POLL_MS: u64 = 50;

/// The snapshot to serve and where it came from. The isolate's held snapshot
/// serves with no I/O until [`publish::next_ask_ms`], and while another
/// request is asking; then one request asks the Cache API, and the monitor
/// when the cache has nothing newer. A cold isolate's requests wait for the
/// one that asks (polling memory, never sharing its I/O) rather than ask too.
/// `None` when there is no snapshot to serve (the monitor failed).
async fn held_snapshot(config: &Config, env: &Env, ctx: &Context) -> Option<(Rc<Published>, Source)> {
    let held = || HELD.with_borrow(|held| held.as_ref().map(|h| (h.doc.clone(), h.next_ask_ms)));
    match held() {
        Some((doc, next_ask)) if now_ms() < next_ask || Asking::now() => return Some((doc, Source::Memory)),
        Some(_) => {}
        None if Asking::now() => {
            let give_up = now_ms().saturating_add(http::monitor_wait_ms(config));
            while Asking::now() && now_ms() < give_up {
                runtime::within(COLD_POLL_MS, futures::future::pending::<()>()).await;
            }
            if let Some((doc, _)) = held() {
                return Some((doc, Source::Memory));
            }
        }
        None => {}
    }
    let held = held().map(|(doc, _)| doc);
    let _asking = Asking::start();
    // The monitor's call has its own bound; this one also bounds the Cache API.
    let wait_ms = http::monitor_wait_ms(config) + publish::ASK_MARGIN_MS;
    let found = runtime::within(wait_ms, newer(config, held.as_deref(), env, ctx))
        .await
        .unwrap_or_else(|| Err(worker::Error::RustError(format!("no snapshot within {wait_ms} ms"))));
    match found {
        Ok((Some(doc), source)) => {
            let doc = Rc::new(doc);
            let next_ask_ms = publish::next_ask_ms(config, doc.checked_at_ms(), doc.state.duration_ms, 0, now_ms());
            HELD.with_borrow_mut(|h| {
                if h.as_ref().is_none_or(|h| h.doc.checked_at_ms() < doc.checked_at_ms()) {
                    *h = Some(Held { doc: doc.clone(), next_ask_ms, fruitless: 0 });
                }
            });
            Some((doc, source))
        }
        found => {
            let source = match found {
                Ok((_, source)) => source,
                Err(e) => {
                    worker::console_error!("edgecheck: asking for the published snapshot failed: {e}");
                    Source::Monitor
                }
            };
            let doc = held?;
            HELD.with_borrow_mut(|h| {
                if let Some(h) = h.as_mut() {
                    h.fruitless = h.fruitless.saturating_add(1);
                    let (at, took) = (h.doc.checked_at_ms(), h.doc.state.duration_ms);
                    h.next_ask_ms = publish::next_ask_ms(config, at, took, h.fruitless, now_ms());
                }
            });
            Some((doc, source))
        }
    }
}

/// The answer for `target` in `variant` from `doc` at `now_ms`: rendered once
/// per [`RenderKey`] (target, variant and age second) and kept for the rest of
/// that second, so a burst of requests renders a 1,000-origin `/health` once.
fn rendered(config: &Config, doc: &Published, target: Target, variant: Variant, now_ms: u64) -> Reply {
    let key = RenderKey::new(doc, target, variant, now_ms);
    if let Some(reply) = RENDERED.with_borrow(|r| r.iter().find(|(k, _)| *k == key).map(|(_, reply)| reply.clone())) {
        return reply;
    }
    let reply = publish::answer(config, doc, target, variant, now_ms);
    RENDERED.with_borrow_mut(|r| {
        r.retain(|(k, _)| (k.checked_at_ms, k.age_s) == (key.checked_at_ms, key.age_s));
        let bytes: usize = r.iter().map(|(_, reply)| reply.body.as_ref().map_or(0, String::len)).sum();
        if bytes + reply.body.as_ref().map_or(0, String::len) <= RENDERED_MAX_BYTES {
            r.push((key, reply.clone()));
        }
    });
    reply
}

/// A published snapshot newer than `held` (any, when there is none), and
/// where it was looked for last: the Cache API's copy, else the monitor's,
/// which is then put in the cache. `None` when neither has a newer one.
async fn newer(
    config: &Config,
    held: Option<&Published>,
    env: &Env,
    ctx: &Context,
) -> Result<(Option<Published>, Source)> {
    let is_newer = |doc: &Published| held.is_none_or(|h| doc.checked_at_ms() > h.checked_at_ms());
    let key = http::snapshot_key(deployment(env)?);
    let cache = if cache_off(env) { Ok(None) } else { Cache::default().get(key.as_str(), false).await };
    match cache {
        Ok(Some(hit)) => match from_response(hit).await.map(|r| r.body.unwrap_or_default()) {
            Ok(body) => match Published::from_json(fleet_digest(), &body) {
                Ok(doc) if is_newer(&doc) => return Ok((Some(doc), Source::Cache)),
                Ok(_) => {}
                Err(e) => worker::console_error!("edgecheck: the cached snapshot is refused: {e}"),
            },
            Err(e) => worker::console_error!("edgecheck: reading the cached snapshot failed: {e}"),
        },
        Ok(None) => {}
        Err(e) => worker::console_error!("edgecheck: cache lookup failed: {e}"),
    }
    let answer = call_monitor(env, MonitorCall::Snapshot).await?;
    let body = match answer.body {
        Some(body) if answer.status == 200 => body,
        _ => return Err(worker::Error::RustError(format!("the monitor answered {}", answer.status))),
    };
    let doc = Published::from_json(fleet_digest(), &body).map_err(worker::Error::RustError)?;
    if !is_newer(&doc) {
        return Ok((None, Source::Monitor));
    }
    if cache_off(env) {
        return Ok((Some(doc), Source::Monitor));
    }
    let ttl_s = publish::cache_ttl_s(config, doc.checked_at_ms(), doc.state.duration_ms, now_ms());
    ctx.wait_until(async move {
        let stored = match to_response(http::snapshot_copy(body, ttl_s)) {
            Ok(stored) => Cache::default().put(key.as_str(), stored).await,
            Err(e) => Err(e),
        };
        if let Err(e) = stored {
            worker::console_error!("edgecheck: cache put failed: {e}");
        }
    });
    Ok((Some(doc), Source::Monitor))
}

/// This deployment's identity in cache keys ([`http::deployment`]): the id of
/// its monitor, unique to the worker, and the fleet's digest. Made once per isolate.
fn deployment(env: &Env) -> Result<&'static str> {
    static DEPLOYMENT: OnceLock<String> = OnceLock::new();
    if let Some(deployment) = DEPLOYMENT.get() {
        return Ok(deployment);
    }
    let monitor_id = env.durable_object(MONITOR_BINDING)?.id_from_name(MONITOR_NAME)?.to_string();
    Ok(DEPLOYMENT.get_or_init(|| http::deployment(&monitor_id, fleet_digest())))
}

/// The fault-injection variable that makes this isolate use no Cache API, as
/// on a `*.workers.dev` hostname, where it stores nothing: for the benchmarks'
/// count of monitor calls without it. Compiled in only with the cargo feature
/// `fault-injection`, which `scripts/build-worker.sh` never enables.
#[cfg(feature = "fault-injection")]
const NO_CACHE: &str = "EDGECHECK_FAULT_NO_CACHE";

/// Whether fault injection turns the Cache API off (see [`NO_CACHE`]).
#[cfg(feature = "fault-injection")]
fn cache_off(env: &Env) -> bool {
    env.var(NO_CACHE).is_ok_and(|v| v.to_string() == "1")
}

/// Without the `fault-injection` feature the Cache API is always used.
#[cfg(not(feature = "fault-injection"))]
fn cache_off(_env: &Env) -> bool {
    false
}
