//! `[[notify]]`: the validated channels ([`Channel`]) and their validation.
//! What a channel is sent, and when, is decided by [`crate::notify`].

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::check::{check_name, check_secret_name, check_url, opt_ranged, Errors};
use super::raw::RawChannel;
use super::{Named, Origin, Region};

/// The most `[[notify]]` channels a fleet may have: each is a row of notified
/// state and a queue of its own, delivered at most 6 at a time.
pub const MAX_CHANNELS: usize = 16;

/// Default for `timeout_ms`: one delivery attempt, connect to whole answer.
pub const DEFAULT_CHANNEL_TIMEOUT_MS: u32 = 5_000;
/// Default for `max_age_s`: how long a notification is retried, 24 h.
pub const DEFAULT_MAX_AGE_S: u32 = 86_400;
/// Default for `retry_max_s`: the longest wait between two attempts, 5 min.
pub const DEFAULT_RETRY_MAX_S: u32 = 300;
/// PagerDuty's Events API v2 (its EU service region is
/// `https://events.eu.pagerduty.com`).
pub const PAGERDUTY_BASE_URL: &str = "https://events.pagerduty.com";
/// The Cloudflare API v4.
pub const CLOUDFLARE_BASE_URL: &str = "https://api.cloudflare.com/client/v4";

/// One validated `[[notify]]` channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    /// Unique among channels; shown in the admin view and `/metrics`.
    pub name: String,
    pub kind: ChannelKind,
    /// What it is told about (for `cloudflare_pool`: only what it follows).
    pub covers: Covers,
    /// Which changes it is told (for `cloudflare_pool`: none; it follows readiness).
    pub events: Events,
    /// One delivery attempt's timeout, ms, from connecting to the answer's
    /// status line (a Cloudflare pool's `GET` and `PATCH` together, with the
    /// `GET`'s body). 100 to 30,000; not cut by the next round.
    pub timeout_ms: u32,
    /// How long a notification is retried before it is dropped, seconds.
    pub max_age_s: u32,
    /// The longest wait between two attempts, seconds (1 to 3,600); the
    /// backoff doubles from 1 s up to it. A `Retry-After` may ask longer.
    pub retry_max_s: u32,
}

/// A channel's kind and what it needs; every secret by its wrangler name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A JSON document of the round's changes, signed as Standard Webhooks says.
    Webhook { url_secret: String, signing_secret: String },
    /// A Slack incoming webhook (`text` and `blocks`).
    Slack { url_secret: String },
    /// A Discord webhook (`content` and `embeds`).
    Discord { url_secret: String },
    /// PagerDuty Events API v2: one incident per channel, triggered and resolved.
    PagerDuty { routing_key_secret: String, base_url: String },
    /// A Cloudflare Load Balancing pool (or one origin of it) enabled while
    /// `follows` is ready and disabled while it is not.
    CloudflarePool {
        api_token_secret: String,
        base_url: String,
        account_id: String,
        pool_id: String,
        /// The origin of the pool to set; `None` sets the pool itself.
        pool_origin: Option<String>,
        follows: Named,
    },
}

impl ChannelKind {
    /// The kind as written in `edgecheck.toml`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChannelKind::Webhook { .. } => "webhook",
            ChannelKind::Slack { .. } => "slack",
            ChannelKind::Discord { .. } => "discord",
            ChannelKind::PagerDuty { .. } => "pagerduty",
            ChannelKind::CloudflarePool { .. } => "cloudflare_pool",
        }
    }

    /// The names of the secrets it reads at run time.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            ChannelKind::Webhook { url_secret, signing_secret } => vec![url_secret, signing_secret],
            ChannelKind::Slack { url_secret } | ChannelKind::Discord { url_secret } => vec![url_secret],
            ChannelKind::PagerDuty { routing_key_secret, .. } => vec![routing_key_secret],
            ChannelKind::CloudflarePool { api_token_secret, .. } => vec![api_token_secret],
        }
    }
}

/// What a channel covers: the global view, regions and origins (indices into
/// [`super::Config::regions`] and [`super::Config::origins`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Covers {
    pub global: bool,
    pub regions: Vec<usize>,
    pub origins: Vec<usize>,
}

/// The changes a channel is told: to `down`, to `degraded`, to `up`
/// (a recovery, PagerDuty's resolve), and a vantage's (isolated, missing,
/// reporting again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Events {
    pub down: bool,
    pub degraded: bool,
    pub up: bool,
    pub vantage: bool,
}

impl Events {
    /// Whether a change to `status` (`up`, `degraded`, `down`, `drained`) is
    /// told; `drained` with `down`, since a drain takes a scope out of rotation.
    pub fn wants(&self, status: &str) -> bool {
        match status {
            // A drain takes its scope out of rotation: told where outages are.
            "down" | "drained" => self.down,
            "degraded" => self.degraded,
            "up" => self.up,
            _ => false,
        }
    }
}

const KINDS: &str = "webhook, slack, discord, pagerduty or cloudflare_pool";

/// Validates every `[[notify]]` entry against the fleet.
pub(super) fn channels(raw: &[RawChannel], regions: &[Region], origins: &[Origin], errs: &mut Errors) -> Vec<Channel> {
    if raw.len() > MAX_CHANNELS {
        errs.push("notify", format!("{} channels; at most {MAX_CHANNELS} are allowed", raw.len()));
    }
    let mut seen = BTreeSet::new();
    raw.iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let path = format!("notify[{i}]");
            check_name(&format!("{path}.name"), &c.name, errs);
            if !seen.insert(c.name.as_str()) {
                errs.push(format!("{path}.name"), format!("\"{}\" is already a channel's name", c.name));
            }
            channel(&path, c, regions, origins, errs)
        })
        .collect()
}

fn channel(path: &str, c: &RawChannel, regions: &[Region], origins: &[Origin], errs: &mut Errors) -> Option<Channel> {
    let field = |key: &str| format!("{path}.{key}");
    let kind = c.kind.as_str();
    // Which optional keys apply to which kind.
    let applies: &[&str] = match kind {
        "webhook" => &["url_secret", "signing_secret"],
        "slack" | "discord" => &["url_secret"],
        "pagerduty" => &["routing_key_secret", "base_url"],
        "cloudflare_pool" => &["api_token_secret", "base_url", "account_id", "pool_id", "pool_origin", "follows"],
        other => {
            errs.push(field("kind"), format!("unknown kind \"{other}\"; expected {KINDS}"));
            return None;
        }
    };
    let given: [(&str, bool); 10] = [
        ("url_secret", c.url_secret.is_some()),
        ("signing_secret", c.signing_secret.is_some()),
        ("routing_key_secret", c.routing_key_secret.is_some()),
        ("api_token_secret", c.api_token_secret.is_some()),
        ("base_url", c.base_url.is_some()),
        ("account_id", c.account_id.is_some()),
        ("pool_id", c.pool_id.is_some()),
        ("pool_origin", c.pool_origin.is_some()),
        ("follows", c.follows.is_some()),
        ("events", c.events.is_some() && kind == "cloudflare_pool"),
    ];
    for (key, set) in given {
        if set && !applies.contains(&key) {
            errs.push(field(key), format!("does not apply to kind = \"{kind}\""));
        }
    }
    let secret = |key: &str, value: &Option<String>, errs: &mut Errors| -> String {
        match value {
            Some(name) => {
                check_secret_name(&field(key), name, errs);
                name.clone()
            }
            None => {
                errs.push(
                    field(key),
                    format!("kind = \"{kind}\" needs {key}: the name of a wrangler secret (`wrangler secret put`)"),
                );
                String::new()
            }
        }
    };
    let base_url = |default: &str, errs: &mut Errors| match &c.base_url {
        // Paths are appended to it (`/v2/enqueue`, `/accounts/...`): kept without a trailing `/`.
        Some(url) => check_url(&field("base_url"), url, errs).trim_end_matches('/').to_string(),
        None => default.to_string(),
    };
    let kind = match kind {
        "webhook" => ChannelKind::Webhook {
            url_secret: secret("url_secret", &c.url_secret, errs),
            signing_secret: secret("signing_secret", &c.signing_secret, errs),
        },
        "slack" => ChannelKind::Slack { url_secret: secret("url_secret", &c.url_secret, errs) },
        "discord" => ChannelKind::Discord { url_secret: secret("url_secret", &c.url_secret, errs) },
        "pagerduty" => ChannelKind::PagerDuty {
            routing_key_secret: secret("routing_key_secret", &c.routing_key_secret, errs),
            base_url: base_url(PAGERDUTY_BASE_URL, errs),
        },
        _ => {
            let id = |key: &str, value: &Option<String>, errs: &mut Errors| -> String {
                let value = value.clone().unwrap_or_default();
                if value.len() != 32 || !value.chars().all(|ch| ch.is_ascii_hexdigit() && !ch.is_ascii_uppercase()) {
                    errs.push(
                        field(key),
                        format!("\"{value}\" is not a Cloudflare identifier (32 lowercase hex digits)"),
                    );
                }
                value
            };
            let follows = match c.follows.as_deref() {
                None => {
                    errs.push(field("follows"), "kind = \"cloudflare_pool\" needs follows: a region or an origin");
                    Named::Region(0)
                }
                Some(name) => match find(name, regions, origins) {
                    Some(named) => named,
                    None => {
                        errs.push(field("follows"), format!("\"{name}\" names no region or origin"));
                        Named::Region(0)
                    }
                },
            };
            if let Some(o) = &c.pool_origin {
                if o.is_empty() || o.len() > 256 || o.chars().any(char::is_control) {
                    errs.push(
                        field("pool_origin"),
                        "must be the name of one of the pool's origins (1 to 256 characters)",
                    );
                }
            }
            if c.global.is_some() || c.regions.is_some() || c.origins.is_some() {
                errs.push(
                    path,
                    "kind = \"cloudflare_pool\" follows one region or origin (follows); global, regions and origins do not apply",
                );
            }
            ChannelKind::CloudflarePool {
                api_token_secret: secret("api_token_secret", &c.api_token_secret, errs),
                base_url: base_url(CLOUDFLARE_BASE_URL, errs),
                account_id: id("account_id", &c.account_id, errs),
                pool_id: id("pool_id", &c.pool_id, errs),
                pool_origin: c.pool_origin.clone(),
                follows,
            }
        }
    };
    let covers = match &kind {
        ChannelKind::CloudflarePool { follows: Named::Region(r), .. } => {
            Covers { global: false, regions: vec![*r], origins: Vec::new() }
        }
        ChannelKind::CloudflarePool { follows: Named::Origin(o), .. } => {
            Covers { global: false, regions: Vec::new(), origins: vec![*o] }
        }
        _ => covers(path, c, regions, origins, errs),
    };
    let events = match &kind {
        ChannelKind::CloudflarePool { .. } => Events::default(),
        _ => events(path, c, &kind, errs),
    };
    Some(Channel {
        name: c.name.clone(),
        kind,
        covers,
        events,
        timeout_ms: opt_ranged(
            &field("timeout_ms"),
            c.timeout_ms,
            i64::from(DEFAULT_CHANNEL_TIMEOUT_MS),
            100,
            30_000,
            "ms",
            errs,
        ) as u32,
        max_age_s: opt_ranged(
            &field("max_age_s"),
            c.max_age_s,
            i64::from(DEFAULT_MAX_AGE_S),
            60,
            604_800,
            "seconds",
            errs,
        ) as u32,
        retry_max_s: opt_ranged(
            &field("retry_max_s"),
            c.retry_max_s,
            i64::from(DEFAULT_RETRY_MAX_S),
            1,
            3_600,
            "seconds",
            errs,
        ) as u32,
    })
}

fn find(name: &str, regions: &[Region], origins: &[Origin]) -> Option<Named> {
    regions
        .iter()
        .position(|r| r.name == name)
        .map(Named::Region)
        .or_else(|| origins.iter().position(|o| o.name == name).map(Named::Origin))
}

/// `global`, `regions` and `origins` (names, or `["*"]` for all); the global
/// view alone when none is given.
fn covers(path: &str, c: &RawChannel, regions: &[Region], origins: &[Origin], errs: &mut Errors) -> Covers {
    fn pick<T>(
        field: String,
        names: &Option<Vec<String>>,
        all: &[T],
        name_of: fn(&T) -> &str,
        what: &str,
        errs: &mut Errors,
    ) -> Vec<usize> {
        let Some(names) = names else { return Vec::new() };
        if names.is_empty() {
            errs.push(field, format!("an empty list; name {what}s, or \"*\" for all"));
            return Vec::new();
        }
        if names.iter().any(|n| n == "*") {
            if names.len() > 1 {
                errs.push(field, "\"*\" stands for all; list names or \"*\", not both");
            }
            return (0..all.len()).collect();
        }
        let mut out = Vec::new();
        for (i, name) in names.iter().enumerate() {
            match all.iter().position(|x| name_of(x) == name) {
                Some(at) if out.contains(&at) => {
                    errs.push(format!("{field}[{i}]"), format!("\"{name}\" is listed twice"))
                }
                Some(at) => out.push(at),
                None => errs.push(format!("{field}[{i}]"), format!("\"{name}\" names no {what}")),
            }
        }
        out
    }
    let regions = pick(format!("{path}.regions"), &c.regions, regions, |r| r.name.as_str(), "region", errs);
    let origins = pick(format!("{path}.origins"), &c.origins, origins, |o| o.name.as_str(), "origin", errs);
    let global = c.global.unwrap_or(c.regions.is_none() && c.origins.is_none());
    if !global && c.regions.is_none() && c.origins.is_none() {
        errs.push(format!("{path}.global"), "the channel covers nothing: set global = true, regions or origins");
    }
    Covers { global, regions, origins }
}

/// `events`: `down`, `degraded`, `up`, `vantage`; all of them by default
/// (PagerDuty: `down` and `degraded`, what opens its incident).
fn events(path: &str, c: &RawChannel, kind: &ChannelKind, errs: &mut Errors) -> Events {
    let pagerduty = matches!(kind, ChannelKind::PagerDuty { .. });
    let Some(list) = &c.events else {
        return Events { down: true, degraded: true, up: !pagerduty, vantage: !pagerduty };
    };
    if list.is_empty() {
        errs.push(
            format!("{path}.events"),
            "an empty list: the channel would be told nothing; name down, degraded, up or vantage",
        );
    }
    let mut events = Events::default();
    for (i, event) in list.iter().enumerate() {
        let flag = match event.as_str() {
            "down" => &mut events.down,
            "degraded" => &mut events.degraded,
            "up" | "vantage" if pagerduty => {
                errs.push(
                    format!("{path}.events[{i}]"),
                    format!(
                        "\"{event}\" does not apply to PagerDuty: its incident opens on down or degraded and is resolved when every scope it covers is up"
                    ),
                );
                continue;
            }
            "up" => &mut events.up,
            "vantage" => &mut events.vantage,
            other => {
                errs.push(
                    format!("{path}.events[{i}]"),
                    format!("unknown event \"{other}\"; expected down, degraded, up or vantage"),
                );
                continue;
            }
        };
        if *flag {
            errs.push(format!("{path}.events[{i}]"), format!("\"{event}\" is listed twice"));
        }
        *flag = true;
    }
    events
}
