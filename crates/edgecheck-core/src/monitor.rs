//! The monitor's state machine, pure: each probing round moves the per-origin
//! damped statuses (hysteresis), the region and global statuses, and yields the
//! status changes to record. Time comes in with the round; nothing here reads a
//! clock or storage.
//!
//! - **Hysteresis** (HAProxy's rise/fall, extended to three levels): an origin's
//!   status moves up after `rise` consecutive probes better than it, and down
//!   after `fall` consecutive probes worse than it; a probe equal to it resets
//!   both counts. The first probe of an origin decides directly.
//! - **Fail-static**: a round in which every origin failed for a network-class
//!   reason (`connect_error`, `timeout`, `skipped`), or in which the canary
//!   failed, says more about the monitor than about the fleet. It is
//!   *self-isolated*: the last known statuses are kept and no change is
//!   recorded; the snapshot is `stale`, and after `max_stale_s` without a
//!   trustworthy round the view is `unknown` (see [`Snapshot::status`]).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::aggregate::{aggregate, overall_of, Overall, Probe, Round, View};
use crate::classify::{Health, Reason, Verdict};
use crate::config::{Config, Named};
use crate::drain::Drain;
use crate::heartbeat::{self, PingError, PingKind, Pings};
use crate::maintenance;
use crate::vantage::{Merged, VantageState};

/// The last probe of an origin never judged: down, `skipped`.
const NEVER_PROBED: Probe = Probe { verdict: Verdict::new(Health::Down, Reason::Skipped, None), latency_ms: None };

/// One origin's tracked state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginTrack {
    /// The damped status; `None` until a trustworthy round has judged it.
    pub health: Option<Health>,
    /// When `health` last changed, ms since the Unix epoch.
    pub since_ms: u64,
    /// Consecutive probes better than `health`.
    pub better: u32,
    /// Consecutive probes worse than `health`.
    pub worse: u32,
    /// The raw last probe, shown next to the damped status: the merged
    /// verdict of the vantages, or, when they reached no quorum, what the
    /// first vantage that reported saw.
    pub last: Probe,
    /// What each vantage saw in the last refresh, by vantage name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_vantage: BTreeMap<String, Probe>,
    /// Whether the last refresh gave no merged verdict (fewer than the quorum
    /// of vantages could vote), so `health` is the last known one.
    #[serde(default)]
    pub stale: bool,
    /// A heartbeat check's pings ([`crate::heartbeat`]); `None` for a probed origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pings: Option<Pings>,
}

impl OriginTrack {
    /// An origin no round has judged yet, first seen at `at_ms`.
    pub fn unjudged(at_ms: u64) -> OriginTrack {
        OriginTrack {
            health: None,
            since_ms: at_ms,
            better: 0,
            worse: 0,
            last: NEVER_PROBED,
            by_vantage: BTreeMap::new(),
            stale: false,
            pings: None,
        }
    }

    /// Whether `self` and `other` differ only in probe latencies: what a round
    /// need not write again (a healthy fleet's rows do not change from round to
    /// round, so a round writes only the origins whose verdicts, counters or
    /// statuses moved).
    pub fn same_but_latency(&self, other: &OriginTrack) -> bool {
        let verdicts = |t: &OriginTrack| t.by_vantage.iter().map(|(n, p)| (n.clone(), p.verdict)).collect::<Vec<_>>();
        (self.health, self.since_ms, self.better, self.worse, self.last.verdict, self.stale)
            == (other.health, other.since_ms, other.better, other.worse, other.last.verdict, other.stale)
            && verdicts(self) == verdicts(other)
            && self.pings == other.pings
    }
}

/// A vantage's state across refreshes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VantageTrack {
    pub state: VantageState,
    /// When `state` last changed, ms since the Unix epoch.
    pub since_ms: u64,
    /// When it last reported (isolated or not), ms; `None` before its first report.
    pub reported_at_ms: Option<u64>,
    /// The data centre its probers last said they ran in (`colo=` of
    /// Cloudflare's trace endpoint as the canary); `None` without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colo: Option<String>,
}

/// A region's or the global status and when it last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track<T> {
    pub status: T,
    pub since_ms: u64,
}

/// Everything the monitor knows, persisted after every round (the origins one
/// row each, the rest in one row: see [`crate::store`]). Keyed by name so a
/// config change keeps the state of the origins it keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    /// The digest of the fleet the last round ran for (`""` before it was
    /// recorded); a round for another fleet records a `config` change.
    #[serde(default)]
    pub fleet: String,
    #[serde(default)]
    pub origins: BTreeMap<String, OriginTrack>,
    pub regions: BTreeMap<String, Track<Health>>,
    /// `None` until the first trustworthy round.
    pub overall: Option<Track<Overall>>,
    /// Start of the last round, ms.
    pub checked_at_ms: u64,
    /// Wall time of the last round, ms.
    pub duration_ms: u64,
    /// Start of the last trustworthy (not self-isolated) round, ms.
    pub fresh_at_ms: Option<u64>,
    /// Whether the last round was self-isolated.
    pub isolated: bool,
    /// Each vantage's state, by name.
    #[serde(default)]
    pub vantages: BTreeMap<String, VantageTrack>,
    /// Manual drains, by region or origin name ([`crate::drain`]); kept
    /// across rounds, set and lifted only by the admin API.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub drains: BTreeMap<String, Drain>,
    /// Maintenance windows started through the admin API
    /// ([`crate::maintenance`]), at most [`crate::maintenance::MAX_API_WINDOWS`];
    /// one that is over is dropped by the round that records its end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance: Vec<crate::maintenance::Window>,
    /// The regions and origins the last round found drained, so that each
    /// drain's start and end are recorded once, by the round that sees them.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub drained: BTreeSet<String>,
    /// The maintenance windows (by id) the last round found open, so that
    /// each window's start and end are recorded once, by the round that sees
    /// them, even for one that began before that round (started through the
    /// API with a `start` in the past, or declared by a redeploy while
    /// already open) or that a redeploy removed while open.
    /// `None` in a row written before it was kept: then the windows open at
    /// that round's time are taken as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_open: Option<BTreeSet<String>>,
}

/// What changed, for `/history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// When, ms since the Unix epoch.
    pub at_ms: u64,
    pub kind: Kind,
    /// The origin's or region's name; `""` for the global view.
    pub name: String,
    /// The status before; `None` for a first status.
    pub from: Option<String>,
    pub to: String,
    /// For origins: the reason class of the probe that made the change.
    pub reason: Option<Reason>,
}

/// What a [`Change`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Origin,
    Region,
    Global,
    /// A vantage became isolated or missing, or came back (`reporting`).
    Vantage,
    /// The fleet changed (a deploy with another config): `from` and `to` are
    /// the first 12 characters of the fleets' digests.
    Config,
    /// A maintenance window opened (`to` is `started`) or closed (`from`
    /// `started`, `to` `ended`); `name` is the window's id.
    Maintenance,
    /// A region or origin was drained (`to` is `drained`, at the drain's
    /// `since`) or its drain ended (`from` `drained`, `to` `lifted`, at its
    /// `until` when it lapsed, else at the round that found it lifted).
    Drain,
}

/// Takes a ping of `kind` for heartbeat check `name` at `now_ms` into `state`
/// (the check's [`Pings`], its track made if no round has watched it yet)
/// and returns the check's track, to be written; or refuses it, `state` then
/// unchanged: [`PingError::NotACheck`] for a name that is not a check of
/// `config`, [`PingError::TooSoon`] within
/// [`heartbeat::MIN_PING_INTERVAL_MS`] of the last one.
pub fn take_ping(
    config: &Config,
    state: &mut MonitorState,
    name: &str,
    kind: PingKind,
    now_ms: u64,
) -> Result<OriginTrack, PingError> {
    let is_check = matches!(config.find(name), Some(Named::Origin(i)) if config.origins()[i].heartbeat.is_some());
    if !is_check {
        return Err(PingError::NotACheck(name.to_string()));
    }
    let track = state.origins.entry(name.to_string()).or_insert_with(|| OriginTrack::unjudged(now_ms));
    let pings = track.pings.get_or_insert_with(|| Pings::watched_from(now_ms));
    if let Err(too_soon) = pings.record(kind, now_ms) {
        return Err(PingError::TooSoon { check: name.to_string(), retry_after_s: too_soon.retry_after_s });
    }
    Ok(track.clone())
}

/// The result of one round: the new state and the changes to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    pub state: MonitorState,
    pub changes: Vec<Change>,
}

/// Moves `prev` (`None` on the first round ever) by one vantage's round.
/// `canary_ok` is `true` when no canary is configured.
pub fn advance(config: &Config, prev: Option<&MonitorState>, round: &Round, canary_ok: bool) -> Advance {
    advance_merged(config, prev, &Merged::single(round, canary_ok))
}

/// Moves `prev` (`None` on the first refresh ever) by one refresh merged
/// across vantages ([`crate::vantage::merge`]). An origin without a merged
/// verdict keeps its status, marked stale; a refresh in which no origin has
/// one is self-isolated and keeps the region and global statuses too.
pub fn advance_merged(config: &Config, prev: Option<&MonitorState>, merged: &Merged) -> Advance {
    let at = merged.checked_at_ms;
    let mut changes = Vec::new();
    // A change of fleet, when the previous one is known (a damaged or an old
    // layout's row does not say which fleet it was).
    if let Some(prev) = prev.filter(|p| !p.fleet.is_empty() && p.fleet != merged.fleet) {
        let short = |digest: &str| digest.chars().take(12).collect::<String>();
        changes.push(Change {
            at_ms: at,
            kind: Kind::Config,
            name: String::new(),
            from: Some(short(&prev.fleet)),
            to: short(&merged.fleet),
            reason: None,
        });
    }
    let isolated = merged.is_self_isolated();

    let mut origins = BTreeMap::new();
    for (i, origin) in config.origins().iter().enumerate() {
        let prev_track = prev.and_then(|s| s.origins.get(&origin.name));
        // No vantage sees a heartbeat check, whatever a report holds for it.
        let seen = match origin.heartbeat {
            Some(_) => &[],
            None => merged.by_vantage.get(i).map(Vec::as_slice).unwrap_or_default(),
        };
        let by_vantage: BTreeMap<String, Probe> = config
            .settings()
            .vantages
            .iter()
            .zip(seen)
            .filter_map(|(v, probe)| probe.map(|p| (v.name.clone(), p)))
            .collect();
        // A heartbeat check is judged from its pings, and only in a trustworthy
        // round (a self-isolated one changes no status).
        let pings = origin
            .heartbeat
            .as_ref()
            .map(|_| prev_track.and_then(|t| t.pings.clone()).unwrap_or_else(|| Pings::watched_from(at)));
        let verdict = match (&origin.heartbeat, &pings) {
            (Some(check), Some(pings)) if !isolated => heartbeat::verdict(check, pings, at),
            (Some(_), _) => None,
            (None, _) => merged.probes.get(i).copied().flatten(),
        };
        let last = verdict
            .or_else(|| seen.iter().flatten().next().copied())
            .or_else(|| prev_track.map(|t| t.last))
            .unwrap_or(NEVER_PROBED);
        let stale = verdict.is_none();
        let mut track = match prev_track {
            Some(t) => OriginTrack { last, by_vantage, stale, pings, ..t.clone() },
            None => OriginTrack { health: None, since_ms: at, better: 0, worse: 0, last, by_vantage, stale, pings },
        };
        if let Some(probe) = verdict {
            let before = track.health;
            step(&mut track, probe.verdict.health, origin.rise, origin.fall, at);
            if track.health != before {
                changes.push(Change {
                    at_ms: at,
                    kind: Kind::Origin,
                    name: origin.name.clone(),
                    from: before.map(|h| h.as_str().to_string()),
                    to: track.health.map_or("unknown", Health::as_str).to_string(),
                    reason: Some(probe.verdict.reason),
                });
            }
        }
        origins.insert(origin.name.clone(), track);
    }

    let (regions, overall) = if isolated {
        (prev.map(|s| s.regions.clone()).unwrap_or_default(), prev.and_then(|s| s.overall))
    } else {
        let drains = prev.map(|s| &s.drains);
        let view =
            drained_view(config, &origins, |name| drains.and_then(|d| d.get(name)).is_some_and(|d| d.active(at)));
        let mut regions = BTreeMap::new();
        for (region, rv) in config.regions().iter().zip(&view.regions) {
            let before = prev.and_then(|s| s.regions.get(&region.name)).copied();
            let track = track_change(before, rv.health, at, Kind::Region, &region.name, Health::as_str, &mut changes);
            regions.insert(region.name.clone(), track);
        }
        let before = prev.and_then(|s| s.overall);
        (regions, Some(track_change(before, view.overall, at, Kind::Global, "", Overall::as_str, &mut changes)))
    };

    let mut vantages = BTreeMap::new();
    for (v, (vantage, &now)) in config.settings().vantages.iter().zip(&merged.vantages).enumerate() {
        let before = prev.and_then(|s| s.vantages.get(&vantage.name)).cloned();
        if before.as_ref().map_or(now != VantageState::Reporting, |b| b.state != now) {
            changes.push(Change {
                at_ms: at,
                kind: Kind::Vantage,
                name: vantage.name.clone(),
                from: before.as_ref().map(|b| b.state.as_str().to_string()),
                to: now.as_str().to_string(),
                reason: None,
            });
        }
        let reported_at_ms =
            if now == VantageState::Missing { before.as_ref().and_then(|b| b.reported_at_ms) } else { Some(at) };
        let since_ms = before.as_ref().filter(|b| b.state == now).map_or(at, |b| b.since_ms);
        let colo = merged.colos.get(v).cloned().flatten().or_else(|| before.as_ref().and_then(|b| b.colo.clone()));
        vantages.insert(vantage.name.clone(), VantageTrack { state: now, since_ms, reported_at_ms, colo });
    }

    let state = MonitorState {
        fleet: merged.fleet.clone(),
        origins,
        regions,
        overall,
        checked_at_ms: at,
        duration_ms: merged.duration_ms,
        fresh_at_ms: if isolated { prev.and_then(|s| s.fresh_at_ms) } else { Some(at) },
        isolated,
        vantages,
        drains: prev.map(|s| s.drains.clone()).unwrap_or_default(),
        maintenance: Vec::new(),
        drained: BTreeSet::new(),
        windows_open: None,
    };
    // Windows opened or closed since the last round, recorded at the time they
    // did; then the API's windows that are over are dropped.
    let mut started = prev.map(|s| s.maintenance.clone()).unwrap_or_default();
    let (recorded, windows_open) = window_changes(config, &started, prev, at);
    for (id, at_ms, opened) in recorded {
        changes.push(Change {
            at_ms,
            kind: Kind::Maintenance,
            name: id,
            from: (!opened).then(|| "started".to_string()),
            to: if opened { "started" } else { "ended" }.to_string(),
            reason: None,
        });
    }
    started.retain(|w| !maintenance::over(w, at));
    let drained = drain_changes(config, &state.drains, prev, at, &mut changes);
    let state = MonitorState { maintenance: started, drained, windows_open: Some(windows_open), ..state };
    Advance { state, changes }
}

/// The starts and ends of maintenance windows to record since the last
/// round, as `(id, at_ms, started)`, and the windows open at `at`.
/// [`maintenance::transitions`] finds what opened or closed between the two
/// rounds; a window open at the last round that it did not find open (one
/// started through the API with a `start` before that round, or declared by
/// a redeploy while open) is recorded as started at its start, and one it
/// found open that neither the fleet nor the API's list holds any more (a
/// redeploy removed it) as ended at `at`.
fn window_changes(
    config: &Config,
    started: &[maintenance::Window],
    prev: Option<&MonitorState>,
    at: u64,
) -> (Vec<(String, u64, bool)>, BTreeSet<String>) {
    let windows = || config.maintenance().iter().chain(started);
    let mut recorded = Vec::new();
    if let Some((prev_ms, seen)) = prev.and_then(|p| p.windows_open.as_ref().map(|seen| (p.checked_at_ms, seen))) {
        for window in windows().filter(|w| !seen.contains(&w.id)) {
            if let Some((start_ms, _)) = window.schedule.window_at(prev_ms) {
                recorded.push((window.id.clone(), start_ms, true));
            }
        }
        for id in seen.iter().filter(|id| !windows().any(|w| &w.id == *id)) {
            recorded.push((id.clone(), at, false));
        }
    }
    recorded.extend(maintenance::transitions(config, started, prev.map(|s| s.checked_at_ms), at));
    let open = windows().filter(|w| w.schedule.window_at(at).is_some()).map(|w| w.id.clone()).collect();
    (recorded, open)
}

/// The regions and origins of the fleet drained at `at`; a `drain` change
/// for each drain that began or ended since the last round (`prev.drained`).
fn drain_changes(
    config: &Config,
    drains: &BTreeMap<String, Drain>,
    prev: Option<&MonitorState>,
    at: u64,
    changes: &mut Vec<Change>,
) -> BTreeSet<String> {
    let now: BTreeSet<String> = drains
        .iter()
        .filter(|(name, d)| d.active(at) && config.find(name).is_some())
        .map(|(name, _)| name.clone())
        .collect();
    let seen = prev.map(|s| s.drained.clone()).unwrap_or_default();
    let after = prev.map_or(0, |s| s.checked_at_ms);
    for name in now.difference(&seen) {
        let at_ms = drains[name].since_ms.clamp(after, at);
        changes.push(Change {
            at_ms,
            kind: Kind::Drain,
            name: name.clone(),
            from: None,
            to: "drained".into(),
            reason: None,
        });
    }
    for name in seen.difference(&now) {
        let at_ms = drains.get(name).and_then(|d| d.until_ms).map_or(at, |until| until.clamp(after, at));
        let (from, to) = (Some("drained".to_string()), "lifted".to_string());
        changes.push(Change { at_ms, kind: Kind::Drain, name: name.clone(), from, to, reason: None });
    }
    now
}

/// One probe through the rise/fall counters.
fn step(track: &mut OriginTrack, raw: Health, rise: u32, fall: u32, at: u64) {
    let Some(current) = track.health else {
        (track.health, track.since_ms, track.better, track.worse) = (Some(raw), at, 0, 0);
        return;
    };
    if raw == current {
        track.better = 0;
        track.worse = 0;
        return;
    }
    let (count, threshold) = if raw > current {
        track.worse = 0;
        // Saturating: a loaded row may hold any count.
        track.better = track.better.saturating_add(1);
        (track.better, rise)
    } else {
        track.better = 0;
        track.worse = track.worse.saturating_add(1);
        (track.worse, fall)
    };
    if count >= threshold {
        (track.health, track.since_ms, track.better, track.worse) = (Some(raw), at, 0, 0);
    }
}

fn track_change<T: Copy + PartialEq>(
    before: Option<Track<T>>,
    now: T,
    at: u64,
    kind: Kind,
    name: &str,
    label: fn(T) -> &'static str,
    changes: &mut Vec<Change>,
) -> Track<T> {
    match before {
        Some(b) if b.status == now => b,
        _ => {
            changes.push(Change {
                at_ms: at,
                kind,
                name: name.to_string(),
                from: before.map(|b| label(b.status).to_string()),
                to: label(now).to_string(),
                reason: None,
            });
            Track { status: now, since_ms: at }
        }
    }
}

/// Whole seconds from `since_ms` to `now_ms` (0 if `now_ms` is earlier).
pub fn age_s(since_ms: u64, now_ms: u64) -> u64 {
    now_ms.saturating_sub(since_ms) / 1000
}

/// A state read at a given time: what the endpoints serve. [`crate::view::shown`]
/// turns it into the view one answer shows.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    pub state: &'a MonitorState,
    /// Now, ms since the Unix epoch.
    pub now_ms: u64,
}

impl Snapshot<'_> {
    /// Seconds since the last round started.
    pub fn age_s(&self) -> u64 {
        age_s(self.state.checked_at_ms, self.now_ms)
    }

    /// Whether the statuses shown are older than the last round (kept while the
    /// monitor looked cut off).
    pub fn stale(&self) -> bool {
        self.state.isolated || self.state.fresh_at_ms.is_none()
    }

    /// The global status shown, given `damped`, the view of the damped
    /// statuses under the current config ([`damped_view`]); `None` is
    /// `unknown`, the one home of that rule:
    ///
    /// - no trustworthy round ever;
    /// - the last round was self-isolated and the last trustworthy one is more
    ///   than `max_stale_s` old;
    /// - no round at all for `refresh_s` + `max_stale_s` (the monitor, or the
    ///   way to it, is gone: a held snapshot is not believed for ever).
    ///
    /// The status is always the current fleet's under its current rules
    /// (`min_regions_up`, quorums, `critical`), never one a round of another
    /// fleet stored.
    pub fn status(&self, config: &Config, damped: &View) -> Option<Overall> {
        let fresh_at = self.state.fresh_at_ms?;
        self.state.overall?;
        let max_stale_ms = u64::from(config.settings().max_stale_s) * 1000;
        let isolated_too_long = self.state.isolated && self.now_ms.saturating_sub(fresh_at) > max_stale_ms;
        let no_round_for_ms = self.now_ms.saturating_sub(self.state.checked_at_ms);
        let abandoned = no_round_for_ms > u64::from(config.settings().refresh_s) * 1000 + max_stale_ms;
        (!isolated_too_long && !abandoned).then_some(damped.overall)
    }
}

/// Aggregates the damped statuses; an origin not yet judged counts as down
/// (the view is `unknown` then anyway, see [`Snapshot::status`]).
pub fn damped_view(config: &Config, origins: &BTreeMap<String, OriginTrack>) -> View {
    drained_view(config, origins, |_| false)
}

/// [`damped_view`] with the drains in effect, `drained(name)` saying whether
/// a region or origin is drained: a drained origin counts as down in its
/// region's quorum, and a drained region as down in the global view (its own
/// status stays what its origins give). The one rule of what a drain does
/// to the statuses: each round records it ([`advance_merged`]), so
/// notifications, `/history`, uptime and `since` follow it, and
/// `view::shown` applies it again at the time of each answer (a drain set or
/// lapsed since the round is shown at once).
pub fn drained_view(config: &Config, origins: &BTreeMap<String, OriginTrack>, drained: impl Fn(&str) -> bool) -> View {
    let healths = config.origins().iter().map(|o| origins.get(&o.name).and_then(|t| t.health)).collect();
    view_with_drains(config, healths, drained)
}

/// `healths` (one per origin, in [`Config::origins`] order; `None`, not
/// judged, counts as down) aggregated with the drains in effect, by the one
/// rule [`drained_view`] states: the damped statuses there, a round's
/// undamped verdicts for the error budgets ([`crate::slo`]).
pub fn view_with_drains(config: &Config, healths: Vec<Option<Health>>, drained: impl Fn(&str) -> bool) -> View {
    let healths: Vec<Health> = config
        .origins()
        .iter()
        .zip(healths)
        .map(|(o, health)| match health {
            Some(health) if !drained(&o.name) => health,
            _ => Health::Down,
        })
        .collect();
    let view = aggregate(config, &healths);
    let region_drained: Vec<bool> = config.regions().iter().map(|r| drained(&r.name)).collect();
    if !region_drained.contains(&true) {
        return view;
    }
    let healths = view.regions.iter().zip(region_drained).map(|(rv, d)| if d { Health::Down } else { rv.health });
    View { overall: overall_of(config, healths), regions: view.regions }
}
