//! Aggregation: per-origin verdicts become per-region health and the global view.
//!
//! - A region is `up` when every origin is up; `degraded` when its quorum
//!   (`min_up`) of origins is up or degraded but not all are up; `down` when the
//!   quorum is not met or a `critical` origin is down.
//! - The global view is `ok` when every region is up; `degraded` when at least
//!   `min_regions_up` regions are up or degraded but not all are up; `down`
//!   otherwise.
//! - Readiness: `ok` (or `up`) is ready; `degraded` is ready only with
//!   `degraded_is_ready`; `down` never is.
//!
//! Pure and total: any slice of verdicts gives a view.

use crate::classify::{Health, Verdict};
use crate::config::{Config, Region, Settings};

/// The global status; `ok` rather than `up`, as load balancers and status pages say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Overall {
    Down,
    Degraded,
    Ok,
}

impl Overall {
    /// The wire name: `ok`, `degraded` or `down`.
    pub fn as_str(self) -> &'static str {
        match self {
            Overall::Ok => "ok",
            Overall::Degraded => "degraded",
            Overall::Down => "down",
        }
    }
}

/// One region's part of the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionView {
    pub health: Health,
    pub ready: bool,
    /// Origins by health.
    pub up: usize,
    pub degraded: usize,
    pub down: usize,
    /// `up + degraded + down`.
    pub total: usize,
    /// Origins that must be up or degraded (the quorum resolved for `total`).
    pub needed: usize,
}

/// One origin's probe in a round: the verdict and, when a request was sent, the
/// time from sending it to the end of the body or the timeout, in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub verdict: Verdict,
    pub latency_ms: Option<u64>,
}

/// One fan-out over the whole fleet, as measured by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// When the round started, in ms since the Unix epoch.
    pub checked_at_ms: u64,
    /// Wall time of the whole fan-out, in ms.
    pub duration_ms: u64,
    /// One per origin, in [`Config::origins`] order.
    pub probes: Vec<Probe>,
}

/// The merged view of a whole round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub overall: Overall,
    pub ready: bool,
    /// In [`Config::regions`] order.
    pub regions: Vec<RegionView>,
}

/// Merges `probes` (one per origin, in [`Config::origins`] order) into a view.
///
/// Panics if `probes.len() != config.origins.len()`: callers build one probe
/// per origin, skipped ones included.
pub fn aggregate(config: &Config, probes: &[Probe]) -> View {
    assert_eq!(probes.len(), config.origins.len(), "one probe per origin");
    let regions: Vec<RegionView> = config
        .regions
        .iter()
        .map(|region| region_view(&config.settings, config, region, probes))
        .collect();
    let standing = regions.iter().filter(|r| r.health != Health::Down).count();
    let overall = if regions.iter().all(|r| r.health == Health::Up) {
        Overall::Ok
    } else if standing >= config.settings.min_regions_up {
        Overall::Degraded
    } else {
        Overall::Down
    };
    let ready = match overall {
        Overall::Ok => true,
        Overall::Degraded => config.settings.degraded_is_ready,
        Overall::Down => false,
    };
    View {
        overall,
        ready,
        regions,
    }
}

fn region_view(
    settings: &Settings,
    config: &Config,
    region: &Region,
    probes: &[Probe],
) -> RegionView {
    let (mut up, mut degraded, mut down, mut critical_down) = (0, 0, 0, false);
    for &i in &region.origins {
        match probes[i].verdict.health {
            Health::Up => up += 1,
            Health::Degraded => degraded += 1,
            Health::Down => {
                down += 1;
                critical_down |= config.origins[i].critical;
            }
        }
    }
    let total = region.origins.len();
    let needed = region.quorum.needed(total);
    let health = if critical_down || up + degraded < needed {
        Health::Down
    } else if up == total {
        Health::Up
    } else {
        Health::Degraded
    };
    let ready = match health {
        Health::Up => true,
        Health::Degraded => settings.degraded_is_ready,
        Health::Down => false,
    };
    RegionView {
        health,
        ready,
        up,
        degraded,
        down,
        total,
        needed,
    }
}
