//! The shown view: what one answer shows, computed once per answer from a
//! [`Snapshot`]. Every status here already includes `unknown` (`None`) and every
//! readiness comes from [`readiness`]; `render` only maps this view to wire
//! types and decides nothing.
//!
//! - The global status is `unknown` when no trustworthy round was ever made, or
//!   the last one is older than `max_stale_s` ([`Snapshot::status`]).
//! - While the global status is `unknown`, so is every region's.
//! - An origin is `unknown` until a trustworthy round has judged it.

use crate::aggregate::{readiness, Overall, Probe};
use crate::classify::Health;
use crate::config::Config;
use crate::monitor::{damped_view, MonitorState, Snapshot};

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
}

/// The view `snap` shows under `config`. Aggregates once.
pub fn shown<'s>(config: &Config, snap: Snapshot<'s>) -> ShownView<'s> {
    let state = snap.state;
    let status = snap.status(config);
    let degraded_is_ready = config.settings.degraded_is_ready;
    let damped = damped_view(config, &state.origins);
    let regions = config
        .regions
        .iter()
        .zip(&damped.regions)
        .map(|(region, rv)| {
            let region_status = status.map(|_| rv.health);
            ShownRegion {
                status: region_status,
                ready: readiness(region_status, degraded_is_ready),
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
    }
}

impl ShownView<'_> {
    /// Origin `i` (an index into [`Config::origins`]) as shown. Computed on
    /// demand, so answers that show no origin (`/ready`) read none.
    pub fn origin(&self, config: &Config, i: usize) -> ShownOrigin {
        let track = config.origins.get(i).and_then(|o| self.state.origins.get(&o.name));
        let status = track.and_then(|t| t.health);
        ShownOrigin {
            status,
            since_ms: track.filter(|_| status.is_some()).map(|t| t.since_ms),
            probe: track.map(|t| t.last),
        }
    }
}
