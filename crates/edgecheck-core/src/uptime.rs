//! Uptime: the windows shown in `/health` (1 h, 24 h, 7 d, 30 d), the rollup
//! buckets they are summed from (per minute up to a day, per hour beyond, as
//! gatus keeps hourly buckets), and what one round adds to them. Pure: the
//! buckets live in a [`crate::store::Store`]; time comes in as arguments.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::Health;
use crate::config::Config;
use crate::maintenance::InMaintenance;
use crate::monitor::Advance;
// Defined in `time`, below `config` (maintenance windows use them too);
// named here too, as before.
pub use crate::time::{bucket_start, DAY_MS, HOUR_MS, MINUTE_MS};

/// Uptimes by origin or region name, in [`Window::ALL`] order; a window is
/// `None` without data.
pub type Uptimes = BTreeMap<String, [Option<Uptime>; 4]>;

/// Days in the status page's strips.
pub const DAYS: usize = 30;

/// Uptime per UTC day by origin or region name: [`DAYS`] entries, oldest first,
/// the last one today; `None` for a day without data.
pub type Daily = BTreeMap<String, Vec<Option<Uptime>>>;

/// The start of the first day of the strips ending today (`now_ms`), ms.
pub fn first_day(now_ms: u64) -> u64 {
    bucket_start(now_ms, DAY_MS).saturating_sub((DAYS as u64 - 1) * DAY_MS)
}

/// Sums hour rollup buckets (`(name, bucket start ms, [up, degraded, down,
/// maintenance])`) into [`Daily`] strips ending today. Buckets before
/// [`first_day`] are ignored.
pub fn daily(buckets: &[(String, u64, [u64; 4])], now_ms: u64) -> Daily {
    let first = first_day(now_ms);
    let mut sums: BTreeMap<&str, [[u64; 4]; DAYS]> = BTreeMap::new();
    for (name, bucket_ms, counts) in buckets {
        let Some(day) = bucket_ms.checked_sub(first).map(|d| (d / DAY_MS) as usize).filter(|&d| d < DAYS) else {
            continue;
        };
        let slot = &mut sums.entry(name).or_insert([[0; 4]; DAYS])[day];
        // Counts come from stored rows: saturate rather than overflow.
        (0..4).for_each(|k| slot[k] = slot[k].saturating_add(counts[k]));
    }
    sums.into_iter().map(|(name, days)| (name.to_string(), days.iter().map(Uptime::from_counts).collect())).collect()
}

/// The uptime windows shown in `/health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    H1,
    H24,
    D7,
    D30,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::H1, Window::H24, Window::D7, Window::D30];

    /// The key in `/health`: `1h`, `24h`, `7d`, `30d`.
    pub fn label(self) -> &'static str {
        match self {
            Window::H1 => "1h",
            Window::H24 => "24h",
            Window::D7 => "7d",
            Window::D30 => "30d",
        }
    }

    /// Length in ms.
    pub const fn length_ms(self) -> u64 {
        match self {
            Window::H1 => HOUR_MS,
            Window::H24 => 24 * HOUR_MS,
            Window::D7 => 7 * 24 * HOUR_MS,
            Window::D30 => 30 * 24 * HOUR_MS,
        }
    }

    /// The rollup bucket width the window is summed from: minutes up to a day,
    /// hours beyond.
    pub fn bucket_ms(self) -> u64 {
        match self {
            Window::H1 | Window::H24 => MINUTE_MS,
            Window::D7 | Window::D30 => HOUR_MS,
        }
    }

    /// The first bucket start inside the window ending at `now_ms`.
    pub fn first_bucket(self, now_ms: u64) -> u64 {
        bucket_start(now_ms.saturating_sub(self.length_ms()), self.bucket_ms()) + self.bucket_ms()
    }
}

/// Fractions of rounds up, degraded, down and in maintenance in a window;
/// they sum to 1. A round that finds the scope in a maintenance window
/// ([`crate::maintenance`]) counts as `maintenance` whatever its status, so
/// planned work is kept apart from down time (an SLO leaves it out:
/// `up / (1 - maintenance)`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Uptime {
    pub up: f64,
    pub degraded: f64,
    pub down: f64,
    #[serde(default)]
    pub maintenance: f64,
}

impl Uptime {
    /// From counts of rounds `[up, degraded, down, maintenance]`; `None` when
    /// there are none. Counts read from storage may be anything up to
    /// `u64::MAX`: the total is summed as `f64`, so no sum overflows.
    pub fn from_counts(counts: &[u64; 4]) -> Option<Uptime> {
        let total: f64 = counts.iter().map(|&n| n as f64).sum();
        (total > 0.0).then(|| {
            let frac = |n: u64| (n as f64 / total * 1e6).round() / 1e6;
            let [up, degraded, down, maintenance] = counts.map(frac);
            Uptime { up, degraded, down, maintenance }
        })
    }
}

/// Counts to add to one uptime rollup bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupAdd {
    /// An origin's or region's name.
    pub name: String,
    /// [`MINUTE_MS`] or [`HOUR_MS`].
    pub width_ms: u64,
    /// The bucket's start, ms since the Unix epoch.
    pub bucket_ms: u64,
    pub up: u32,
    pub degraded: u32,
    pub down: u32,
    /// 1 when a maintenance window covered the scope at the round, or it was
    /// drained (then up, degraded and down are 0).
    pub maintenance: u32,
    /// The round's probe latency to add to the bucket's histogram
    /// ([`crate::latency`]), ms: origins only, and only when the probe got an
    /// answer in time (`None` for regions, timeouts, connection errors, skipped
    /// and stale origins).
    pub latency_ms: Option<u64>,
}

/// The latency of an origin's last probe that counts in its latency history:
/// a merged verdict (not stale) whose answer's headers arrived, and not a
/// timeout (its latency is the timeout, not the origin's).
fn answered_latency_ms(track: &crate::monitor::OriginTrack) -> Option<u64> {
    let verdict = track.last.verdict;
    let answered = verdict.http_status.is_some() && verdict.reason != crate::classify::Reason::Timeout;
    track.last.latency_ms.filter(|_| answered && !track.stale)
}

/// One round's additions to the uptime rollups: for every origin and region, its
/// damped status, in its minute and its hour bucket; `maintenance` instead
/// when a window covers it at the round's start or the round found it
/// drained (planned time out of rotation, counted apart from up and down).
/// Self-isolated rounds add nothing.
pub fn rollup_adds(config: &Config, advance: &Advance) -> Vec<RollupAdd> {
    let state = &advance.state;
    if state.isolated {
        return Vec::new();
    }
    let windows = InMaintenance::at(config, &state.maintenance, state.checked_at_ms);
    let origins = config.origins().iter().enumerate().filter_map(|(i, o)| {
        let track = state.origins.get(&o.name)?;
        let planned = windows.origin(config, i).is_some() || state.drained.contains(&o.name);
        Some((&o.name, track.health?, answered_latency_ms(track), planned))
    });
    let regions = config.regions().iter().enumerate().filter_map(|(r, region)| {
        let planned = windows.region(config, r).is_some() || state.drained.contains(&region.name);
        Some((&region.name, state.regions.get(&region.name)?.status, None, planned))
    });
    let mut adds = Vec::new();
    for (name, health, latency_ms, planned) in origins.chain(regions) {
        let counts = |h: Health| u32::from(!planned && health == h);
        for width_ms in [MINUTE_MS, HOUR_MS] {
            adds.push(RollupAdd {
                name: name.clone(),
                width_ms,
                bucket_ms: bucket_start(state.checked_at_ms, width_ms),
                up: counts(Health::Up),
                degraded: counts(Health::Degraded),
                down: counts(Health::Down),
                maintenance: u32::from(planned),
                latency_ms,
            });
        }
    }
    adds
}
