//! Classification: one probe's outcome (status code, body, or the way it failed)
//! becomes an origin [`Health`] and a [`Reason`] class.
//!
//! The rules, in order (the first that applies decides):
//!
//! | # | when | health | reason |
//! |---|---|---|---|
//! | 1 | no answer: refused, reset, DNS, TLS | down | `connect_error` |
//! | 2 | no complete answer within the timeout | down | `timeout` |
//! | 3 | not started before the deadline | down | `skipped` |
//! | 4 | a header names a secret that is not set | down | `secret_missing` |
//! | 5 | the runtime refused to build the request (a header value it rejects) | down | `request_invalid` |
//! | 6 | body longer than `max_body_bytes` | down | `body_too_large` |
//! | 7 | body says down (any status code, even 200) | down | `body_down` |
//! | 8 | body says degraded (any status code, even 503) | degraded | `body_degraded` |
//! | 9 | status code not in `expect_status` | down | `status_mismatch` |
//! | 10 | body claims JSON but does not parse | down | `body_invalid` |
//! | 11 | latency over the origin's `degraded_after_ms` | degraded | `slow` |
//! | 12 | otherwise (body up, or not a known health document) | up | `ok` |
//!
//! With `format = "status_code"` or `method = "HEAD"` rules 7, 8 and 10 never apply.
//!
//! **A DNS check** (`kind = "dns"`, [`crate::dns`]) is probed with
//! `format = "status_code"`; for it, rule 10 is this table, read on a
//! complete answer whose status is in `expect_status` (any 2xx; another
//! status stays `status_mismatch`), the body read as a DNS message (its
//! `Content-Type` is not checked) and the first row that applies deciding:
//!
//! | # | when | health | reason |
//! |---|---|---|---|
//! | 10.1 | not a DNS message (malformed or cut short), TC set, not a response, or another ID or question than the one asked | down | `dns_invalid` |
//! | 10.2 | RCODE 3, NXDOMAIN | down | `dns_nxdomain` |
//! | 10.3 | RCODE 2, SERVFAIL | down | `dns_servfail` |
//! | 10.4 | any other RCODE but NOERROR (REFUSED, FORMERR, ...) | down | `dns_error` |
//! | 10.5 | NOERROR, but no record of the asked type for the name (CNAME chains in the answer followed) | down | `dns_empty` |
//! | 10.6 | a value of `expect` is not among the answers | down | `dns_mismatch` |
//!
//! Otherwise rules 11 (`slow`) and 12 apply as to any probe.
//! Rule 11 needs the probe's latency: [`classify`] applies every other rule,
//! [`judge`] all of them (a prober judges its own probe with it, so each
//! vantage judges its own latency, and the vantage quorum merges the
//! verdicts as any other). Rule 11 only ever turns an `up` into a `degraded`:
//! an answer that is down, or already degraded by its body, keeps its reason.
//! An interim answer (`103 Early Hints`, `100 Continue`) is looked past: the
//! final answer behind it is judged.
//! Bodies are recognised by [`read_body`]; see its table for the formats.
//!
//! **A TCP check** (`kind = "tcp"`, [`crate::config::tcp`]) has no status
//! code and no body: rules 1 to 3 and 11 apply as to any probe, and in place
//! of rules 4 to 10 and 12:
//!
//! | when | health | reason |
//! |---|---|---|
//! | `tls = true` and the handshake failed | down | `tls_error` |
//! | the peer closed before the whole `expect_reply` | down | `connection_closed` |
//! | the reply does not start with `expect_reply` | down | `reply_mismatch` |
//! | otherwise (connected, and the reply as expected) | up | `ok` |
//!
//! **Conditions** (`[[origins.conditions]]`, [`crate::assertion`]) are judged
//! on every complete answer (rules 7 to 12), whatever the `format`. When one
//! does not hold, the verdict is the worse of the table's and the
//! condition's (`fails`: `down` or `degraded`): the condition's, with reason
//! `assertion_failed` and its name, when it is worse; the table's when it is
//! as bad (a `503` stays `status_mismatch`, a body that says `down` stays
//! `body_down`). A known health format and a condition thus combine as the
//! worse of the two verdicts.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::assertion::{self, Answer, Body};
use crate::config::condition::Fails;
use crate::config::{ConditionName, DnsCheck, Format, Method, Origin};
use crate::dns::{self, Problem};

/// The health of one origin or one region. Ordered worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Down,
    Degraded,
    Up,
}

impl Health {
    /// The wire name: `up`, `degraded` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Up => "up",
            Health::Degraded => "degraded",
            Health::Down => "down",
        }
    }
}

/// Why an origin has its health; public, so it never carries raw error text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Ok,
    ConnectError,
    Timeout,
    StatusMismatch,
    BodyDown,
    BodyDegraded,
    BodyInvalid,
    BodyTooLarge,
    Skipped,
    SecretMissing,
    RequestInvalid,
    /// A heartbeat check's last successful ping is older than `period_s` +
    /// `grace_s` (or it never pinged in that long).
    HeartbeatMissed,
    /// A heartbeat check's last ping was a failure (`/ping/{name}/fail`).
    HeartbeatFailed,
    /// The answer was healthy, but slower than the origin's
    /// `degraded_after_ms` (rule 11): `degraded`.
    Slow,
    /// One of the origin's conditions does not hold on the answer; the
    /// verdict names it ([`Verdict::condition`]).
    AssertionFailed,
    /// A TCP check with `tls = true`: the TLS handshake failed (an expired,
    /// untrusted or wrongly named certificate, or a peer that speaks no TLS).
    TlsError,
    /// A TCP check: the peer closed the connection before the whole
    /// `expect_reply`.
    ConnectionClosed,
    /// A TCP check: the reply does not start with `expect_reply`.
    ReplyMismatch,
    /// A DNS check's answer is not a DNS message, is truncated (TC), or does
    /// not answer the question asked (rule 10.1).
    DnsInvalid,
    /// A DNS check's answer is NXDOMAIN: the name does not exist (rule 10.2).
    DnsNxdomain,
    /// A DNS check's answer is SERVFAIL (rule 10.3).
    DnsServfail,
    /// A DNS check's answer has another error RCODE, such as REFUSED (rule 10.4).
    DnsError,
    /// A DNS check's answer is NOERROR with no record of the asked type
    /// (rule 10.5).
    DnsEmpty,
    /// A value a DNS check expects is not among the answers (rule 10.6).
    DnsMismatch,
}

impl Reason {
    /// Every reason class, in the order of the rule table.
    pub const ALL: [Reason; 24] = [
        Reason::ConnectError,
        Reason::Timeout,
        Reason::Skipped,
        Reason::SecretMissing,
        Reason::RequestInvalid,
        Reason::BodyTooLarge,
        Reason::BodyDown,
        Reason::BodyDegraded,
        Reason::StatusMismatch,
        Reason::BodyInvalid,
        Reason::DnsInvalid,
        Reason::DnsNxdomain,
        Reason::DnsServfail,
        Reason::DnsError,
        Reason::DnsEmpty,
        Reason::DnsMismatch,
        Reason::Slow,
        Reason::Ok,
        Reason::AssertionFailed,
        Reason::TlsError,
        Reason::ConnectionClosed,
        Reason::ReplyMismatch,
        Reason::HeartbeatMissed,
        Reason::HeartbeatFailed,
    ];

    /// Whether the probe failed for a network-class reason (`connect_error`,
    /// `timeout`, `skipped`): the origin may be fine and the checker cut off.
    pub fn is_network_class(self) -> bool {
        matches!(self, Reason::ConnectError | Reason::Timeout | Reason::Skipped)
    }

    /// The wire name, e.g. `connect_error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Ok => "ok",
            Reason::ConnectError => "connect_error",
            Reason::Timeout => "timeout",
            Reason::StatusMismatch => "status_mismatch",
            Reason::BodyDown => "body_down",
            Reason::BodyDegraded => "body_degraded",
            Reason::BodyInvalid => "body_invalid",
            Reason::BodyTooLarge => "body_too_large",
            Reason::Skipped => "skipped",
            Reason::SecretMissing => "secret_missing",
            Reason::RequestInvalid => "request_invalid",
            Reason::HeartbeatMissed => "heartbeat_missed",
            Reason::HeartbeatFailed => "heartbeat_failed",
            Reason::Slow => "slow",
            Reason::AssertionFailed => "assertion_failed",
            Reason::TlsError => "tls_error",
            Reason::ConnectionClosed => "connection_closed",
            Reason::ReplyMismatch => "reply_mismatch",
            Reason::DnsInvalid => "dns_invalid",
            Reason::DnsNxdomain => "dns_nxdomain",
            Reason::DnsServfail => "dns_servfail",
            Reason::DnsError => "dns_error",
            Reason::DnsEmpty => "dns_empty",
            Reason::DnsMismatch => "dns_mismatch",
        }
    }
}

/// What the shell saw when it probed one origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A complete answer: status code, `Content-Type` if any, the response
    /// headers as received (`(name, value)`, names in any case; what the
    /// origin's conditions read), and the decoded body (at most
    /// `max_body_bytes`; empty for HEAD).
    Answered { status: u16, content_type: Option<String>, headers: Vec<(String, String)>, body: Vec<u8> },
    /// Headers arrived with this status, but the body exceeded `max_body_bytes`.
    BodyTooLarge { status: u16 },
    /// The request failed before a response: refused, reset, DNS or TLS failure.
    ConnectError,
    /// The timeout fired before the whole answer (headers and body) arrived;
    /// `status` is set when the headers had arrived.
    Timeout { status: Option<u16> },
    /// Not started before the fan-out deadline.
    Skipped,
    /// A header names a wrangler secret that is not set; nothing was sent.
    SecretMissing,
    /// The runtime refused to build the request (for example a secret's value
    /// with a line break, which no header may carry); nothing was sent.
    RequestInvalid,
    /// A TCP check connected (and finished its TLS handshake, with `tls`),
    /// wrote its `send` and read `reply`: at most as many bytes as its
    /// `expect_reply` has (none without one). `closed` when the peer closed
    /// the connection before that many arrived.
    Replied { reply: Vec<u8>, closed: bool },
    /// A TCP check with `tls`: connected, but the TLS handshake failed.
    TlsFailed,
}

/// The judgement of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub health: Health,
    pub reason: Reason,
    /// The HTTP status code, when headers arrived.
    pub http_status: Option<u16>,
    /// The condition that does not hold, when the reason is `assertion_failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionName>,
}

impl Verdict {
    /// A verdict that names no condition.
    pub const fn new(health: Health, reason: Reason, http_status: Option<u16>) -> Verdict {
        Verdict { health, reason, http_status, condition: None }
    }
}

/// A probe's verdict and, when one of the origin's conditions decided it,
/// what that condition saw ([`assertion::Failed::seen`]: body content, for
/// the admin token's full view only, never in a verdict).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    pub verdict: Verdict,
    /// What the failed condition named by `verdict.condition` saw, at most
    /// [`assertion::SEEN_BYTES`]; `None` when no condition decided the verdict.
    pub seen: Option<String>,
}

/// Judges one probe of `origin` by the rule table in this module's docs,
/// its latency aside: every rule but 11 (`slow`), which [`judge`] adds.
pub fn classify(origin: &Origin, outcome: &Outcome) -> Verdict {
    assess(origin, outcome, None).verdict
}

/// Judges one probe of `origin` by the whole rule table: [`classify`], then
/// rule 11. `latency_ms` is the probe's own, in ms, from sending the request
/// to the end of the body (or the timeout); `None` when nothing was sent. A
/// verdict `up` whose latency is over [`Origin::degraded_after_ms`] (strictly:
/// an answer in exactly that many ms is still `up`) is `degraded` with reason
/// [`Reason::Slow`], its status code kept; any other verdict is
/// [`classify`]'s.
pub fn judge(origin: &Origin, outcome: &Outcome, latency_ms: Option<u64>) -> Verdict {
    assess(origin, outcome, latency_ms).verdict
}

/// [`judge`]'s verdict, and what a failed condition saw (for the admin
/// token's full view). Rule 11 applies after the conditions: only an answer
/// that the table and every condition find `up` can be `slow`.
pub fn assess(origin: &Origin, outcome: &Outcome, latency_ms: Option<u64>) -> Judged {
    let judged = by_table_and_conditions(origin, outcome);
    match (judged.verdict.health, origin.degraded_after_ms, latency_ms) {
        (Health::Up, Some(limit), Some(ms)) if ms > u64::from(limit) => {
            Judged { verdict: Verdict { health: Health::Degraded, reason: Reason::Slow, ..judged.verdict }, seen: None }
        }
        _ => judged,
    }
}

/// Rules 1 to 10 and 12, and the origin's conditions.
fn by_table_and_conditions(origin: &Origin, outcome: &Outcome) -> Judged {
    let down = |reason, http_status| Judged { verdict: Verdict::new(Health::Down, reason, http_status), seen: None };
    match outcome {
        Outcome::ConnectError => down(Reason::ConnectError, None),
        Outcome::Timeout { status } => down(Reason::Timeout, *status),
        Outcome::Skipped => down(Reason::Skipped, None),
        Outcome::SecretMissing => down(Reason::SecretMissing, None),
        Outcome::RequestInvalid => down(Reason::RequestInvalid, None),
        Outcome::BodyTooLarge { status } => down(Reason::BodyTooLarge, Some(*status)),
        Outcome::TlsFailed => down(Reason::TlsError, None),
        Outcome::Replied { reply, closed } => {
            match origin.tcp.as_ref().and_then(|tcp| tcp.expect_reply.as_deref()).map(str::as_bytes) {
                Some(expected) if !reply.starts_with(expected) => {
                    if *closed && expected.starts_with(reply) {
                        down(Reason::ConnectionClosed, None)
                    } else {
                        down(Reason::ReplyMismatch, None)
                    }
                }
                _ => Judged { verdict: Verdict::new(Health::Up, Reason::Ok, None), seen: None },
            }
        }
        Outcome::Answered { status, content_type, headers, body } => {
            let (status, content_type, headers, body) = match past_interim(*status, body) {
                Some(final_answer) => final_answer,
                None => {
                    (*status, content_type.clone(), Cow::Borrowed(headers.as_slice()), Cow::Borrowed(body.as_slice()))
                }
            };
            let body = Body::new(&body);
            let reads_body = origin.format == Format::Auto && origin.method == Method::Get;
            let format =
                if reads_body { read_parsed(content_type.as_deref(), &body) } else { BodyHealth::Unrecognised };
            let status_ok = origin.expect_status.contains(status);
            let (health, reason) = match format {
                BodyHealth::Down => (Health::Down, Reason::BodyDown),
                BodyHealth::Degraded => (Health::Degraded, Reason::BodyDegraded),
                _ if !status_ok => (Health::Down, Reason::StatusMismatch),
                BodyHealth::Invalid => (Health::Down, Reason::BodyInvalid),
                BodyHealth::Up | BodyHealth::Unrecognised => match &origin.dns {
                    Some(check) => dns_rule(check, &body),
                    None => (Health::Up, Reason::Ok),
                },
            };
            let table = Verdict::new(health, reason, Some(status));
            let answer = Answer { status, headers: &headers, body: &body };
            match assertion::judge(&origin.conditions, &answer) {
                Some(failed) => {
                    let health = match failed.condition.fails {
                        Fails::Down => Health::Down,
                        Fails::Degraded => Health::Degraded,
                    };
                    if health < table.health {
                        let verdict = Verdict {
                            health,
                            reason: Reason::AssertionFailed,
                            http_status: Some(status),
                            condition: Some(failed.condition.name),
                        };
                        Judged { verdict, seen: Some(failed.seen) }
                    } else {
                        Judged { verdict: table, seen: None }
                    }
                }
                None => Judged { verdict: table, seen: None },
            }
        }
    }
}

/// Rule 10 of a DNS check: its answer's body read as a DNS message and
/// judged by [`dns::judge`].
fn dns_rule(check: &DnsCheck, body: &Body) -> (Health, Reason) {
    match dns::judge(body.bytes(), &check.query, check.record, &check.expect) {
        Ok(_) => (Health::Up, Reason::Ok),
        Err(problem) => (
            Health::Down,
            match problem {
                Problem::Invalid(_) => Reason::DnsInvalid,
                Problem::NxDomain => Reason::DnsNxdomain,
                Problem::ServFail => Reason::DnsServfail,
                Problem::Error(_) => Reason::DnsError,
                Problem::Empty => Reason::DnsEmpty,
                Problem::Mismatch(_) => Reason::DnsMismatch,
            },
        ),
    }
}

/// The final answer behind an interim one. workerd hands back an interim
/// answer (`100 Continue`, `103 Early Hints`; RFC 9110 §15.2) as the response,
/// and the rest of the connection, the final answer as raw HTTP/1.1, as its
/// body. The final answer decides: its status, `Content-Type`, headers and
/// body (`Content-Length` or chunked; else to the end), read with `httparse`,
/// past any further interim answers. `None` when `status` is not interim
/// (`101 Switching Protocols` is final) or the body holds no complete final
/// head, which leaves the 1xx to be judged as it is.
#[allow(clippy::type_complexity)]
fn past_interim(status: u16, body: &[u8]) -> Option<(u16, Option<String>, Cow<'_, [(String, String)]>, Cow<'_, [u8]>)> {
    let is_interim = |code: u16| (100..200).contains(&code) && code != 101;
    if !is_interim(status) {
        return None;
    }
    let mut rest = body;
    // Each pass reads one head; a few interim answers in a row at most.
    for _ in 0..8 {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(head_len)) = response.parse(rest) else { return None };
        let code = response.code?;
        let after = &rest[head_len..];
        if is_interim(code) {
            rest = after;
            continue;
        }
        let header = |name: &str| response.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value);
        let content_type = header("content-type").map(|v| String::from_utf8_lossy(v).into_owned());
        let chunked = header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
        let length = header("content-length").and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok());
        let body = if chunked {
            Cow::Owned(dechunk(after))
        } else {
            Cow::Borrowed(&after[..length.map_or(after.len(), |n| n.min(after.len()))])
        };
        let headers = response
            .headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).into_owned()))
            .collect();
        return Some((code, content_type, Cow::Owned(headers), body));
    }
    None
}

/// The data of a chunked body, as far as it is complete.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Ok(httparse::Status::Complete((start, size))) = httparse::parse_chunk_size(raw) {
        let data = &raw[start..];
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if size == 0 {
            break;
        }
        if data.len() < size {
            out.extend_from_slice(data);
            break;
        }
        out.extend_from_slice(&data[..size]);
        raw = data[size..].strip_prefix(b"\r\n").unwrap_or(&data[size..]);
    }
    out
}

/// What a health body says on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyHealth {
    Up,
    Degraded,
    Down,
    /// Not a known health document: the status code alone decides.
    Unrecognised,
    /// Declared or shaped as JSON, but not parseable.
    Invalid,
}

/// Reads a health body. Recognised formats:
///
/// | source | body | up | degraded | down |
/// |---|---|---|---|---|
/// | Hassette `/api/health[/ready,/live]` | `{"status":..,"ready":bool}` | `ok`, `live`, `ready: true` | `degraded`, `starting`, `ready: false` | — (503 says down) |
/// | Hatch `/healthz` | `{"status":"ok","vm_count":15,..}` | `ok` | | |
/// | Smallest AI `/health` | `{"status":..,"components":{..}}` | `healthy` | a component not healthy under a healthy top | `unhealthy` |
/// | Python `/_system/check` | `{"code":"OK","ok":true}` | `OK` | `WARNING` | `ERROR`, or `ok: false` / `error: true` without a code |
/// | IETF draft `application/health+json` | `{"status":"pass","checks":{..}}` | `pass`, `ok`, `up` | `warn`, or a check not passing | `fail`, `error`, `down` |
/// | Spring Boot Actuator, MicroProfile Health | `{"status":"UP","components":{..}}` | `UP` | a component not up | `DOWN`, `OUT_OF_SERVICE` |
/// | Elasticsearch `_cluster/health` | `{"status":"green",..}` | `green` | `yellow` | `red` |
/// | ASP.NET Core health checks | `Healthy` (text) or `{"status":"Healthy","entries":{..}}` | `Healthy` | `Degraded` | `Unhealthy` |
/// | NestJS Terminus | `{"status":"ok","info":{..},"error":{..}}` | `ok` | a non-empty `error` under `ok` | `error`, `shutting_down` |
///
/// Words are compared without regard to case. A JSON object with none of these
/// fields, or a status word outside these lists (Spring's `UNKNOWN`), is
/// [`BodyHealth::Unrecognised`].
pub fn read_body(content_type: Option<&str>, body: &[u8]) -> BodyHealth {
    read_parsed(content_type, &Body::new(body))
}

/// [`read_body`] of a body whose JSON the origin's conditions may read too
/// (it is parsed once).
fn read_parsed(content_type: Option<&str>, body: &Body) -> BodyHealth {
    // RFC 8259 lets a parser ignore a byte order mark before JSON text.
    let text = match body.text() {
        Some(t) => t.trim(),
        None => return if declares_json(content_type) { BodyHealth::Invalid } else { BodyHealth::Unrecognised },
    };
    if text.is_empty() {
        return BodyHealth::Unrecognised;
    }
    if declares_json(content_type) || text.starts_with('{') || text.starts_with('[') {
        return match body.json() {
            Ok(Value::Object(doc)) => read_document(doc),
            Ok(_) => BodyHealth::Unrecognised,
            Err(_) => BodyHealth::Invalid,
        };
    }
    // ASP.NET Core's default writer: the bare status word as text/plain.
    match word(text) {
        Some(w @ (Word::Healthy | Word::Degraded | Word::Unhealthy)) => w.health(),
        _ => BodyHealth::Unrecognised,
    }
}

fn declares_json(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    })
}

/// A top-level JSON health document.
fn read_document(doc: &Map<String, Value>) -> BodyHealth {
    let top = status_word(doc.get("status"))
        .or_else(|| status_word(doc.get("code")))
        .map(Word::health)
        .or_else(|| flags(doc));
    match top {
        Some(BodyHealth::Up) => {
            let not_ready = doc.get("ready") == Some(&Value::Bool(false));
            if not_ready || parts_not_up(doc) {
                BodyHealth::Degraded
            } else {
                BodyHealth::Up
            }
        }
        Some(other) => other,
        None => BodyHealth::Unrecognised,
    }
}

/// Boolean-only documents: Hassette's `ready`, `/_system/check`'s `ok` and `error`.
fn flags(doc: &Map<String, Value>) -> Option<BodyHealth> {
    let flag = |key| doc.get(key).and_then(Value::as_bool);
    match (flag("ready"), flag("ok"), flag("error")) {
        (_, Some(false), _) | (_, _, Some(true)) => Some(BodyHealth::Down),
        (Some(false), _, _) => Some(BodyHealth::Degraded),
        (Some(true), _, _) | (_, Some(true), _) => Some(BodyHealth::Up),
        _ => None,
    }
}

/// Whether any part under an "up" top is not up: Spring/Smallest `components`
/// (and Spring 1.x `details`), IETF `checks` (arrays of objects), ASP.NET
/// `entries`, Terminus `error` (non-empty means a failing indicator).
fn parts_not_up(doc: &Map<String, Value>) -> bool {
    let terminus_error = doc.get("error").and_then(Value::as_object).is_some_and(|e| !e.is_empty());
    terminus_error
        || ["components", "details", "entries", "checks"]
            .iter()
            .filter_map(|key| doc.get(*key).and_then(Value::as_object))
            .flat_map(|parts| parts.values())
            .any(part_not_up)
}

fn part_not_up(part: &Value) -> bool {
    match part {
        Value::String(_) => status_word(Some(part)).is_some_and(|w| w.health() != BodyHealth::Up),
        Value::Object(o) => status_word(o.get("status")).is_some_and(|w| w.health() != BodyHealth::Up),
        Value::Array(items) => items.iter().any(part_not_up),
        _ => false,
    }
}

/// The status vocabulary of every recognised format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Up,
    Healthy,
    Degraded,
    Unhealthy,
    Down,
}

impl Word {
    fn health(self) -> BodyHealth {
        match self {
            Word::Up | Word::Healthy => BodyHealth::Up,
            Word::Degraded => BodyHealth::Degraded,
            Word::Unhealthy | Word::Down => BodyHealth::Down,
        }
    }
}

fn status_word(value: Option<&Value>) -> Option<Word> {
    value.and_then(Value::as_str).and_then(word)
}

fn word(text: &str) -> Option<Word> {
    let w = text.trim().to_ascii_lowercase();
    Some(match w.as_str() {
        "healthy" => Word::Healthy,
        "unhealthy" => Word::Unhealthy,
        "ok" | "pass" | "up" | "live" | "ready" | "green" => Word::Up,
        "degraded" | "warn" | "warning" | "starting" | "yellow" => Word::Degraded,
        "fail" | "error" | "down" | "out_of_service" | "red" | "shutting_down" => Word::Down,
        _ => return None,
    })
}
