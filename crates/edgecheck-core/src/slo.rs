//! Error budgets: what each round counts toward an objective (`[[slo]]`,
//! [`crate::config::Slo`]), the good and bad slices kept in buckets, burn
//! rates, the budget left, and the multiwindow, multi-burn-rate alerts of the
//! SRE workbook (chapter 5, "Alerting on SLOs"). Pure: the round's state and
//! the time come in; the bucket rows to write go out.
//!
//! **A round is one time slice** (OpenSLO's `Timeslices` budgeting). Each
//! objective gets one [`Slice`] per round, from the state the round left
//! ([`crate::monitor::advance_merged`]'s `MonitorState`):
//!
//! - **An origin** is judged by its merged, undamped verdict of the round
//!   (`OriginTrack::last` while not `stale`: the vantages' quorum verdict,
//!   or a heartbeat check's verdict from its pings), before rise and fall.
//!   An origin that fails one probe in five is never `down` after `fall =
//!   3`, and its uptime says 100 %; its slices say 20 % bad.
//! - **A region or the fleet** is judged by its status over those undamped
//!   verdicts, aggregated by the one rule of the shown view and the round
//!   (`monitor::view_with_drains`: quorums, `critical`, `min_regions_up`, a
//!   drained origin down in its region's quorum, a drained region down in
//!   the fleet's), with no hysteresis.
//! - **Good or bad** is the objective's `bad` alone ([`is_bad`]): `down`,
//!   or `down` and `degraded` (`slow` included). `degraded_is_ready` is a
//!   load balancer's choice and decides nothing here; readiness stays
//!   decided in the shown view only. One rule for every scope.
//!
//! **Excluded** slices count as neither good nor bad:
//!
//! - a self-isolated round (the checker, not the fleet, was in trouble; the
//!   view may later turn `unknown` from such rounds): every objective;
//! - a scope in which any origin got no merged verdict (`stale`: too few
//!   vantages could vote, a heartbeat check not judged yet): its status
//!   cannot be judged, so the origin, its region and the fleet are excluded;
//! - a scope in a maintenance window at the round's start
//!   ([`InMaintenance`]: an origin's own, its region's or the fleet's; a
//!   region's own or the fleet's; the fleet's only for the fleet), as the
//!   uptime rollups count it apart;
//! - a drained scope (`MonitorState::drained`, what the round found): an
//!   origin drained or in a drained region, a drained region. The fleet is
//!   never drained as a whole; its drained parts count as the shown view
//!   counts them (down in their quorum), since that is what its users get.
//!
//! **Counts** are kept in the buckets of the objective's [`Layout`]: fine
//! ones (a fifth of the shortest window under 5 h; 1 min for the default
//! pairs) for windows under 5 h, coarse ones (1 h) for the longer windows,
//! the objective's own, and any window the fine ones do not span
//! ([`Layout::width_of`]). A window sums the buckets that start inside it
//! (after its start, up to now), as the uptime windows do: it holds between
//! 4/5 of its length and all of it. The buckets are stored one row each
//! ([`SloAdd`], as the uptime rollups are): a round adds to at most two rows
//! per objective (its fine and its coarse bucket), each at most
//! [`SloAdd::MAX_VALUE_BYTES`] bytes, and an objective keeps at most
//! [`MAX_BUCKETS`] of them (3,600 rows, 374,400 bytes at the worst: 90 days
//! and 1,440 fine buckets; 780 rows with the defaults), each pruned once no
//! window reaches it ([`SloAdd::keep_until_ms`]). At 10,000 objectives that
//! is 20,000 small writes a round and at most 3.7 GB, every row far under
//! the platform's 2 MB.
//!
//! **Memory holds sums, not buckets.** Each round reads every objective's
//! windows back from the rows ([`crate::store::slo_sums`]: one summing read
//! per bucket width and first bucket, whatever the number of objectives),
//! counts its own slice on top ([`WindowSums::count`]) and judges the pairs
//! ([`round`]); an objective keeps only its [`WindowSums`] (a few hundred
//! bytes) and the pairs firing ([`SloState`]) in memory. [`SloCounts`] is
//! the same arithmetic over buckets held in memory: the model the stored
//! path is checked against in host tests.
//!
//! **Burn rate** over a window: its error ratio (bad / (good + bad)) over
//! the objective's error budget (1 − objective); 0 when it holds no slice.
//! **Alerts** ([`alerts`]): a pair fires when the burn rate over both its
//! windows is over its rate, and, once firing, resolves when its short
//! window's falls back to the rate or under (the long window alone never
//! holds an alert open: that is what the short one is for).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::Health;
pub use crate::config::slo::{
    default_alerts, Bad, BurnAlert, Layout, Severity, BUCKETS_PER_WINDOW, COARSE_MS, MAX_FINE_BUCKETS, MAX_WINDOW_DAYS,
};
use crate::config::{Config, Named, Slo};
use crate::maintenance::InMaintenance;
use crate::monitor::{view_with_drains, MonitorState};
use crate::time::{bucket_start, DAY_MS, MINUTE_MS};

/// The most buckets (stored rows) of one objective: [`MAX_FINE_BUCKETS`]
/// fine ones and a [`MAX_WINDOW_DAYS`] window of hour buckets.
pub const MAX_BUCKETS: usize = MAX_FINE_BUCKETS + (MAX_WINDOW_DAYS as u64 * DAY_MS / COARSE_MS) as usize;

/// What one round counts toward one objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    Good,
    Bad,
    /// Neither: maintenance, a drain, or the checker cut off.
    Excluded,
}

impl Slice {
    /// What the slice adds to a bucket: `(good, bad)`; `None` when excluded.
    pub fn counts(self) -> Option<(u32, u32)> {
        match self {
            Slice::Good => Some((1, 0)),
            Slice::Bad => Some((0, 1)),
            Slice::Excluded => None,
        }
    }
}

/// The round's slice of every objective of `config`, in
/// [`Config::slos`] order, from the state the round left.
pub fn slices(config: &Config, state: &MonitorState) -> Vec<Slice> {
    let round = RoundView::of(config, state);
    config.slos().iter().map(|slo| round.slice(config, slo)).collect()
}

/// The round's slice of `slo` alone ([`slices`] judges the round once for all).
pub fn slice(config: &Config, slo: &Slo, state: &MonitorState) -> Slice {
    RoundView::of(config, state).slice(config, slo)
}

/// A round as the objectives judge it: the undamped verdicts aggregated
/// once, what was cut off, and what was planned.
struct RoundView<'s> {
    state: &'s MonitorState,
    /// Per origin: its merged verdict's health; `None` without one.
    healths: Vec<Option<Health>>,
    /// The undamped view with the drains in effect at the round.
    view: crate::aggregate::View,
    windows: InMaintenance,
}

impl<'s> RoundView<'s> {
    fn of(config: &Config, state: &'s MonitorState) -> RoundView<'s> {
        let healths: Vec<Option<Health>> = config
            .origins()
            .iter()
            .map(|o| state.origins.get(&o.name).filter(|t| !t.stale).map(|t| t.last.verdict.health))
            .collect();
        let view = view_with_drains(config, healths.clone(), |name| state.drained.contains(name));
        let windows = InMaintenance::at(config, &state.maintenance, state.checked_at_ms);
        RoundView { state, healths, view, windows }
    }

    fn slice(&self, config: &Config, slo: &Slo) -> Slice {
        if self.state.isolated {
            return Slice::Excluded;
        }
        let drained = |name: &str| self.state.drained.contains(name);
        let judged = |origins: &[usize]| origins.iter().all(|&i| self.healths[i].is_some());
        let health = match slo.scope {
            Some(Named::Origin(i)) => {
                let origin = &config.origins()[i];
                let planned = self.windows.origin(config, i).is_some()
                    || drained(&origin.name)
                    || drained(&config.regions()[origin.region].name);
                match self.healths[i] {
                    Some(health) if !planned => health,
                    _ => return Slice::Excluded,
                }
            }
            Some(Named::Region(r)) => {
                let region = &config.regions()[r];
                let planned = self.windows.region(config, r).is_some() || drained(&region.name);
                if planned || !judged(&region.origins) {
                    return Slice::Excluded;
                }
                self.view.regions[r].health
            }
            None => {
                if self.windows.fleet().is_some() || self.healths.iter().any(Option::is_none) {
                    return Slice::Excluded;
                }
                self.view.overall.health()
            }
        };
        if is_bad(slo.bad, health) {
            Slice::Bad
        } else {
            Slice::Good
        }
    }
}

/// Whether a scope of `health` in a round is a bad slice for an objective
/// that counts `bad`: `down` always, `degraded` (`slow` included) only with
/// `bad = ["down", "degraded"]`.
pub fn is_bad(bad: Bad, health: Health) -> bool {
    match health {
        Health::Down => true,
        Health::Degraded => bad == Bad::DownOrDegraded,
        Health::Up => false,
    }
}

/// Good and bad slices summed over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sums {
    pub good: u64,
    pub bad: u64,
}

impl Sums {
    /// Good and bad slices.
    pub fn total(&self) -> u64 {
        self.good.saturating_add(self.bad)
    }

    /// bad / (good + bad); 0 without slices.
    pub fn error_ratio(&self) -> f64 {
        match self.total() {
            0 => 0.0,
            total => self.bad as f64 / total as f64,
        }
    }

    /// The error ratio over `slo`'s error budget (1 − objective): 1 spends
    /// the budget exactly over the objective's window; 0 without slices.
    pub fn burn_rate(&self, slo: &Slo) -> f64 {
        self.error_ratio() / slo.budget()
    }
}

/// One row of an objective's counts, as storage keeps it: add `good` and
/// `bad` to the bucket of `width_ms` starting at `bucket_ms` of objective
/// `slo`, creating it at zero (the uptime rollups' shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloAdd {
    pub slo: String,
    pub width_ms: u64,
    pub bucket_ms: u64,
    pub good: u32,
    pub bad: u32,
    /// When no window of the objective reaches the bucket any more, ms: the
    /// row is pruned then ([`crate::schedule::Retention::now_ms`]).
    pub keep_until_ms: u64,
}

impl SloAdd {
    /// The most bytes of one row: a name of 64 bytes and five integers of
    /// at most 8 bytes each (SQLite's largest).
    pub const MAX_VALUE_BYTES: usize = 64 + 5 * 8;

    /// The bytes of this row's values: what must fit in
    /// [`crate::store::MAX_ROW_BYTES`].
    pub fn value_bytes(&self) -> usize {
        self.slo.len() + 5 * 8
    }
}

/// The rows `slice` of objective `slo` adds at `at_ms`: one per bucket
/// width of its layout that keeps buckets (its fine and its coarse bucket),
/// none for an excluded slice. What storage holds is these rows and nothing
/// else; a round reads its windows back from them ([`WindowSums`]).
pub fn adds(slo: &Slo, slice: Slice, at_ms: u64) -> Vec<SloAdd> {
    adds_in(slo.layout(), &slo.name, slice, at_ms)
}

fn adds_in(layout: Layout, slo: &str, slice: Slice, at_ms: u64) -> Vec<SloAdd> {
    let Some((good, bad)) = slice.counts() else { return Vec::new() };
    [(layout.fine_ms, layout.fine_buckets), (layout.coarse_ms, layout.coarse_buckets)]
        .into_iter()
        .filter(|&(_, buckets)| buckets > 0)
        .map(|(width_ms, buckets)| {
            let bucket_ms = bucket_start(at_ms, width_ms);
            let keep_until_ms = bucket_ms.saturating_add(width_ms.saturating_mul(buckets as u64));
            SloAdd { slo: slo.to_string(), width_ms, bucket_ms, good, bad, keep_until_ms }
        })
        .collect()
}

/// The windows shown for every objective (`/slo`, `/metrics`), ms: 5 min,
/// 30 min, 1 h, 6 h and 3 days, the workbook's alert windows.
pub const SHOWN_WINDOWS_MS: [u64; 5] = [5 * MINUTE_MS, 30 * MINUTE_MS, 60 * MINUTE_MS, 6 * 60 * MINUTE_MS, 3 * DAY_MS];

/// Every window `slo` is read over, ms, shortest first: its pairs' long and
/// short windows, the shown ones ([`SHOWN_WINDOWS_MS`]) and its own.
pub fn windows(slo: &Slo) -> Vec<u64> {
    let mut all: Vec<u64> = slo.alerts.iter().flat_map(|a| [a.short_ms, a.long_ms]).collect();
    all.extend(SHOWN_WINDOWS_MS);
    all.push(slo.window_ms());
    all.sort_unstable();
    all.dedup();
    all
}

/// Where the window of `window_ms` ending at `now_ms` reads in `layout`:
/// the width of its buckets ([`Layout::width_of`]) and the first bucket
/// start it sums from (those after the window's start, up to now); `None`
/// when its buckets are longer than it ([`readable`]: a shown 5-minute
/// window beside pairs whose fine buckets do not span it).
pub fn reach(layout: Layout, window_ms: u64, now_ms: u64) -> Option<(u64, u64)> {
    let width = layout.width_of(window_ms);
    let first = bucket_start(now_ms.saturating_sub(window_ms), width).saturating_add(width);
    (readable(layout, window_ms) && first <= now_ms).then_some((width, first))
}

/// Whether `layout` can sum a window of `window_ms`: its buckets are no
/// longer than the window. Every window of an alert pair and the
/// objective's own are; a shown window may not be, and then has no rate.
pub fn readable(layout: Layout, window_ms: u64) -> bool {
    layout.width_of(window_ms) <= window_ms
}

/// One objective's good and bad slices over each of its [`windows`] at one
/// time: what storage's rows sum to, one read per width and first bucket
/// for every objective at once ([`crate::store::slo_sums`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSums(pub BTreeMap<u64, Sums>);

impl WindowSums {
    /// The sums over the window of `window_ms`; none when it was not read.
    pub fn get(&self, window_ms: u64) -> Sums {
        self.0.get(&window_ms).copied().unwrap_or_default()
    }

    /// Counts `slice`, made at `now_ms`, in every window of `slo` that
    /// holds a bucket (the slice's bucket is the newest of each), as the
    /// rows [`adds`] writes would sum to once committed.
    pub fn count(&mut self, slo: &Slo, slice: Slice, now_ms: u64) {
        let Some((good, bad)) = slice.counts() else { return };
        let layout = slo.layout();
        for window_ms in windows(slo) {
            if reach(layout, window_ms, now_ms).is_some() {
                let sums = self.0.entry(window_ms).or_default();
                *sums = Sums {
                    good: sums.good.saturating_add(u64::from(good)),
                    bad: sums.bad.saturating_add(u64::from(bad)),
                };
            }
        }
    }

    /// The burn rate of `slo` over the window of `window_ms`.
    pub fn burn_rate(&self, slo: &Slo, window_ms: u64) -> f64 {
        self.get(window_ms).burn_rate(slo)
    }

    /// The budget of `slo` left, over its own window.
    pub fn budget(&self, slo: &Slo) -> Budget {
        budget_of(slo, self.get(slo.window_ms()))
    }

    /// The pairs of `slo` that start or stop firing, given those `firing` before.
    pub fn alerts(&self, slo: &Slo, firing: &[usize]) -> Vec<AlertChange> {
        alerts_by(slo, |window_ms| self.get(window_ms), firing)
    }
}

/// Buckets by start, ms: `(good, bad)` slices.
type Ring = BTreeMap<u64, (u32, u32)>;

/// One objective's good and bad slices in the buckets of its [`Layout`],
/// held in memory: those that can still fall inside a window (older ones
/// are dropped as slices are added). The model of what storage's rows sum
/// to ([`WindowSums`]); a monitor never holds these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SloCounts {
    layout: Layout,
    fine: Ring,
    coarse: Ring,
}

impl SloCounts {
    /// No slices yet, in `layout`'s buckets.
    pub fn new(layout: Layout) -> SloCounts {
        SloCounts { layout, fine: BTreeMap::new(), coarse: BTreeMap::new() }
    }

    /// The counts read back from stored rows (`(width ms, bucket start ms,
    /// good, bad)`) at `now_ms`: rows of another width (the windows changed:
    /// the fine buckets then start again; the coarse ones are always an
    /// hour), dated after now (damage) or too old for any window are left
    /// out; rows of the same bucket are added.
    pub fn restore(layout: Layout, rows: impl IntoIterator<Item = (u64, u64, u32, u32)>, now_ms: u64) -> SloCounts {
        let mut counts = SloCounts::new(layout);
        for (width_ms, bucket_ms, good, bad) in rows {
            if bucket_ms > now_ms || bucket_ms.checked_rem(width_ms) != Some(0) {
                continue;
            }
            for (ring, width, buckets) in counts.rings() {
                if width == width_ms && buckets > 0 && bucket_ms >= oldest(now_ms, width, buckets) {
                    let slot = ring.entry(bucket_ms).or_default();
                    *slot = (slot.0.saturating_add(good), slot.1.saturating_add(bad));
                }
            }
        }
        counts
    }

    /// Adds `slice` of objective `slo` (its name) at `at_ms` and drops the
    /// buckets no window reaches any more (an excluded slice too, so the
    /// counts kept are always those [`SloCounts::restore`] reads back at
    /// `at_ms`). Returns the rows to write: one per bucket added to (its
    /// fine and its coarse one), none for an excluded slice.
    pub fn add(&mut self, slo: &str, slice: Slice, at_ms: u64) -> Vec<SloAdd> {
        let counted = slice.counts();
        let rows = adds_in(self.layout, slo, slice, at_ms);
        for (ring, width_ms, buckets) in self.rings() {
            if buckets == 0 {
                continue;
            }
            if let Some((good, bad)) = counted {
                let slot = ring.entry(bucket_start(at_ms, width_ms)).or_default();
                *slot = (slot.0.saturating_add(good), slot.1.saturating_add(bad));
            }
            *ring = ring.split_off(&oldest(at_ms, width_ms, buckets));
        }
        rows
    }

    /// Good and bad slices in the window of `window_ms` ending at `now_ms`:
    /// the buckets of [`Layout::width_of`] the window that start after the
    /// window does, up to now.
    pub fn sums(&self, window_ms: u64, now_ms: u64) -> Sums {
        let Some((width, first)) = reach(self.layout, window_ms, now_ms) else { return Sums::default() };
        let ring = if width == self.layout.coarse_ms { &self.coarse } else { &self.fine };
        // Saturating: restored rows may hold any counts.
        ring.range(first..=now_ms).fold(Sums::default(), |sums, (_, &(good, bad))| Sums {
            good: sums.good.saturating_add(u64::from(good)),
            bad: sums.bad.saturating_add(u64::from(bad)),
        })
    }

    /// The burn rate of `slo` over the window of `window_ms` ending at `now_ms`.
    pub fn burn_rate(&self, slo: &Slo, window_ms: u64, now_ms: u64) -> f64 {
        self.sums(window_ms, now_ms).burn_rate(slo)
    }

    /// How many buckets are kept (each one stored row).
    pub fn buckets(&self) -> usize {
        self.fine.len() + self.coarse.len()
    }

    /// Each ring with its width and how many buckets it keeps.
    fn rings(&mut self) -> [(&mut Ring, u64, usize); 2] {
        let l = self.layout;
        [(&mut self.fine, l.fine_ms, l.fine_buckets), (&mut self.coarse, l.coarse_ms, l.coarse_buckets)]
    }
}

/// The start of the oldest of `buckets` buckets of `width_ms` kept at `at_ms`.
fn oldest(at_ms: u64, width_ms: u64, buckets: usize) -> u64 {
    bucket_start(at_ms, width_ms).saturating_sub((buckets as u64 - 1) * width_ms)
}

/// The error budget left over the objective's window at a time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// The fraction of the budget not spent: 1 − bad / (budget × slices);
    /// 1 without slices, below 0 once overspent.
    pub ratio: f64,
    /// The same in minutes of the window's budget: `ratio` × (1 − objective)
    /// × the window's minutes (30 days at 99.9 %: 43.2 minutes whole).
    pub minutes: f64,
}

/// The budget of `slo` left at `now_ms`, from its counts over its window.
pub fn budget_remaining(slo: &Slo, counts: &SloCounts, now_ms: u64) -> Budget {
    budget_of(slo, counts.sums(slo.window_ms(), now_ms))
}

/// The budget of `slo` left, given its sums over its own window.
fn budget_of(slo: &Slo, over_window: Sums) -> Budget {
    let ratio = 1.0 - over_window.burn_rate(slo);
    let minutes = ratio * slo.budget() * (slo.window_ms() / MINUTE_MS) as f64;
    Budget { ratio, minutes }
}

/// An alert pair that starts or stops firing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertChange {
    /// The pair: an index into [`Slo::alerts`].
    pub pair: usize,
    pub transition: Transition,
    /// The burn rates over its long and its short window.
    pub long_rate: f64,
    pub short_rate: f64,
}

/// Whether an alert pair starts or stops firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Firing,
    Resolved,
}

/// The alert pairs of `slo` that start or stop firing at `now_ms`, given
/// its counts and the pairs `firing` before (indices into [`Slo::alerts`]).
pub fn alerts(slo: &Slo, counts: &SloCounts, now_ms: u64, firing: &[usize]) -> Vec<AlertChange> {
    alerts_by(slo, |window_ms| counts.sums(window_ms, now_ms), firing)
}

/// [`alerts`] from the sums over any window, `sums(window_ms)` (for a
/// store that sums the windows itself). A pair fires when the burn rate over
/// both its windows is over its rate; once firing, it resolves when its
/// short window holds slices and their rate is back at or under it. A short
/// window with no slice at all (the checker was stopped or cut off through
/// it) holds the pair as it is: no data is not good news.
pub fn alerts_by(slo: &Slo, sums: impl Fn(u64) -> Sums, firing: &[usize]) -> Vec<AlertChange> {
    slo.alerts
        .iter()
        .enumerate()
        .filter_map(|(pair, alert)| {
            let (long, short) = (sums(alert.long_ms), sums(alert.short_ms));
            let (long_rate, short_rate) = (long.burn_rate(slo), short.burn_rate(slo));
            let was = firing.contains(&pair);
            let transition = match was {
                false if long_rate > alert.burn_rate && short_rate > alert.burn_rate => Transition::Firing,
                true if short.total() > 0 && short_rate <= alert.burn_rate => Transition::Resolved,
                _ => return None,
            };
            Some(AlertChange { pair, transition, long_rate, short_rate })
        })
        .collect()
}

/// Per objective (by name): its windows as the last round left them and
/// the state it keeps; what the monitor holds and publishes of them.
pub type SloMemory = BTreeMap<String, (WindowSums, SloState)>;

/// A pair firing, by what it is (its windows and rate), not by its place in
/// `[[slo.alerts]]`: a pair whose windows or rate change is another pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Firing {
    pub long_ms: u64,
    pub short_ms: u64,
    pub burn_rate: f64,
    /// When it started firing, ms.
    pub since_ms: u64,
}

impl Firing {
    fn is(&self, alert: &BurnAlert) -> bool {
        self.long_ms == alert.long_ms && self.short_ms == alert.short_ms && self.burn_rate == alert.burn_rate
    }
}

/// What an objective keeps between rounds besides its rows: the pairs
/// firing. Stored one row per objective, written only in a round where a
/// pair starts or stops firing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SloState {
    pub firing: Vec<Firing>,
}

impl SloState {
    /// The pairs of `slo` firing (indices into [`Slo::alerts`]); a stored
    /// pair that is no longer configured is not among them.
    pub fn firing_pairs(&self, slo: &Slo) -> Vec<usize> {
        (0..slo.alerts.len()).filter(|&i| self.firing.iter().any(|f| f.is(&slo.alerts[i]))).collect()
    }

    /// Whether it holds a pair `slo` no longer configures.
    pub fn holds_unknown_pairs(&self, slo: &Slo) -> bool {
        self.firing.iter().any(|f| !slo.alerts.iter().any(|a| f.is(a)))
    }
}

/// One objective's round, decided: what it counts, its windows after the
/// slice, the pairs that start or stop firing and the state to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct SloRound {
    /// The rows to write ([`adds`]).
    pub adds: Vec<SloAdd>,
    /// The windows as the rows will sum once the round is committed.
    pub sums: WindowSums,
    pub changes: Vec<AlertChange>,
    pub state: SloState,
}

/// The round of `slo` at `at_ms`: `slice` counted on top of `read` (its
/// windows as storage summed them before the round), its pairs judged
/// against `prev`, a stored pair no longer configured let go.
pub fn round(slo: &Slo, slice: Slice, mut read: WindowSums, prev: &SloState, at_ms: u64) -> SloRound {
    read.count(slo, slice, at_ms);
    let firing = prev.firing_pairs(slo);
    let changes = read.alerts(slo, &firing);
    let mut state =
        SloState { firing: prev.firing.iter().filter(|f| slo.alerts.iter().any(|a| f.is(a))).copied().collect() };
    for change in &changes {
        let alert = &slo.alerts[change.pair];
        match change.transition {
            Transition::Firing => state.firing.push(Firing {
                long_ms: alert.long_ms,
                short_ms: alert.short_ms,
                burn_rate: alert.burn_rate,
                since_ms: at_ms,
            }),
            Transition::Resolved => state.firing.retain(|f| !f.is(alert)),
        }
    }
    SloRound { adds: adds(slo, slice, at_ms), sums: read, changes, state }
}

/// A window as Prometheus writes a duration: the largest unit that divides
/// it (`5m`, `1h`, `3d`, `90s`; `d`, `h`, `m`, `s`, else `ms`). The label of
/// `edgecheck_slo_burn_rate{window}`, the keys of `/slo`'s `burn_rates`,
/// and a pair's windows in its notices and dedup key.
pub fn window_label(ms: u64) -> String {
    for (unit, size) in [("d", DAY_MS), ("h", 60 * MINUTE_MS), ("m", MINUTE_MS), ("s", 1000)] {
        if ms > 0 && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}

/// One alert pair as shown: its config, whether it fires, since when.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownAlert<'c> {
    pub alert: &'c BurnAlert,
    /// The burn rates over its long and its short window now.
    pub long_rate: f64,
    pub short_rate: f64,
    /// When it started firing, ms; `None` while it does not fire.
    pub firing_since_ms: Option<u64>,
}

/// An objective as `/slo`, `/metrics` and the page show it, from its
/// windows and state after the last round.
#[derive(Debug, Clone, PartialEq)]
pub struct ShownSlo<'c> {
    pub slo: &'c Slo,
    /// Good and bad slices over its own window.
    pub slices: Sums,
    pub budget: Budget,
    /// The burn rate over each of [`SHOWN_WINDOWS_MS`], in that order;
    /// `None` for a window the objective's buckets cannot sum ([`readable`]).
    pub burn_rates: Vec<(u64, Option<f64>)>,
    pub alerts: Vec<ShownAlert<'c>>,
}

/// `slo` as shown from `sums` and `state` (an objective the monitor has not
/// counted yet: no slices, a whole budget, nothing firing).
pub fn shown<'c>(slo: &'c Slo, sums: &WindowSums, state: &SloState) -> ShownSlo<'c> {
    let alerts = slo
        .alerts
        .iter()
        .map(|alert| ShownAlert {
            alert,
            long_rate: sums.burn_rate(slo, alert.long_ms),
            short_rate: sums.burn_rate(slo, alert.short_ms),
            firing_since_ms: state.firing.iter().find(|f| f.is(alert)).map(|f| f.since_ms),
        })
        .collect();
    ShownSlo {
        slo,
        slices: sums.get(slo.window_ms()),
        budget: sums.budget(slo),
        burn_rates: SHOWN_WINDOWS_MS
            .iter()
            .map(|&w| (w, readable(slo.layout(), w).then(|| sums.burn_rate(slo, w))))
            .collect(),
        alerts,
    }
}
