//! What the entry points (`lib.rs`), the `Monitor` and the `Prober` share of
//! the runtime: the bundle's fleet and its digest, the clock, calls to the
//! monitor, the conversions between the core's [`Reply`] and `Response`, and
//! the one timeout race.

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use edgecheck_core::config::Config;
use edgecheck_core::http::{self, Reply};
use futures::future::{select, Either};
use futures::pin_mut;
use worker::{Date, Delay, Env, Headers, Method, Request, RequestInit, Response, ResponseBuilder, Result};

/// Runs `work` for at most `ms` milliseconds: its output, or `None` when the
/// timer fired first. Whichever loses the race is dropped at once (a fetch's
/// future dropped here stops waiting for its answer; [`crate::probe`] also
/// aborts its connection).
pub(crate) async fn within<F: Future>(ms: u64, work: F) -> Option<F::Output> {
    match first(work, Delay::from(Duration::from_millis(ms))).await {
        Either::Left(output) => Some(output),
        Either::Right(()) => None,
    }
}

/// The output of whichever of `a` and `b` ends first; the other is dropped.
async fn first<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    pin_mut!(a, b);
    match select(a, b).await {
        Either::Left((output, _)) => Either::Left(output),
        Either::Right((output, _)) => Either::Right(output),
    }
}

/// The global the entry module (`src/entry.mjs`) sets to the bundle's fleet
/// document, the text `edgecheck check --out` wrote.
const FLEET_GLOBAL: &str = "EDGECHECK_FLEET";

/// The Durable Object binding, as in `wrangler.toml`.
pub(crate) const MONITOR_BINDING: &str = "MONITOR";
/// The one monitor instance's name.
pub(crate) const MONITOR_NAME: &str = "fleet";

/// The bundle's fleet: the validated config and its digest (SHA-256, hex).
pub(crate) struct Fleet {
    pub(crate) config: Config,
    pub(crate) digest: String,
}

/// The fleet, read from the bundle's fleet document and its digest checked
/// once per isolate; when the document is missing or damaged, the JSON 500
/// every entry point answers instead ([`http::fleet_document_invalid`]),
/// logged once per isolate. Every entry point (fetch, scheduled, the Durable
/// Objects' fetch and alarm) calls it before anything else, so nothing runs,
/// and nothing probes, with a fleet that failed its check.
pub(crate) fn fleet() -> std::result::Result<&'static Fleet, Reply> {
    static FLEET: OnceLock<std::result::Result<Fleet, String>> = OnceLock::new();
    let read = FLEET.get_or_init(|| {
        let text = worker::js_sys::Reflect::get(&worker::js_sys::global(), &FLEET_GLOBAL.into()).ok().and_then(|v| v.as_string());
        let read = match text {
            None => Err(format!("the bundle has no fleet document (globalThis.{FLEET_GLOBAL} is not set; is wrangler.toml's main build/entry.mjs?)")),
            Some(text) => Config::from_fleet_document(&text)
                .map(|(config, digest)| Fleet { config, digest })
                .map_err(|e| e.to_string()),
        };
        if let Err(why) = &read {
            worker::console_error!("edgecheck: {why}");
        }
        read
    });
    read.as_ref().map_err(|why| http::fleet_document_invalid(why))
}

/// The checked fleet. Called only after the entry point's [`fleet`]
/// succeeded (the result is kept for the isolate's life, so it cannot fail
/// afterwards).
fn checked() -> &'static Fleet {
    match fleet() {
        Ok(fleet) => fleet,
        Err(_) => unreachable!("every entry point checks the fleet before anything else"),
    }
}

/// The checked fleet's config (see [`checked`]).
pub(crate) fn config() -> &'static Config {
    &checked().config
}

/// The checked fleet's digest (see [`checked`]).
pub(crate) fn fleet_digest() -> &'static str {
    &checked().digest
}

/// Now, ms since the Unix epoch (the runtime's clock; the core reads none).
pub(crate) fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// A POST of `body` to `path` on the one `Monitor` instance (a [`MonitorCall`]
/// at `/`, a prober's report at [`http::REPORT_PATH`]), its answer as a
/// [`Reply`]; an error when it fails or does not answer within
/// [`http::monitor_wait_ms`].
pub(crate) async fn call_monitor_at(env: &Env, path: &str, body: String) -> Result<Reply> {
    let stub = env.durable_object(MONITOR_BINDING)?.get_by_name(MONITOR_NAME)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let request = Request::new_with_init(&format!("https://monitor{path}"), &init)?;
    let wait_ms = http::monitor_wait_ms(config());
    let answer = async { from_response(stub.fetch_with_request(request).await?).await };
    within(wait_ms, answer)
        .await
        .unwrap_or_else(|| Err(worker::Error::RustError(format!("no answer within {wait_ms} ms"))))
}

/// `reply` as the runtime's `Response`; when that fails (a header value the
/// runtime refuses), the JSON [`http::internal_error`] instead, so no answer
/// is ever the runtime's plain-text 500.
pub(crate) fn respond(reply: Reply) -> Result<Response> {
    to_response(reply).or_else(|e| {
        worker::console_error!("edgecheck: building the answer failed: {e}");
        to_response(http::internal_error())
    })
}

/// A [`Reply`] as a `worker::Response`.
pub(crate) fn to_response(reply: Reply) -> Result<Response> {
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

/// A `worker::Response` (the monitor's, or a cached copy) as a [`Reply`].
pub(crate) async fn from_response(mut response: Response) -> Result<Reply> {
    let status = response.status_code();
    let headers = response.headers().entries().collect();
    let body = response.text().await?;
    Ok(Reply { status, headers, body: (status != 204).then_some(body) })
}
