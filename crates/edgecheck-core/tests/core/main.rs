//! Host tests of the pure core, one file per core module (`config.rs`,
//! `assertion.rs`, `classify.rs`, `aggregate.rs`, `http.rs`, `monitor.rs`, `uptime.rs`,
//! `schedule.rs`, `slo.rs`, `store.rs`, `latency.rs`, `vantages.rs`, `view.rs`, `detail.rs`, `dns.rs`, and
//! `surfaces.rs` for the renderers), plus `robust.rs` (properties that nothing
//! makes the core panic) and `bounds.rs` (every documented bound at its worst,
//! all at once, at the fleet limit). Each concern is a table of inputs and expected
//! outputs. This file holds the fleets and helpers they share.

use edgecheck_core::aggregate::{aggregate, Overall, Probe, Round};
use edgecheck_core::classify::{classify, judge, read_body, BodyHealth, Health, Outcome, Reason, Verdict};
use edgecheck_core::config::{parse_toml, Config, ConfigError, FleetDocumentError, Named, FLEET_DOCUMENT_HEADER};
use edgecheck_core::http::{dispatch, Dispatch, Extras, Incoming, Target, Variant};
use edgecheck_core::monitor::{advance, Kind, Snapshot};
use edgecheck_core::uptime::Uptimes;
use edgecheck_core::view::shown;
use proptest::prelude::*;

mod aggregate;
mod assertion;
mod bounds;
#[path = "../cases/config_errors.rs"]
mod cases;
mod classify;
mod config;
mod detail;
mod dns;
mod drain;
mod heartbeat;
mod http;
mod latency;
mod maintenance;
mod monitor;
mod notify;
mod publish;
mod robust;
mod schedule;
mod slo;
mod store;
mod surfaces;
mod tcp;
mod uptime;
mod vantages;
mod view;

use cases::BASE;

fn config(text: &str) -> Result<Config, Vec<ConfigError>> {
    let raw = parse_toml(text).map_err(|e| vec![e])?;
    Config::from_raw(&raw)
}

fn valid(text: &str) -> Config {
    config(text).unwrap_or_else(|errs| panic!("config should be valid: {errs:?}"))
}

/// The fleet limit: 10,000 regions of long names, one origin of a long name
/// in each, with `settings` (TOML lines) under `[settings]`.
fn fleet_limit(settings: &str) -> Config {
    let mut text = format!("[settings]\n{settings}");
    for i in 0..10_000 {
        text += &format!("[regions.region-with-a-long-name-{i:05}]\n");
    }
    for i in 0..10_000 {
        text += &format!(
            "[[origins]]\nname = \"origin-with-a-rather-long-name-{i:05}\"\nregion = \"region-with-a-long-name-{i:05}\"\nurl = \"https://o{i}.example.com/health\"\n"
        );
    }
    valid(&text)
}

const FLEET: &str = r#"
[settings]
min_regions_up = 2
[regions.east]
min_up = 2
[regions.west]
min_up = "majority"
[regions.south]
min_up = "all"
[[origins]]
name = "e1"
region = "east"
url = "https://e1.example.com/"
[[origins]]
name = "e2"
region = "east"
url = "https://e2.example.com/"
[[origins]]
name = "e3"
region = "east"
url = "https://e3.example.com/"
critical = true
[[origins]]
name = "w1"
region = "west"
url = "https://w1.example.com/"
[[origins]]
name = "w2"
region = "west"
url = "https://w2.example.com/"
[[origins]]
name = "w3"
region = "west"
url = "https://w3.example.com/"
[[origins]]
name = "s1"
region = "south"
url = "https://s1.example.com/"
"#;

/// Per origin: `u` up (200), `d` degraded (200, body), `x` down (503), and down
/// for network-class reasons: `t` timeout, `r` refused.
fn probes(codes: &str) -> Vec<Probe> {
    codes
        .chars()
        .map(|c| {
            let (health, reason, http_status) = match c {
                'u' => (Health::Up, Reason::Ok, Some(200)),
                'd' => (Health::Degraded, Reason::BodyDegraded, Some(200)),
                'x' => (Health::Down, Reason::StatusMismatch, Some(503)),
                't' => (Health::Down, Reason::Timeout, None),
                _ => (Health::Down, Reason::ConnectError, None),
            };
            Probe { verdict: Verdict { health, reason, http_status, condition: None }, latency_ms: Some(1) }
        })
        .collect()
}

fn healths(codes: &str) -> Vec<Health> {
    probes(codes).iter().map(|p| p.verdict.health).collect()
}

fn header<'a>(reply: &'a edgecheck_core::http::Reply, name: &str) -> Option<&'a str> {
    reply.header(name)
}

fn round(at_ms: u64, codes: &str) -> Round {
    Round { checked_at_ms: at_ms, duration_ms: 42, probes: probes(codes) }
}

const PAIR: &str = r#"
[settings]
max_stale_s = 60
[regions.r]
[[origins]]
name = "a"
region = "r"
url = "https://a.example.com/"
[[origins]]
name = "b"
region = "r"
url = "https://b.example.com/"
rise = 1
fall = 1
"#;

/// `degraded_after_ms` at every level of the config: `[settings]` 1000 ms,
/// region `fast` 300 ms, region `plain` none of its own, and origins with and
/// without their own (the most specific wins, larger or smaller):
///
/// | origin | region | own | threshold |
/// |---|---|---|---|
/// | `own` | fast | 100 | 100 |
/// | `roomy` | fast | 500 | 500 |
/// | `regional` | fast | — | 300 |
/// | `settled` | plain | — | 1000 |
/// | `wide` | plain | 1500 | 1500 |
/// | `head` (HEAD) | plain | — | 1000 |
/// | `job` (heartbeat) | plain | — | none |
const LEVELS: &str = r#"
[settings]
degraded_after_ms = 1000
[regions.fast]
degraded_after_ms = 300
[regions.plain]
[[origins]]
name = "own"
region = "fast"
url = "https://own.example.com/"
degraded_after_ms = 100
[[origins]]
name = "roomy"
region = "fast"
url = "https://roomy.example.com/"
degraded_after_ms = 500
[[origins]]
name = "regional"
region = "fast"
url = "https://regional.example.com/"
[[origins]]
name = "settled"
region = "plain"
url = "https://settled.example.com/"
[[origins]]
name = "wide"
region = "plain"
url = "https://wide.example.com/"
degraded_after_ms = 1500
[[origins]]
name = "head"
region = "plain"
url = "https://head.example.com/"
method = "HEAD"
[[origins]]
name = "job"
region = "plain"
kind = "heartbeat"
period_s = 60
grace_s = 30
token_secret = "JOB_TOKEN"
"#;

/// The origin called `name` in `c`.
fn named<'c>(c: &'c Config, name: &str) -> &'c edgecheck_core::config::Origin {
    c.origins().iter().find(|o| o.name == name).unwrap_or_else(|| panic!("no origin {name}"))
}
