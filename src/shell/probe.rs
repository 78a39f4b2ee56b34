//! The fan-out: probes every origin, at most `max_in_flight` at once, each under
//! its own timeout, the whole round under `deadline_ms`.
//!
//! - A probe's timer starts when its request is sent, not when it is queued.
//! - The timer covers headers and the whole body (`AbortController` + `Delay`,
//!   raced with `select`; the abort reaches the body stream).
//! - A probe's timeout is cut to what is left of the deadline, so the round ends
//!   by the deadline whatever the origins do; probes that would start after it
//!   are `skipped`.
//! - Redirects are not followed; at most `max_body_bytes` of body are read.

use std::cell::Cell;
use std::time::Duration;

use futures::future::{select, Either};
use futures::{pin_mut, stream, StreamExt};
use worker::{
    AbortController, Date, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response,
};

use crate::aggregate::{Probe, Round};
use crate::classify::{classify, Outcome};
use crate::config::{self, Config, HeaderValue, Origin};

const USER_AGENT: &str = concat!("edgecheck/", env!("CARGO_PKG_VERSION"), " (health probe)");

fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// Probes the whole fleet once.
pub async fn round(config: &Config, env: &Env) -> Round {
    let started = now_ms();
    let deadline_at = started + u64::from(config.settings.deadline_ms);
    let max_body = config.settings.max_body_bytes;
    let arrivals: Vec<(usize, Probe)> = stream::iter(config.origins.iter().enumerate())
        .map(|(i, origin)| async move { (i, probe(origin, env, max_body, deadline_at).await) })
        .buffer_unordered(config.settings.max_in_flight)
        .collect()
        .await;
    Round::from_arrivals(started, now_ms().saturating_sub(started), config.origins.len(), arrivals)
}

/// Whether the canary answered (any HTTP status) within `probe_timeout_ms`;
/// `true` when no canary is configured.
pub async fn canary_ok(config: &Config) -> bool {
    let Some(url) = &config.settings.canary else { return true };
    let headers = Headers::new();
    let _ = headers.set("user-agent", USER_AGENT);
    let mut init = RequestInit::new();
    init.with_headers(headers).with_redirect(RequestRedirect::Manual);
    let Ok(request) = Request::new_with_init(url, &init) else { return false };
    let timeout = u64::from(config.settings.probe_timeout_ms);
    matches!(
        fetch_within(request, config::Method::Get, config.settings.max_body_bytes, timeout).await,
        Outcome::Answered { .. } | Outcome::BodyTooLarge { .. }
    )
}

/// One probe, started now (this future is first polled when a slot is free).
async fn probe(origin: &Origin, env: &Env, max_body: usize, deadline_at: u64) -> Probe {
    let sent_at = now_ms();
    if sent_at >= deadline_at {
        return Probe { verdict: classify(origin, &Outcome::Skipped), latency_ms: None };
    }
    let timeout_ms = u64::from(origin.timeout_ms).min(deadline_at - sent_at);
    let outcome = match request(origin, env) {
        Some(request) => fetch_within(request, origin.method, max_body, timeout_ms).await,
        None => Outcome::SecretMissing,
    };
    let latency_ms = match outcome {
        Outcome::SecretMissing => None,
        _ => Some(now_ms().saturating_sub(sent_at)),
    };
    Probe { verdict: classify(origin, &outcome), latency_ms }
}

/// The probe request; `None` when a header names a secret that is not set.
fn request(origin: &Origin, env: &Env) -> Option<Request> {
    let headers = Headers::new();
    headers.set("user-agent", USER_AGENT).ok()?;
    for (name, value) in &origin.headers {
        let value = match value {
            HeaderValue::Plain(v) => v.clone(),
            HeaderValue::Secret(secret) => env.secret(secret).ok()?.to_string(),
        };
        headers.set(name, &value).ok()?;
    }
    let mut init = RequestInit::new();
    init.with_method(match origin.method {
        config::Method::Get => Method::Get,
        config::Method::Head => Method::Head,
    })
    .with_headers(headers)
    .with_redirect(RequestRedirect::Manual);
    // The URL was validated at build time; a failure here is a header the runtime rejects.
    Request::new_with_init(&origin.url, &init).ok()
}

/// Sends `request` and reads the answer, all within `timeout_ms`.
async fn fetch_within(request: Request, method: config::Method, max_body: usize, timeout_ms: u64) -> Outcome {
    let controller = AbortController::default();
    let signal = controller.signal();
    let status = Cell::new(None);
    let work = async {
        let mut response = match Fetch::Request(request).send_with_signal(&signal).await {
            Ok(response) => response,
            Err(_) => return Outcome::ConnectError,
        };
        status.set(Some(response.status_code()));
        read_answer(&mut response, method, max_body).await
    };
    let timer = Delay::from(Duration::from_millis(timeout_ms));
    pin_mut!(work, timer);
    let outcome = match select(work, timer).await {
        Either::Left((outcome, _)) => outcome,
        Either::Right(((), _)) => Outcome::Timeout { status: status.get() },
    };
    // Ends the connection whatever happened: a timed-out or over-long body stops here.
    controller.abort();
    outcome
}

/// Reads at most `max_body` decoded bytes of the body.
async fn read_answer(response: &mut Response, method: config::Method, max_body: usize) -> Outcome {
    let status = response.status_code();
    let content_type = response.headers().get("content-type").ok().flatten();
    let mut body = Vec::new();
    if method == config::Method::Get {
        if let Ok(mut chunks) = response.stream() {
            while let Some(chunk) = chunks.next().await {
                let Ok(chunk) = chunk else {
                    return Outcome::ConnectError;
                };
                if body.len() + chunk.len() > max_body {
                    return Outcome::BodyTooLarge { status };
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    Outcome::Answered { status, content_type, body }
}
