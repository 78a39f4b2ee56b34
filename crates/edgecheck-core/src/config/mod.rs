//! Fleet configuration, in three parts:
//!
//! - this module: the validated model ([`Config`]), in which every invariant
//!   already holds, with its defaults and limits;
//! - [`raw`]: the shape of `edgecheck.toml` as written ([`RawConfig`]) and
//!   [`parse_toml`];
//! - `validate`: [`Config::from_raw`], which builds the model or returns every
//!   problem at once, each naming its field path (`origins[3].url`), with
//!   `check` (the checks of one value, shared by every part of validation),
//!   `notify` (`[[notify]]`) and `maintenance` (`[[maintenance]]`),
//!   [`window`], the maintenance windows those declare, [`condition`],
//!   what an origin's `[[origins.conditions]]` are and their checks,
//!   [`tcp`], a TCP check's keys, and [`slo`], the `[[slo]]` objectives.
//!
//! Two stages, as in ripgrep's `LowArgs` / `HiArgs`. `edgecheck check` runs
//! both at deploy time and writes the validated `Config` as a fleet document
//! ([`Config::fleet_document`]) that the worker reads; nothing downstream
//! re-checks.

use std::fmt;

mod check;
pub mod condition;
mod maintenance;
mod notify;
mod origin;
mod raw;
mod settings;
pub mod slo;
pub mod tcp;
mod validate;
pub mod window;

pub use condition::{Condition, ConditionName};
pub use notify::{Channel, ChannelKind, Covers, Events, MAX_CHANNELS};
pub use raw::{
    parse_toml, RawBurnAlert, RawChannel, RawCondition, RawConfig, RawHeader, RawMaintenance, RawOrigin, RawQuorum,
    RawRegion, RawSettings, RawSlo, RawStatus, RawValue, RawWeekly,
};
pub use slo::{BurnAlert, Severity, Slo};
pub use tcp::TcpCheck;

use serde::{Deserialize, Serialize};

use crate::dns::RecordType;

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
/// Durable Object requests a day on the Workers Free plan.
pub const FREE_PLAN_DURABLE_OBJECT_REQUESTS: u64 = 100_000;
/// The most origins one prober covers in a round: a tenth of the Paid plan's
/// 10,000 subrequests per invocation, and the largest prober the end-to-end
/// tests run (`a_thousand_origin_round_keeps_descriptors_flat`, where workerd's
/// descriptors stay flat through the round). `settings.shard_size` is at most
/// this, and a larger fleet without it is refused, naming the setting.
pub const MAX_ORIGINS: usize = 1_000;

// ---------------------------------------------------------------------------
// Validated: what the program uses.
// ---------------------------------------------------------------------------

/// A validated fleet. Invariants: names are unique across regions and origins;
/// every origin's region exists; every region has at least one origin; every
/// quorum can be met; timeouts fit inside the deadline.
///
/// Sealed: made only by [`Config::from_raw`] (validation), or read back from
/// the fleet document `edgecheck check` wrote of one
/// ([`Config::from_fleet_document`]); its
/// fields are private and read through [`Config::settings`],
/// [`Config::regions`] and [`Config::origins`], so nothing downstream can
/// change, or has to re-check, a validated value. It serializes into the
/// fleet document; the worker never parses or validates user input at run
/// time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    settings: Settings,
    /// Regions in name order.
    regions: Vec<Region>,
    /// The probed origins in file order (the order in which probes are
    /// started), then the heartbeat checks in file order.
    origins: Vec<Origin>,
    /// `[[notify]]` channels in file order.
    channels: Vec<Channel>,
    /// `[[maintenance]]` windows in file order.
    maintenance: Vec<window::Window>,
    /// `[[slo]]` objectives in file order; left out of the fleet document
    /// when there are none, so a fleet without them keeps its digest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    slos: Vec<Slo>,
    /// How many of `origins` are probed (the rest are heartbeat checks).
    #[serde(skip)]
    probed: usize,
}

/// The shape of a [`Config`]'s JSON, read only by [`Config::from_fleet_document`].
#[derive(Deserialize)]
struct Embedded {
    settings: Settings,
    regions: Vec<Region>,
    origins: Vec<Origin>,
    #[serde(default)]
    channels: Vec<Channel>,
    #[serde(default)]
    maintenance: Vec<window::Window>,
    #[serde(default)]
    slos: Vec<Slo>,
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
    /// Where the fleet is probed from: one prober per vantage and shard. From
    /// `settings.vantages`; by default one vantage, `default`, without a
    /// location hint.
    pub vantages: Vec<Vantage>,
    /// How many voting vantages must see an origin failing for it to fail:
    /// `settings.vantage_quorum` (a number, `"majority"` or `"all"`, default
    /// `"majority"`) resolved against the vantage count.
    pub vantage_quorum: usize,
    /// Origins one prober probes in a round (`settings.shard_size`; by default
    /// the whole fleet, at most [`MAX_ORIGINS`]).
    pub shard_size: usize,
    /// The slow threshold in ms (`settings.degraded_after_ms`) of the origins
    /// without their own or their region's ([`Origin::degraded_after_ms`]);
    /// `None` (the default): no threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded_after_ms: Option<u32>,
}

/// One vantage: where probers run. `name` is the location hint when there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vantage {
    /// The name in `/health`, `/history` and the `x-edgecheck-vantage` header.
    pub name: String,
    /// The Durable Object location hint (`enam`, `weur`, ...); `None` lets
    /// Cloudflare place the probers. A hint is a hint, not a guarantee.
    pub hint: Option<String>,
}

/// The Durable Object location hints a vantage may name (Cloudflare's
/// `locationHint` values).
pub const LOCATION_HINTS: [&str; 9] = ["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"];

/// The vantage name used when `settings.vantages` is not set.
pub const DEFAULT_VANTAGE: &str = "default";

/// The most origins a fleet may have, whatever its shards.
pub const MAX_FLEET: usize = 10_000;

/// The start of a fleet document's first line; the digest follows it.
pub const FLEET_DOCUMENT_HEADER: &str = "edgecheck-fleet/1 sha256=";

/// Why a fleet document cannot be used ([`Config::from_fleet_document`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetDocumentError {
    /// The first line is not `edgecheck-fleet/1 sha256=<digest>`.
    NoHeader,
    /// The JSON's SHA-256 is not the one its header claims: the document was
    /// changed after `edgecheck check` wrote it.
    DigestMismatch { claimed: String, actual: String },
    /// The digest matches but the JSON is not a config of this version.
    NotAConfig(String),
}

impl fmt::Display for FleetDocumentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FleetDocumentError::NoHeader => {
                write!(f, "the fleet document has no \"{FLEET_DOCUMENT_HEADER}<digest>\" line; write it with `edgecheck check --out`")
            }
            FleetDocumentError::DigestMismatch { claimed, actual } => write!(
                f,
                "the fleet document was changed after it was checked: its header says sha256 {claimed:?}, its content is {actual}; run `edgecheck check --out` again"
            ),
            FleetDocumentError::NotAConfig(e) => {
                write!(f, "the fleet document is not a config of this edgecheck version ({e}); run `edgecheck check --out` with this version")
            }
        }
    }
}

/// SHA-256 of `bytes` as 64 lowercase hex digits.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut hex, b| {
        use fmt::Write;
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

impl Config {
    /// The fleet document `edgecheck check --out` writes and the worker reads
    /// when its isolate starts: one header line, [`FLEET_DOCUMENT_HEADER`]
    /// followed by the SHA-256 (FIPS 180-4) of the rest as 64 lowercase hex
    /// digits, a line feed, then this config's JSON (its `serde_json`
    /// serialization, one line). The digest is the fleet's identity in cache
    /// keys, reports and `/history`'s config changes.
    pub fn fleet_document(&self) -> String {
        let json = serde_json::to_string(self).expect("a Config serializes");
        format!("{FLEET_DOCUMENT_HEADER}{}\n{json}", sha256_hex(json.as_bytes()))
    }

    /// Reads a [`Config::fleet_document`] back: the config and its digest (64
    /// hex digits). The JSON is trusted as the check's output once its digest
    /// matches, not validated again (the worker carries no validation code).
    ///
    /// Errors: [`FleetDocumentError`], when the text has no header line, the
    /// digest differs from the JSON's (the document was changed after the
    /// check), or the JSON is not a config's.
    pub fn from_fleet_document(text: &str) -> Result<(Config, String), FleetDocumentError> {
        let (header, json) = text.split_once('\n').ok_or(FleetDocumentError::NoHeader)?;
        let claimed = header.strip_prefix(FLEET_DOCUMENT_HEADER).ok_or(FleetDocumentError::NoHeader)?;
        let actual = sha256_hex(json.as_bytes());
        if claimed != actual {
            return Err(FleetDocumentError::DigestMismatch { claimed: claimed.chars().take(64).collect(), actual });
        }
        let Embedded { settings, regions, origins, channels, maintenance, slos } =
            serde_json::from_str(json).map_err(|e| FleetDocumentError::NotAConfig(e.to_string()))?;
        Ok((Config::new(settings, regions, origins, channels, maintenance, slos), actual))
    }

    /// The one assembly of a `Config`: counts the probed origins, which come
    /// first (validation orders them so).
    fn new(
        settings: Settings,
        regions: Vec<Region>,
        origins: Vec<Origin>,
        channels: Vec<Channel>,
        maintenance: Vec<window::Window>,
        slos: Vec<Slo>,
    ) -> Config {
        let probed = origins.iter().take_while(|o| o.heartbeat.is_none()).count();
        Config { settings, regions, origins, channels, maintenance, slos, probed }
    }

    /// `[settings]` with defaults applied and quorums resolved.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Regions in name order.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// Every origin: the probed ones in file order (the order in which probes
    /// are started), then the heartbeat checks in file order.
    pub fn origins(&self) -> &[Origin] {
        &self.origins
    }

    /// How many origins are probed: `origins()[..probed()]`; the rest are
    /// heartbeat checks, which no prober sees (they are in no shard).
    pub fn probed(&self) -> usize {
        self.probed
    }

    /// `[[notify]]` channels in file order.
    pub fn channels(&self) -> &[Channel] {
        &self.channels
    }

    /// `[[maintenance]]` windows in file order ([`crate::maintenance`]).
    pub fn maintenance(&self) -> &[window::Window] {
        &self.maintenance
    }

    /// `[[slo]]` objectives in file order ([`crate::slo`]).
    pub fn slos(&self) -> &[Slo] {
        &self.slos
    }

    /// Shards of the fleet: ⌈probed origins / shard_size⌉ (`shard_size` is at
    /// least 1); heartbeat checks are in none.
    pub fn shard_count(&self) -> usize {
        self.probed.div_ceil(self.settings.shard_size)
    }

    /// The origin indices of shard `shard` (empty for a shard outside the
    /// probed origins).
    pub fn shard(&self, shard: usize) -> std::ops::Range<usize> {
        let size = self.settings.shard_size;
        let start = shard.saturating_mul(size).min(self.probed);
        start..start.saturating_add(size).min(self.probed)
    }

    /// Every prober as `(vantage, shard)`, vantage by vantage.
    pub fn probers(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (0..self.settings.vantages.len()).flat_map(move |v| (0..self.shard_count()).map(move |s| (v, s)))
    }
}

/// One region: its quorum and the indices of its origins in [`Config::origins`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub name: String,
    /// Origins that must be up or degraded for the region not to be down:
    /// `min_up` (a number, `"majority"` or `"all"`, default 1) resolved at
    /// build time against the region's origin count.
    pub min_up: usize,
    pub origins: Vec<usize>,
    /// The slow threshold in ms (`regions.<name>.degraded_after_ms`) of the
    /// region's origins without their own; `None`: the settings' applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded_after_ms: Option<u32>,
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

/// One origin: a health endpoint that probers probe, a DNS check (`dns` is
/// `Some`) that probers resolve through a DoH resolver, or a heartbeat check
/// (`heartbeat` is `Some`) that reports by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    pub name: String,
    /// Index into [`Config::regions`].
    pub region: usize,
    /// An absolute http(s) URL without credentials. Never shown to the public.
    /// Empty for a heartbeat check; for a DNS check, its resolver's URL with
    /// the query ([`crate::dns::doh_url`]).
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
    /// The slow threshold in ms, below `timeout_ms`: an answer that is
    /// otherwise `up` but whose latency (from sending the request to the end
    /// of the body) is over it is `degraded` with reason `slow`, judged by each
    /// vantage of its own probe ([`crate::classify::judge`]). The origin's own
    /// `degraded_after_ms`, else its region's, else `[settings]`'s; `None`
    /// when none is set, and for a heartbeat check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degraded_after_ms: Option<u32>,
    /// Assertions on the answer, in file order (`[[origins.conditions]]`,
    /// [`crate::assertion`]); empty for a heartbeat check.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// `Some` for a heartbeat check (`kind = "heartbeat"`): judged from the
    /// pings it receives, never probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<Heartbeat>,
    /// `Some` for a TCP check (`kind = "tcp"`): probed with a TCP connect
    /// instead of an HTTP request; `url` is then its [`TcpCheck::address`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpCheck>,
    /// `Some` for a DNS check (`kind = "dns"`): probed as any origin, through
    /// the request config built from it (`url` is the resolver's with the
    /// query, RFC 8484), and its answer read as a DNS message
    /// ([`crate::dns`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsCheck>,
}

/// A DNS check's question and what its answer must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsCheck {
    /// The name asked about, in [`crate::dns::normal_name`] form (lower case,
    /// no trailing dot). Never shown to the public.
    pub query: String,
    /// The record type asked for.
    pub record: RecordType,
    /// The DNS over HTTPS resolver's URL, as configured (default
    /// [`crate::dns::DEFAULT_RESOLVER`]). Never shown to the public.
    pub resolver: String,
    /// Values that must all be among the answers, in the form
    /// [`crate::dns::Data::value`] gives them; empty: any answer will do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<String>,
}

/// A heartbeat check's rule, as Healthchecks.io's: up while its last
/// successful ping is at most `period_s` + `grace_s` old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Seconds expected between successful pings, 1 to [`MAX_HEARTBEAT_S`].
    pub period_s: u32,
    /// Seconds a ping may be late before the check is down, 0 to [`MAX_HEARTBEAT_S`].
    pub grace_s: u32,
    /// The wrangler secret holding the token a ping must carry.
    pub token_secret: String,
}

/// The most `expect` values of a DNS check.
pub const MAX_DNS_EXPECT: usize = 16;
/// The longest `expect` value of a DNS check, in bytes (a TXT record's
/// strings concatenated can be longer; such a value is compared whole).
pub const MAX_DNS_VALUE_BYTES: usize = 1024;

/// The longest `period_s` and `grace_s` of a heartbeat check: 31 days, in seconds.
pub const MAX_HEARTBEAT_S: u32 = 31 * 24 * 3600;

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
    /// Ignore the body's health format; judge by status code alone (and by
    /// the origin's conditions, which are judged whatever the format).
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

/// A field and what is wrong with it, the one shape of such errors: a
/// problem in the file ([`ConfigError`]) or in an operator request's body (a
/// drain's or a maintenance window's: the field is the body's key, or `body`).
pub type FieldError = ConfigError;

impl ConfigError {
    /// The problem `message` with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError { field: field.into(), message: message.into() }
    }
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

impl Config {
    /// Settings that are valid but likely to surprise: probes that will be
    /// `skipped` even when every origin answers within its timeout, and fleets
    /// larger than the Free plan's subrequest limit.
    pub fn warnings(&self) -> Vec<ConfigWarning> {
        let mut out = Vec::new();
        let s = &self.settings;
        // Per prober: its shard in waves of max_in_flight, each as long as the
        // shard's longest timeout, against the deadline every prober has.
        let worst = (0..self.shard_count())
            .map(|shard| {
                let origins = &self.origins[self.shard(shard)];
                let waves = origins.len().div_ceil(s.max_in_flight) as u64;
                let slowest = origins.iter().map(|o| u64::from(o.timeout_ms)).max().unwrap_or(0);
                (waves * slowest, shard, origins.len(), slowest)
            })
            .max();
        if let Some((need, shard, size, slowest)) = worst.filter(|w| w.0 > u64::from(s.deadline_ms)) {
            let which = if self.shard_count() > 1 { format!("shard {shard} has ") } else { String::new() };
            out.push(ConfigWarning {
                field: "settings.deadline_ms".into(),
                message: format!(
                    "{which}{size} origins, probed in waves of {} with timeouts up to {slowest} ms: they need up to {need} ms; probes not started within {} ms are reported as skipped (a smaller shard_size or shorter timeouts fix it)",
                    s.max_in_flight, s.deadline_ms
                ),
            });
        }
        // One prober's invocation: its shard's probes, the canary and the report to the monitor.
        let per_prober = self.settings.shard_size.min(self.probed) + usize::from(s.canary.is_some()) + 1;
        if per_prober > FREE_PLAN_SUBREQUESTS {
            out.push(ConfigWarning {
                field: "settings.shard_size".into(),
                message: format!(
                    "a prober makes {per_prober} subrequests per round (its shard's probes, the canary and its report), more than the {} per invocation the Workers Free plan allows (Paid allows 10,000); shard_size = {} keeps every prober inside it",
                    FREE_PLAN_SUBREQUESTS,
                    FREE_PLAN_SUBREQUESTS - 1 - usize::from(s.canary.is_some())
                ),
            });
        }
        // Billed Durable Object requests: per round the monitor's alarm and,
        // per prober, its call, its alarm and its report (ARCHITECTURE.md, "Cost").
        let probers = (s.vantages.len() * self.shard_count()) as u64;
        let per_day = (3 * probers + 1) * (86_400 / u64::from(s.refresh_s));
        if per_day > FREE_PLAN_DURABLE_OBJECT_REQUESTS {
            out.push(ConfigWarning {
                field: "settings.refresh_s".into(),
                message: format!(
                    "{probers} probers every {} s make about {per_day} Durable Object requests a day, more than the {FREE_PLAN_DURABLE_OBJECT_REQUESTS} the Workers Free plan allows (the Paid plan bills them); fewer vantages or shards, or a longer refresh_s, cut it",
                    s.refresh_s
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

/// What a name in a path refers to: an index into [`Config::regions`] or
/// [`Config::origins`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Named {
    Region(usize),
    Origin(usize),
}
