//! Fleet configuration: the raw shape of `edgecheck.toml` ([`RawConfig`]) and its
//! validation into [`Config`], in which every invariant already holds.
//!
//! Two stages, as in ripgrep's `LowArgs` / `HiArgs`: [`RawConfig`] mirrors what the
//! user wrote (every key optional where the file may omit it), and
//! [`Config::from_raw`] builds the rich types or returns every problem at once,
//! each naming its field path (`origins[3].url`). Nothing downstream re-checks.
//!
//! This file is also compiled into `build.rs` (the config is read and validated at
//! build time and embedded in the worker), so it depends on nothing else in the crate.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// Default for `settings.probe_timeout_ms`: one probe, connect + headers + body.
pub const DEFAULT_PROBE_TIMEOUT_MS: u32 = 2_000;
/// Default for `settings.deadline_ms`: the whole fan-out.
pub const DEFAULT_DEADLINE_MS: u32 = 5_000;
/// Cloudflare Workers allow 6 connections waiting for response headers per
/// invocation; a seventh fetch is queued by the runtime, so its timer would lie.
pub const MAX_CONNECTIONS_WAITING: usize = 6;
/// Default for `settings.max_body_bytes` (decoded bytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Upper bound for `settings.max_body_bytes`: 1 MiB (isolates have 128 MB).
pub const MAX_BODY_BYTES_LIMIT: usize = 1024 * 1024;
/// Upper bound for `settings.deadline_ms`: 60 s.
pub const DEADLINE_LIMIT_MS: u32 = 60_000;
/// Default for `settings.refresh_s`: seconds between probing rounds.
pub const DEFAULT_REFRESH_S: u32 = 15;
/// Default for `rise`: consecutive better probes to move an origin's status up.
pub const DEFAULT_RISE: u32 = 2;
/// Default for `fall`: consecutive worse probes to move an origin's status down.
pub const DEFAULT_FALL: u32 = 3;
/// Default for `settings.retention_days`.
pub const DEFAULT_RETENTION_DAYS: u32 = 30;
/// Default for `settings.max_stale_s`.
pub const DEFAULT_MAX_STALE_S: u32 = 300;
/// Subrequests per invocation on the Workers Free plan.
pub const FREE_PLAN_SUBREQUESTS: usize = 50;

// ---------------------------------------------------------------------------
// Raw: what the file says.
// ---------------------------------------------------------------------------

/// `edgecheck.toml` as written. Unknown keys are errors (a typo must not be
/// silently ignored).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub settings: RawSettings,
    #[serde(default)]
    pub regions: BTreeMap<String, RawRegion>,
    #[serde(default)]
    pub origins: Vec<RawOrigin>,
}

/// `[settings]`; every key is optional and has a documented default.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub probe_timeout_ms: Option<i64>,
    pub deadline_ms: Option<i64>,
    pub max_in_flight: Option<i64>,
    pub max_body_bytes: Option<i64>,
    pub degraded_is_ready: Option<bool>,
    pub min_regions_up: Option<i64>,
    pub refresh_s: Option<i64>,
    pub rise: Option<i64>,
    pub fall: Option<i64>,
    pub retention_days: Option<i64>,
    pub max_stale_s: Option<i64>,
    pub canary: Option<String>,
}

/// `[regions.<name>]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub min_up: Option<RawQuorum>,
}

/// `min_up`: a number, `"majority"` or `"all"`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawQuorum {
    Count(i64),
    Word(String),
}

/// One `[[origins]]` entry.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrigin {
    pub name: String,
    pub region: String,
    pub url: String,
    pub method: Option<String>,
    pub expect_status: Option<Vec<RawStatus>>,
    pub timeout_ms: Option<i64>,
    pub critical: Option<bool>,
    pub rise: Option<i64>,
    pub fall: Option<i64>,
    #[serde(default)]
    pub headers: BTreeMap<String, RawHeader>,
    pub format: Option<String>,
}

/// An `expect_status` item: `200`, `"429"` or `"2xx"`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawStatus {
    Code(i64),
    Text(String),
}

/// A header value: a plain string, or `{ secret = "NAME" }` naming a wrangler
/// secret read at run time.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawHeader {
    Plain(String),
    Secret { secret: String },
}

// ---------------------------------------------------------------------------
// Validated: what the program uses.
// ---------------------------------------------------------------------------

/// A validated fleet. Invariants: names are unique across regions and origins;
/// every origin's region exists; every region has at least one origin; every
/// quorum can be met; timeouts fit inside the deadline.
///
/// Built only by [`Config::from_raw`]. It is serializable so that `build.rs` can
/// embed the config it validated; the worker loads that JSON and never parses or
/// validates user input at run time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub settings: Settings,
    /// Regions in name order.
    pub regions: Vec<Region>,
    /// Origins in file order (the order in which probes are started).
    pub origins: Vec<Origin>,
}

/// `[settings]` with defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Default per-probe timeout in ms (connect + headers + whole body).
    pub probe_timeout_ms: u32,
    /// Budget of the whole fan-out in ms; probes not started by then are `skipped`.
    pub deadline_ms: u32,
    /// Probes in flight at once, 1 to 6.
    pub max_in_flight: usize,
    /// Decoded body bytes read at most; more is `body_too_large`.
    pub max_body_bytes: usize,
    /// Whether `/ready` answers 200 while the view is degraded.
    pub degraded_is_ready: bool,
    /// Regions that must be up or degraded for the global view not to be down.
    pub min_regions_up: usize,
    /// Seconds between probing rounds of the monitor; longer than the deadline.
    pub refresh_s: u32,
    /// Default `rise` for origins without their own.
    pub rise: u32,
    /// Default `fall` for origins without their own.
    pub fall: u32,
    /// Days of history (changes and uptime rollups) kept.
    pub retention_days: u32,
    /// Seconds the last known statuses are served, marked stale, while the
    /// monitor itself looks cut off; after that the view is `unknown`.
    pub max_stale_s: u32,
    /// A URL outside the fleet; when it fails, the monitor is the one in trouble.
    pub canary: Option<String>,
}

/// One region: its quorum and the indices of its origins in [`Config::origins`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    pub quorum: Quorum,
    pub origins: Vec<usize>,
}

/// How many origins of a region must be up or degraded for it not to be down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Quorum {
    AtLeast(usize),
    Majority,
    All,
}

impl Quorum {
    /// The number of origins needed out of `total`.
    pub fn needed(self, total: usize) -> usize {
        match self {
            Quorum::AtLeast(n) => n,
            Quorum::Majority => total / 2 + 1,
            Quorum::All => total,
        }
    }
}

/// One origin health endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub name: String,
    /// Index into [`Config::regions`].
    pub region: usize,
    /// An absolute http(s) URL without credentials. Never shown to the public.
    pub url: String,
    pub method: Method,
    pub expect_status: StatusSet,
    /// This probe's timeout in ms.
    pub timeout_ms: u32,
    /// A down critical origin makes its region down whatever the quorum.
    pub critical: bool,
    /// Consecutive better probes before this origin's status moves up (hysteresis).
    pub rise: u32,
    /// Consecutive worse probes before this origin's status moves down.
    pub fall: u32,
    pub headers: Vec<(String, HeaderValue)>,
    pub format: Format,
}

/// The probe's HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Get,
    Head,
}

/// How a response body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Format {
    /// Recognise the known health documents (see `classify`); others are judged
    /// by status code alone.
    Auto,
    /// Ignore the body; judge by status code alone.
    StatusCode,
}

/// A header value to send with a probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HeaderValue {
    Plain(String),
    /// The name of a wrangler secret, read at run time.
    Secret(String),
}

/// The status codes that count as a healthy answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusSet(Vec<StatusRule>);

/// One `expect_status` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusRule {
    /// An exact code, 100 to 599.
    Code(u16),
    /// A class: `2` stands for `2xx`.
    Class(u16),
}

impl StatusSet {
    /// The default: any 2xx.
    pub fn success() -> StatusSet {
        StatusSet(vec![StatusRule::Class(2)])
    }

    /// Whether `code` counts as healthy.
    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|rule| match *rule {
            StatusRule::Code(c) => c == code,
            StatusRule::Class(class) => code / 100 == class,
        })
    }
}

/// One problem in the file: the field path (`origins[3].url`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A valid but doubtful setting, printed as a build warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub field: String,
    pub message: String,
}

/// Parses the text of `edgecheck.toml`. Syntax and type errors name their field
/// path (`origins[3].timeout_ms`) where there is one. Host only: the worker embeds
/// the already-parsed config, so TOML is not in the wasm bundle.
#[cfg(not(target_arch = "wasm32"))]
pub fn parse_toml(text: &str) -> Result<RawConfig, ConfigError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError { field: "(syntax)".into(), message: e.to_string() })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.into_inner().message().to_string();
        ConfigError { field: if field == "." { "(top level)".into() } else { field }, message }
    })
}

impl Config {
    /// Validates `raw`. On failure returns every problem found, in file order.
    pub fn from_raw(raw: &RawConfig) -> Result<Config, Vec<ConfigError>> {
        let mut errs = Errors::default();
        let settings = settings(&raw.settings, &mut errs);

        if raw.regions.is_empty() {
            errs.push("regions", "at least one region must be declared, as [regions.<name>]");
        }
        if raw.origins.is_empty() {
            errs.push("origins", "at least one origin must be declared, as [[origins]]");
        }

        let region_index: BTreeMap<&str, usize> =
            raw.regions.keys().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
        let mut regions: Vec<Region> = raw
            .regions
            .keys()
            .map(|name| {
                check_name(&format!("regions.{name}"), name, &mut errs);
                Region { name: name.clone(), quorum: Quorum::AtLeast(1), origins: Vec::new() }
            })
            .collect();

        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut origins = Vec::with_capacity(raw.origins.len());
        for (i, o) in raw.origins.iter().enumerate() {
            let path = format!("origins[{i}]");
            check_name(&format!("{path}.name"), &o.name, &mut errs);
            if region_index.contains_key(o.name.as_str()) {
                errs.push(
                    format!("{path}.name"),
                    format!("\"{}\" is already a region name; /health/{{name}} needs names unique across regions and origins", o.name),
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
            let timeout_ms = match o.timeout_ms {
                None => settings.probe_timeout_ms,
                Some(v) => ranged(
                    &format!("{path}.timeout_ms"),
                    v,
                    1,
                    settings.deadline_ms as i64,
                    "ms, at most settings.deadline_ms",
                    &mut errs,
                )
                .unwrap_or(settings.probe_timeout_ms as i64) as u32,
            };
            origins.push(Origin {
                name: o.name.clone(),
                region,
                url: check_url(&format!("{path}.url"), &o.url, &mut errs),
                method: method(&format!("{path}.method"), o.method.as_deref(), &mut errs),
                expect_status: expect_status(&format!("{path}.expect_status"), o.expect_status.as_deref(), &mut errs),
                timeout_ms,
                critical: o.critical.unwrap_or(false),
                rise: opt_ranged(
                    &format!("{path}.rise"),
                    o.rise,
                    settings.rise as i64,
                    1,
                    10,
                    "consecutive probes",
                    &mut errs,
                ) as u32,
                fall: opt_ranged(
                    &format!("{path}.fall"),
                    o.fall,
                    settings.fall as i64,
                    1,
                    10,
                    "consecutive probes",
                    &mut errs,
                ) as u32,
                headers: headers(&format!("{path}.headers"), &o.headers, &mut errs),
                format: format(&format!("{path}.format"), o.format.as_deref(), &mut errs),
            });
        }

        for (region, (name, raw_region)) in regions.iter_mut().zip(raw.regions.iter()) {
            let path = format!("regions.{name}");
            if region.origins.is_empty() {
                errs.push(
                    path.clone(),
                    "no origin names this region; remove it or add an origin with region = \"".to_string()
                        + name
                        + "\"",
                );
                continue;
            }
            if let Some(q) = &raw_region.min_up {
                region.quorum = quorum(&format!("{path}.min_up"), q, region.origins.len(), &mut errs);
            }
        }

        let region_count = raw.regions.len().max(1);
        let settings = Settings {
            min_regions_up: match raw.settings.min_regions_up {
                None => 1,
                Some(v) => ranged(
                    "settings.min_regions_up",
                    v,
                    1,
                    region_count as i64,
                    &format!("regions, at most the {region_count} declared"),
                    &mut errs,
                )
                .unwrap_or(1) as usize,
            },
            ..settings
        };

        if errs.0.is_empty() {
            Ok(Config { settings, regions, origins })
        } else {
            Err(errs.0)
        }
    }

    /// Settings that are valid but likely to surprise: probes that will be
    /// `skipped` even when every origin answers within its timeout, and fleets
    /// larger than the Free plan's subrequest limit.
    pub fn warnings(&self) -> Vec<ConfigWarning> {
        let mut out = Vec::new();
        let s = &self.settings;
        let waves = self.origins.len().div_ceil(s.max_in_flight) as u64;
        let slowest = self.origins.iter().map(|o| o.timeout_ms).max().unwrap_or(0) as u64;
        if waves * slowest > s.deadline_ms as u64 {
            out.push(ConfigWarning {
                field: "settings.deadline_ms".into(),
                message: format!(
                    "{} origins in waves of {} with timeouts up to {} ms need up to {} ms; probes not started within {} ms are reported as skipped",
                    self.origins.len(), s.max_in_flight, slowest, waves * slowest, s.deadline_ms
                ),
            });
        }
        if self.origins.len() > FREE_PLAN_SUBREQUESTS {
            out.push(ConfigWarning {
                field: "origins".into(),
                message: format!(
                    "{} origins: one fan-out makes one subrequest per origin, more than the {} per invocation the Workers Free plan allows (Paid allows 10,000)",
                    self.origins.len(), FREE_PLAN_SUBREQUESTS
                ),
            });
        }
        out
    }

    /// The region or origin called `name`.
    pub fn find(&self, name: &str) -> Option<Named> {
        if let Some(i) = self.regions.iter().position(|r| r.name == name) {
            return Some(Named::Region(i));
        }
        self.origins.iter().position(|o| o.name == name).map(Named::Origin)
    }
}

/// What a name in a path refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Region(usize),
    Origin(usize),
}

#[derive(Default)]
struct Errors(Vec<ConfigError>);

impl Errors {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError { field: field.into(), message: message.into() });
    }
}

fn settings(raw: &RawSettings, errs: &mut Errors) -> Settings {
    let deadline_ms = opt_ranged(
        "settings.deadline_ms",
        raw.deadline_ms,
        DEFAULT_DEADLINE_MS as i64,
        1,
        DEADLINE_LIMIT_MS as i64,
        "ms",
        errs,
    ) as u32;
    let probe_timeout_ms = opt_ranged(
        "settings.probe_timeout_ms",
        raw.probe_timeout_ms,
        (DEFAULT_PROBE_TIMEOUT_MS.min(deadline_ms)) as i64,
        1,
        deadline_ms as i64,
        "ms, at most settings.deadline_ms",
        errs,
    ) as u32;
    let max_in_flight = opt_ranged(
        "settings.max_in_flight",
        raw.max_in_flight,
        MAX_CONNECTIONS_WAITING as i64,
        1,
        MAX_CONNECTIONS_WAITING as i64,
        "probes; Cloudflare Workers allow 6 connections waiting for headers, and a 7th would be queued and time out falsely",
        errs,
    ) as usize;
    let max_body_bytes = opt_ranged(
        "settings.max_body_bytes",
        raw.max_body_bytes,
        DEFAULT_MAX_BODY_BYTES as i64,
        1,
        MAX_BODY_BYTES_LIMIT as i64,
        "bytes",
        errs,
    ) as usize;
    let refresh_s = opt_ranged(
        "settings.refresh_s",
        raw.refresh_s,
        (DEFAULT_REFRESH_S as i64).max(deadline_ms as i64 / 1000 + 1),
        deadline_ms as i64 / 1000 + 1,
        3600,
        "seconds, longer than settings.deadline_ms so that rounds never overlap",
        errs,
    ) as u32;
    let max_stale_s = opt_ranged(
        "settings.max_stale_s",
        raw.max_stale_s,
        (DEFAULT_MAX_STALE_S as i64).max(refresh_s as i64),
        refresh_s as i64,
        7 * 24 * 3600,
        "seconds, at least settings.refresh_s",
        errs,
    ) as u32;
    let canary = raw.canary.as_deref().map(|url| check_url("settings.canary", url, errs));
    Settings {
        probe_timeout_ms,
        deadline_ms,
        max_in_flight,
        max_body_bytes,
        degraded_is_ready: raw.degraded_is_ready.unwrap_or(false),
        min_regions_up: 1,
        refresh_s,
        rise: opt_ranged("settings.rise", raw.rise, DEFAULT_RISE as i64, 1, 10, "consecutive probes", errs) as u32,
        fall: opt_ranged("settings.fall", raw.fall, DEFAULT_FALL as i64, 1, 10, "consecutive probes", errs) as u32,
        retention_days: opt_ranged(
            "settings.retention_days",
            raw.retention_days,
            DEFAULT_RETENTION_DAYS as i64,
            1,
            366,
            "days",
            errs,
        ) as u32,
        max_stale_s,
        canary,
    }
}

fn opt_ranged(field: &str, value: Option<i64>, default: i64, min: i64, max: i64, unit: &str, errs: &mut Errors) -> i64 {
    match value {
        None => default,
        Some(v) => ranged(field, v, min, max, unit, errs).unwrap_or(default),
    }
}

fn ranged(field: &str, value: i64, min: i64, max: i64, unit: &str, errs: &mut Errors) -> Option<i64> {
    if (min..=max).contains(&value) {
        Some(value)
    } else {
        errs.push(field, format!("{value} is out of range: expected {min} to {max} ({unit})"));
        None
    }
}

/// Names appear in paths (`/health/{name}`): 1 to 64 of `[a-z0-9-_.]`.
fn check_name(field: &str, name: &str, errs: &mut Errors) {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 {
        errs.push(field, format!("\"{name}\" must be 1 to 64 characters long"));
    } else if let Some(c) = name.chars().find(|&c| !ok_char(c)) {
        errs.push(field, format!("\"{name}\" contains {c:?}; names use only a-z, 0-9, '-', '_' and '.'"));
    }
}

fn check_url(field: &str, raw: &str, errs: &mut Errors) -> String {
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(e) => {
            errs.push(field, format!("\"{raw}\" is not an absolute URL ({e})"));
            return raw.to_string();
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        errs.push(field, format!("scheme \"{}\" is not allowed; use http or https", url.scheme()));
    } else if !url.username().is_empty() || url.password().is_some() {
        errs.push(field, "credentials in the URL (user:pass@) are not allowed; send them as a header naming a secret");
    } else if url.host().is_none() {
        errs.push(field, format!("\"{raw}\" has no host"));
    }
    url.to_string()
}

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

fn quorum(field: &str, raw: &RawQuorum, origins: usize, errs: &mut Errors) -> Quorum {
    match raw {
        RawQuorum::Count(n) => {
            match ranged(field, *n, 1, origins as i64, &format!("origins, at most the {origins} in this region"), errs)
            {
                Some(n) => Quorum::AtLeast(n as usize),
                None => Quorum::AtLeast(1),
            }
        }
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
    for (name, value) in raw {
        let path = format!("{field}.{name}");
        if name.is_empty() || !name.chars().all(is_tchar) {
            errs.push(path.clone(), format!("\"{name}\" is not a valid header name"));
        }
        let value = match value {
            RawHeader::Plain(v) => {
                if v.contains(['\r', '\n', '\0']) {
                    errs.push(path, "header values cannot contain CR, LF or NUL");
                }
                HeaderValue::Plain(v.clone())
            }
            RawHeader::Secret { secret } => {
                let ok = secret.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !ok {
                    errs.push(
                        format!("{path}.secret"),
                        format!("\"{secret}\" is not a secret name; use letters, digits and '_'"),
                    );
                }
                HeaderValue::Secret(secret.clone())
            }
        };
        out.push((name.clone(), value));
    }
    out
}
