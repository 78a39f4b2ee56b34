//! Notification receivers for the end-to-end tests: small HTTP servers on 127.0.0.1 that stand in
//! for a generic webhook, Slack, Discord, PagerDuty and the Cloudflare pools API, each following
//! that service's documented contract, recording every request and failing on command (`Mode`).
//!
//! One server thread per receiver (tiny_http) hands each request to a thread of its own, so a
//! request held by `Mode::Hang` never blocks the others. Dropping a `Receiver` stops it: no more
//! requests are taken, hung ones are dropped unanswered, its connections are closed and its
//! threads are joined (for at most 2 s; a thread still stuck then is left detached).

// An API for the tests: not every test uses every item.
#![allow(dead_code)]

use std::fmt;
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tiny_http::{Header, Request, Response, Server};

/// The largest body a receiver takes, in bytes (1 MiB): a larger one is answered 413.
const BODY_LIMIT: usize = 1 << 20;

/// How long `Drop` waits for the receiver's threads before leaving them detached.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// The keys a Cloudflare pool PATCH may carry.
const PATCHABLE: &[&str] = &[
    "enabled",
    "origins",
    "name",
    "description",
    "minimum_origins",
    "monitor",
    "notification_email",
    "check_regions",
    "latitude",
    "longitude",
    "load_shedding",
    "origin_steering",
];

// ---------------------------------------------------------------------------
// The public API
// ---------------------------------------------------------------------------

/// One request a receiver got, and the status it answered.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    /// The method, uppercase, e.g. "POST".
    pub(crate) method: String,
    /// The path and query as sent, e.g. "/v2/enqueue".
    pub(crate) path: String,
    /// (name lowercased, value), in the order sent; a header sent twice appears twice.
    pub(crate) headers: Vec<(String, String)>,
    /// The body as UTF-8 (invalid bytes replaced), at most 1 MiB of it.
    pub(crate) body: String,
    /// The HTTP status answered; 0 while held by `Mode::Hang`, and for good once dropped unanswered.
    pub(crate) status: u16,
    /// When its body had been read.
    pub(crate) at: Instant,
}

impl Received {
    /// The first value of the header `name` (case-insensitive), if the request carried it.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON; panics, showing the body, if it is not JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{} {}: the body is not JSON ({e}): {}", self.method, self.path, self.body))
    }

    /// One line: method, path, status, and the first 300 characters of the body.
    fn summary(&self) -> String {
        let body: String = self.body.chars().take(300).collect();
        format!("{} {} -> {} {body}", self.method, self.path, self.status)
    }
}

/// How a receiver answers; switchable at any time with `Receiver::set` (it applies to requests whose
/// body has been read from then on).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mode {
    /// Answer as the service does: success for a request that meets its contract, its error otherwise.
    Accept,
    /// Answer this HTTP status (e.g. 503, 404) with a small body in the service's error shape.
    Refuse(u16),
    /// Answer 429 with `Retry-After: <seconds>` and the service's rate-limit body.
    RetryAfter(u64),
    /// Read the request and never answer it while in this mode; when the mode changes or the receiver
    /// stops, close its connection without answering (its `Received::status` stays 0).
    Hang,
    /// Answer as `Accept` does, but only after this many milliseconds.
    Slow(u64),
    /// Answer 200 at once with its status line and headers, then drip a body of `bytes` bytes, one
    /// every `every_ms` milliseconds (until the client goes away).
    Drip { bytes: usize, every_ms: u64 },
}

/// What a receiver stands in for.
#[derive(Debug, Clone)]
pub(crate) enum Service {
    /// Any POST on any path: 204, empty. Other methods: 405. Signatures are not checked here.
    Webhook,
    /// A Slack incoming webhook (any path): POST JSON, 200 text/plain "ok"; 400 "invalid_payload",
    /// "no_text", "msg_too_long" or "invalid_blocks" for a body that breaks the contract.
    Slack,
    /// A Discord execute-webhook (any path): POST JSON, 204 (200 and the message with `?wait=true`);
    /// 400 JSON `{"message", "code"}` (50006 empty, 50035 invalid form body, 50109 invalid JSON).
    Discord,
    /// The PagerDuty Events API v2: POST /v2/enqueue only, 202 `{"status":"success",...,"dedup_key"}`;
    /// 400 `{"status":"invalid event","message":"Event object is invalid","errors":[...]}`.
    PagerDuty,
    /// The Cloudflare API v4 load balancer pools:
    /// `/client/v4/accounts/{account_id}/load_balancers/pools[/{pool_id}]`, GET and PATCH, every
    /// answer in the envelope `{"success","errors":[{"code","message"}],"messages","result"}`.
    Cloudflare,
}

/// A receiver serving one `Service` on `127.0.0.1:<port>`; stops on Drop (see the module doc).
pub(crate) struct Receiver {
    inner: Arc<Inner>,
    server: Arc<Server>,
    /// The server thread (in a Mutex only so that `&Receiver` is unwind-safe).
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Receiver {
    /// Starts a receiver for `service` on 127.0.0.1 and a free port, in `Mode::Accept`. Started this
    /// way, PagerDuty takes any non-empty routing key, and Cloudflare any bearer token and account id
    /// and has no pools (use `pagerduty` and `cloudflare` to fix them).
    pub(crate) fn start(service: Service) -> Receiver {
        Receiver::launch(Inner::new(service))
    }

    /// Starts a PagerDuty Events API v2 receiver that takes only this `routing_key`.
    pub(crate) fn pagerduty(routing_key: &str) -> Receiver {
        let mut inner = Inner::new(Service::PagerDuty);
        inner.routing_key = Some(routing_key.to_string());
        Receiver::launch(inner)
    }

    /// Starts a Cloudflare pools API receiver that takes only `Authorization: Bearer <token>` and the
    /// account `account_id`, serving `pools`: a JSON object pool id -> pool object as Cloudflare returns
    /// it (id, name, enabled, minimum_origins, monitor, notification_email, origins, ...). Panics if
    /// `pools` is not an object of objects.
    pub(crate) fn cloudflare(token: &str, account_id: &str, pools: Value) -> Receiver {
        let Value::Object(pools) = pools else { panic!("Receiver::cloudflare: pools must be an object, not {pools}") };
        if let Some((id, pool)) = pools.iter().find(|(_, pool)| !pool.is_object()) {
            panic!("Receiver::cloudflare: pool {id} must be an object, not {pool}");
        }
        let mut inner = Inner::new(Service::Cloudflare);
        inner.token = Some(token.to_string());
        inner.account_id = Some(account_id.to_string());
        inner.pools = Mutex::new(Pools { by_id: pools, last_modified: 0 });
        Receiver::launch(inner)
    }

    /// The TCP port it listens on (on 127.0.0.1).
    pub(crate) fn port(&self) -> u16 {
        self.inner.port
    }

    /// `http://127.0.0.1:<port><path>`; `path` starts with '/' (or is empty).
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.inner.port)
    }

    /// Switches how it answers from now on; leaving `Mode::Hang` drops the requests it holds.
    pub(crate) fn set(&self, mode: Mode) {
        lock(&self.inner.control).mode = mode;
        self.inner.changed.notify_all();
    }

    /// Every request so far whose body has been read, in arrival order (held ones included, status 0).
    pub(crate) fn received(&self) -> Vec<Received> {
        lock(&self.inner.log).iter().flatten().cloned().collect()
    }

    /// Waits until `done(&received)` holds, checking every 50 ms, and returns what was received then;
    /// after `secs` seconds panics with `what` and one line per request received (method, path,
    /// status, first 300 characters of the body).
    pub(crate) fn until(&self, secs: u64, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            if Instant::now() >= deadline {
                let lines: Vec<String> = received.iter().map(|r| format!("  {}", r.summary())).collect();
                panic!(
                    "{:?} receiver on port {}: not within {secs} s: {what}; it received {} request(s):\n{}",
                    self.inner.service,
                    self.inner.port,
                    received.len(),
                    lines.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Cloudflare: the pool `pool_id` as it is now (after the PATCHes so far). Panics for another
    /// service or an unknown pool.
    pub(crate) fn pool(&self, pool_id: &str) -> Value {
        assert!(
            matches!(self.inner.service, Service::Cloudflare),
            "pool(): a {:?} receiver has no pools",
            self.inner.service
        );
        let pools = lock(&self.inner.pools);
        match pools.by_id.get(pool_id) {
            Some(pool) => pool.clone(),
            None => panic!("pool(): no pool {pool_id}; the pools are {:?}", pools.by_id.keys().collect::<Vec<_>>()),
        }
    }

    fn launch(mut inner: Inner) -> Receiver {
        let server = Server::http("127.0.0.1:0").unwrap_or_else(|e| panic!("bind a receiver on 127.0.0.1: {e}"));
        inner.port = server.server_addr().to_ip().expect("a receiver listens on an IP address").port();
        let (inner, server) = (Arc::new(inner), Arc::new(server));
        let (serving, accepting) = (inner.clone(), server.clone());
        let thread = std::thread::Builder::new()
            .name(format!("receiver-{}", inner.port))
            .spawn(move || serve(&serving, &accepting))
            .expect("spawn a receiver's server thread");
        Receiver { inner, server, thread: Mutex::new(Some(thread)) }
    }
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Receiver({:?} on 127.0.0.1:{})", self.inner.service, self.inner.port)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        lock(&self.inner.control).stopping = true;
        self.inner.changed.notify_all();
        self.server.unblock();
        let deadline = Instant::now() + STOP_WAIT;
        let mut threads: Vec<JoinHandle<()>> = lock(&self.thread).take().into_iter().collect();
        let finished = |threads: &[JoinHandle<()>]| threads.iter().all(JoinHandle::is_finished);
        while !finished(&threads) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // The server thread has stopped adding request threads; held requests are being dropped.
        threads.append(&mut lock(&self.inner.threads));
        while !finished(&threads) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let grace = Instant::now() + Duration::from_millis(100);
        while !finished(&threads) && Instant::now() < grace.min(deadline) {
            std::thread::sleep(Duration::from_millis(10));
        }
        for thread in threads {
            if thread.is_finished() {
                let _ = thread.join();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The server: one thread taking requests, one thread per request
// ---------------------------------------------------------------------------

/// A receiver's state, shared by its server thread, its request threads and the `Receiver`.
struct Inner {
    service: Service,
    port: u16,
    /// PagerDuty: the only routing key taken (None: any non-empty one).
    routing_key: Option<String>,
    /// Cloudflare: the only bearer token and account id taken (None: any).
    token: Option<String>,
    account_id: Option<String>,
    pools: Mutex<Pools>,
    control: Mutex<Control>,
    /// Notified when `control` changes.
    changed: Condvar,
    /// One slot per request taken, in arrival order; filled once its body is read.
    log: Mutex<Vec<Option<Received>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    /// For generated ids (PagerDuty dedup keys, Discord message ids).
    counter: AtomicU64,
}

struct Control {
    mode: Mode,
    stopping: bool,
}

struct Pools {
    by_id: Map<String, Value>,
    /// The last `modified_on` set, in microseconds since the Unix epoch (each PATCH sets a later one).
    last_modified: u64,
}

impl Inner {
    fn new(service: Service) -> Inner {
        Inner {
            service,
            port: 0,
            routing_key: None,
            token: None,
            account_id: None,
            pools: Mutex::new(Pools { by_id: Map::new(), last_modified: 0 }),
            control: Mutex::new(Control { mode: Mode::Accept, stopping: false }),
            changed: Condvar::new(),
            log: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            counter: AtomicU64::new(1),
        }
    }

    fn next_id(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// Waits while the mode is `Hang` and the receiver runs; whether the request was held at all.
    fn hold_while_hung(&self) -> bool {
        let mut control = lock(&self.control);
        if control.mode != Mode::Hang {
            return false;
        }
        while control.mode == Mode::Hang && !control.stopping {
            control = self.changed.wait(control).unwrap_or_else(|e| e.into_inner());
        }
        true
    }
}

/// Locks, recovering from a panic in another thread that held the lock.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The server thread: takes requests until `Server::unblock`, one thread for each.
fn serve(inner: &Arc<Inner>, server: &Server) {
    while let Ok(request) = server.recv() {
        if lock(&inner.control).stopping {
            drop_unanswered(request, inner.port);
            break;
        }
        let slot = {
            let mut log = lock(&inner.log);
            log.push(None);
            log.len() - 1
        };
        let handling = inner.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("receiver-{}-{slot}", inner.port))
            .spawn(move || handle(&handling, slot, request));
        if let Ok(thread) = spawned {
            let mut threads = lock(&inner.threads);
            threads.retain(|t| !t.is_finished());
            threads.push(thread);
        }
    }
}

/// One request: read it, record it, then hold it, refuse it or answer it by the service's contract.
fn handle(inner: &Inner, slot: usize, mut request: Request) {
    let method = request.method().as_str().to_string();
    let path = request.url().to_string();
    let headers = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_string()))
        .collect();
    let (body, too_large) = read_body(&mut request);
    let received = Received { method, path, headers, body, status: 0, at: Instant::now() };
    lock(&inner.log)[slot] = Some(received.clone());

    if inner.hold_while_hung() {
        drop_unanswered(request, inner.port);
        return;
    }
    let mode = lock(&inner.control).mode.clone();
    if let Mode::Drip { bytes, every_ms } = mode {
        if let Some(Some(entry)) = lock(&inner.log).get_mut(slot) {
            entry.status = 200;
        }
        drip(request, bytes, Duration::from_millis(every_ms));
        return;
    }
    if let Mode::Slow(ms) = mode {
        std::thread::sleep(Duration::from_millis(ms));
    }
    let answer = catch_unwind(AssertUnwindSafe(|| match mode {
        Mode::Refuse(status) => refusal(&inner.service, status),
        Mode::RetryAfter(secs) => rate_limited(&inner.service, secs),
        Mode::Accept | Mode::Hang | Mode::Slow(_) | Mode::Drip { .. } if too_large => refusal(&inner.service, 413),
        Mode::Accept | Mode::Hang | Mode::Slow(_) | Mode::Drip { .. } => accept(inner, &received),
    }))
    .unwrap_or_else(|_| refusal_or_plain_500(&inner.service));
    if let Some(Some(entry)) = lock(&inner.log).get_mut(slot) {
        entry.status = answer.status;
    }
    let _ = request.respond(answer.into_response());
}

/// `Mode::Drip`: the status line and headers written and flushed at once, then the body one byte
/// every `every`, until it is all sent or the client has gone away.
fn drip(request: Request, bytes: usize, every: Duration) {
    use std::io::Write;
    let mut out = request.into_writer();
    let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {bytes}\r\n\r\n");
    if out.write_all(head.as_bytes()).and_then(|()| out.flush()).is_err() {
        return;
    }
    for _ in 0..bytes {
        std::thread::sleep(every);
        if out.write_all(b" ").and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

/// Reads the whole body, keeping the first `BODY_LIMIT` bytes; whether it was longer than that.
fn read_body(request: &mut Request) -> (String, bool) {
    let reader = request.as_reader();
    let mut kept = Vec::new();
    let _ = Read::take(&mut *reader, BODY_LIMIT as u64 + 1).read_to_end(&mut kept);
    let too_large = kept.len() > BODY_LIMIT;
    if too_large {
        kept.truncate(BODY_LIMIT);
        let _ = std::io::copy(reader, &mut std::io::sink());
    }
    (String::from_utf8_lossy(&kept).into_owned(), too_large)
}

/// Lets the request go without writing a byte of an answer (taking the
/// writer keeps tiny_http from answering 500 when the request is dropped);
/// its client waits until its own timeout, as with a receiver that hangs.
fn drop_unanswered(request: Request, _port: u16) {
    drop(request.into_writer());
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

/// An answer: status, content type, further headers, body.
struct Answer {
    status: u16,
    content_type: Option<&'static str>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn empty(status: u16) -> Answer {
        Answer { status, content_type: None, headers: Vec::new(), body: Vec::new() }
    }

    fn text(status: u16, text: &str) -> Answer {
        Answer { status, content_type: Some("text/plain; charset=utf-8"), headers: Vec::new(), body: text.into() }
    }

    fn json(status: u16, value: &Value) -> Answer {
        Answer { status, content_type: Some("application/json"), headers: Vec::new(), body: value.to_string().into() }
    }

    fn with_header(mut self, name: &'static str, value: String) -> Answer {
        self.headers.push((name, value));
        self
    }

    fn into_response(self) -> Response<std::io::Cursor<Vec<u8>>> {
        let mut response = Response::from_data(self.body).with_status_code(self.status);
        let headers = self.content_type.map(|ct| ("Content-Type", ct.to_string())).into_iter().chain(self.headers);
        for (name, value) in headers {
            if let Ok(header) = Header::from_bytes(name, value) {
                response.add_header(header);
            }
        }
        response
    }
}

/// The reason phrase of an HTTP status, for error bodies.
fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

/// `status` with a small body in the service's error shape (for `Mode::Refuse` and 413).
fn refusal(service: &Service, status: u16) -> Answer {
    match service {
        Service::Webhook => Answer::text(status, reason(status)),
        Service::Slack => Answer::text(
            status,
            match status {
                404 => "no_service",
                413 => "request_too_large",
                _ => "server_error",
            },
        ),
        Service::Discord => {
            let (message, code) = match status {
                401 => ("401: Unauthorized".to_string(), 0),
                403 => ("Missing Access".to_string(), 50001),
                404 => ("Unknown Webhook".to_string(), 10015),
                413 => ("Request entity too large".to_string(), 40005),
                _ => (format!("{status}: {}", reason(status)), 0),
            };
            Answer::json(status, &json!({"message": message, "code": code}))
        }
        Service::PagerDuty => {
            let status_word = if status == 400 || status == 413 { "invalid event" } else { "error" };
            let body = json!({"status": status_word, "message": reason(status), "errors": [reason(status)]});
            Answer::json(status, &body)
        }
        Service::Cloudflare => {
            let (code, message) = match status {
                401 | 403 => (10000, "Authentication error".to_string()),
                _ => (u32::from(status), reason(status).to_string()),
            };
            cloudflare_error(status, code, &message)
        }
    }
}

/// 429 with `Retry-After: <secs>` and the service's rate-limit body.
fn rate_limited(service: &Service, secs: u64) -> Answer {
    let answer = match service {
        Service::Webhook => Answer::text(429, reason(429)),
        Service::Slack => Answer::text(429, "rate_limited"),
        Service::Discord => Answer::json(
            429,
            &json!({"message": "You are being rate limited.", "retry_after": secs as f64, "global": false, "code": 0}),
        ),
        Service::PagerDuty => Answer::json(
            429,
            &json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly. Please retry later.", "errors": ["Too many requests"]}),
        ),
        Service::Cloudflare => cloudflare_error(429, 971, "Please wait and consider throttling your request speed"),
    };
    answer.with_header("Retry-After", secs.to_string())
}

/// The answer when a handler panicked: 500 in the service's error shape.
fn refusal_or_plain_500(service: &Service) -> Answer {
    catch_unwind(AssertUnwindSafe(|| refusal(service, 500))).unwrap_or_else(|_| Answer::text(500, "internal error"))
}

/// `Mode::Accept`: the service's answer to the request by its contract.
fn accept(inner: &Inner, received: &Received) -> Answer {
    match inner.service {
        Service::Webhook if received.method == "POST" => Answer::empty(204),
        Service::Webhook => refusal(&inner.service, 405),
        Service::Slack => slack(received),
        Service::Discord => discord(inner, received),
        Service::PagerDuty => pagerduty(inner, received),
        Service::Cloudflare => cloudflare(inner, received),
    }
}

/// The number of characters (Unicode scalar values) of a string.
fn chars(s: &str) -> usize {
    s.chars().count()
}

// ---------------------------------------------------------------------------
// Slack: incoming webhooks
// ---------------------------------------------------------------------------

fn slack(received: &Received) -> Answer {
    if received.method != "POST" {
        return Answer::text(405, "invalid_method");
    }
    let Ok(body) = serde_json::from_str::<Value>(&received.body) else {
        return Answer::text(400, "invalid_payload");
    };
    let Some(message) = body.as_object() else { return Answer::text(400, "invalid_payload") };
    let text = match message.get("text") {
        Some(Value::String(text)) if !text.is_empty() => text,
        _ => return Answer::text(400, "no_text"),
    };
    if chars(text) > 40_000 {
        return Answer::text(400, "msg_too_long");
    }
    if let Some(blocks) = message.get("blocks") {
        if !slack_blocks_valid(blocks) {
            return Answer::text(400, "invalid_blocks");
        }
    }
    Answer::text(200, "ok")
}

fn slack_blocks_valid(blocks: &Value) -> bool {
    let Some(blocks) = blocks.as_array() else { return false };
    blocks.len() <= 50
        && blocks.iter().all(|block| {
            let kind = block.get("type").and_then(Value::as_str);
            let section_text = block.get("text").and_then(|t| t.get("text")).and_then(Value::as_str);
            block.is_object()
                && kind.is_some()
                && !(kind == Some("section") && section_text.is_some_and(|t| chars(t) > 3000))
        })
}

// ---------------------------------------------------------------------------
// Discord: execute webhook
// ---------------------------------------------------------------------------

fn discord(inner: &Inner, received: &Received) -> Answer {
    if received.method != "POST" {
        return refusal(&inner.service, 405);
    }
    let Ok(body) = serde_json::from_str::<Value>(&received.body) else {
        return Answer::json(400, &json!({"message": "The request body contains invalid JSON.", "code": 50109}));
    };
    let Some(message) = body.as_object() else {
        return discord_invalid(&[], "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a DictType");
    };
    let content = match message.get("content") {
        None | Some(Value::Null) => "",
        Some(Value::String(content)) if chars(content) <= 2000 => content,
        Some(Value::String(_)) => {
            return discord_invalid(&["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        }
        Some(_) => {
            return discord_invalid(&["content"], "BASE_TYPE_STRING", "Could not interpret the value as string.")
        }
    };
    let embeds = match message.get("embeds") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(embeds)) if embeds.len() <= 10 => embeds,
        Some(Value::Array(_)) => {
            return discord_invalid(&["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        }
        Some(_) => return discord_invalid(&["embeds"], "BASE_TYPE_LIST", "Must be an array."),
    };
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        match discord_embed_size(embed) {
            Ok(size) => total += size,
            Err((field, limit)) => {
                let index = i.to_string();
                let mut path = vec!["embeds", index.as_str()];
                path.extend(field.split('.'));
                let message = match limit {
                    0 => "This field is required and must be a non-empty string.".to_string(),
                    _ => format!("Must be {limit} or fewer in length."),
                };
                return discord_invalid(&path, "BASE_TYPE_MAX_LENGTH", &message);
            }
        }
    }
    if total > 6000 {
        return discord_invalid(&["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000");
    }
    if content.is_empty() && embeds.is_empty() {
        return Answer::json(400, &json!({"message": "Cannot send an empty message", "code": 50006}));
    }
    let wait =
        received.path.split_once('?').is_some_and(|(_, q)| q.split('&').any(|p| p == "wait=true" || p == "wait=1"));
    if !wait {
        return Answer::empty(204);
    }
    let id = (1_300_000_000_000_000_000u64 + inner.next_id()).to_string();
    let sent = json!({
        "id": id, "type": 0, "channel_id": "1300000000000000000", "webhook_id": "1300000000000000001",
        "content": content, "embeds": embeds, "timestamp": rfc3339(now_micros()),
        "author": {"id": "1300000000000000001", "username": "edgecheck", "bot": true},
    });
    Answer::json(200, &sent)
}

/// An embed's size toward the 6,000-character total, or the field (dotted path) that breaks a
/// limit and that limit (0: required).
fn discord_embed_size(embed: &Value) -> Result<usize, (String, usize)> {
    if !embed.is_object() {
        return Err((String::new(), 0));
    }
    let text = |field: &str, key: &str, limit: usize| -> Result<usize, (String, usize)> {
        let path = if field.is_empty() { key.to_string() } else { format!("{field}.{key}") };
        let value = if field.is_empty() { embed.get(key) } else { embed.get(field).and_then(|f| f.get(key)) };
        match value {
            None | Some(Value::Null) => Ok(0),
            Some(Value::String(s)) if chars(s) <= limit => Ok(chars(s)),
            Some(_) => Err((path, limit)),
        }
    };
    let mut size = text("", "title", 256)? + text("", "description", 4096)?;
    size += text("footer", "text", 2048)? + text("author", "name", 256)?;
    match embed.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(fields)) if fields.len() <= 25 => {
            for (i, field) in fields.iter().enumerate() {
                for (key, limit) in [("name", 256), ("value", 1024)] {
                    match field.get(key) {
                        Some(Value::String(s)) if !s.is_empty() && chars(s) <= limit => size += chars(s),
                        Some(Value::String(s)) if !s.is_empty() => return Err((format!("fields.{i}.{key}"), limit)),
                        _ => return Err((format!("fields.{i}.{key}"), 0)),
                    }
                }
            }
        }
        Some(_) => return Err(("fields".to_string(), 25)),
    }
    Ok(size)
}

/// 400 `{"message":"Invalid Form Body","code":50035,"errors":{...}}`, the errors nested along `path`.
fn discord_invalid(path: &[&str], code: &str, message: &str) -> Answer {
    let mut errors = json!({"_errors": [{"code": code, "message": message}]});
    for key in path.iter().rev().filter(|k| !k.is_empty()) {
        errors = json!({ *key: errors });
    }
    Answer::json(400, &json!({"message": "Invalid Form Body", "code": 50035, "errors": errors}))
}

// ---------------------------------------------------------------------------
// PagerDuty: Events API v2
// ---------------------------------------------------------------------------

fn pagerduty(inner: &Inner, received: &Received) -> Answer {
    let path = received.path.split('?').next().unwrap_or_default();
    if path != "/v2/enqueue" {
        return Answer::json(404, &json!({"status": "not found", "message": "Not Found", "errors": ["Not Found"]}));
    }
    if received.method != "POST" {
        return refusal(&inner.service, 405);
    }
    let invalid = |errors: Vec<String>| {
        Answer::json(400, &json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors}))
    };
    let Ok(Value::Object(event)) = serde_json::from_str::<Value>(&received.body) else {
        return invalid(vec!["Event object is not a JSON object".to_string()]);
    };
    let key_ok = match (event.get("routing_key").and_then(Value::as_str), &inner.routing_key) {
        (Some(key), Some(expected)) => key == expected,
        (Some(key), None) => !key.is_empty(),
        (None, _) => false,
    };
    if !key_ok {
        return invalid(vec!["Invalid routing key".to_string()]);
    }
    let mut errors = Vec::new();
    let action = event.get("event_action").and_then(Value::as_str);
    if !matches!(action, Some("trigger" | "acknowledge" | "resolve")) {
        errors.push("'event_action' must be one of: trigger, acknowledge, resolve".to_string());
    }
    let dedup_key = match event.get("dedup_key") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) if chars(key) <= 255 => Some(key.clone()),
        Some(Value::String(_)) => {
            errors.push("'dedup_key' must be 255 or fewer characters".to_string());
            None
        }
        Some(_) => {
            errors.push("'dedup_key' must be a string".to_string());
            None
        }
    };
    if matches!(action, Some("acknowledge" | "resolve")) && event.get("dedup_key").is_none_or(Value::is_null) {
        errors.push("'dedup_key' is required for acknowledge and resolve events".to_string());
    }
    if action == Some("trigger") {
        match event.get("payload") {
            Some(Value::Object(payload)) => {
                let string = |key: &str| payload.get(key).and_then(Value::as_str);
                match string("summary") {
                    Some(s) if !s.is_empty() && chars(s) <= 1024 => {}
                    Some(s) if !s.is_empty() => {
                        errors.push("'payload.summary' must be 1024 or fewer characters".into())
                    }
                    _ => errors.push("'payload.summary' is missing or blank".into()),
                }
                if string("source").is_none_or(str::is_empty) {
                    errors.push("'payload.source' is missing or blank".into());
                }
                if !matches!(string("severity"), Some("critical" | "error" | "warning" | "info")) {
                    errors.push("'payload.severity' must be one of: critical, error, warning, info".into());
                }
            }
            _ => errors.push("'payload' is missing or not an object".into()),
        }
    }
    if !errors.is_empty() {
        return invalid(errors);
    }
    let dedup_key = dedup_key.unwrap_or_else(|| format!("{:016x}{:016x}", now_micros(), inner.next_id()));
    Answer::json(202, &json!({"status": "success", "message": "Event processed", "dedup_key": dedup_key}))
}

// ---------------------------------------------------------------------------
// Cloudflare: API v4, load balancer pools
// ---------------------------------------------------------------------------

fn cloudflare_error(status: u16, code: u32, message: &str) -> Answer {
    let envelope =
        json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null});
    Answer::json(status, &envelope)
}

fn cloudflare_ok(result: Value) -> Answer {
    Answer::json(200, &json!({"success": true, "errors": [], "messages": [], "result": result}))
}

fn cloudflare(inner: &Inner, received: &Received) -> Answer {
    let authorization = received.header("authorization").unwrap_or_default();
    let authorized = match (authorization.strip_prefix("Bearer "), &inner.token) {
        (Some(token), Some(expected)) => token == expected,
        (Some(token), None) => !token.trim().is_empty(),
        (None, _) => false,
    };
    if !authorized {
        return cloudflare_error(403, 10000, "Authentication error");
    }
    let path = received.path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (account, pool_id) = match segments.as_slice() {
        ["client", "v4", "accounts", account, "load_balancers", "pools"] => (*account, None),
        ["client", "v4", "accounts", account, "load_balancers", "pools", id] if !id.is_empty() => (*account, Some(*id)),
        _ => {
            let message = format!("Could not route to {path}, perhaps your object identifier is invalid?");
            return cloudflare_error(404, 7003, &message);
        }
    };
    if inner.account_id.as_deref().is_some_and(|expected| expected != account) {
        return cloudflare_error(404, 1000, "Pool not found");
    }
    let method = received.method.as_str();
    let mut pools = lock(&inner.pools);
    let Some(pool_id) = pool_id else {
        if method != "GET" {
            return cloudflare_error(405, 7001, &format!("Method {method} not available for that URI."));
        }
        let all: Vec<Value> = pools.by_id.values().cloned().collect();
        let count = all.len();
        let info = json!({"page": 1, "per_page": count.max(20), "count": count, "total_count": count});
        return Answer::json(
            200,
            &json!({"success": true, "errors": [], "messages": [], "result": all, "result_info": info}),
        );
    };
    if !pools.by_id.contains_key(pool_id) {
        return cloudflare_error(404, 1000, "Pool not found");
    }
    match method {
        "GET" => cloudflare_ok(pools.by_id[pool_id].clone()),
        "PATCH" => {
            let Ok(Value::Object(patch)) = serde_json::from_str::<Value>(&received.body) else {
                return cloudflare_error(400, 1002, "body: invalid (a JSON object is required)");
            };
            if let Some(key) = patch.keys().find(|k| !PATCHABLE.contains(&k.as_str())) {
                return cloudflare_error(400, 1001, &format!("unknown field {key}"));
            }
            if patch.get("enabled").is_some_and(|enabled| !enabled.is_boolean()) {
                return cloudflare_error(400, 1002, "enabled: invalid");
            }
            if let Some(origins) = patch.get("origins") {
                let valid = origins.as_array().is_some_and(|all| {
                    all.iter().all(|o| o.is_object() && o.get("address").is_some_and(Value::is_string))
                });
                if !valid {
                    return cloudflare_error(400, 1002, "origins: invalid");
                }
            }
            let modified = now_micros().max(pools.last_modified + 1);
            pools.last_modified = modified;
            let Some(Value::Object(pool)) = pools.by_id.get_mut(pool_id) else {
                unreachable!("pools are objects (checked at start)")
            };
            for (key, value) in patch {
                pool.insert(key, value);
            }
            pool.insert("modified_on".to_string(), Value::String(rfc3339(modified)));
            cloudflare_ok(Value::Object(pool.clone()))
        }
        _ => cloudflare_error(405, 7001, &format!("Method {method} not available for that URI.")),
    }
}

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

/// Now, in microseconds since the Unix epoch.
fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// An RFC 3339 UTC time with microseconds, e.g. "2024-05-01T12:00:00.123456Z".
fn rfc3339(micros: u64) -> String {
    let (secs, fraction) = (micros / 1_000_000, micros % 1_000_000);
    let (days, of_day) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{fraction:06}Z")
}
