//! The shown view: what one answer shows, computed once per answer from a
//! [`Snapshot`]. Every status here already includes `unknown` (`None`) and every
//! readiness comes from [`readiness`]; `render` only maps this view to wire
//! types and decides nothing.
//!
//! - The global status is `unknown` when no trustworthy round was ever made, or
//!   the last one is older than `max_stale_s` ([`Snapshot::status`]).
//! - While the global status is `unknown`, so is every region's.
//! - An origin is `unknown` until a trustworthy round has judged it.
//! - Drains ([`crate::drain`]) apply at the time of the answer: a drained
//!   origin counts as down in its region's quorum and is not ready; a drained
//!   region is not ready and counts as down in the global view. Statuses of the
//!   drained scopes themselves stay what the probes saw.
//! - Maintenance windows ([`crate::maintenance`]) are shown, never applied:
//!   statuses and readiness stay what the probes saw.

use std::collections::BTreeMap;

use crate::aggregate::{readiness, Overall, Probe};
use crate::classify::{Health, Reason};
use crate::config::{ConditionName, Config};
use crate::drain::Drain;
use crate::maintenance::InMaintenance;
use crate::monitor::{age_s, drained_view, MonitorState, Snapshot};
use crate::vantage::{failing_from, VantageState};

/// The whole view shown by one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownView<'s> {
    state: &'s MonitorState,
    /// `None` is `unknown`.
    pub status: Option<Overall>,
    pub ready: bool,
    /// When the global status last changed, ms since the Unix epoch.
    pub since_ms: Option<u64>,
    /// When the last round started, ms since the Unix epoch.
    pub checked_at_ms: u64,
    /// Whole seconds since `checked_at_ms`.
    pub age_s: u64,
    /// When the view is shown, ms since the Unix epoch.
    pub now_ms: u64,
    /// The statuses are the last known, kept through self-isolated rounds.
    pub stale: bool,
    /// Wall time of the last round, ms.
    pub duration_ms: u64,
    /// In [`Config::regions`] order.
    pub regions: Vec<ShownRegion>,
    /// The maintenance windows open at `now_ms` ([`crate::maintenance`]):
    /// shown, never read for readiness.
    pub maintenance: InMaintenance,
}

/// One region as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownRegion {
    /// `None` is `unknown`.
    pub status: Option<Health>,
    pub ready: bool,
    /// When the region's status last changed, ms since the Unix epoch.
    pub since_ms: Option<u64>,
    /// Origins by damped status.
    pub up: usize,
    pub degraded: usize,
    pub down: usize,
    pub total: usize,
    /// Origins that must be up or degraded (the quorum resolved).
    pub min_up: usize,
    /// An active drain holds it out of rotation ([`ShownView::drain`] says why).
    pub drained: bool,
}

/// One origin as shown: the damped status and the raw last probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShownOrigin {
    /// Damped by rise/fall; `None` (`unknown`) before any trustworthy round.
    pub status: Option<Health>,
    /// When `status` last changed, ms since the Unix epoch; `None` while unknown.
    pub since_ms: Option<u64>,
    /// The last probe, before hysteresis; `None` before any round.
    pub probe: Option<Probe>,
    /// Whether the last refresh gave no merged verdict (too few vantages
    /// could vote), so `status` is the last known.
    pub stale: bool,
    /// [`readiness`] of `status`.
    pub ready: bool,
    /// The last probe's reason class; `skipped` when it was never probed
    /// (the one place that rule is written).
    pub reason: Reason,
    /// The condition the last probe failed on, with reason `assertion_failed`.
    pub condition: Option<ConditionName>,
    /// An active drain holds it out of rotation ([`ShownView::drain`] says why).
    pub drained: bool,
}

/// One vantage as shown: its state in the last refresh and the age of its
/// last report in seconds (`None` before its first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownVantage<'c> {
    pub name: &'c str,
    pub state: VantageState,
    pub age_s: Option<u64>,
    /// The data centre its probers last reported running in, if known.
    pub colo: Option<String>,
}

/// What the vantages saw of one origin: each vantage's probe, in
/// `settings.vantages` order, and the voting vantages that see it worse than
/// its merged verdict (`failing_from`, empty when none does or it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownDisagreement<'c> {
    pub seen: Vec<(&'c str, Probe)>,
    pub failing_from: Vec<&'c str>,
}

/// The view `snap` shows under `config`. Aggregates once.
pub fn shown<'s>(config: &Config, snap: Snapshot<'s>) -> ShownView<'s> {
    let state = snap.state;
    let drained = |name: &str| active_drain(state, name, snap.now_ms).is_some();
    // The damped statuses with the drains in effect now (one rule, the
    // round's: `monitor::drained_view`).
    let damped = drained_view(config, &state.origins, drained);
    let region_drained: Vec<bool> = config.regions().iter().map(|r| drained(&r.name)).collect();
    let status = snap.status(config, &damped);
    let degraded_is_ready = config.settings().degraded_is_ready;
    let regions = config
        .regions()
        .iter()
        .zip(&damped.regions)
        .zip(region_drained)
        .map(|((region, rv), drained)| {
            let region_status = status.map(|_| rv.health);
            ShownRegion {
                status: region_status,
                ready: readiness(region_status, degraded_is_ready) && !drained,
                drained,
                since_ms: state.regions.get(&region.name).map(|t| t.since_ms),
                up: rv.up,
                degraded: rv.degraded,
                down: rv.down,
                total: rv.total,
                min_up: rv.needed,
            }
        })
        .collect();
    ShownView {
        state,
        status,
        ready: readiness(status.map(Overall::health), degraded_is_ready),
        since_ms: state.overall.map(|t| t.since_ms),
        checked_at_ms: state.checked_at_ms,
        age_s: snap.age_s(),
        now_ms: snap.now_ms,
        stale: snap.stale(),
        duration_ms: state.duration_ms,
        regions,
        maintenance: InMaintenance::at(config, &state.maintenance, snap.now_ms),
    }
}

impl ShownView<'_> {
    /// Origin `i` (an index into [`Config::origins`]) as shown. Computed on
    /// demand, so answers that show no origin (`/ready`) read none.
    pub fn origin(&self, config: &Config, i: usize) -> ShownOrigin {
        let track = config.origins().get(i).and_then(|o| self.state.origins.get(&o.name));
        let status = track.and_then(|t| t.health);
        let drained = config.origins().get(i).is_some_and(|o| self.drain(&o.name).is_some());
        ShownOrigin {
            status,
            ready: readiness(status, config.settings().degraded_is_ready) && !drained,
            drained,
            reason: track.map_or(Reason::Skipped, |t| t.last.verdict.reason),
            condition: track.and_then(|t| t.last.verdict.condition),
            since_ms: track.filter(|_| status.is_some()).map(|t| t.since_ms),
            probe: track.map(|t| t.last),
            stale: track.is_some_and(|t| t.stale),
        }
    }

    /// Heartbeat check `i`'s pings, once it has any record ([`crate::heartbeat`]).
    pub fn pings(&self, config: &Config, i: usize) -> Option<&crate::heartbeat::Pings> {
        config.origins().get(i).and_then(|o| self.state.origins.get(&o.name)).and_then(|t| t.pings.as_ref())
    }

    /// The active drain of region or origin `name`, if any.
    pub fn drain(&self, name: &str) -> Option<&Drain> {
        active_drain(self.state, name, self.now_ms)
    }

    /// Whether the operators drained every region that is not down, so that
    /// no region is left ready: allowed, and said loudly.
    pub fn no_region_left_ready(&self) -> bool {
        self.regions.iter().any(|r| r.drained) && self.regions.iter().all(|r| !r.ready)
    }

    /// Every configured vantage as shown, in `settings.vantages` order; a
    /// vantage the state does not know yet is `missing`.
    pub fn vantages<'c>(&self, config: &'c Config) -> Vec<ShownVantage<'c>> {
        config
            .settings()
            .vantages
            .iter()
            .map(|v| {
                let track = self.state.vantages.get(&v.name);
                ShownVantage {
                    name: &v.name,
                    state: track.map_or(VantageState::Missing, |t| t.state),
                    age_s: track.and_then(|t| t.reported_at_ms).map(|at| age_s(at, self.now_ms)),
                    colo: track.and_then(|t| t.colo.clone()),
                }
            })
            .collect()
    }

    /// What the vantages saw of origin `i` in the last refresh.
    pub fn disagreement<'c>(&self, config: &'c Config, i: usize) -> ShownDisagreement<'c> {
        let track = config.origins().get(i).and_then(|o| self.state.origins.get(&o.name));
        let Some(track) = track else { return ShownDisagreement { seen: Vec::new(), failing_from: Vec::new() } };
        let seen: Vec<(&str, Probe)> = config
            .settings()
            .vantages
            .iter()
            .filter_map(|v| track.by_vantage.get(&v.name).map(|p| (v.name.as_str(), *p)))
            .collect();
        let voting: BTreeMap<String, Probe> = track
            .by_vantage
            .iter()
            .filter(|(name, _)| self.state.vantages.get(*name).is_some_and(|t| t.state.votes()))
            .map(|(name, p)| (name.clone(), *p))
            .collect();
        let merged = (!track.stale).then_some(track.last.verdict.health);
        ShownDisagreement { seen, failing_from: failing_from(config, merged, &voting) }
    }
}

/// The active drain of region or origin `name` in `state` at `now_ms`: the
/// one rule of whether a drain holds.
fn active_drain<'s>(state: &'s MonitorState, name: &str, now_ms: u64) -> Option<&'s Drain> {
    state.drains.get(name).filter(|d| d.active(now_ms))
}
