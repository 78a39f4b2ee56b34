//! One origin's own keys: a probed origin's (URL, method, expected status,
//! headers, format, conditions, timeout, rise and fall, with the settings'
//! defaults), a TCP check's (its target, what it sends and expects, TLS;
//! [`super::tcp`]), a DNS check's (name, record type, resolver, expected
//! values), each with a probe's timeout, rise, fall and slow threshold, or a
//! heartbeat check's (period, grace, token secret). The list of origins,
//! their names and regions, is `validate.rs`'s.

use std::collections::BTreeMap;

use super::check::{check_secret_name, check_url, opt_ranged, ranged, Errors};
use super::condition::conditions;
use super::raw::{RawHeader, RawOrigin, RawStatus};
use super::tcp::{tcp_check, tcp_keys};
use super::{
    DnsCheck, Format, HeaderValue, Heartbeat, Method, Origin, Settings, StatusRule, StatusSet, MAX_DNS_EXPECT,
    MAX_DNS_VALUE_BYTES, MAX_HEARTBEAT_S,
};
use crate::dns;

/// `kind` of a heartbeat check.
pub(super) const HEARTBEAT: &str = "heartbeat";
/// `kind` of a DNS check.
pub(super) const DNS: &str = "dns";
/// `kind` of a TCP check.
const TCP: &str = "tcp";

/// One origin's own keys, with the settings' defaults; `inherited` is the
/// slow threshold it takes when it has none of its own (its region's, else
/// the settings'), checked against its timeout by `validate.rs`.
pub(super) fn origin(
    path: &str,
    o: &RawOrigin,
    region: usize,
    inherited: Option<u32>,
    settings: &Settings,
    errs: &mut Errors,
) -> Origin {
    let field = |key: &str| format!("{path}.{key}");
    match o.kind.as_deref() {
        None | Some("http") => {}
        Some(HEARTBEAT) => return heartbeat(path, o, region, settings, errs),
        Some(DNS) => return dns(path, o, region, inherited, settings, errs),
        Some(TCP) => return tcp(path, o, region, inherited, settings, errs),
        Some(other) => {
            errs.push(
                field("kind"),
                format!("\"{other}\" is not a kind of origin; expected \"http\", \"tcp\", \"dns\" or \"heartbeat\""),
            );
        }
    }
    refuse(path, heartbeat_keys(o), &only("heartbeat", HEARTBEAT), errs);
    refuse(path, dns_keys(o), &only("DNS", DNS), errs);
    refuse(path, tcp_keys(o), &only("TCP", TCP), errs);
    let url = match o.url.as_deref() {
        Some(url) => check_url(&field("url"), url, errs),
        None => {
            errs.push(field("url"), "missing: a probed origin needs the URL of its health endpoint");
            String::new()
        }
    };
    let probe = probing(path, o, inherited, settings, errs);
    let method = method(&field("method"), o.method.as_deref(), errs);
    Origin {
        url,
        method,
        expect_status: expect_status(&field("expect_status"), o.expect_status.as_deref(), errs),
        headers: headers(&field("headers"), &o.headers, errs),
        format: format(&field("format"), o.format.as_deref(), errs),
        conditions: conditions(path, &o.conditions, method, errs),
        ..probe.origin(o, region)
    }
}

/// Keys only an HTTP probe has, with whether `o` sets each.
fn http_keys(o: &RawOrigin) -> [(&'static str, bool); 6] {
    [
        ("url", o.url.is_some()),
        ("method", o.method.is_some()),
        ("expect_status", o.expect_status.is_some()),
        ("headers", !o.headers.is_empty()),
        ("format", o.format.is_some()),
        ("conditions", !o.conditions.is_empty()),
    ]
}

/// Keys only a heartbeat check has, with whether `o` sets each.
fn heartbeat_keys(o: &RawOrigin) -> [(&'static str, bool); 3] {
    [("period_s", o.period_s.is_some()), ("grace_s", o.grace_s.is_some()), ("token_secret", o.token_secret.is_some())]
}

/// Keys only a DNS check has, with whether `o` sets each.
fn dns_keys(o: &RawOrigin) -> [(&'static str, bool); 4] {
    [
        ("query", o.query.is_some()),
        ("record", o.record.is_some()),
        ("resolver", o.resolver.is_some()),
        ("expect", o.expect.is_some()),
    ]
}

/// One error, `why`, at `path.key` for each of `keys` that is set: keys of
/// another kind of origin, which this one would silently ignore.
fn refuse(path: &str, keys: impl IntoIterator<Item = (&'static str, bool)>, why: &str, errs: &mut Errors) {
    for (key, _) in keys.into_iter().filter(|(_, set)| *set) {
        errs.push(format!("{path}.{key}"), why);
    }
}

/// Why a key of the check `label` (its `kind` value) is refused elsewhere.
fn only(label: &str, kind: &str) -> String {
    format!("only a {label} check has this key; set kind = \"{kind}\" or remove it")
}

/// A TCP check: `target`, `send`, `expect_reply` and `tls`
/// ([`super::tcp`]), with a probe's timeout, rise, fall and slow threshold;
/// none of an HTTP request's keys. Its `url` is its
/// [`super::TcpCheck::address`], for the admin token's full view.
fn tcp(
    path: &str,
    o: &RawOrigin,
    region: usize,
    inherited: Option<u32>,
    settings: &Settings,
    errs: &mut Errors,
) -> Origin {
    refuse(path, http_keys(o), "a TCP check sends no HTTP request: remove this key, or the kind", errs);
    refuse(path, heartbeat_keys(o), &only("heartbeat", HEARTBEAT), errs);
    refuse(path, dns_keys(o), &only("DNS", DNS), errs);
    let check = tcp_check(path, o, errs);
    let probe = probing(path, o, inherited, settings, errs);
    Origin { url: check.address(), tcp: Some(check), ..probe.origin(o, region) }
}

/// What every probed origin, DNS checks included, sets the same way: its
/// timeout, rise and fall (the settings' by default) and slow threshold (a
/// heartbeat check's are fixed: the probe timeout, its own rise and fall).
struct Probing {
    timeout_ms: u32,
    rise: u32,
    fall: u32,
    degraded_after_ms: Option<u32>,
}

impl Probing {
    /// `o` in `region` with these settings and nothing of a kind's own: no
    /// URL, a `GET` expecting any 2xx, no headers, conditions or check, the
    /// body judged by its status only. Each kind's builder sets what it has.
    fn origin(&self, o: &RawOrigin, region: usize) -> Origin {
        Origin {
            name: o.name.clone(),
            region,
            url: String::new(),
            method: Method::Get,
            expect_status: StatusSet::success(),
            timeout_ms: self.timeout_ms,
            critical: o.critical.unwrap_or(false),
            rise: self.rise,
            fall: self.fall,
            headers: Vec::new(),
            format: Format::StatusCode,
            degraded_after_ms: self.degraded_after_ms,
            conditions: Vec::new(),
            heartbeat: None,
            dns: None,
            tcp: None,
        }
    }
}

fn probing(path: &str, o: &RawOrigin, inherited: Option<u32>, settings: &Settings, errs: &mut Errors) -> Probing {
    let field = |key: &str| format!("{path}.{key}");
    let timeout_ms = match o.timeout_ms {
        None => settings.probe_timeout_ms,
        Some(v) => {
            ranged(&field("timeout_ms"), v, 1, settings.deadline_ms as i64, "ms, at most settings.deadline_ms", errs)
                .map_or(settings.probe_timeout_ms, |v| v as u32)
        }
    };
    let count = |key: &str, value: Option<i64>, default: u32, errs: &mut Errors| {
        opt_ranged(&field(key), value, default as i64, 1, 10, "consecutive probes", errs) as u32
    };
    let degraded_after_ms = match o.degraded_after_ms {
        None => inherited,
        Some(v) => ranged(
            &field("degraded_after_ms"),
            v,
            1,
            i64::from(timeout_ms) - 1,
            &format!("ms, below this origin's timeout_ms of {timeout_ms} ms: an answer slower than its timeout is a timeout, so a threshold at or above it could never fire"),
            errs,
        )
        .map(|v| u32::try_from(v).expect("below the timeout")),
    };
    Probing {
        timeout_ms,
        rise: count("rise", o.rise, settings.rise, errs),
        fall: count("fall", o.fall, settings.fall, errs),
        degraded_after_ms,
    }
}

/// A DNS check: `query`, `record`, `resolver` (default
/// [`dns::DEFAULT_RESOLVER`]) and `expect`, with a probe's timeout, rise,
/// fall and slow threshold; none of the request's keys, which it builds
/// itself: a `GET` of the resolver's URL with the query (RFC 8484 §4.1),
/// `accept: application/dns-message`, any 2xx, the body read as DNS, not as
/// a health document.
fn dns(
    path: &str,
    o: &RawOrigin,
    region: usize,
    inherited: Option<u32>,
    settings: &Settings,
    errs: &mut Errors,
) -> Origin {
    let field = |key: &str| format!("{path}.{key}");
    refuse(
        path,
        http_keys(o),
        "a DNS check builds its own request to its resolver and reads the answer as DNS: remove this key, or the kind",
        errs,
    );
    refuse(path, heartbeat_keys(o), &only("heartbeat", HEARTBEAT), errs);
    refuse(path, tcp_keys(o), &only("TCP", TCP), errs);
    let query = match o.query.as_deref() {
        Some(name) => {
            if let Some(problem) = dns::name_problem(name) {
                errs.push(field("query"), problem);
            }
            dns::normal_name(name)
        }
        None => {
            errs.push(field("query"), "missing: a DNS check needs the name to resolve (query = \"example.com\")");
            String::new()
        }
    };
    let supported = || dns::RecordType::ALL.map(dns::RecordType::as_str).join(", ");
    let record = match o.record.as_deref() {
        Some(text) => dns::RecordType::parse(text).unwrap_or_else(|| {
            errs.push(
                field("record"),
                format!("\"{text}\" is not a supported record type; use one of {}", supported()),
            );
            dns::RecordType::A
        }),
        None => {
            errs.push(field("record"), format!("missing: a DNS check needs a record type, one of {}", supported()));
            dns::RecordType::A
        }
    };
    let resolver = match o.resolver.as_deref() {
        Some(url) => check_url(&field("resolver"), url, errs),
        None => dns::DEFAULT_RESOLVER.to_string(),
    };
    let raw_expect = o.expect.as_deref().unwrap_or_default();
    if raw_expect.len() > MAX_DNS_EXPECT {
        errs.push(
            field("expect"),
            format!("{} values; a DNS check expects {MAX_DNS_EXPECT} at most", raw_expect.len()),
        );
    }
    let mut expect = Vec::with_capacity(raw_expect.len());
    for (i, text) in raw_expect.iter().enumerate() {
        if text.len() > MAX_DNS_VALUE_BYTES {
            errs.push(
                format!("{path}.expect[{i}]"),
                format!("{} bytes; a value has {MAX_DNS_VALUE_BYTES} at most", text.len()),
            );
            continue;
        }
        match dns::expected_value(record, text) {
            Ok(value) => expect.push(value),
            Err(problem) => errs.push(format!("{path}.expect[{i}]"), problem),
        }
    }
    let probe = probing(path, o, inherited, settings, errs);
    Origin {
        url: dns::doh_url(&resolver, &query, record),
        headers: vec![("accept".to_string(), HeaderValue::Plain(dns::MEDIA_TYPE.to_string()))],
        dns: Some(DnsCheck { query, record, resolver, expect }),
        ..probe.origin(o, region)
    }
}

/// A heartbeat check: `period_s`, `grace_s` and `token_secret`, none of a
/// probe's keys; `rise` and `fall` default to 1, as `grace_s` already damps it.
fn heartbeat(path: &str, o: &RawOrigin, region: usize, settings: &Settings, errs: &mut Errors) -> Origin {
    let field = |key: &str| format!("{path}.{key}");
    let probe_keys = http_keys(o)
        .into_iter()
        .chain(tcp_keys(o))
        .chain([("timeout_ms", o.timeout_ms.is_some()), ("degraded_after_ms", o.degraded_after_ms.is_some())]);
    refuse(path, probe_keys, "a heartbeat check is not probed: remove this key, or the kind", errs);
    refuse(path, dns_keys(o), &only("DNS", DNS), errs);
    let max = i64::from(MAX_HEARTBEAT_S);
    let seconds = |key: &str, value: Option<i64>, min: i64, errs: &mut Errors| match value {
        Some(v) => ranged(&field(key), v, min, max, "seconds, at most 31 days", errs).unwrap_or(min) as u32,
        None => {
            errs.push(field(key), "missing: a heartbeat check needs it");
            min as u32
        }
    };
    let period_s = seconds("period_s", o.period_s, 1, errs);
    let grace_s = seconds("grace_s", o.grace_s, 0, errs);
    let token_secret = match &o.token_secret {
        Some(secret) => {
            check_secret_name(&field("token_secret"), secret, errs);
            secret.clone()
        }
        None => {
            errs.push(field("token_secret"), "missing: name the wrangler secret that holds this check's ping token");
            String::new()
        }
    };
    let count = |key: &str, value: Option<i64>, errs: &mut Errors| {
        opt_ranged(&field(key), value, 1, 1, 10, "consecutive rounds", errs) as u32
    };
    let rounds = Probing {
        timeout_ms: settings.probe_timeout_ms,
        rise: count("rise", o.rise, errs),
        fall: count("fall", o.fall, errs),
        degraded_after_ms: None,
    };
    Origin { heartbeat: Some(Heartbeat { period_s, grace_s, token_secret }), ..rounds.origin(o, region) }
}

/// Headers the runtime drops, sets itself or rewrites, so a value in the config
/// would be silently ignored or changed: the connection's own headers (RFC 9110
/// section 7.6.1), the framing headers, `Host` (a probe goes where its URL says)
/// and Cloudflare's `cf-` headers.
const RUNTIME_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
    "te",
    "trailer",
    "expect",
];

fn method(field: &str, raw: Option<&str>, errs: &mut Errors) -> Method {
    match raw.map(str::to_ascii_uppercase).as_deref() {
        None | Some("GET") => Method::Get,
        Some("HEAD") => Method::Head,
        Some(_) => {
            errs.push(field, format!("\"{}\" is not supported; use GET or HEAD", raw.unwrap_or_default()));
            Method::Get
        }
    }
}

fn format(field: &str, raw: Option<&str>, errs: &mut Errors) -> Format {
    match raw {
        None | Some("auto") => Format::Auto,
        Some("status_code") => Format::StatusCode,
        Some(other) => {
            errs.push(field, format!("\"{other}\" is not a format; use \"auto\" or \"status_code\""));
            Format::Auto
        }
    }
}

fn expect_status(field: &str, raw: Option<&[RawStatus]>, errs: &mut Errors) -> StatusSet {
    let Some(items) = raw else {
        return StatusSet::success();
    };
    if items.is_empty() {
        errs.push(field, "must list at least one code (\"200\") or class (\"2xx\")");
        return StatusSet::success();
    }
    let mut rules = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let text = match item {
            RawStatus::Code(n) => n.to_string(),
            RawStatus::Text(t) => t.trim().to_ascii_lowercase(),
        };
        let rule = match text.as_bytes() {
            [c @ b'1'..=b'5', b'x', b'x'] => Some(StatusRule::Class(u16::from(c - b'0'))),
            _ => text.parse::<u16>().ok().filter(|c| (100..=599).contains(c)).map(StatusRule::Code),
        };
        match rule {
            Some(rule) => rules.push(rule),
            None => errs.push(
                format!("{field}[{i}]"),
                format!("\"{text}\" is neither a status code (100 to 599) nor a class (1xx to 5xx)"),
            ),
        }
    }
    StatusSet(rules)
}

fn headers(field: &str, raw: &BTreeMap<String, RawHeader>, errs: &mut Errors) -> Vec<(String, HeaderValue)> {
    let is_tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let mut out = Vec::with_capacity(raw.len());
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for (name, value) in raw {
        let path = format!("{field}.{name}");
        let lower = name.to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(is_tchar) {
            errs.push(path.clone(), format!("\"{name}\" is not a valid header name"));
        } else if RUNTIME_HEADERS.contains(&lower.as_str()) || lower.starts_with("cf-") {
            errs.push(
                path.clone(),
                format!("\"{name}\" is set by the runtime, which drops or rewrites a configured value; remove it"),
            );
        } else if let Some(first) = seen.insert(lower, name) {
            errs.push(
                path.clone(),
                format!("\"{name}\" is the same header as \"{first}\" (header names ignore case); keep one"),
            );
        }
        let value = match value {
            RawHeader::Plain(v) => {
                if v.contains(['\r', '\n', '\0']) {
                    errs.push(path, "header values cannot contain CR, LF or NUL");
                } else if let Some(c) = v.chars().find(|&c| !(c == ' ' || c == '\t' || c.is_ascii_graphic())) {
                    errs.push(
                        path,
                        format!("{c:?} is not visible ASCII; header values use visible ASCII, spaces and tabs"),
                    );
                } else if v.trim() != v {
                    errs.push(path, "leading or trailing whitespace is stripped by the runtime; remove it");
                }
                HeaderValue::Plain(v.clone())
            }
            RawHeader::Secret { secret } => {
                check_secret_name(&format!("{path}.secret"), secret, errs);
                HeaderValue::Secret(secret.clone())
            }
        };
        out.push((name.clone(), value));
    }
    out
}
