//! The fan-out of one prober: probes the canary (if any) and every origin of
//! its shard, from its vantage, at most
//! `max_in_flight` requests open at once, canary included, each under its own
//! timeout, the whole round under `deadline_ms`.
//!
//! - The canary and the origins share one `buffer_unordered(max_in_flight)`
//!   stream, the canary first, so no invocation ever has more than
//!   `max_in_flight` (at most 6) requests waiting for headers.
//! - A probe's timer starts when its request is sent, not when it is queued.
//! - The timer covers headers and the whole body ([`runtime::within`], then an
//!   `AbortController` whose abort reaches the body stream).
//! - A probe's timeout is cut to what is left of the deadline, so the round ends
//!   by the deadline whatever the origins do; probes that would start after it
//!   are `skipped` (the core's [`schedule::probe_budget`] decides both).
//! - Redirects are not followed; at most `max_body_bytes` of body are read.
//! - Probes send `Connection: close`, asking the origin to close the connection
//!   after its answer. What is measured is the time from sending the request to
//!   the end of the body (or the timeout), a connect included when the runtime
//!   opens one; whether workerd would otherwise reuse a connection is the
//!   runtime's, and is not measured here (`demo_origins` answers one request
//!   per connection).

use std::cell::RefCell;

use edgecheck_core::aggregate::{Probe, Round};
use edgecheck_core::classify::Outcome;
use edgecheck_core::config::{self, Config, HeaderValue, Origin, Settings};
use edgecheck_core::detail::ProbeDetail;
use edgecheck_core::schedule::{self, Budget};
use edgecheck_core::vantage;
use futures::{stream, StreamExt};
use worker::{AbortController, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response};

use crate::runtime::{self, now_ms};
use crate::tcp;

pub(crate) const USER_AGENT: &str = concat!("edgecheck/", env!("CARGO_PKG_VERSION"), " (health probe)");

/// The header every probe carries, naming the vantage that sent it, so origin
/// operators can see which vantage probed them and allow-list the checker.
pub const VANTAGE_HEADER: &str = "x-edgecheck-vantage";

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
    /// Whether the canary answered, and the body it answered with.
    Canary(bool, Vec<u8>),
    Origin(usize, Probe, ProbeDetail),
}

/// What a round gave: the round over the shard, whether the canary answered
/// (`true` when none is configured) and its body (at most `max_body_bytes`;
/// empty without a canary), and each origin's [`ProbeDetail`] in shard order,
/// for the admin token's full view.
pub struct Probed {
    pub round: Round,
    pub canary_ok: bool,
    pub canary_body: Vec<u8>,
    pub details: Vec<Option<ProbeDetail>>,
}

/// Probes the canary and the origins of `shard` once from `vantage` (a name
/// for [`VANTAGE_HEADER`]), by `deadline_at` (ms since the Unix epoch).
/// Indices in the result are within the shard.
pub async fn round(config: &Config, env: &Env, vantage: &str, shard: &[Origin], deadline_at: u64) -> Probed {
    let settings = config.settings();
    let started = now_ms();
    let canary = settings.canary.as_deref().map(Job::Canary);
    let jobs = canary.into_iter().chain(shard.iter().enumerate().map(|(i, o)| Job::Origin(i, o)));
    let done: Vec<Done> = stream::iter(jobs)
        .map(|job| async move {
            match job {
                Job::Canary(url) => {
                    let (ok, body) = probe_canary(url, env, settings, vantage, deadline_at).await;
                    Done::Canary(ok, body)
                }
                Job::Origin(i, origin) => {
                    let (probe, detail) = probe(origin, env, vantage, settings.max_body_bytes, deadline_at).await;
                    Done::Origin(i, probe, detail)
                }
            }
        })
        .buffer_unordered(settings.max_in_flight)
        .collect()
        .await;
    let mut canary_ok = true;
    let mut canary_body = Vec::new();
    let mut arrivals = Vec::with_capacity(shard.len());
    let mut details = vec![None; shard.len()];
    for d in done {
        match d {
            Done::Canary(ok, body) => (canary_ok, canary_body) = (ok, body),
            Done::Origin(i, probe, detail) => {
                arrivals.push((i, probe));
                if let Some(slot) = details.get_mut(i) {
                    *slot = Some(detail);
                }
            }
        }
    }
    let round = Round::from_arrivals(started, now_ms().saturating_sub(started), shard.len(), arrivals);
    Probed { round, canary_ok, canary_body, details }
}

/// Whether the canary answered ([`vantage::canary_answered`]) within
/// `probe_timeout_ms` under the round's budget ([`schedule::probe_budget`]),
/// and the body it answered with.
async fn probe_canary(url: &str, env: &Env, settings: &Settings, vantage: &str, deadline_at: u64) -> (bool, Vec<u8>) {
    let Budget::Send { timeout_ms } = schedule::probe_budget(settings.probe_timeout_ms, deadline_at, now_ms()) else {
        return (false, Vec::new());
    };
    let outcome = match request(url, config::Method::Get, &[], env, vantage) {
        Ok(request) => fetch_within(request, config::Method::Get, settings.max_body_bytes, timeout_ms).await.0,
        Err((nothing_sent, _)) => nothing_sent,
    };
    let answered = vantage::canary_answered(&outcome);
    match outcome {
        Outcome::Answered { body, .. } => (answered, body),
        _ => (answered, Vec::new()),
    }
}

/// One probe, started now (this future is first polled when a slot is free),
/// under the round's budget ([`schedule::probe_budget`]).
async fn probe(origin: &Origin, env: &Env, vantage: &str, max_body: usize, deadline_at: u64) -> (Probe, ProbeDetail) {
    let sent_at = now_ms();
    let Budget::Send { timeout_ms } = schedule::probe_budget(origin.timeout_ms, deadline_at, sent_at) else {
        let detail = ProbeDetail::new(Some("not started before the round's deadline"), Vec::new(), None);
        return (Probe::assessed(origin, &Outcome::Skipped, None).0, detail);
    };
    let sent = match &origin.tcp {
        Some(check) => Ok(tcp::connect_within(check, timeout_ms).await),
        None => match request(&origin.url, origin.method, &origin.headers, env, vantage) {
            Ok(request) => Ok(fetch_within(request, origin.method, max_body, timeout_ms).await),
            Err(nothing_sent) => Err(nothing_sent),
        },
    };
    let (outcome, detail, latency_ms) = match sent {
        Ok((outcome, detail)) => (outcome, detail, Some(now_ms().saturating_sub(sent_at))),
        Err((nothing_sent, error)) => (nothing_sent, ProbeDetail::new(Some(&error), Vec::new(), None), None),
    };
    // The vantage judges its own latency: a healthy answer slower than the
    // origin's `degraded_after_ms` is `degraded` (`slow`) in its report.
    let (probe, judged) = Probe::assessed(origin, &outcome, latency_ms);
    (probe, detail.with_assertion(&judged))
}

/// The one probe request builder, for origins and the canary alike: `method`
/// to `url` with edgecheck's `User-Agent`, [`VANTAGE_HEADER`],
/// `Connection: close` and `headers` (secrets read from `env`), redirects not
/// followed. Or why none could be built (with the runtime's error text): a
/// header names a secret that is not set ([`Outcome::SecretMissing`]), or the
/// runtime rejects a header value or the request ([`Outcome::RequestInvalid`]).
fn request(
    url: &str,
    method: config::Method,
    headers: &[(String, HeaderValue)],
    env: &Env,
    vantage: &str,
) -> Result<Request, (Outcome, String)> {
    let invalid = |e: worker::Error| (Outcome::RequestInvalid, e.to_string());
    let sent = Headers::new();
    sent.set("user-agent", USER_AGENT).map_err(invalid)?;
    sent.set(VANTAGE_HEADER, vantage).map_err(invalid)?;
    // Asks the origin to close after answering: no connection is meant to be kept between rounds.
    sent.set("connection", "close").map_err(invalid)?;
    for (name, value) in headers {
        let value = match value {
            HeaderValue::Plain(v) => v.clone(),
            HeaderValue::Secret(secret) => {
                env.secret(secret).map_err(|e| (Outcome::SecretMissing, e.to_string()))?.to_string()
            }
        };
        sent.set(name, &value).map_err(invalid)?;
    }
    let mut init = RequestInit::new();
    init.with_method(match method {
        config::Method::Get => Method::Get,
        config::Method::Head => Method::Head,
    })
    .with_headers(sent)
    .with_redirect(RequestRedirect::Manual);
    Request::new_with_init(url, &init).map_err(invalid)
}

/// What a probe saw of the answer so far, for its [`ProbeDetail`]; filled in as
/// the answer arrives, so a timeout still shows the headers and partial body.
#[derive(Default)]
struct Seen {
    status: Option<u16>,
    error: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

/// Sends `request` and reads the answer, all within `timeout_ms`: the outcome
/// and what was seen of it.
async fn fetch_within(
    request: Request,
    method: config::Method,
    max_body: usize,
    timeout_ms: u64,
) -> (Outcome, ProbeDetail) {
    let controller = AbortController::default();
    let signal = controller.signal();
    let seen = RefCell::new(Seen::default());
    // The answer's future and the timer live in this block only: the one that
    // lost the race is dropped as soon as the outcome is known.
    let outcome = {
        let work = async {
            let mut response = match Fetch::Request(request).send_with_signal(&signal).await {
                Ok(response) => response,
                Err(e) => {
                    seen.borrow_mut().error = Some(e.to_string());
                    return Outcome::ConnectError;
                }
            };
            {
                let mut seen = seen.borrow_mut();
                seen.status = Some(response.status_code());
                seen.headers = response.headers().entries().collect();
            }
            read_answer(&mut response, method, max_body, &seen).await
        };
        runtime::within(timeout_ms, work).await.unwrap_or_else(|| {
            let mut seen = seen.borrow_mut();
            seen.error = Some(format!("no complete answer within {timeout_ms} ms"));
            Outcome::Timeout { status: seen.status }
        })
    };
    // Ends the connection whatever happened: a timed-out or over-long body stops here.
    controller.abort();
    let seen = seen.into_inner();
    (outcome, ProbeDetail::new(seen.error.as_deref(), seen.headers, seen.body.as_deref()))
}

/// Reads at most `max_body` decoded bytes of the body into `seen`.
async fn read_answer(
    response: &mut Response,
    method: config::Method,
    max_body: usize,
    seen: &RefCell<Seen>,
) -> Outcome {
    let status = response.status_code();
    let content_type = response.headers().get("content-type").ok().flatten();
    if method == config::Method::Get {
        seen.borrow_mut().body = Some(Vec::new());
        if let Ok(mut chunks) = response.stream() {
            while let Some(chunk) = chunks.next().await {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        seen.borrow_mut().error = Some(e.to_string());
                        return Outcome::ConnectError;
                    }
                };
                let mut seen = seen.borrow_mut();
                let body = seen.body.get_or_insert_with(Vec::new);
                let room = max_body.saturating_sub(body.len());
                if chunk.len() > room {
                    body.extend_from_slice(&chunk[..room]);
                    return Outcome::BodyTooLarge { status };
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
    let seen = seen.borrow();
    let body = seen.body.clone().unwrap_or_default();
    Outcome::Answered { status, content_type, headers: seen.headers.clone(), body }
}
