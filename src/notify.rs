//! Delivering notifications: the requests `edgecheck_core::notify::deliver`
//! builds, sent with the channel's timeout, and the answers as the core's
//! [`Outcome`]s. What is sent, when, and what an answer means is decided by
//! the core.

use edgecheck_core::config::{Channel, ChannelKind};
use edgecheck_core::notify::deliver::{self, OutRequest};
use edgecheck_core::notify::{Notice, Outcome};
use futures::StreamExt;
use worker::{AbortController, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

use crate::runtime;

/// The most bytes of a receiver's answer read (a Cloudflare pool is a few KB).
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// Attempts one delivery of `notice` to `channel` at `now_ms`: one request,
/// or for a Cloudflare pool its `GET` and then its `PATCH`, all within the
/// channel's `timeout_ms`. The outcome is known at the answer's status line:
/// only a pool's `GET` body is read (at most [`MAX_ANSWER_BYTES`]); any other
/// body is never waited for, so a receiver that drips it is not a timeout.
pub(crate) async fn attempt(env: &Env, channel: &Channel, notice: &Notice, now_ms: u64) -> Outcome {
    let secret = |name: &str| env.secret(name).ok().map(|s| s.to_string());
    let first = match deliver::request(channel, notice, &secret, now_ms) {
        Ok(request) => request,
        Err(outcome) => return outcome,
    };
    let timeout_ms = u64::from(channel.timeout_ms);
    if !matches!(channel.kind, ChannelKind::CloudflarePool { .. }) {
        return match send(&first, timeout_ms, false).await {
            Ok((status, retry_after, _)) => Outcome::Answered { status, retry_after },
            Err(outcome) => outcome,
        };
    }
    let (status, _, body) = match send(&first, timeout_ms, true).await {
        Ok(answer) => answer,
        Err(outcome) => return outcome,
    };
    let left = timeout_ms.saturating_sub(runtime::now_ms().saturating_sub(now_ms));
    match deliver::pool_patch(channel, notice, &secret, status, &body) {
        Ok(patch) if left > 0 => match send(&patch, left, false).await {
            Ok((status, retry_after, _)) => Outcome::Answered { status, retry_after },
            Err(outcome) => outcome,
        },
        Ok(_) => Outcome::TimedOut,
        Err(outcome) => outcome,
    }
}

/// Sends `request` and waits at most `timeout_ms` for its answer's status
/// line, and with `read_body` for its body too: `(status, Retry-After,
/// body)` (`""` without `read_body`), or the failure. The connection is
/// aborted either way. An error never carries the URL (it may be a secret).
async fn send(
    request: &OutRequest,
    timeout_ms: u64,
    read_body: bool,
) -> Result<(u16, Option<String>, String), Outcome> {
    let failed = |what: &str, e: worker::Error| Outcome::Failed(format!("{what}: {}", scrub(&e.to_string(), request)));
    let headers = Headers::new();
    headers.set("user-agent", crate::probe::USER_AGENT).map_err(|e| failed("a header", e))?;
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|e| failed("a header", e))?;
    }
    let mut init = RequestInit::new();
    init.with_method(match request.method {
        "GET" => Method::Get,
        "PATCH" => Method::Patch,
        _ => Method::Post,
    })
    .with_headers(headers)
    .with_redirect(RequestRedirect::Manual);
    if let Some(body) = &request.body {
        init.with_body(Some(body.as_str().into()));
    }
    let built = Request::new_with_init(&request.url, &init).map_err(|e| failed("the request", e))?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let work = async {
        let mut response = Fetch::Request(built).send_with_signal(&signal).await.map_err(|e| failed("sending", e))?;
        let status = response.status_code();
        let retry_after = response.headers().get("retry-after").ok().flatten();
        let mut body = Vec::new();
        if read_body {
            if let Ok(mut chunks) = response.stream() {
                while let Some(chunk) = chunks.next().await {
                    let Ok(chunk) = chunk else { break };
                    body.extend_from_slice(&chunk[..chunk.len().min(MAX_ANSWER_BYTES - body.len())]);
                    if body.len() >= MAX_ANSWER_BYTES {
                        break;
                    }
                }
            }
        }
        Ok((status, retry_after, String::from_utf8_lossy(&body).into_owned()))
    };
    let answer = runtime::within(timeout_ms, work).await.unwrap_or(Err(Outcome::TimedOut));
    controller.abort();
    answer
}

/// The runtime's error text without the request's URL (a Slack or Discord
/// webhook URL is a secret).
fn scrub(text: &str, request: &OutRequest) -> String {
    text.replace(&request.url, "<the channel's URL>")
}
