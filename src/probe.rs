//! The fan-out: probes the canary (if any) and every origin, at most
//! `max_in_flight` requests open at once, canary included, each under its own
//! timeout, the whole round under `deadline_ms`.
//!
//! - The canary and the origins share one `buffer_unordered(max_in_flight)`
//!   stream, the canary first, so no invocation ever has more than
//!   `max_in_flight` (at most 6) requests waiting for headers.
//! - A probe's timer starts when its request is sent, not when it is queued.
//! - The timer covers headers and the whole body (`AbortController` + `Delay`,
//!   raced with `select`; the abort reaches the body stream).
//! - A probe's timeout is cut to what is left of the deadline, so the round ends
//!   by the deadline whatever the origins do; probes that would start after it
//!   are `skipped`.
//! - Redirects are not followed; at most `max_body_bytes` of body are read.

use std::cell::Cell;
use std::time::Duration;

use edgecheck_core::aggregate::{Probe, Round};
use edgecheck_core::classify::{classify, Outcome};
use edgecheck_core::config::{self, Config, HeaderValue, Origin};
use futures::future::{select, Either};
use futures::{pin_mut, stream, StreamExt};
use worker::{AbortController, Delay, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response};

use crate::now_ms;

const USER_AGENT: &str = concat!("edgecheck/", env!("CARGO_PKG_VERSION"), " (health probe)");

/// One request of a round.
#[derive(Clone, Copy)]
enum Job<'c> {
    /// The canary (`settings.canary`).
    Canary(&'c str),
    /// Origin `i` of [`Config::origins`].
    Origin(usize, &'c Origin),
}

/// What one job gave.
enum Done {
    Canary(bool),
    Origin(usize, Probe),
}

/// Probes the canary and the whole fleet once: the round, and whether the
/// canary answered (`true` when none is configured).
pub async fn round(config: &Config, env: &Env) -> (Round, bool) {
    let settings = &config.settings;
    let started = now_ms();
    let deadline_at = started + u64::from(settings.deadline_ms);
    let canary = settings.canary.as_deref().map(Job::Canary);
    let jobs = canary.into_iter().chain(config.origins.iter().enumerate().map(|(i, o)| Job::Origin(i, o)));
    let done: Vec<Done> = stream::iter(jobs)
        .map(|job| async move {
            match job {
                Job::Canary(url) => Done::Canary(canary_ok(url, settings, deadline_at).await),
                Job::Origin(i, origin) => {
                    Done::Origin(i, probe(origin, env, settings.max_body_bytes, deadline_at).await)
                }
            }
        })
        .buffer_unordered(settings.max_in_flight)
        .collect()
        .await;
    let mut canary_ok = true;
    let mut arrivals = Vec::with_capacity(config.origins.len());
    for d in done {
        match d {
            Done::Canary(ok) => canary_ok = ok,
            Done::Origin(i, probe) => arrivals.push((i, probe)),
        }
    }
    let round = Round::from_arrivals(started, now_ms().saturating_sub(started), config.origins.len(), arrivals);
    (round, canary_ok)
}

/// Whether the canary answered (any HTTP status) within `probe_timeout_ms`, cut
/// to the deadline.
async fn canary_ok(url: &str, settings: &config::Settings, deadline_at: u64) -> bool {
    let sent_at = now_ms();
    if sent_at >= deadline_at {
        return false;
    }
    let headers = Headers::new();
    let _ = headers.set("user-agent", USER_AGENT);
    let mut init = RequestInit::new();
    init.with_headers(headers).with_redirect(RequestRedirect::Manual);
    let Ok(request) = Request::new_with_init(url, &init) else { return false };
    let timeout_ms = u64::from(settings.probe_timeout_ms).min(deadline_at - sent_at);
    matches!(
        fetch_within(request, config::Method::Get, settings.max_body_bytes, timeout_ms).await,
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
    let (outcome, latency_ms) = match request(origin, env) {
        Ok(request) => {
            let outcome = fetch_within(request, origin.method, max_body, timeout_ms).await;
            (outcome, Some(now_ms().saturating_sub(sent_at)))
        }
        Err(nothing_sent) => (nothing_sent, None),
    };
    Probe { verdict: classify(origin, &outcome), latency_ms }
}

/// The probe request, or why none could be built: a header names a secret that
/// is not set ([`Outcome::SecretMissing`]), or the runtime rejects a header
/// value or the request ([`Outcome::RequestInvalid`]).
fn request(origin: &Origin, env: &Env) -> Result<Request, Outcome> {
    let headers = Headers::new();
    headers.set("user-agent", USER_AGENT).map_err(|_| Outcome::RequestInvalid)?;
    for (name, value) in &origin.headers {
        let value = match value {
            HeaderValue::Plain(v) => v.clone(),
            HeaderValue::Secret(secret) => env.secret(secret).map_err(|_| Outcome::SecretMissing)?.to_string(),
        };
        headers.set(name, &value).map_err(|_| Outcome::RequestInvalid)?;
    }
    let mut init = RequestInit::new();
    init.with_method(match origin.method {
        config::Method::Get => Method::Get,
        config::Method::Head => Method::Head,
    })
    .with_headers(headers)
    .with_redirect(RequestRedirect::Manual);
    Request::new_with_init(&origin.url, &init).map_err(|_| Outcome::RequestInvalid)
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
