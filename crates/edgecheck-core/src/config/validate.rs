//! Validation: [`RawConfig`] to [`Config`], or every problem at once, each
//! naming its field path (`origins[3].url`). Ripgrep's `HiArgs::from_low_args`:
//! the rich types are built here once, and nothing downstream re-checks.

use std::collections::{BTreeMap, BTreeSet};

use super::check::{check_name, check_secret_name, check_url, opt_ranged, ranged, Errors};
use super::raw::{RawConfig, RawHeader, RawOrigin, RawQuorum, RawSettings, RawStatus};
use super::{
    Config, ConfigError, Format, HeaderValue, Heartbeat, Method, Origin, Quorum, Region, Settings, StatusRule,
    StatusSet, Vantage, DEADLINE_LIMIT_MS, DEFAULT_DEADLINE_MS, DEFAULT_FALL, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_STALE_S, DEFAULT_PROBE_TIMEOUT_MS, DEFAULT_REFRESH_S, DEFAULT_RETENTION_DAYS, DEFAULT_RISE,
    DEFAULT_VANTAGE, LOCATION_HINTS, MAX_BODY_BYTES_LIMIT, MAX_CONNECTIONS_WAITING, MAX_FLEET, MAX_HEARTBEAT_S,
    MAX_ORIGINS,
};

impl Config {
    /// Validates `raw`. On failure returns every problem found, in file order.
    pub fn from_raw(raw: &RawConfig) -> Result<Config, Vec<ConfigError>> {
        let mut errs = Errors::default();
        let mut settings = settings(&raw.settings, &mut errs);
        if raw.regions.is_empty() {
            errs.push("regions", "at least one region must be declared, as [regions.<name>]");
        }
        if raw.origins.is_empty() {
            errs.push("origins", "at least one origin must be declared, as [[origins]]");
        }
        vantages(&raw.settings, &mut settings, &mut errs);
        let probed = raw.origins.iter().filter(|o| o.kind.as_deref() != Some(HEARTBEAT)).count();
        if probed == 0 && !raw.origins.is_empty() {
            errs.push(
                "origins",
                "every origin is a heartbeat check: at least one must be probed (kind = \"http\", with a url), as the vantages judge the monitor's own path by the probed ones",
            );
        }
        settings.shard_size = shard_size(&raw.settings, raw.origins.len(), probed, &mut errs);
        let mut regions = declared_regions(raw, &mut errs);
        let origins = origins(raw, &settings, &mut regions, &mut errs);
        quorums(raw, &mut regions, &mut errs);
        settings.min_regions_up = min_regions_up(&raw.settings, raw.regions.len(), &mut errs);
        let channels = super::notify::channels(&raw.notify, &regions, &origins, &mut errs);
        let maintenance = super::maintenance::windows(&raw.maintenance, &regions, &origins, &mut errs);
        if errs.0.is_empty() {
            Ok(Config::new(settings, regions, origins, channels, maintenance))
        } else {
            Err(errs.0)
        }
    }
}

/// The regions in name order, each without origins yet.
fn declared_regions(raw: &RawConfig, errs: &mut Errors) -> Vec<Region> {
    raw.regions
        .keys()
        .map(|name| {
            check_name(&format!("regions.{name}"), name, errs);
            Region { name: name.clone(), min_up: 1, origins: Vec::new() }
        })
        .collect()
}

/// The origins in file order; each is also listed under its region.
fn origins(raw: &RawConfig, settings: &Settings, regions: &mut [Region], errs: &mut Errors) -> Vec<Origin> {
    let region_index: BTreeMap<&str, usize> =
        raw.regions.keys().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.origins.len());
    for (i, o) in raw.origins.iter().enumerate() {
        let path = format!("origins[{i}]");
        check_name(&format!("{path}.name"), &o.name, errs);
        if region_index.contains_key(o.name.as_str()) {
            errs.push(
                format!("{path}.name"),
                format!(
                    "\"{}\" is already a region name; /health/{{name}} needs names unique across regions and origins",
                    o.name
                ),
            );
        } else if !seen.insert(o.name.as_str()) {
            errs.push(
                format!("{path}.name"),
                format!("\"{}\" is used by an earlier origin; names must be unique", o.name),
            );
        }
        let region = match region_index.get(o.region.as_str()) {
            Some(&r) => {
                regions[r].origins.push(i);
                r
            }
            None => {
                let declared: Vec<&str> = region_index.keys().copied().collect();
                errs.push(
                    format!("{path}.region"),
                    format!("\"{}\" is not declared under [regions] (declared: {})", o.region, declared.join(", ")),
                );
                0
            }
        };
        out.push(origin(&path, o, region, settings, errs));
    }
    probed_first(out, regions)
}

/// `kind` of a heartbeat check.
const HEARTBEAT: &str = "heartbeat";

/// Orders the probed origins first and the heartbeat checks after them, each
/// in file order (shards cover the probed ones only), and renumbers the
/// regions' lists to match.
fn probed_first(origins: Vec<Origin>, regions: &mut [Region]) -> Vec<Origin> {
    let mut order: Vec<usize> = (0..origins.len()).collect();
    order.sort_by_key(|&i| origins[i].heartbeat.is_some()); // stable: file order within each kind
    let mut new_index = vec![0; origins.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    for region in regions.iter_mut() {
        for i in region.origins.iter_mut() {
            *i = new_index[*i];
        }
        region.origins.sort_unstable();
    }
    let mut slots: Vec<Option<Origin>> = origins.into_iter().map(Some).collect();
    order.iter().filter_map(|&old| slots[old].take()).collect()
}

/// One origin's own keys, with the settings' defaults.
fn origin(path: &str, o: &RawOrigin, region: usize, settings: &Settings, errs: &mut Errors) -> Origin {
    let field = |key: &str| format!("{path}.{key}");
    match o.kind.as_deref() {
        None | Some("http") => {}
        Some(HEARTBEAT) => return heartbeat(path, o, region, settings, errs),
        Some(other) => {
            errs.push(
                field("kind"),
                format!("\"{other}\" is not a kind of origin; expected \"http\" or \"heartbeat\""),
            );
        }
    }
    for (key, set) in [
        ("period_s", o.period_s.is_some()),
        ("grace_s", o.grace_s.is_some()),
        ("token_secret", o.token_secret.is_some()),
    ] {
        if set {
            errs.push(field(key), "only a heartbeat check has this key; set kind = \"heartbeat\" or remove it");
        }
    }
    let url = match o.url.as_deref() {
        Some(url) => check_url(&field("url"), url, errs),
        None => {
            errs.push(field("url"), "missing: a probed origin needs the URL of its health endpoint");
            String::new()
        }
    };
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
    Origin {
        name: o.name.clone(),
        region,
        url,
        method: method(&field("method"), o.method.as_deref(), errs),
        expect_status: expect_status(&field("expect_status"), o.expect_status.as_deref(), errs),
        timeout_ms,
        critical: o.critical.unwrap_or(false),
        rise: count("rise", o.rise, settings.rise, errs),
        fall: count("fall", o.fall, settings.fall, errs),
        headers: headers(&field("headers"), &o.headers, errs),
        format: format(&field("format"), o.format.as_deref(), errs),
        heartbeat: None,
    }
}

/// A heartbeat check: `period_s`, `grace_s` and `token_secret`, none of a
/// probe's keys; `rise` and `fall` default to 1, as `grace_s` already damps it.
fn heartbeat(path: &str, o: &RawOrigin, region: usize, settings: &Settings, errs: &mut Errors) -> Origin {
    let field = |key: &str| format!("{path}.{key}");
    let probe_keys = [
        ("url", o.url.is_some()),
        ("method", o.method.is_some()),
        ("expect_status", o.expect_status.is_some()),
        ("timeout_ms", o.timeout_ms.is_some()),
        ("headers", !o.headers.is_empty()),
        ("format", o.format.is_some()),
    ];
    for (key, _) in probe_keys.iter().filter(|(_, set)| *set) {
        errs.push(field(key), "a heartbeat check is not probed: remove this key, or the kind");
    }
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
    Origin {
        name: o.name.clone(),
        region,
        url: String::new(),
        method: Method::Get,
        expect_status: StatusSet::success(),
        timeout_ms: settings.probe_timeout_ms,
        critical: o.critical.unwrap_or(false),
        rise: count("rise", o.rise, errs),
        fall: count("fall", o.fall, errs),
        headers: Vec::new(),
        format: Format::StatusCode,
        heartbeat: Some(Heartbeat { period_s, grace_s, token_secret }),
    }
}

/// Each region's `min_up`, checked against its origin count; a region without
/// origins is an error.
fn quorums(raw: &RawConfig, regions: &mut [Region], errs: &mut Errors) {
    for (region, (name, raw_region)) in regions.iter_mut().zip(raw.regions.iter()) {
        let path = format!("regions.{name}");
        if region.origins.is_empty() {
            errs.push(
                path,
                format!("no origin names this region; remove it or add an origin with region = \"{name}\""),
            );
            continue;
        }
        if let Some(q) = &raw_region.min_up {
            let total = region.origins.len();
            let unit = format!("origins, at most the {total} in this region");
            region.min_up = quorum(&format!("{path}.min_up"), q, total, &unit, errs).needed(total);
        }
    }
}

/// `settings.min_regions_up`, at most the number of declared regions.
fn min_regions_up(raw: &RawSettings, declared: usize, errs: &mut Errors) -> usize {
    let declared = declared.max(1);
    match raw.min_regions_up {
        None => 1,
        Some(v) => ranged(
            "settings.min_regions_up",
            v,
            1,
            declared as i64,
            &format!("regions, at most the {declared} declared"),
            errs,
        )
        .unwrap_or(1) as usize,
    }
}

/// One numeric setting of `[settings]`: its key, where the raw file has it,
/// and its default and bounds, which may depend on the settings above it in
/// [`SETTINGS`] (`v`, indexed by position: `v[DEADLINE]`, ...).
struct Row {
    key: &'static str,
    raw: fn(&RawSettings) -> Option<i64>,
    default: fn(&[i64]) -> i64,
    min: fn(&[i64]) -> i64,
    max: fn(&[i64]) -> i64,
    unit: &'static str,
}

const DEADLINE: usize = 0;
const TIMEOUT: usize = 1;
const IN_FLIGHT: usize = 2;
const BODY: usize = 3;
const REFRESH: usize = 4;
const STALE: usize = 5;
const RISE: usize = 6;
const FALL: usize = 7;
const RETENTION: usize = 8;

/// The numeric settings, in the order they are resolved: each row's bounds
/// may read the rows above it.
const SETTINGS: [Row; 9] = [
    Row {
        key: "deadline_ms",
        raw: |r| r.deadline_ms,
        default: |_| i64::from(DEFAULT_DEADLINE_MS),
        min: |_| 1,
        max: |_| i64::from(DEADLINE_LIMIT_MS),
        unit: "ms",
    },
    Row {
        key: "probe_timeout_ms",
        raw: |r| r.probe_timeout_ms,
        default: |v| i64::from(DEFAULT_PROBE_TIMEOUT_MS).min(v[DEADLINE]),
        min: |_| 1,
        max: |v| v[DEADLINE],
        unit: "ms, at most settings.deadline_ms",
    },
    Row {
        key: "max_in_flight",
        raw: |r| r.max_in_flight,
        default: |_| MAX_CONNECTIONS_WAITING as i64,
        min: |_| 1,
        max: |_| MAX_CONNECTIONS_WAITING as i64,
        unit: "probes; Cloudflare Workers allow 6 connections waiting for headers, and a 7th would be queued and time out falsely",
    },
    Row {
        key: "max_body_bytes",
        raw: |r| r.max_body_bytes,
        default: |_| DEFAULT_MAX_BODY_BYTES as i64,
        min: |_| 1,
        max: |_| MAX_BODY_BYTES_LIMIT as i64,
        unit: "bytes",
    },
    Row {
        key: "refresh_s",
        raw: |r| r.refresh_s,
        default: |v| i64::from(DEFAULT_REFRESH_S).max(v[DEADLINE] / 1000 + 1),
        min: |v| v[DEADLINE] / 1000 + 1,
        max: |_| 3600,
        unit: "seconds, longer than settings.deadline_ms so that rounds never overlap",
    },
    Row {
        key: "max_stale_s",
        raw: |r| r.max_stale_s,
        default: |v| i64::from(DEFAULT_MAX_STALE_S).max(v[REFRESH]),
        min: |v| v[REFRESH],
        max: |_| 7 * 24 * 3600,
        unit: "seconds, at least settings.refresh_s",
    },
    Row {
        key: "rise",
        raw: |r| r.rise,
        default: |_| i64::from(DEFAULT_RISE),
        min: |_| 1,
        max: |_| 10,
        unit: "consecutive probes",
    },
    Row {
        key: "fall",
        raw: |r| r.fall,
        default: |_| i64::from(DEFAULT_FALL),
        min: |_| 1,
        max: |_| 10,
        unit: "consecutive probes",
    },
    Row {
        key: "retention_days",
        raw: |r| r.retention_days,
        default: |_| i64::from(DEFAULT_RETENTION_DAYS),
        min: |_| 1,
        max: |_| 366,
        unit: "days",
    },
];

fn settings(raw: &RawSettings, errs: &mut Errors) -> Settings {
    let mut v = [0i64; SETTINGS.len()];
    for (i, row) in SETTINGS.iter().enumerate() {
        let field = format!("settings.{}", row.key);
        let (default, min, max) = ((row.default)(&v), (row.min)(&v), (row.max)(&v));
        v[i] = opt_ranged(&field, (row.raw)(raw), default, min, max, row.unit, errs);
    }
    // In range by the table, so every value fits its type.
    let as_u32 = |i: usize| u32::try_from(v[i]).expect("bounded by SETTINGS");
    let as_usize = |i: usize| usize::try_from(v[i]).expect("bounded by SETTINGS");
    Settings {
        probe_timeout_ms: as_u32(TIMEOUT),
        deadline_ms: as_u32(DEADLINE),
        max_in_flight: as_usize(IN_FLIGHT),
        max_body_bytes: as_usize(BODY),
        degraded_is_ready: raw.degraded_is_ready.unwrap_or(false),
        min_regions_up: 1,
        refresh_s: as_u32(REFRESH),
        rise: as_u32(RISE),
        fall: as_u32(FALL),
        retention_days: as_u32(RETENTION),
        max_stale_s: as_u32(STALE),
        canary: raw.canary.as_deref().map(|url| check_url("settings.canary", url, errs)),
        vantages: Vec::new(),
        vantage_quorum: 1,
        shard_size: 1,
    }
}

/// `settings.vantages` (location hints, each once) and `settings.vantage_quorum`.
fn vantages(raw: &RawSettings, settings: &mut Settings, errs: &mut Errors) {
    settings.vantages = match &raw.vantages {
        None => vec![Vantage { name: DEFAULT_VANTAGE.into(), hint: None }],
        Some(hints) if hints.is_empty() => {
            errs.push(
                "settings.vantages",
                "at least one location hint; leave the key out for one vantage without a hint",
            );
            vec![Vantage { name: DEFAULT_VANTAGE.into(), hint: None }]
        }
        Some(hints) => {
            let mut seen = BTreeSet::new();
            for (i, hint) in hints.iter().enumerate() {
                let field = format!("settings.vantages[{i}]");
                if !LOCATION_HINTS.contains(&hint.as_str()) {
                    let hint: String = hint.chars().filter(|c| !c.is_control()).take(64).collect();
                    errs.push(
                        field,
                        format!("\"{hint}\" is not a location hint; use one of {}", LOCATION_HINTS.join(", ")),
                    );
                } else if !seen.insert(hint.as_str()) {
                    errs.push(field, format!("\"{hint}\" is listed twice; each vantage once"));
                }
            }
            hints.iter().map(|h| Vantage { name: h.clone(), hint: Some(h.clone()) }).collect()
        }
    };
    let count = settings.vantages.len();
    let unit = format!("vantages, at most the {count} in settings.vantages");
    let resolved = raw
        .vantage_quorum
        .as_ref()
        .map_or(Quorum::Majority, |q| quorum("settings.vantage_quorum", q, count, &unit, errs));
    settings.vantage_quorum = resolved.needed(count);
}

/// `settings.shard_size`: by default the whole fleet in one shard; a fleet of
/// more than [`MAX_ORIGINS`] needs it set.
fn shard_size(raw: &RawSettings, origins: usize, probed: usize, errs: &mut Errors) -> usize {
    if origins > MAX_FLEET {
        errs.push("origins", format!("{origins} origins, more than the {MAX_FLEET} a fleet may have"));
    }
    match raw.shard_size {
        Some(n) => ranged("settings.shard_size", n, 1, MAX_ORIGINS as i64, "origins per prober", errs)
            .map_or(MAX_ORIGINS, |n| n as usize),
        None if probed > MAX_ORIGINS => {
            errs.push(
                "origins",
                format!(
                    "{probed} origins, more than the {MAX_ORIGINS} one prober covers in a round (its connections and subrequests); set settings.shard_size (at most {MAX_ORIGINS}) to split them across probers"
                ),
            );
            MAX_ORIGINS
        }
        None => probed.max(1),
    }
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

/// A quorum of `total` members: `unit` says what they are and where, for the
/// error (`origins, at most the 3 in this region`).
fn quorum(field: &str, raw: &RawQuorum, total: usize, unit: &str, errs: &mut Errors) -> Quorum {
    match raw {
        RawQuorum::Count(n) => match ranged(field, *n, 1, total as i64, unit, errs) {
            Some(n) => Quorum::AtLeast(n as usize),
            None => Quorum::AtLeast(1),
        },
        RawQuorum::Word(w) if w == "majority" => Quorum::Majority,
        RawQuorum::Word(w) if w == "all" => Quorum::All,
        RawQuorum::Word(w) => {
            errs.push(field, format!("\"{w}\" is not a quorum; use a number, \"majority\" or \"all\""));
            Quorum::AtLeast(1)
        }
    }
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
