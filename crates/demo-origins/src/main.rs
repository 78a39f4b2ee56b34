//! `demo_origins`: a fleet of demo origin health endpoints on loopback, each on its
//! own port, serving the health formats edgecheck reads and failing on command in
//! every way a hostile origin can. The demo (`scripts/demo.sh`) and the end-to-end
//! tests both run it.
//!
//! ```text
//! demo_origins [--control ADDR] [--until-stdin-closes] [--shared-port PORT] NAME=MODE[@PORT]...
//! ```
//!
//! Binds 127.0.0.1 only. PORT 0 or no `@PORT` picks a free port. With
//! `--shared-port`, every origin is served on that one port (0: a free one)
//! and a request names its origin by the first path segment
//! (`http://127.0.0.1:PORT/<name>/health`), so thousands of origins need one
//! listener; an origin in mode `refuse` then closes the connection unanswered.
//! Once every listener is bound it prints one JSON line on stdout:
//! `{"control":9100,"origins":{"api-use1-a":9101,..}}`.
//!
//! Control API (on `--control`, default 127.0.0.1:9100):
//!
//! | request | effect |
//! |---|---|
//! | `GET /origins` | `{"name":{"port":..,"mode":..,"hits":..}}` |
//! | `POST /origins/{name}/mode/{mode}` | switch one origin (`*` for all) |
//! | `POST /hits/reset` | set every hit counter to 0 |
//! | `GET /waiting` | `{"waiting":n,"max":m}`: requests read but not yet answered with headers, across all origins, now and at most since the last reset |
//! | `POST /waiting/reset` | set the maximum to the current count |
//!
//! Modes: see [`Mode::ALL`]; `demo_origins --help` lists them.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How one origin behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A fixed answer: status, content type, body.
    Fixed(&'static str, u16, &'static str, &'static str),
    /// Close the listener: connections are refused.
    Refuse,
    /// Read the request, never answer (until the mode changes, at most 10 min).
    Hang,
    /// Headers, then one body byte every two seconds.
    Drip,
    /// A 200 JSON body of 1 MiB.
    Flood,
    /// A 200 JSON body of 50 MiB (`flood-50mb`).
    Flood50,
    /// A 200 with `Content-Encoding: gzip` whose 64 KiB body decodes to 64 MiB of spaces.
    GzipBomb,
    /// Headers announcing 4096 bytes, 512 of them, then a TCP reset (`SO_LINGER` 0).
    ResetMidBody,
    /// `HTTP/1.1 <code>` with a healthy Spring body, for codes outside 100..=599
    /// (`status-<code>`).
    Status(u16),
    /// A `103 Early Hints` interim answer, then a healthy Spring 200.
    EarlyHints,
    /// A 302 whose `Location` is the cloud metadata address 169.254.169.254.
    RedirectMetadata,
    /// A 302 whose `Location` is another origin on loopback (`redirect-to-<port>`),
    /// whose hit counter shows whether the redirect was followed.
    RedirectTo(u16),
    /// A 200 JSON body nested 10,000 arrays deep.
    DeepJson,
    /// A 503 for probes from the listed vantages (`fail-from-weur+apac`, read
    /// from the `x-edgecheck-vantage` header), a healthy Spring body for others.
    FailFrom(&'static str),
    /// Closes the connection without answering (a network-class failure) for
    /// probes from the listed vantages (`refuse-from-enam`), healthy for others.
    RefuseFrom(&'static str),
    /// A healthy Spring body, [`SLOW_FROM_MS`] late for probes from the listed
    /// vantages (`slow-from-enam+weur`), at once for others.
    SlowFrom(&'static str),
    /// Alternate: a healthy Spring body, then a 503, on every other request.
    Flap,
    /// A healthy Spring body after this many ms (`delay-<ms>`).
    Delay(u32),
    /// A 503 on every n-th request, a healthy Spring body on the others
    /// (`fail-one-in-5`): an origin rise/fall never takes down, which burns
    /// an error budget all the same.
    FailOneIn(u32),
    /// 200 health+json `{"status":"pass"}` only with `Authorization: Bearer demo-only-token`,
    /// else 401: shows that a header naming a secret was sent.
    RequireToken,
    /// Raw TCP, as a Redis server without auth: reads one line, answers
    /// `+PONG` to exactly `PING`, `-ERR unknown command` to anything else.
    Redis,
    /// Raw TCP, as a Redis server that wants a password: reads one line and
    /// answers `-NOAUTH Authentication required.`.
    RedisNoAuth,
    /// Raw TCP, as an SSH server: writes its banner on accept, reads nothing.
    SshBanner,
    /// Raw TCP: accepts the connection and closes it at once.
    AcceptClose,
    /// Raw TCP: accepts and reads, never writes a byte (until the peer closes).
    Silent,
    /// A DNS over HTTPS resolver (RFC 8484) answering NOERROR, with an A
    /// record of this address to an A question (none to another type):
    /// `doh-a-192.0.2.10`. See [`answer_doh`] for what it checks.
    DohA(Ipv4Addr),
    /// A DoH resolver answering NXDOMAIN (`doh-nxdomain`).
    DohNxdomain,
    /// A DoH resolver answering SERVFAIL (`doh-servfail`).
    DohServfail,
}

/// How late `slow-from-…` answers the listed vantages, ms.
const SLOW_FROM_MS: u64 = 600;

const SPRING_UP: &str = r#"{"status":"UP","components":{"db":{"status":"UP","details":{"database":"PostgreSQL","validationQuery":"isValid()"}},"diskSpace":{"status":"UP","details":{"total":499963174912,"free":91300069376,"threshold":10485760,"exists":true}},"ping":{"status":"UP"}}}"#;

impl Mode {
    /// Every mode by name. Bodies follow real examples of each format.
    const ALL: &'static [Mode] = &[
        Mode::Fixed("spring", 200, "application/vnd.spring-boot.actuator.v3+json", SPRING_UP),
        Mode::Fixed(
            "spring-down",
            503,
            "application/vnd.spring-boot.actuator.v3+json",
            r#"{"status":"DOWN","components":{"db":{"status":"DOWN","details":{"error":"org.springframework.jdbc.CannotGetJdbcConnectionException"}},"ping":{"status":"UP"}}}"#,
        ),
        Mode::Fixed("spring-out-of-service", 503, "application/json", r#"{"status":"OUT_OF_SERVICE"}"#),
        Mode::Fixed("spring-down-200", 200, "application/json", r#"{"status":"DOWN"}"#),
        Mode::Fixed("hassette", 200, "application/json", r#"{"status":"ok","ready":true}"#),
        Mode::Fixed("hassette-live", 200, "application/json", r#"{"status":"live"}"#),
        Mode::Fixed("hassette-starting", 503, "application/json", r#"{"status":"starting","ready":false}"#),
        Mode::Fixed("hassette-degraded", 200, "application/json", r#"{"status":"degraded","ready":true}"#),
        Mode::Fixed("hatch", 200, "application/json", r#"{"status":"ok","vm_count":15,"route_count":23}"#),
        Mode::Fixed("smallest", 200, "application/json", r#"{"status":"healthy"}"#),
        Mode::Fixed(
            "smallest-component",
            200,
            "application/json",
            r#"{"status":"healthy","components":{"lightning":{"status":"healthy"},"redis":{"status":"unhealthy","reason":"connection refused"}}}"#,
        ),
        Mode::Fixed(
            "smallest-unhealthy",
            503,
            "application/json",
            r#"{"status":"unhealthy","reason":"model not loaded"}"#,
        ),
        Mode::Fixed("system-check", 200, "application/json", r#"{"code":"OK","ok":true}"#),
        Mode::Fixed(
            "system-check-warning",
            200,
            "application/json",
            r#"{"code":"WARNING","error":true,"message":"disk 91% full"}"#,
        ),
        Mode::Fixed("system-check-error", 500, "application/json", r#"{"code":"ERROR","error":true}"#),
        Mode::Fixed(
            "health-json",
            200,
            "application/health+json",
            r#"{"status":"pass","version":"1","releaseId":"1.2.2","serviceId":"f03e522f-1f44-4062-9b55-9587f91c9c41","checks":{"uptime":[{"componentType":"system","observedValue":1209600.245,"observedUnit":"s","status":"pass","time":"2018-01-17T03:36:48Z"}]}}"#,
        ),
        Mode::Fixed(
            "health-json-warn",
            200,
            "application/health+json",
            r#"{"status":"warn","checks":{"cassandra:responseTime":[{"componentId":"dfd6cf2b","observedValue":250,"observedUnit":"ms","status":"warn"}]}}"#,
        ),
        Mode::Fixed(
            "health-json-fail",
            503,
            "application/health+json",
            r#"{"status":"fail","output":"database unreachable"}"#,
        ),
        Mode::Fixed(
            "elasticsearch",
            200,
            "application/json",
            r#"{"cluster_name":"search","status":"green","timed_out":false,"number_of_nodes":3,"number_of_data_nodes":3,"active_primary_shards":12,"active_shards":24,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0}"#,
        ),
        Mode::Fixed(
            "elasticsearch-yellow",
            200,
            "application/json",
            r#"{"cluster_name":"search","status":"yellow","timed_out":false,"number_of_nodes":1,"unassigned_shards":12}"#,
        ),
        Mode::Fixed(
            "elasticsearch-red",
            200,
            "application/json",
            r#"{"cluster_name":"search","status":"red","timed_out":false,"number_of_nodes":1,"unassigned_shards":24}"#,
        ),
        Mode::Fixed("aspnet", 200, "text/plain", "Healthy"),
        Mode::Fixed("aspnet-degraded", 200, "text/plain", "Degraded"),
        Mode::Fixed("aspnet-unhealthy", 503, "text/plain", "Unhealthy"),
        Mode::Fixed(
            "terminus",
            200,
            "application/json",
            r#"{"status":"ok","info":{"database":{"status":"up"},"memory_heap":{"status":"up"}},"error":{},"details":{"database":{"status":"up"},"memory_heap":{"status":"up"}}}"#,
        ),
        Mode::Fixed(
            "terminus-error",
            503,
            "application/json",
            r#"{"status":"error","info":{"memory_heap":{"status":"up"}},"error":{"database":{"status":"down","message":"Connection provider not found"}},"details":{"database":{"status":"down"},"memory_heap":{"status":"up"}}}"#,
        ),
        Mode::Fixed(
            "terminus-shutting-down",
            503,
            "application/json",
            r#"{"status":"shutting_down","info":{},"error":{},"details":{}}"#,
        ),
        Mode::Fixed("plain", 200, "text/plain", "ok"),
        // Cloudflare's /cdn-cgi/trace, as it answers: key=value lines, `colo` the data centre.
        Mode::Fixed(
            "trace",
            200,
            "text/plain",
            "fl=1f1\nh=127.0.0.1\nip=127.0.0.1\nts=1764547200.000\nvisit_scheme=http\nuag=edgecheck\ncolo=LHR\nsliver=none\nhttp=http/1.1\nloc=GB\ntls=off\nsni=off\nwarp=off\ngateway=off\nrbi=off\nkex=none\n",
        ),
        Mode::Fixed("spring-bom", 200, "application/json", "\u{feff}{\"status\":\"UP\"}"),
        Mode::Fixed("503", 503, "text/plain", "Service Unavailable"),
        Mode::Fixed("503-degraded", 503, "application/json", r#"{"status":"degraded"}"#),
        Mode::Fixed("invalid-json", 200, "application/json", r#"{"status": "UP", "components": {"#),
        Mode::Fixed("redirect", 302, "text/plain", ""),
        // JSON that is none of the known health formats: an origin's conditions judge it.
        Mode::Fixed("db-up", 200, "application/json", r#"{"db":"up"}"#),
        Mode::Fixed("db-down", 200, "application/json", r#"{"db":"down"}"#),
        // JSON with a repeated key: the last one wins, as in JavaScript's JSON.parse.
        Mode::Fixed("duplicate-keys", 200, "application/json", r#"{"status":"UP","status":"DOWN"}"#),
        Mode::Refuse,
        Mode::Hang,
        Mode::Drip,
        Mode::Flood,
        Mode::Flood50,
        Mode::GzipBomb,
        Mode::ResetMidBody,
        Mode::EarlyHints,
        Mode::RedirectMetadata,
        Mode::DeepJson,
        Mode::Flap,
        Mode::RequireToken,
        Mode::Redis,
        Mode::RedisNoAuth,
        Mode::SshBanner,
        Mode::AcceptClose,
        Mode::Silent,
        Mode::DohNxdomain,
        Mode::DohServfail,
    ];

    fn name(self) -> String {
        match self {
            Mode::Delay(ms) => format!("delay-{ms}"),
            Mode::FailOneIn(n) => format!("fail-one-in-{n}"),
            Mode::Status(code) => format!("status-{code}"),
            Mode::FailFrom(list) => format!("fail-from-{list}"),
            Mode::RefuseFrom(list) => format!("refuse-from-{list}"),
            Mode::SlowFrom(list) => format!("slow-from-{list}"),
            Mode::RedirectTo(port) => format!("redirect-to-{port}"),
            Mode::DohA(ip) => format!("doh-a-{ip}"),
            other => other.static_name().to_string(),
        }
    }

    fn static_name(self) -> &'static str {
        match self {
            Mode::Delay(_) => "delay-<ms>",
            Mode::FailOneIn(_) => "fail-one-in-<n>",
            Mode::Status(_) => "status-<code>",
            Mode::FailFrom(_) => "fail-from-<vantage>[+<vantage>..]",
            Mode::RefuseFrom(_) => "refuse-from-<vantage>[+<vantage>..]",
            Mode::SlowFrom(_) => "slow-from-<vantage>[+<vantage>..]",
            Mode::RedirectTo(_) => "redirect-to-<port>",
            Mode::Flood50 => "flood-50mb",
            Mode::GzipBomb => "gzip-bomb",
            Mode::ResetMidBody => "reset-mid-body",
            Mode::EarlyHints => "early-hints",
            Mode::RedirectMetadata => "redirect-metadata",
            Mode::DeepJson => "deep-json",
            Mode::Fixed(name, ..) => name,
            Mode::Refuse => "refuse",
            Mode::Hang => "hang",
            Mode::Drip => "drip",
            Mode::Flood => "flood",
            Mode::Flap => "flap",
            Mode::RequireToken => "require-token",
            Mode::Redis => "redis",
            Mode::RedisNoAuth => "redis-noauth",
            Mode::SshBanner => "ssh-banner",
            Mode::AcceptClose => "accept-close",
            Mode::Silent => "silent",
            Mode::DohA(_) => "doh-a-<ipv4>",
            Mode::DohNxdomain => "doh-nxdomain",
            Mode::DohServfail => "doh-servfail",
        }
    }

    fn parse(name: &str) -> Option<Mode> {
        if let Some(n) = name.strip_prefix("fail-one-in-") {
            return n.parse().ok().filter(|n| *n > 0).map(Mode::FailOneIn);
        }
        if let Some(ms) = name.strip_prefix("delay-") {
            return ms.parse().ok().map(Mode::Delay);
        }
        if let Some(code) = name.strip_prefix("status-") {
            return code.parse().ok().map(Mode::Status);
        }
        if let Some(port) = name.strip_prefix("redirect-to-") {
            return port.parse().ok().map(Mode::RedirectTo);
        }
        if let Some(ip) = name.strip_prefix("doh-a-") {
            return ip.parse().ok().map(Mode::DohA);
        }
        // The vantage list lives as long as the process (a few bytes per mode change).
        if let Some(list) = name.strip_prefix("fail-from-") {
            return Some(Mode::FailFrom(Box::leak(list.to_string().into_boxed_str())));
        }
        if let Some(list) = name.strip_prefix("refuse-from-") {
            return Some(Mode::RefuseFrom(Box::leak(list.to_string().into_boxed_str())));
        }
        if let Some(list) = name.strip_prefix("slow-from-") {
            return Some(Mode::SlowFrom(Box::leak(list.to_string().into_boxed_str())));
        }
        Mode::ALL.iter().copied().find(|m| m.static_name() == name)
    }
}

/// Requests read but not yet answered with headers, across every origin: what a
/// prober holds open waiting for headers. And the most seen since the last reset.
static WAITING: AtomicU64 = AtomicU64::new(0);
static MAX_WAITING: AtomicU64 = AtomicU64::new(0);

/// One request counted in [`WAITING`] until its headers are about to be written
/// (or it ends without an answer).
struct Waiting(AtomicBool);

impl Waiting {
    fn start() -> Waiting {
        let now = WAITING.fetch_add(1, Ordering::SeqCst) + 1;
        MAX_WAITING.fetch_max(now, Ordering::SeqCst);
        Waiting(AtomicBool::new(true))
    }

    /// Called just before the status line is written, so a prober that starts
    /// its next request once this one is answered is never counted twice.
    fn answered(&self) {
        if self.0.swap(false, Ordering::SeqCst) {
            WAITING.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.answered();
    }
}

/// One origin's shared state.
struct Origin {
    name: String,
    port: u16,
    mode: Mutex<Mode>,
    changed: Condvar,
    hits: AtomicU64,
}

impl Origin {
    fn mode(&self) -> Mode {
        *self.mode.lock().unwrap()
    }
}

fn main() {
    let mut control_addr = "127.0.0.1:9100".to_string();
    let mut until_stdin_closes = false;
    let mut shared_port: Option<u16> = None;
    let mut specs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--control" => control_addr = args.next().unwrap_or_else(|| usage("--control needs ADDR")),
            "--until-stdin-closes" => until_stdin_closes = true,
            "--shared-port" => {
                let port = args.next().and_then(|p| p.parse().ok());
                shared_port = Some(port.unwrap_or_else(|| usage("--shared-port needs PORT (0: a free one)")));
            }
            "--help" | "-h" => usage(""),
            spec => specs.push(parse_spec(spec)),
        }
    }
    if specs.is_empty() {
        usage("no origins given");
    }

    let shared = shared_port
        .map(|port| bind(port).unwrap_or_else(|e| fail(&format!("--shared-port: cannot bind 127.0.0.1:{port}: {e}"))));
    let mut origins = BTreeMap::new();
    for (name, mode, port) in specs {
        let listener = match &shared {
            Some(_) => None,
            None => Some(bind(port).unwrap_or_else(|e| fail(&format!("{name}: cannot bind 127.0.0.1:{port}: {e}")))),
        };
        let port = listener.as_ref().or(shared.as_ref()).and_then(|l| l.local_addr().ok()).expect("bound").port();
        let origin = Arc::new(Origin {
            name: name.clone(),
            port,
            mode: Mutex::new(mode),
            changed: Condvar::new(),
            hits: AtomicU64::new(0),
        });
        if let Some(listener) = listener {
            let served = Arc::clone(&origin);
            thread::spawn(move || serve_origin(served, listener));
        }
        origins.insert(name, origin);
    }
    // Every body that costs time to make is made before the ports are printed,
    // so no probe ever pays a first-request cost (a debug build took 1.08 s to
    // compress the bomb on its first request, longer than a test's timeout).
    gzip_bomb();
    let control =
        TcpListener::bind(&control_addr).unwrap_or_else(|e| fail(&format!("cannot bind control {control_addr}: {e}")));
    let ports: BTreeMap<&str, u16> = origins.iter().map(|(n, o)| (n.as_str(), o.port)).collect();
    println!("{}", serde_json::json!({ "control": control.local_addr().expect("bound").port(), "origins": ports }));
    io::stdout().flush().ok();

    let origins = Arc::new(origins);
    if let Some(listener) = shared {
        let origins = Arc::clone(&origins);
        thread::spawn(move || serve_shared(&origins, listener));
    }
    if until_stdin_closes {
        thread::spawn(|| {
            let mut sink = Vec::new();
            let _ = io::stdin().lock().read_until(0, &mut sink);
            std::process::exit(0);
        });
    }
    for stream in control.incoming().flatten() {
        let origins = Arc::clone(&origins);
        thread::spawn(move || serve_control(stream, &origins));
    }
}

fn parse_spec(spec: &str) -> (String, Mode, u16) {
    let (name, rest) = spec.split_once('=').unwrap_or_else(|| usage(&format!("\"{spec}\" is not NAME=MODE[@PORT]")));
    let (mode, port) = match rest.split_once('@') {
        Some((mode, port)) => (mode, port.parse().unwrap_or_else(|_| usage(&format!("\"{port}\" is not a port")))),
        None => (rest, 0),
    };
    let mode = Mode::parse(mode).unwrap_or_else(|| usage(&format!("\"{mode}\" is not a mode")));
    (name.to_string(), mode, port)
}

fn usage(problem: &str) -> ! {
    let modes: Vec<&str> = Mode::ALL
        .iter()
        .map(|m| m.static_name())
        .chain([
            "delay-<ms>",
            "status-<code>",
            "redirect-to-<port>",
            "doh-a-<ipv4>",
            "fail-from-<vantage>[+..]",
            "refuse-from-<vantage>[+..]",
        ])
        .collect();
    eprintln!(
        "usage: demo_origins [--control ADDR] [--until-stdin-closes] [--shared-port PORT] NAME=MODE[@PORT]...\nmodes: {}",
        modes.join(", ")
    );
    if problem.is_empty() {
        std::process::exit(0);
    }
    fail(problem)
}

fn fail(problem: &str) -> ! {
    eprintln!("demo_origins: {problem}");
    std::process::exit(2)
}

fn bind(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// The port bound on 127.0.0.1 without listening; `None` when it cannot be.
fn reserve(port: u16) -> Option<socket2::Socket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).ok()?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into()).ok()?;
    Some(socket)
}

/// Accepts connections until the mode is `refuse`; then closes the listener,
/// keeps the port bound without listening, and listens on it again when the
/// mode changes.
fn serve_origin(origin: Arc<Origin>, listener: TcpListener) {
    let mut listener = Some(listener);
    loop {
        if origin.mode() == Mode::Refuse {
            drop(listener.take());
            // Keep the port, bound but not listening: a connect is refused,
            // and no other process (another test's fleet binding port 0) can
            // be given the port and answer this origin's probes.
            let reserved = reserve(origin.port);
            let mut mode = origin.mode.lock().unwrap();
            while *mode == Mode::Refuse {
                mode = origin.changed.wait(mode).unwrap();
            }
            drop(mode);
            listener = reserved.and_then(|socket| socket.listen(128).ok().map(|()| TcpListener::from(socket)));
        }
        let bound = match listener.take() {
            Some(l) => l,
            None => match bind(origin.port) {
                Ok(l) => l,
                Err(_) => {
                    thread::sleep(Duration::from_millis(20));
                    continue;
                }
            },
        };
        if let Ok((stream, _)) = bound.accept() {
            if origin.mode() != Mode::Refuse {
                let origin = Arc::clone(&origin);
                thread::spawn(move || serve_probe(&origin, stream));
            }
        }
        listener = Some(bound);
    }
}

/// A request head: method, path (with its query), the `Authorization` and
/// `Accept` headers and the vantage (`x-edgecheck-vantage`) that sent it.
struct Head {
    method: String,
    path: String,
    authorization: Option<String>,
    accept: Option<String>,
    vantage: Option<String>,
}

/// Reads a request head.
fn read_head(stream: &mut TcpStream) -> Option<Head> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => {
                let header = |name: &str| {
                    req.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).into_owned())
                };
                let (authorization, vantage) = (header("authorization"), header("x-edgecheck-vantage"));
                return Some(Head {
                    method: req.method?.to_string(),
                    path: req.path?.to_string(),
                    authorization,
                    accept: header("accept"),
                    vantage,
                });
            }
            Ok(httparse::Status::Partial) if buf.len() < 64 * 1024 => continue,
            _ => return None,
        }
    }
}

fn head(status: u16, content_type: &str, length: usize) -> String {
    head_with(status, content_type, length, if status == 302 { "Location: /moved\r\n" } else { "" })
}

/// A response head with `extra` header lines (each ending in CRLF).
fn head_with(status: u16, content_type: &str, length: usize, extra: &str) -> String {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        302 => "Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    format!("HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n{extra}Connection: close\r\n\r\n")
}

/// Serves every origin on one listener, routed by the first path segment.
fn serve_shared(origins: &Arc<BTreeMap<String, Arc<Origin>>>, listener: TcpListener) {
    for mut stream in listener.incoming().flatten() {
        let origins = Arc::clone(origins);
        thread::spawn(move || {
            let Some(request) = read_head(&mut stream) else { return };
            let name = request.path.trim_start_matches('/').split(['/', '?']).next().unwrap_or("");
            match origins.get(name) {
                Some(origin) if origin.mode() != Mode::Refuse => answer_probe(origin, stream, request),
                Some(_) => {}
                None => {
                    let body = format!("{{\"error\":\"no origin {name}\"}}");
                    let _ = stream.write_all(format!("{}{body}", head(404, "application/json", body.len())).as_bytes());
                }
            }
        });
    }
}

fn serve_probe(origin: &Origin, mut stream: TcpStream) {
    if serve_raw(origin, &mut stream) {
        return;
    }
    let Some(request) = read_head(&mut stream) else {
        return;
    };
    answer_probe(origin, stream, request);
}

/// Serves a raw TCP mode (a TCP check's peer); `false` for an HTTP mode.
fn serve_raw(origin: &Origin, stream: &mut TcpStream) -> bool {
    let mode = origin.mode();
    if !matches!(mode, Mode::Redis | Mode::RedisNoAuth | Mode::SshBanner | Mode::AcceptClose | Mode::Silent) {
        return false;
    }
    origin.hits.fetch_add(1, Ordering::SeqCst);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    match mode {
        Mode::Redis | Mode::RedisNoAuth => {
            let Some(line) = read_line(stream) else { return true };
            let reply: &[u8] = match (mode, line.as_slice()) {
                (Mode::RedisNoAuth, _) => b"-NOAUTH Authentication required.\r\n",
                (_, b"PING") => b"+PONG\r\n",
                _ => b"-ERR unknown command\r\n",
            };
            let _ = stream.write_all(reply);
        }
        Mode::SshBanner => {
            let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
            thread::sleep(Duration::from_secs(1));
        }
        Mode::Silent => {
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
        }
        _ => {}
    }
    true
}

/// One line of at most 512 bytes, without its CRLF; `None` when the peer
/// closes, stalls for 10 s or sends a longer line.
fn read_line(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() <= 512 {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        line.push(byte[0]);
        if line.ends_with(b"\r\n") {
            line.truncate(line.len() - 2);
            return Some(line);
        }
    }
    None
}

/// Answers one probe of `origin` as its mode says.
fn answer_probe(origin: &Origin, mut stream: TcpStream, request: Head) {
    let hit = origin.hits.fetch_add(1, Ordering::SeqCst);
    let waiting = Waiting::start();
    let with_body = request.method != "HEAD";
    let mut answer = |status, content_type: &str, body: &str| {
        waiting.answered();
        let mut out = head(status, content_type, body.len()).into_bytes();
        if with_body {
            out.extend_from_slice(body.as_bytes());
        }
        let _ = stream.write_all(&out);
    };
    match origin.mode() {
        Mode::Fixed(_, status, content_type, body) => answer(status, content_type, body),
        Mode::Flap if hit.is_multiple_of(2) => answer(200, "application/json", SPRING_UP),
        Mode::Flap => answer(503, "text/plain", "Service Unavailable"),
        Mode::FailOneIn(n) if hit % u64::from(n) == u64::from(n) - 1 => {
            answer(503, "text/plain", "Service Unavailable")
        }
        Mode::FailOneIn(_) => answer(200, "application/json", SPRING_UP),
        Mode::Delay(ms) => {
            thread::sleep(Duration::from_millis(u64::from(ms)));
            answer(200, "application/json", SPRING_UP)
        }
        Mode::RequireToken if request.authorization.as_deref() == Some("Bearer demo-only-token") => {
            answer(200, "application/health+json", r#"{"status":"pass"}"#)
        }
        Mode::RequireToken => answer(401, "application/json", r#"{"error":"unauthorized"}"#),
        // A raw TCP mode set after this request arrived: no HTTP answer.
        Mode::Redis | Mode::RedisNoAuth | Mode::SshBanner | Mode::AcceptClose | Mode::Silent => {}
        Mode::FailFrom(list) if from(list, request.vantage.as_deref()) => {
            answer(503, "text/plain", "Service Unavailable")
        }
        Mode::RefuseFrom(list) if from(list, request.vantage.as_deref()) => {}
        Mode::FailFrom(_) | Mode::RefuseFrom(_) => answer(200, "application/json", SPRING_UP),
        Mode::SlowFrom(list) => {
            if from(list, request.vantage.as_deref()) {
                thread::sleep(Duration::from_millis(SLOW_FROM_MS));
            }
            answer(200, "application/json", SPRING_UP)
        }
        Mode::Refuse => {}
        Mode::Hang => {
            let started = Instant::now();
            let mut mode = origin.mode.lock().unwrap();
            while *mode == Mode::Hang && started.elapsed() < Duration::from_secs(600) {
                mode = origin.changed.wait_timeout(mode, Duration::from_secs(1)).unwrap().0;
            }
        }
        Mode::Drip => {
            waiting.answered();
            if stream.write_all(head(200, "application/json", 4096).as_bytes()).is_ok() && with_body {
                for _ in 0..4096 {
                    thread::sleep(Duration::from_secs(2));
                    if stream.write_all(b" ").is_err() {
                        break;
                    }
                }
            }
        }
        Mode::Flood => {
            waiting.answered();
            flood(&mut stream, 1024 * 1024, with_body);
        }
        Mode::Flood50 => {
            waiting.answered();
            flood(&mut stream, 50 * 1024 * 1024, with_body);
        }
        Mode::GzipBomb => {
            let bomb = gzip_bomb();
            waiting.answered();
            let head = head_with(200, "application/json", bomb.len(), "Content-Encoding: gzip\r\n");
            if stream.write_all(head.as_bytes()).is_ok() && with_body {
                let _ = stream.write_all(bomb);
            }
        }
        Mode::ResetMidBody => {
            waiting.answered();
            if stream.write_all(head(200, "application/json", 4096).as_bytes()).is_ok() && with_body {
                let _ = stream.write_all(&[b' '; 512]);
                let _ = stream.flush();
                thread::sleep(Duration::from_millis(50));
            }
            // Closing with SO_LINGER 0 sends a RST instead of a FIN.
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            return;
        }
        Mode::Status(code) => {
            waiting.answered();
            let head = format!(
                "HTTP/1.1 {code} Odd\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                SPRING_UP.len()
            );
            let _ = stream.write_all(head.as_bytes());
            if with_body {
                let _ = stream.write_all(SPRING_UP.as_bytes());
            }
        }
        Mode::EarlyHints => {
            waiting.answered();
            let hints = "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n";
            if stream.write_all(hints.as_bytes()).is_ok() {
                let _ = stream.flush();
                thread::sleep(Duration::from_millis(20));
                let mut out = head(200, "application/json", SPRING_UP.len()).into_bytes();
                if with_body {
                    out.extend_from_slice(SPRING_UP.as_bytes());
                }
                let _ = stream.write_all(&out);
            }
        }
        Mode::RedirectMetadata => {
            waiting.answered();
            let location = "Location: http://169.254.169.254/latest/meta-data/\r\n";
            let _ = stream.write_all(head_with(302, "text/plain", 0, location).as_bytes());
        }
        Mode::RedirectTo(port) => {
            waiting.answered();
            let location = format!("Location: http://127.0.0.1:{port}/health\r\n");
            let _ = stream.write_all(head_with(302, "text/plain", 0, &location).as_bytes());
        }
        Mode::DeepJson => {
            const DEPTH: usize = 10_000;
            let body = "[".repeat(DEPTH) + &"]".repeat(DEPTH);
            answer(200, "application/json", &body);
        }
        Mode::DohA(_) | Mode::DohNxdomain | Mode::DohServfail => {
            let (status, content_type, body) = match answer_doh(&request, origin.mode()) {
                Ok(message) => (200, "application/dns-message", message),
                Err(why) => (400, "text/plain", why.into_bytes()),
            };
            waiting.answered();
            let mut out = head(status, content_type, body.len()).into_bytes();
            if with_body {
                out.extend_from_slice(&body);
            }
            let _ = stream.write_all(&out);
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
}

/// A DNS over HTTPS answer as RFC 8484 has it, or why the request breaks
/// the contract (answered `400`): a `GET` (§4.1) whose `Accept` names
/// `application/dns-message` (§4.1, §6), with a `dns` query parameter in
/// base64url without padding (§4.1, §6) that holds one standard query (a
/// query, opcode QUERY, one question of class IN; read by hickory-proto, a
/// decoder independent of edgecheck's). The answer echoes the query's ID,
/// RD and question, as RFC 1035 §4.1.1 asks, with the mode's RCODE and
/// records.
fn answer_doh(request: &Head, mode: Mode) -> Result<Vec<u8>, String> {
    use base64::Engine;
    use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
    use hickory_proto::rr::rdata::A;
    use hickory_proto::rr::{DNSClass, RData, Record, RecordType};

    if request.method != "GET" {
        return Err(format!("{} is not GET", request.method));
    }
    let accept = request.accept.as_deref().unwrap_or("");
    if !accept
        .split(',')
        .any(|t| t.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/dns-message"))
    {
        return Err(format!("Accept {accept:?} does not name application/dns-message"));
    }
    let query = request.path.split_once('?').map_or("", |(_, q)| q);
    let dns = query.split('&').find_map(|p| p.strip_prefix("dns=")).ok_or("no dns query parameter")?;
    if dns.contains('=') {
        return Err("the dns parameter is padded; RFC 8484 says base64url without padding".into());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(dns)
        .map_err(|e| format!("the dns parameter is not base64url: {e}"))?;
    let asked = Message::from_vec(&bytes).map_err(|e| format!("not a DNS message: {e}"))?;
    if asked.metadata.message_type != MessageType::Query || asked.metadata.op_code != OpCode::Query {
        return Err("not a standard query".into());
    }
    let [question] = asked.queries.as_slice() else {
        return Err(format!("{} questions; a query has one", asked.queries.len()));
    };
    if question.query_class() != DNSClass::IN {
        return Err(format!("class {}, not IN", question.query_class()));
    }
    let mut reply = Message::response(asked.metadata.id, OpCode::Query);
    reply.metadata.recursion_desired = asked.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_query(question.clone());
    match mode {
        Mode::DohA(ip) if question.query_type() == RecordType::A => {
            reply.add_answer(Record::from_rdata(question.name().clone(), 60, RData::A(A(ip))));
        }
        Mode::DohNxdomain => reply.metadata.response_code = ResponseCode::NXDomain,
        Mode::DohServfail => reply.metadata.response_code = ResponseCode::ServFail,
        _ => {}
    }
    reply.to_vec().map_err(|e| format!("the answer does not encode: {e}"))
}

/// Whether `vantage` is in the `+`-separated `list`.
fn from(list: &str, vantage: Option<&str>) -> bool {
    vantage.is_some_and(|v| list.split('+').any(|l| l == v))
}

/// Writes a 200 JSON head announcing `size` bytes, then that many spaces (a
/// client that stops reading ends it).
fn flood(stream: &mut TcpStream, size: usize, with_body: bool) {
    if stream.write_all(head(200, "application/json", size).as_bytes()).is_ok() && with_body {
        let block = [b' '; 16 * 1024];
        for _ in 0..size / block.len() {
            if stream.write_all(&block).is_err() {
                break;
            }
        }
    }
}

/// 64 MiB of spaces, gzip-compressed once per process (about 64 KiB).
fn gzip_bomb() -> &'static [u8] {
    static BOMB: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BOMB.get_or_init(|| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let block = [b' '; 64 * 1024];
        for _ in 0..1024 {
            encoder.write_all(&block).expect("writes to memory");
        }
        encoder.finish().expect("writes to memory")
    })
}

fn serve_control(mut stream: TcpStream, origins: &BTreeMap<String, Arc<Origin>>) {
    let Some(Head { method, path, .. }) = read_head(&mut stream) else {
        return;
    };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (status, body) = match (method.as_str(), parts.as_slice()) {
        ("GET", ["origins"]) => {
            let list: BTreeMap<&str, serde_json::Value> = origins
                .iter()
                .map(|(n, o)| (n.as_str(), serde_json::json!({"port": o.port, "mode": o.mode().name(), "hits": o.hits.load(Ordering::SeqCst)})))
                .collect();
            (200, serde_json::to_string(&list).expect("serializes"))
        }
        ("GET", ["waiting"]) => (
            200,
            serde_json::json!({"waiting": WAITING.load(Ordering::SeqCst), "max": MAX_WAITING.load(Ordering::SeqCst)})
                .to_string(),
        ),
        ("POST" | "PUT", ["waiting", "reset"]) => {
            MAX_WAITING.store(WAITING.load(Ordering::SeqCst), Ordering::SeqCst);
            (200, r#"{"waiting":"reset"}"#.to_string())
        }
        ("POST" | "PUT", ["hits", "reset"]) => {
            origins.values().for_each(|o| o.hits.store(0, Ordering::SeqCst));
            (200, r#"{"hits":"reset"}"#.to_string())
        }
        ("POST" | "PUT", ["origins", name, "mode", mode]) => match Mode::parse(mode) {
            None => (400, serde_json::json!({"error": format!("unknown mode {mode}")}).to_string()),
            Some(mode) => {
                let chosen: Vec<&Arc<Origin>> = origins.values().filter(|o| *name == "*" || o.name == *name).collect();
                for o in &chosen {
                    set_mode(o, mode);
                }
                if chosen.is_empty() {
                    (404, serde_json::json!({"error": format!("unknown origin {name}")}).to_string())
                } else {
                    (200, serde_json::json!({"origins": chosen.len(), "mode": mode.name()}).to_string())
                }
            }
        },
        _ => (404, r#"{"error":"try GET /origins or POST /origins/{name}/mode/{mode}"}"#.to_string()),
    };
    let _ = stream.write_all(format!("{}{body}", head(status, "application/json", body.len())).as_bytes());
}

fn set_mode(origin: &Origin, mode: Mode) {
    *origin.mode.lock().unwrap() = mode;
    origin.changed.notify_all();
    if mode == Mode::Refuse {
        // Wake the blocking accept so the listener closes now.
        let _ =
            TcpStream::connect_timeout(&SocketAddr::from(([127, 0, 0, 1], origin.port)), Duration::from_millis(200));
    }
}
