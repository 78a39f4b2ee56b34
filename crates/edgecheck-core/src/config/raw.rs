//! The raw shape of `edgecheck.toml`: what the user wrote, every key optional
//! where the file may omit it (ripgrep's `LowArgs`). [`parse_toml`] reads the
//! text; `validate` turns the result into a [`super::Config`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ConfigError;

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
    /// `[[notify]]`: where changes are sent.
    #[serde(default)]
    pub notify: Vec<RawChannel>,
    /// `[[maintenance]]`: planned windows ([`crate::maintenance`]).
    #[serde(default)]
    pub maintenance: Vec<RawMaintenance>,
    /// `[[slo]]`: objectives and their burn-rate alerts ([`super::slo`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slo: Vec<RawSlo>,
}

/// One `[[slo]]` objective as written: a `name`, a scope (`origin =
/// "<name>"`, `region = "<name>"`, or neither for the whole fleet), an
/// `objective` in percent, a rolling `window_days`, the statuses that count
/// as `bad`, the `channels` told of its alerts and, optionally, its own
/// `[[slo.alerts]]` instead of the default pairs.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    pub name: String,
    pub origin: Option<String>,
    pub region: Option<String>,
    pub objective: f64,
    pub window_days: Option<i64>,
    pub bad: Option<Vec<String>>,
    pub channels: Option<Vec<String>>,
    pub alerts: Option<Vec<RawBurnAlert>>,
}

/// One `[[slo.alerts]]` pair as written: `severity` (`"page"` or
/// `"ticket"`), `long_window` and `short_window` (durations: `"1h"`,
/// `"5m"`, `"30s"`) and the `burn_rate` both must be over.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawBurnAlert {
    pub severity: String,
    pub long_window: String,
    pub short_window: String,
    pub burn_rate: f64,
}

/// One `[[maintenance]]` window as written: a scope (`regions`, `origins`;
/// neither is the whole fleet), a reason, and either `start` and `end`
/// (RFC 3339, UTC, quoted) or `weekly`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaintenance {
    pub id: String,
    pub reason: String,
    pub regions: Option<Vec<String>>,
    pub origins: Option<Vec<String>>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub weekly: Option<RawWeekly>,
}

/// `weekly = { days = ["sun"], start = "02:00", minutes = 60 }`: every week on
/// `days` (`mon` … `sun`) from `start` (`HH:MM`, UTC) for `minutes`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeekly {
    pub days: Vec<String>,
    pub start: String,
    pub minutes: i64,
}

/// One `[[notify]]` channel as written. Secrets are named (`*_secret`: the
/// name of a wrangler secret), never written in the file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawChannel {
    pub name: String,
    pub kind: String,
    pub url_secret: Option<String>,
    pub signing_secret: Option<String>,
    pub routing_key_secret: Option<String>,
    pub api_token_secret: Option<String>,
    pub base_url: Option<String>,
    pub account_id: Option<String>,
    pub pool_id: Option<String>,
    pub pool_origin: Option<String>,
    pub follows: Option<String>,
    pub global: Option<bool>,
    pub regions: Option<Vec<String>>,
    pub origins: Option<Vec<String>>,
    pub events: Option<Vec<String>>,
    pub timeout_ms: Option<i64>,
    pub max_age_s: Option<i64>,
    pub retry_max_s: Option<i64>,
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
    pub vantages: Option<Vec<String>>,
    pub vantage_quorum: Option<RawQuorum>,
    pub shard_size: Option<i64>,
    /// ms: an answer otherwise up but slower than this is `degraded` (`slow`),
    /// for origins without their own or their region's.
    pub degraded_after_ms: Option<i64>,
}

/// `[regions.<name>]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub min_up: Option<RawQuorum>,
    /// ms: the slow threshold of the region's origins without their own.
    pub degraded_after_ms: Option<i64>,
}

/// `min_up`: a number, `"majority"` or `"all"`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawQuorum {
    Count(i64),
    Word(String),
}

/// One `[[origins]]` entry: a probed origin (`kind = "http"`, the default,
/// with a `url`), a heartbeat check (`kind = "heartbeat"`, with `period_s`,
/// `grace_s` and `token_secret` instead of the probe's keys) or a DNS check
/// (`kind = "dns"`, with `query`, `record`, `resolver` and `expect` instead of
/// the request's keys).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrigin {
    pub name: String,
    pub region: String,
    /// `"http"` (probed, the default), `"tcp"` (a TCP connect), `"dns"`
    /// (resolved over DNS over HTTPS) or `"heartbeat"` (pushed pings).
    pub kind: Option<String>,
    /// Required for a probed origin; refused on a heartbeat check.
    pub url: Option<String>,
    /// A heartbeat check: seconds expected between successful pings.
    pub period_s: Option<i64>,
    /// A heartbeat check: seconds a ping may be late before the check is down.
    pub grace_s: Option<i64>,
    /// A heartbeat check: the wrangler secret holding its ping token.
    pub token_secret: Option<String>,
    /// A TCP check: `"host:port"` to connect to ([`super::tcp`]).
    pub target: Option<String>,
    /// A TCP check: bytes to write once connected.
    pub send: Option<String>,
    /// A TCP check: the bytes the reply must start with.
    pub expect_reply: Option<String>,
    /// A TCP check: whether a TLS handshake is part of it.
    pub tls: Option<bool>,
    pub method: Option<String>,
    pub expect_status: Option<Vec<RawStatus>>,
    pub timeout_ms: Option<i64>,
    pub critical: Option<bool>,
    pub rise: Option<i64>,
    pub fall: Option<i64>,
    #[serde(default)]
    pub headers: BTreeMap<String, RawHeader>,
    pub format: Option<String>,
    /// ms: an answer otherwise up but slower than this is `degraded` (`slow`).
    pub degraded_after_ms: Option<i64>,
    /// `[[origins.conditions]]`: assertions on the answer ([`super::condition`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<RawCondition>,
    /// A DNS check: the name to resolve.
    pub query: Option<String>,
    /// A DNS check: the record type (`A`, `AAAA`, `CNAME`, `MX`, `TXT`, `NS`,
    /// `SOA`, in any case).
    pub record: Option<String>,
    /// A DNS check: the DNS over HTTPS resolver's URL.
    pub resolver: Option<String>,
    /// A DNS check: values that must be among the answers.
    pub expect: Option<Vec<String>>,
}

/// One `[[origins.conditions]]` entry as written: a `name`, one subject
/// (`status = true`, `header = "<name>"`, `body = true` or `json =
/// "<JSONPath>"`), an `op`, a `value` (none for `exists`) and what it `fails`
/// to (`"down"`, the default, or `"degraded"`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    pub name: String,
    pub status: Option<bool>,
    pub header: Option<String>,
    pub body: Option<bool>,
    pub json: Option<String>,
    pub op: Option<String>,
    pub value: Option<RawValue>,
    pub fails: Option<String>,
}

/// A condition's `value`: a boolean, an integer, a float or a string.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(String),
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

/// Parses the text of `edgecheck.toml`. Syntax and type errors name their field
/// path (`origins[3].timeout_ms`) where there is one. Run by `build.rs`: the worker embeds
/// the validated config, so TOML never reaches the wasm bundle.
pub fn parse_toml(text: &str) -> Result<RawConfig, ConfigError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ConfigError { field: "(syntax)".into(), message: e.to_string() })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let message = e.into_inner().message().to_string();
        ConfigError { field: if field == "." { "(top level)".into() } else { field }, message }
    })
}
