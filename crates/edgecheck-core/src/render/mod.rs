//! Wire shapes of every public document, and the one place they are built: each
//! function maps the [`ShownView`] (or recorded changes) to its document and
//! decides nothing. Nothing here carries an origin's URL, host, address or raw
//! error text: the reason class is what the public gets.
//!
//! This module holds the JSON documents of edgecheck's own format; the other
//! surfaces have a module each: [`health_json`] (IETF draft), [`metrics`]
//! (Prometheus), [`badge`] (shields.io and SVG), [`verbose`] (Kubernetes-style
//! readiness text), [`slo`] (error budgets, and OpenSLO) and [`page`] (the
//! HTML status page).

pub mod badge;
pub mod detail;
pub mod health_json;
pub mod metrics;
pub mod page;
pub mod slo;
pub mod verbose;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::aggregate::Overall;
use crate::classify::{Health, Reason};
use crate::config::{ConditionName, Config, Origin};
use crate::drain::Drain;
use crate::latency::{self, Latency, Percentiles};
use crate::maintenance::Open;
use crate::monitor::{Change, Kind};
use crate::uptime::{Uptime, Uptimes};
use crate::view::ShownView;
// Formatting a time lives in `time` (notify writes times too); named here too.
pub use crate::time::rfc3339;

/// `/live`: `{"status":"live"}`.
#[derive(Debug, Serialize)]
pub struct LiveDoc {
    pub status: &'static str,
}

/// `/ready`: `{"status":"ok|degraded|down|unknown","ready":bool}`.
#[derive(Debug, Serialize)]
pub struct ReadyDoc {
    pub status: &'static str,
    pub ready: bool,
}

/// `/ready/{region}`: `{"region":..,"status":"up|degraded|down|unknown","ready":bool}`;
/// a drained region adds `"reason":"drained"` and its `drain`.
#[derive(Debug, Serialize)]
pub struct RegionReadyDoc<'a> {
    pub region: &'a str,
    pub status: &'static str,
    pub ready: bool,
    /// `drained` while an operator holds the region out of rotation; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain: Option<DrainDoc>,
}

/// An active drain ([`crate::drain`]): `{"reason":..,"since":..,"until":..}`.
#[derive(Debug, Serialize)]
pub struct DrainDoc {
    /// Why, as the operator said it.
    pub reason: String,
    /// RFC 3339: when it was set.
    pub since: String,
    /// RFC 3339: when it lapses; absent when it holds until lifted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

/// A maintenance window open over a scope ([`crate::maintenance`]):
/// `{"id":..,"reason":..,"since":..,"until":..}`, times RFC 3339 in UTC.
/// Shown only: the scope's status and readiness stay what the probes saw.
#[derive(Debug, Serialize)]
pub struct MaintenanceDoc {
    /// The window's id (from `edgecheck.toml` or the API).
    pub id: String,
    /// Why, as the operator said it.
    pub reason: String,
    /// When this occurrence opened.
    pub since: String,
    /// When it closes.
    pub until: String,
}

/// The document of an open window.
pub fn maintenance_doc(open: &Open) -> MaintenanceDoc {
    MaintenanceDoc {
        id: open.id.clone(),
        reason: open.reason.clone(),
        since: rfc3339(open.since_ms),
        until: rfc3339(open.until_ms),
    }
}

/// The document of `drain`.
pub fn drain_doc(drain: &Drain) -> DrainDoc {
    DrainDoc { reason: drain.reason.clone(), since: rfc3339(drain.since_ms), until: drain.until_ms.map(rfc3339) }
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
    /// Each vantage the fleet is probed from: `{"weur":{"state":"reporting","age_s":3}}`.
    pub vantages: BTreeMap<&'a str, VantageDoc>,
    /// The maintenance window over the whole fleet; absent when none is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceDoc>,
}

/// One vantage in `/health`: whether it reported in the last refresh and how
/// old its last report is.
#[derive(Debug, Serialize)]
pub struct VantageDoc {
    /// `reporting` (votes), `isolated` (reported, but its canary failed or it
    /// reached no origin: does not vote) or `missing` (did not report).
    pub state: &'static str,
    /// Seconds since its last report; `null` before its first.
    pub age_s: Option<u64>,
    /// The Cloudflare data centre (IATA code, e.g. `LHR`) its probers last
    /// reported running in, read from the canary when the canary is
    /// `/cdn-cgi/trace`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub colo: Option<String>,
}

/// What one vantage saw of an origin in the last refresh.
#[derive(Debug, Serialize)]
pub struct VantageProbeDoc {
    /// `up`, `degraded` or `down`, before hysteresis.
    pub status: &'static str,
    pub reason: &'static str,
    /// The condition it failed on, with reason `assertion_failed`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionName>,
    pub http_status: Option<u16>,
    pub latency_ms: Option<u64>,
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
    /// Absent with `?detailed=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origins: Option<Vec<OriginDoc<'a>>>,
    /// The active drain that holds the region out of rotation (`ready` is
    /// false); absent when none does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain: Option<DrainDoc>,
    /// The maintenance window over the region (its own or the fleet's);
    /// absent when none is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceDoc>,
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
    /// The name of the condition the last probe failed on, with reason
    /// `assertion_failed`; absent otherwise. Never what it saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionName>,
    /// `null` when no response headers arrived.
    pub http_status: Option<u16>,
    /// `null` when no request was sent (skipped). The median over the voting vantages.
    pub latency_ms: Option<u64>,
    /// The slow threshold in ms (its own `degraded_after_ms`, its region's or
    /// the settings'): each vantage judges an answer otherwise up but slower
    /// than this `degraded`, reason `slow`. Absent when none is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub degraded_after_ms: Option<u32>,
    pub critical: bool,
    pub uptime: UptimeDoc,
    /// True when the last refresh gave no merged verdict (fewer than
    /// `vantage_quorum` vantages could vote): `status` is the last known.
    pub stale: bool,
    /// What each vantage saw in the last refresh, by vantage name.
    pub vantages: BTreeMap<&'a str, VantageProbeDoc>,
    /// The voting vantages that see the origin worse than its merged verdict,
    /// when fewer than the quorum do; absent when none does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failing_from: Vec<&'a str>,
    /// Whether it is ready: its status, and no drain.
    pub ready: bool,
    /// The active drain that holds the origin out of rotation (it counts as
    /// down in its region's quorum); absent when none does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drain: Option<DrainDoc>,
    /// The maintenance window over the origin (its own, its region's or the
    /// fleet's); absent when none is open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<MaintenanceDoc>,
    /// A heartbeat check's rule and its last pings; absent for a probed origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<HeartbeatDoc>,
}

/// A heartbeat check in `/health` ([`crate::heartbeat`]); times are RFC 3339,
/// UTC, `null` before the first such ping.
#[derive(Debug, Serialize)]
pub struct HeartbeatDoc {
    /// Seconds expected between successful pings.
    pub period_s: u32,
    /// Seconds a ping may be late before the check is down.
    pub grace_s: u32,
    /// The last ping taken, of any kind.
    pub last_ping: Option<String>,
    pub last_success: Option<String>,
    pub last_failure: Option<String>,
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
    /// The origin's own `stale` (flattened from [`OriginDoc`]) says whether
    /// its status is the last known; a stale snapshot makes every origin stale.
    #[serde(flatten)]
    pub detail: OriginDoc<'a>,
    /// Probe latency percentiles by window (`1h`, `24h`, `7d`), from the
    /// latency history ([`crate::latency`]); a window without samples is `null`.
    pub latency: BTreeMap<&'static str, Option<Percentiles>>,
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

/// The wire name of a shown status: `up`, `degraded`, `down` or `unknown`.
pub fn health_str(status: Option<Health>) -> &'static str {
    status.map_or("unknown", Health::as_str)
}

/// The wire name of the shown global status: `ok`, `degraded`, `down` or `unknown`.
pub fn overall_str(status: Option<Overall>) -> &'static str {
    status.map_or("unknown", Overall::as_str)
}

/// A reason class in words, for the page and `?verbose`: its wire name (`timeout`), for `slow` the origin's
/// threshold too (`slow, over 800 ms`), and for `assertion_failed` the condition's name
/// (`assertion_failed: database`). Plain text: the page escapes it.
pub fn reason_words(origin: &Origin, reason: Reason, condition: Option<ConditionName>) -> Cow<'static, str> {
    match (reason, origin.degraded_after_ms, condition) {
        (Reason::Slow, Some(ms), _) => Cow::Owned(format!("{}, over {ms} ms", reason.as_str())),
        (Reason::AssertionFailed, _, Some(name)) => Cow::Owned(format!("{}: {}", reason.as_str(), name.as_str())),
        _ => Cow::Borrowed(reason.as_str()),
    }
}

/// Escapes text for HTML and SVG, in elements and quoted attributes.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Uptimes of `name`, in [`crate::uptime::Window::ALL`] order.
fn uptime_doc(uptimes: &Uptimes, name: &str) -> UptimeDoc {
    let [h1, h24, d7, d30] = uptimes.get(name).copied().unwrap_or([None; 4]);
    UptimeDoc { h1, h24, d7, d30 }
}

/// `/live`.
pub fn live() -> LiveDoc {
    LiveDoc { status: "live" }
}

/// `/ready`.
pub fn ready(view: &ShownView) -> ReadyDoc {
    ReadyDoc { status: overall_str(view.status), ready: view.ready }
}

/// `/ready/{region}` for region `r`.
pub fn region_ready<'a>(config: &'a Config, view: &ShownView, r: usize) -> RegionReadyDoc<'a> {
    let region = &view.regions[r];
    let name = &config.regions()[r].name;
    let drain = view.drain(name);
    RegionReadyDoc {
        region: name,
        status: health_str(region.status),
        ready: region.ready,
        reason: drain.map(|_| "drained"),
        drain: drain.map(drain_doc),
    }
}

/// The `/health` document; without per-origin lists when `summary` (`?detailed=false`).
pub fn health<'a>(config: &'a Config, view: &ShownView, uptimes: &Uptimes, summary: bool) -> HealthDoc<'a> {
    HealthDoc {
        status: overall_str(view.status),
        ready: view.ready,
        checked_at: rfc3339(view.checked_at_ms),
        age_s: view.age_s,
        stale: view.stale,
        since: view.since_ms.map(rfc3339),
        duration_ms: view.duration_ms,
        origin_count: config.origins().len(),
        region_count: config.regions().len(),
        regions: config
            .regions()
            .iter()
            .enumerate()
            .map(|(r, region)| (region.name.as_str(), region_doc(config, view, r, uptimes, summary)))
            .collect(),
        vantages: view
            .vantages(config)
            .into_iter()
            .map(|v| (v.name, VantageDoc { state: v.state.as_str(), age_s: v.age_s, colo: v.colo }))
            .collect(),
        maintenance: view.maintenance.fleet().map(maintenance_doc),
    }
}

/// `/health/{region}` for region `r`; without its origins when `summary`.
pub fn named_region<'a>(
    config: &'a Config,
    view: &ShownView,
    r: usize,
    uptimes: &Uptimes,
    summary: bool,
) -> NamedRegionDoc<'a> {
    NamedRegionDoc {
        region: &config.regions()[r].name,
        checked_at: rfc3339(view.checked_at_ms),
        stale: view.stale,
        detail: region_doc(config, view, r, uptimes, summary),
    }
}

/// `/health/{origin}` for origin `i`.
/// `latency` is the origin's latency history, `None` without samples.
pub fn named_origin<'a>(
    config: &'a Config,
    view: &ShownView,
    i: usize,
    uptimes: &Uptimes,
    latency: Option<&Latency>,
) -> NamedOriginDoc<'a> {
    let windows = latency.map_or([None; 3], |l| l.windows);
    NamedOriginDoc {
        region: &config.regions()[config.origins()[i].region].name,
        checked_at: rfc3339(view.checked_at_ms),
        detail: origin_doc(config, view, i, uptimes),
        latency: latency::WINDOWS.iter().zip(windows).map(|(w, p)| (w.label(), p)).collect(),
    }
}

/// The part of `/health` for region `r`.
fn region_doc<'a>(config: &'a Config, view: &ShownView, r: usize, uptimes: &Uptimes, summary: bool) -> RegionDoc<'a> {
    let region = &config.regions()[r];
    let shown = &view.regions[r];
    RegionDoc {
        status: health_str(shown.status),
        ready: shown.ready,
        since: shown.since_ms.map(rfc3339),
        up: shown.up,
        degraded: shown.degraded,
        down: shown.down,
        total: shown.total,
        min_up: shown.min_up,
        uptime: uptime_doc(uptimes, &region.name),
        origins: (!summary).then(|| region.origins.iter().map(|&i| origin_doc(config, view, i, uptimes)).collect()),
        drain: view.drain(&region.name).map(drain_doc),
        maintenance: view.maintenance.region(config, r).map(maintenance_doc),
    }
}

/// The part of `/health` for origin `i`.
fn origin_doc<'a>(config: &'a Config, view: &ShownView, i: usize, uptimes: &Uptimes) -> OriginDoc<'a> {
    let origin = &config.origins()[i];
    let shown = view.origin(config, i);
    let verdict = shown.probe.map(|p| p.verdict);
    let disagreement = view.disagreement(config, i);
    let vantages = disagreement
        .seen
        .iter()
        .map(|(name, p)| {
            let doc = VantageProbeDoc {
                status: p.verdict.health.as_str(),
                reason: p.verdict.reason.as_str(),
                condition: p.verdict.condition,
                http_status: p.verdict.http_status,
                latency_ms: p.latency_ms,
            };
            (*name, doc)
        })
        .collect();
    OriginDoc {
        name: &origin.name,
        status: health_str(shown.status),
        since: shown.since_ms.map(rfc3339),
        probe_status: health_str(verdict.map(|v| v.health)),
        reason: shown.reason.as_str(),
        condition: shown.condition,
        http_status: verdict.and_then(|v| v.http_status),
        latency_ms: shown.probe.and_then(|p| p.latency_ms),
        degraded_after_ms: origin.degraded_after_ms,
        critical: origin.critical,
        uptime: uptime_doc(uptimes, &origin.name),
        stale: shown.stale,
        vantages,
        failing_from: disagreement.failing_from,
        ready: shown.ready,
        drain: view.drain(&origin.name).map(drain_doc),
        maintenance: view.maintenance.origin(config, i).map(maintenance_doc),
        heartbeat: origin.heartbeat.as_ref().map(|check| {
            let pings = view.pings(config, i);
            let at = |f: fn(&crate::heartbeat::Pings) -> Option<u64>| pings.and_then(f).map(rfc3339);
            HeartbeatDoc {
                period_s: check.period_s,
                grace_s: check.grace_s,
                last_ping: at(|p| p.last_ms),
                last_success: at(|p| p.success_ms),
                last_failure: at(|p| p.failure_ms),
            }
        }),
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

/// An error document.
pub fn error(error: &'static str, message: String) -> ErrorDoc {
    ErrorDoc { error, message }
}
