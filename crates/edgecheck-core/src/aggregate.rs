//! Aggregation: per-origin verdicts become per-region health and the global view.
//!
//! - A region is `up` when every origin is up; `degraded` when its quorum
//!   (`min_up`) of origins is up or degraded but not all are up; `down` when the
//!   quorum is not met or a `critical` origin is down.
//! - The global view is `ok` when every region is up; `degraded` when at least
//!   `min_regions_up` regions are up or degraded but not all are up; `down`
//!   otherwise.
//! - Readiness ([`readiness`], the one place the rule is written): `ok` (or
//!   `up`) is ready; `degraded` is ready only with `degraded_is_ready`; `down`
//!   and `unknown` never are.
//!
//! Pure and total: any slice of verdicts gives a view.

use serde::{Deserialize, Serialize};

use crate::classify::{assess, Health, Judged, Outcome, Verdict};
use crate::config::{Config, Origin, Region};

/// The global status; `ok` rather than `up`, as load balancers and status pages say.
/// Ordered worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    Down,
    Degraded,
    Ok,
}

impl Overall {
    /// The level of health this status stands for (`ok` is `up`).
    pub fn health(self) -> Health {
        match self {
            Overall::Ok => Health::Up,
            Overall::Degraded => Health::Degraded,
            Overall::Down => Health::Down,
        }
    }

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub verdict: Verdict,
    pub latency_ms: Option<u64>,
}

impl Probe {
    /// One probe of `origin` as a prober saw it: its `outcome` and its own
    /// `latency_ms` (ms from sending the request to the end of the body or the
    /// timeout; `None` when nothing was sent), judged by the whole rule table
    /// ([`judge`]: a healthy answer over the origin's `degraded_after_ms` is
    /// `degraded`, `slow`; a failed condition, `assertion_failed`).
    pub fn judged(origin: &Origin, outcome: &Outcome, latency_ms: Option<u64>) -> Probe {
        Probe::assessed(origin, outcome, latency_ms).0
    }

    /// [`Probe::judged`], with the judgement that made it ([`assess`]: what a
    /// failed condition saw, for the admin token's full view). The one way the
    /// shell makes a probe.
    pub fn assessed(origin: &Origin, outcome: &Outcome, latency_ms: Option<u64>) -> (Probe, Judged) {
        let judged = assess(origin, outcome, latency_ms);
        (Probe { verdict: judged.verdict, latency_ms }, judged)
    }
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
    /// In [`Config::regions`] order.
    pub regions: Vec<RegionView>,
}

impl Round {
    /// Builds a round from probes in the order they finished: `(origin index, probe)`.
    /// The order of arrival does not matter.
    ///
    /// Panics unless every origin index `0..origin_count` appears exactly once.
    pub fn from_arrivals(
        checked_at_ms: u64,
        duration_ms: u64,
        origin_count: usize,
        mut arrivals: Vec<(usize, Probe)>,
    ) -> Round {
        arrivals.sort_unstable_by_key(|(i, _)| *i);
        assert!(arrivals.iter().map(|(i, _)| *i).eq(0..origin_count), "one probe per origin");
        Round { checked_at_ms, duration_ms, probes: arrivals.into_iter().map(|(_, p)| p).collect() }
    }

    /// Each origin's health as probed in this round (no hysteresis).
    pub fn healths(&self) -> Vec<Health> {
        self.probes.iter().map(|p| p.verdict.health).collect()
    }
}

/// Whether a status is ready: the one readiness rule of edgecheck, for the
/// global view, a region and an origin; only `view::shown` applies it. `None` is `unknown` (no trustworthy round
/// within `max_stale_s`), which is never ready; `degraded` is ready only with
/// `settings.degraded_is_ready`.
pub fn readiness(health: Option<Health>, degraded_is_ready: bool) -> bool {
    match health {
        Some(Health::Up) => true,
        Some(Health::Degraded) => degraded_is_ready,
        Some(Health::Down) | None => false,
    }
}

/// Merges `healths` (one per origin, in [`Config::origins`] order) into a view.
///
/// Panics if `healths.len() != config.origins().len()`: callers give one health
/// per origin, skipped ones included.
pub fn aggregate(config: &Config, healths: &[Health]) -> View {
    assert_eq!(healths.len(), config.origins().len(), "one health per origin");
    let regions: Vec<RegionView> = config.regions().iter().map(|region| region_view(config, region, healths)).collect();
    let overall = overall_of(config, regions.iter().map(|r| r.health));
    View { overall, regions }
}

/// The global status from each region's health (in [`Config::regions`]
/// order): `ok` when all are up, `degraded` when at least `min_regions_up`
/// are up or degraded, else `down`.
pub fn overall_of(config: &Config, regions: impl Iterator<Item = Health> + Clone) -> Overall {
    let standing = regions.clone().filter(|&h| h != Health::Down).count();
    if regions.clone().all(|h| h == Health::Up) {
        Overall::Ok
    } else if standing >= config.settings().min_regions_up {
        Overall::Degraded
    } else {
        Overall::Down
    }
}

fn region_view(config: &Config, region: &Region, healths: &[Health]) -> RegionView {
    let (mut up, mut degraded, mut down, mut critical_down) = (0, 0, 0, false);
    for &i in &region.origins {
        match healths[i] {
            Health::Up => up += 1,
            Health::Degraded => degraded += 1,
            Health::Down => {
                down += 1;
                critical_down |= config.origins()[i].critical;
            }
        }
    }
    let total = region.origins.len();
    let needed = region.min_up;
    let health = if critical_down || up + degraded < needed {
        Health::Down
    } else if up == total {
        Health::Up
    } else {
        Health::Degraded
    };
    RegionView { health, up, degraded, down, total, needed }
}
