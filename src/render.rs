//! Wire shapes of the public JSON documents, built from the domain view in one
//! place. Nothing here carries an origin's URL, host, address or raw error text:
//! the reason class is what the public gets.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use crate::aggregate::View;
use crate::classify::{Health, Reason};
use crate::config::Config;
use crate::monitor::{Change, Kind, Shown, Snapshot, Uptime};

/// `/live`: `{"status":"live"}`.
#[derive(Debug, Serialize)]
pub struct LiveDoc {
    pub status: &'static str,
}

/// `/ready`: `{"status":"ok|degraded|down","ready":bool}`.
#[derive(Debug, Serialize)]
pub struct ReadyDoc {
    pub status: &'static str,
    pub ready: bool,
}

/// `/ready/{region}`: `{"region":..,"status":"up|degraded|down","ready":bool}`.
#[derive(Debug, Serialize)]
pub struct RegionReadyDoc<'a> {
    pub region: &'a str,
    pub status: &'static str,
    pub ready: bool,
}

/// Uptime per window: `{"1h":{"up":0.999,"degraded":0.0005,"down":0.0005},"24h":..,"7d":..,"30d":..}`;
/// a window is `null` without data. Self-isolated rounds are not counted.
#[derive(Debug, Serialize)]
pub struct UptimeDoc {
    #[serde(rename = "1h")]
    pub h1: Option<Uptime>,
    #[serde(rename = "24h")]
    pub h24: Option<Uptime>,
    #[serde(rename = "7d")]
    pub d7: Option<Uptime>,
    #[serde(rename = "30d")]
    pub d30: Option<Uptime>,
}

/// Uptimes by origin or region name, in [`crate::monitor::Window::ALL`] order, as the monitor computed them.
pub type Uptimes = BTreeMap<String, [Option<Uptime>; 4]>;

/// `/health`: the whole view.
#[derive(Debug, Serialize)]
pub struct HealthDoc<'a> {
    /// `ok`, `degraded`, `down`, or `unknown` (no trustworthy round within `max_stale_s`).
    pub status: &'static str,
    pub ready: bool,
    /// RFC 3339, UTC, ms precision: when the last round started.
    pub checked_at: String,
    /// Seconds since `checked_at`.
    pub age_s: u64,
    /// True when the last round was self-isolated and the statuses are the last known.
    pub stale: bool,
    /// RFC 3339: when the global status last changed; `null` before the first.
    pub since: Option<String>,
    /// Wall time of the last round, ms.
    pub duration_ms: u64,
    pub origin_count: usize,
    pub region_count: usize,
    pub regions: BTreeMap<&'a str, RegionDoc<'a>>,
}

/// One region inside `/health`, and the body of `/health/{region}`.
#[derive(Debug, Serialize)]
pub struct RegionDoc<'a> {
    /// `up`, `degraded`, `down` or `unknown`.
    pub status: &'static str,
    pub ready: bool,
    /// RFC 3339: when the status last changed.
    pub since: Option<String>,
    /// Origins up (damped).
    pub up: usize,
    pub degraded: usize,
    pub down: usize,
    pub total: usize,
    /// Origins that must be up or degraded for the region not to be down.
    pub min_up: usize,
    pub uptime: UptimeDoc,
    pub origins: Vec<OriginDoc<'a>>,
}

/// One origin: the damped `status` with `since` and `uptime`, and the raw last
/// probe (`probe_status`, `reason`, `http_status`, `latency_ms`).
#[derive(Debug, Serialize)]
pub struct OriginDoc<'a> {
    pub name: &'a str,
    /// Damped by rise/fall: `up`, `degraded`, `down`, or `unknown` before any
    /// trustworthy round.
    pub status: &'static str,
    /// RFC 3339: when `status` last changed.
    pub since: Option<String>,
    /// The last probe's own status, before hysteresis.
    pub probe_status: &'static str,
    /// The last probe's reason class, e.g. `ok`, `timeout`, `body_degraded`.
    pub reason: &'static str,
    /// `null` when no response headers arrived.
    pub http_status: Option<u16>,
    /// `null` when no request was sent (skipped).
    pub latency_ms: Option<u64>,
    pub critical: bool,
    pub uptime: UptimeDoc,
}

/// `/health/{region}`.
#[derive(Debug, Serialize)]
pub struct NamedRegionDoc<'a> {
    pub region: &'a str,
    pub checked_at: String,
    pub stale: bool,
    #[serde(flatten)]
    pub detail: RegionDoc<'a>,
}

/// `/health/{origin}`.
#[derive(Debug, Serialize)]
pub struct NamedOriginDoc<'a> {
    pub region: &'a str,
    pub checked_at: String,
    pub stale: bool,
    #[serde(flatten)]
    pub detail: OriginDoc<'a>,
}

/// `/history` and `/history/{name}`: recorded status changes, newest first.
#[derive(Debug, Serialize)]
pub struct HistoryDoc<'a> {
    pub changes: Vec<ChangeDoc<'a>>,
}

/// One status change.
#[derive(Debug, Serialize)]
pub struct ChangeDoc<'a> {
    /// RFC 3339.
    pub at: String,
    /// `origin`, `region` or `global`.
    pub kind: Kind,
    /// `null` for the global view.
    pub name: Option<&'a str>,
    /// `null` for a first status.
    pub from: Option<&'a str>,
    pub to: &'a str,
    /// For origins: the reason class of the probe that made the change.
    pub reason: Option<&'static str>,
}

/// An error answer: `{"error":"not_found","message":..}`.
#[derive(Debug, Serialize)]
pub struct ErrorDoc {
    pub error: &'static str,
    pub message: String,
}

/// Formats ms since the Unix epoch as RFC 3339 in UTC, e.g. `2026-11-21T04:25:35.120Z`.
pub fn rfc3339(unix_ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(unix_ms)).to_string()
}

/// Uptimes of `name`, in [`crate::monitor::Window::ALL`] order.
fn uptime_doc(uptimes: &Uptimes, name: &str) -> UptimeDoc {
    let [h1, h24, d7, d30] = uptimes.get(name).copied().unwrap_or([None; 4]);
    UptimeDoc { h1, h24, d7, d30 }
}

/// The `/health` document.
pub fn health<'a>(config: &'a Config, snap: &Snapshot, uptimes: &Uptimes) -> HealthDoc<'a> {
    let shown = snap.shown(config);
    let view = snap.view(config);
    let state = snap.state;
    HealthDoc {
        status: shown.as_str(),
        ready: shown != Shown::Unknown && view.ready,
        checked_at: rfc3339(state.checked_at_ms),
        age_s: snap.age_s(),
        stale: snap.stale(),
        since: state.overall.map(|t| rfc3339(t.since_ms)),
        duration_ms: state.duration_ms,
        origin_count: config.origins.len(),
        region_count: config.regions.len(),
        regions: config
            .regions
            .iter()
            .enumerate()
            .map(|(r, region)| (region.name.as_str(), region_doc(config, r, snap, &view, uptimes)))
            .collect(),
    }
}

/// The part of `/health` for region `r`.
pub fn region_doc<'a>(config: &'a Config, r: usize, snap: &Snapshot, view: &View, uptimes: &Uptimes) -> RegionDoc<'a> {
    let region = &config.regions[r];
    let rv = &view.regions[r];
    let unknown = snap.shown(config) == Shown::Unknown;
    RegionDoc {
        status: if unknown { "unknown" } else { rv.health.as_str() },
        ready: !unknown && rv.ready,
        since: snap.state.regions.get(&region.name).map(|t| rfc3339(t.since_ms)),
        up: rv.up,
        degraded: rv.degraded,
        down: rv.down,
        total: rv.total,
        min_up: rv.needed,
        uptime: uptime_doc(uptimes, &region.name),
        origins: region.origins.iter().map(|&i| origin_doc(config, i, snap, uptimes)).collect(),
    }
}

/// The part of `/health` for origin `i`.
pub fn origin_doc<'a>(config: &'a Config, i: usize, snap: &Snapshot, uptimes: &Uptimes) -> OriginDoc<'a> {
    let origin = &config.origins[i];
    let track = snap.state.origins.get(&origin.name);
    let last = track.map(|t| t.last.verdict);
    OriginDoc {
        name: &origin.name,
        status: track.and_then(|t| t.health).map_or("unknown", Health::as_str),
        since: track.filter(|t| t.health.is_some()).map(|t| rfc3339(t.since_ms)),
        probe_status: last.map_or("unknown", |v| v.health.as_str()),
        reason: last.map_or("skipped", |v| v.reason.as_str()),
        http_status: last.and_then(|v| v.http_status),
        latency_ms: track.and_then(|t| t.last.latency_ms),
        critical: origin.critical,
        uptime: uptime_doc(uptimes, &origin.name),
    }
}

/// The `/history` document for `changes` (already newest first).
pub fn history(changes: &[Change]) -> HistoryDoc<'_> {
    HistoryDoc {
        changes: changes
            .iter()
            .map(|c| ChangeDoc {
                at: rfc3339(c.at_ms),
                kind: c.kind,
                name: (!c.name.is_empty()).then_some(c.name.as_str()),
                from: c.from.as_deref(),
                to: &c.to,
                reason: c.reason.map(Reason::as_str),
            })
            .collect(),
    }
}
