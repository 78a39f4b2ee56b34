//! Wire shapes of the public JSON documents, built from the domain view in one
//! place. Nothing here carries an origin's URL, host, address or raw error text:
//! the reason class is what the public gets.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use crate::aggregate::{Probe, RegionView, Round, View};
use crate::config::Config;

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

/// `/health`: the whole view.
#[derive(Debug, Serialize)]
pub struct HealthDoc<'a> {
    /// `ok`, `degraded` or `down`.
    pub status: &'static str,
    pub ready: bool,
    /// RFC 3339, UTC, ms precision: when the round started.
    pub checked_at: String,
    /// Wall time of the fan-out, ms.
    pub duration_ms: u64,
    pub origin_count: usize,
    pub region_count: usize,
    pub regions: BTreeMap<&'a str, RegionDoc<'a>>,
}

/// One region inside `/health`, and the body of `/health/{region}`.
#[derive(Debug, Serialize)]
pub struct RegionDoc<'a> {
    /// `up`, `degraded` or `down`.
    pub status: &'static str,
    pub ready: bool,
    /// Origins up.
    pub up: usize,
    pub degraded: usize,
    pub down: usize,
    pub total: usize,
    /// Origins that must be up or degraded for the region not to be down.
    pub min_up: usize,
    pub origins: Vec<OriginDoc<'a>>,
}

/// One origin: `{name, status, reason, http_status, latency_ms, critical}`.
#[derive(Debug, Serialize)]
pub struct OriginDoc<'a> {
    pub name: &'a str,
    /// `up`, `degraded` or `down`.
    pub status: &'static str,
    /// The reason class, e.g. `ok`, `timeout`, `body_degraded`.
    pub reason: &'static str,
    /// `null` when no response headers arrived.
    pub http_status: Option<u16>,
    /// `null` when no request was sent (skipped).
    pub latency_ms: Option<u64>,
    pub critical: bool,
}

/// `/health/{region}`.
#[derive(Debug, Serialize)]
pub struct NamedRegionDoc<'a> {
    pub region: &'a str,
    pub checked_at: String,
    #[serde(flatten)]
    pub detail: RegionDoc<'a>,
}

/// `/health/{origin}`.
#[derive(Debug, Serialize)]
pub struct NamedOriginDoc<'a> {
    pub region: &'a str,
    pub checked_at: String,
    #[serde(flatten)]
    pub detail: OriginDoc<'a>,
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

/// The `/health` document.
pub fn health<'a>(config: &'a Config, round: &Round, view: &View) -> HealthDoc<'a> {
    HealthDoc {
        status: view.overall.as_str(),
        ready: view.ready,
        checked_at: rfc3339(round.checked_at_ms),
        duration_ms: round.duration_ms,
        origin_count: config.origins.len(),
        region_count: config.regions.len(),
        regions: config
            .regions
            .iter()
            .enumerate()
            .map(|(r, region)| {
                (
                    region.name.as_str(),
                    region_doc(config, r, round, &view.regions[r]),
                )
            })
            .collect(),
    }
}

/// The part of `/health` for region `r`.
pub fn region_doc<'a>(
    config: &'a Config,
    r: usize,
    round: &Round,
    view: &RegionView,
) -> RegionDoc<'a> {
    RegionDoc {
        status: view.health.as_str(),
        ready: view.ready,
        up: view.up,
        degraded: view.degraded,
        down: view.down,
        total: view.total,
        min_up: view.needed,
        origins: config.regions[r]
            .origins
            .iter()
            .map(|&i| origin_doc(config, i, &round.probes[i]))
            .collect(),
    }
}

/// The part of `/health` for origin `i`.
pub fn origin_doc<'a>(config: &'a Config, i: usize, probe: &Probe) -> OriginDoc<'a> {
    let origin = &config.origins[i];
    OriginDoc {
        name: &origin.name,
        status: probe.verdict.health.as_str(),
        reason: probe.verdict.reason.as_str(),
        http_status: probe.verdict.http_status,
        latency_ms: probe.latency_ms,
        critical: origin.critical,
    }
}
