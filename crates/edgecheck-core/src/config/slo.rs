//! `[[slo]]`: the validated objectives ([`Slo`]), their burn-rate alerts
//! ([`BurnAlert`], [`Severity`]), the bucket layout their counts are kept in
//! ([`Layout`]), and their validation. What a round counts toward an
//! objective, its burn rates and when its alerts fire are decided by
//! [`crate::slo`].
//!
//! As written:
//!
//! ```toml
//! [[slo]]
//! name = "api-availability"
//! origin = "api-1"          # or region = "eu", or neither: the whole fleet
//! objective = 99.9          # percent, strictly between 0 and 100
//! window_days = 30          # 1 to 90, default 30
//! bad = ["down"]            # default; ["down", "degraded"] counts degraded (slow included) too
//! channels = ["oncall"]     # [[notify]] channels told of its alerts
//! [[slo.alerts]]            # optional: replaces the three default pairs
//! severity = "page"         # or "ticket"
//! long_window = "1h"
//! short_window = "5m"
//! burn_rate = 14.4
//! ```

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::check::{check_name, opt_ranged, Errors};
use super::raw::{RawBurnAlert, RawSlo};
use super::{Channel, ChannelKind, Named, Origin, Region, MAX_FLEET};
use crate::time::{DAY_MS, HOUR_MS, MINUTE_MS};

/// Default for `window_days`: the rolling window of the objective.
pub const DEFAULT_WINDOW_DAYS: u32 = 30;
/// The longest `window_days`.
pub const MAX_WINDOW_DAYS: u32 = 90;
/// The most objectives a fleet may have: one per origin at the fleet limit.
pub const MAX_SLOS: usize = MAX_FLEET;
/// The most `[[slo.alerts]]` pairs of one objective.
pub const MAX_ALERTS: usize = 8;
/// Every alert window holds at least this many rounds (`settings.refresh_s`
/// each): over fewer, a burn rate is 0 or its largest and says nothing.
pub const MIN_WINDOW_ROUNDS: u64 = 2;
/// The coarse buckets' width: an hour, whatever the windows (so a change of
/// the alert windows keeps them).
pub const COARSE_MS: u64 = HOUR_MS;
/// A window is summed from buckets at most this fraction of its length, so
/// it always holds at least 4/5 of its slices: windows of at least
/// `BUCKETS_PER_WINDOW` × [`COARSE_MS`] (5 h) from the coarse buckets, shorter
/// ones from the fine.
pub const BUCKETS_PER_WINDOW: u64 = 5;
/// The most fine buckets of one objective: its windows under 5 h are at most
/// 288 times its shortest (the workbook's pairs: 12 times, 60 buckets).
pub const MAX_FINE_BUCKETS: usize = 1_440;

/// One validated `[[slo]]` objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// Unique among objectives; `[a-z0-9._-]`, 1 to 64.
    pub name: String,
    /// What it judges: a region or an origin; `None` is the whole fleet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Named>,
    /// The objective in percent, strictly between 0 and 100 (99.9).
    pub objective: f64,
    /// The rolling window of the budget, 1 to [`MAX_WINDOW_DAYS`] days.
    pub window_days: u32,
    /// Which statuses make a slice bad.
    pub bad: Bad,
    /// The `[[notify]]` channels told of its alerts (indices into
    /// [`super::Config::channels`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<usize>,
    /// Its alert pairs: `[[slo.alerts]]`, or [`default_alerts`].
    pub alerts: Vec<BurnAlert>,
}

/// The statuses of a slice that count against the objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bad {
    /// `bad = ["down"]`, the default: degraded (slow included) is good.
    Down,
    /// `bad = ["down", "degraded"]`: only up is good.
    DownOrDegraded,
}

/// One multiwindow alert pair: it fires when the burn rate over both
/// windows is over `burn_rate`, and resolves when the short window's falls
/// back to it or under.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BurnAlert {
    pub severity: Severity,
    pub long_ms: u64,
    /// Strictly shorter than `long_ms`.
    pub short_ms: u64,
    /// Over 0: 1 spends the budget exactly over the objective's window.
    pub burn_rate: f64,
}

/// How urgent an alert is: PagerDuty's `critical` or `warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Page,
    Ticket,
}

impl Severity {
    /// As written: `page` or `ticket`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Page => "page",
            Severity::Ticket => "ticket",
        }
    }
}

/// The SRE workbook's pairs (chapter 5, table 5-8): page on 1 h and 5 min
/// over 14.4 (2 % of a 30-day budget in an hour), page on 6 h and 30 min
/// over 6 (5 % in 6 h), ticket on 3 days and 6 h over 1 (10 % in 3 days).
pub fn default_alerts() -> Vec<BurnAlert> {
    let pair = |severity, long_ms, short_ms, burn_rate| BurnAlert { severity, long_ms, short_ms, burn_rate };
    vec![
        pair(Severity::Page, HOUR_MS, 5 * MINUTE_MS, 14.4),
        pair(Severity::Page, 6 * HOUR_MS, 30 * MINUTE_MS, 6.0),
        pair(Severity::Ticket, 3 * DAY_MS, 6 * HOUR_MS, 1.0),
    ]
}

/// The buckets an objective's good and bad slices are counted in: fine ones
/// for its windows under 5 h, coarse ones (an hour each) for the longer ones
/// and the objective's window. Derived from the windows alone, so a change
/// of `objective` keeps the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The fine buckets' width: a fifth of the shortest window under 5 h,
    /// in whole seconds (the default pairs: 1 min).
    pub fine_ms: u64,
    /// Fine buckets kept: enough for the longest window under 5 h (the
    /// default pairs: 60); 0 when there is none.
    pub fine_buckets: usize,
    /// [`COARSE_MS`].
    pub coarse_ms: u64,
    /// Coarse buckets kept: the objective's window (30 days: 720).
    pub coarse_buckets: usize,
}

impl Layout {
    /// The width of the buckets a window of `window_ms` is summed from: the
    /// fine ones for a window under 5 h that they span (every alert window
    /// under 5 h), else the hour ones (a window shown but alerted on by no
    /// pair, such as a 1 h burn rate beside pairs of seconds, is then
    /// summed from the hours that start inside it, not cut to the fine span).
    pub fn width_of(&self, window_ms: u64) -> u64 {
        let spanned = window_ms <= self.fine_ms.saturating_mul(self.fine_buckets as u64);
        if window_ms < BUCKETS_PER_WINDOW * self.coarse_ms && spanned {
            self.fine_ms
        } else {
            self.coarse_ms
        }
    }

    /// The layout of `alerts` under a window of `window_days`.
    fn of(alerts: &[BurnAlert], window_days: u32) -> Layout {
        let fine: Vec<u64> = alerts
            .iter()
            .flat_map(|a| [a.short_ms, a.long_ms])
            .filter(|&w| w < BUCKETS_PER_WINDOW * COARSE_MS)
            .collect();
        let shortest = fine.iter().copied().min().unwrap_or(BUCKETS_PER_WINDOW * MINUTE_MS);
        let fine_ms = (shortest / BUCKETS_PER_WINDOW / 1000 * 1000).max(1000);
        let longest = fine.iter().copied().max().unwrap_or(0);
        Layout {
            fine_ms,
            fine_buckets: longest.div_ceil(fine_ms) as usize,
            coarse_ms: COARSE_MS,
            coarse_buckets: (u64::from(window_days) * DAY_MS / COARSE_MS) as usize,
        }
    }
}

impl Slo {
    /// The objective as a ratio: 99.9 is 0.999.
    pub fn target(&self) -> f64 {
        self.objective / 100.0
    }

    /// The error budget as a ratio of slices: 1 − [`Slo::target`] (0.001 at 99.9).
    pub fn budget(&self) -> f64 {
        (100.0 - self.objective) / 100.0
    }

    /// The objective as a ratio (99.9 % is 0.999), read from its decimal
    /// digits so that it is the double nearest the ratio written (99.9 / 100
    /// would be 0.9990000000000001).
    pub fn ratio(&self) -> f64 {
        format!("{}e-2", self.objective).parse().unwrap_or(self.objective / 100.0)
    }

    /// The objective's window, ms.
    pub fn window_ms(&self) -> u64 {
        u64::from(self.window_days) * DAY_MS
    }

    /// The buckets its counts are kept in.
    pub fn layout(&self) -> Layout {
        Layout::of(&self.alerts, self.window_days)
    }
}

/// Validates every `[[slo]]` against the fleet and its channels; each
/// problem names its field (`slo[0].alerts[1].short_window`).
pub(super) fn slos(
    raw: &[RawSlo],
    regions: &[Region],
    origins: &[Origin],
    channels: &[Channel],
    refresh_s: u32,
    errs: &mut Errors,
) -> Vec<Slo> {
    if raw.len() > MAX_SLOS {
        errs.push("slo", format!("{} objectives; at most {MAX_SLOS} are allowed", raw.len()));
    }
    let mut seen = BTreeSet::new();
    raw.iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let path = format!("slo[{i}]");
            check_name(&format!("{path}.name"), &s.name, errs);
            if !seen.insert(s.name.as_str()) {
                errs.push(format!("{path}.name"), format!("\"{}\" is already an objective's name", s.name));
            }
            slo(&path, s, regions, origins, channels, refresh_s, errs)
        })
        .collect()
}

fn slo(
    path: &str,
    s: &RawSlo,
    regions: &[Region],
    origins: &[Origin],
    channels: &[Channel],
    refresh_s: u32,
    errs: &mut Errors,
) -> Option<Slo> {
    let field = |key: &str| format!("{path}.{key}");
    let before = errs.len();
    let scope = match (&s.origin, &s.region) {
        (Some(_), Some(_)) => {
            errs.push(field("region"), "an objective judges one scope: origin, region, or neither for the whole fleet");
            None
        }
        (Some(name), None) => match origins.iter().position(|o| &o.name == name) {
            Some(i) => Some(Named::Origin(i)),
            None => {
                errs.push(field("origin"), format!("\"{name}\" names no origin"));
                None
            }
        },
        (None, Some(name)) => match regions.iter().position(|r| &r.name == name) {
            Some(r) => Some(Named::Region(r)),
            None => {
                errs.push(field("region"), format!("\"{name}\" names no region"));
                None
            }
        },
        (None, None) => None,
    };
    // NaN fails both comparisons.
    if !(s.objective > 0.0 && s.objective < 100.0) {
        errs.push(
            field("objective"),
            format!(
                "{} is out of range: expected a percent strictly between 0 and 100 (99.9 allows 0.1 % of slices bad)",
                s.objective
            ),
        );
    }
    let window_days = opt_ranged(
        &field("window_days"),
        s.window_days,
        i64::from(DEFAULT_WINDOW_DAYS),
        1,
        i64::from(MAX_WINDOW_DAYS),
        "days",
        errs,
    ) as u32;
    let bad = bad(&field("bad"), s.bad.as_deref(), errs);
    let channels = notified(&field("channels"), s.channels.as_deref().unwrap_or_default(), channels, errs);
    let alerts = alerts(path, s.alerts.as_deref(), window_days, refresh_s, errs);
    (errs.len() == before).then(|| Slo {
        name: s.name.clone(),
        scope,
        objective: s.objective,
        window_days,
        bad,
        channels,
        alerts,
    })
}

/// `bad`: `["down"]` (the default) or `["down", "degraded"]`.
fn bad(field: &str, list: Option<&[String]>, errs: &mut Errors) -> Bad {
    let Some(list) = list else { return Bad::Down };
    let (mut down, mut degraded) = (false, false);
    for (j, word) in list.iter().enumerate() {
        let flag = match word.as_str() {
            "down" => &mut down,
            "degraded" => &mut degraded,
            other => {
                errs.push(
                    format!("{field}[{j}]"),
                    format!("\"{other}\" is not a status that counts: down or degraded"),
                );
                continue;
            }
        };
        if *flag {
            errs.push(format!("{field}[{j}]"), format!("\"{word}\" is listed twice"));
        }
        *flag = true;
    }
    match (down, degraded) {
        (true, true) => Bad::DownOrDegraded,
        (true, false) => Bad::Down,
        _ => {
            errs.push(field, "name down, and degraded too if it counts: [\"down\"] or [\"down\", \"degraded\"]");
            Bad::Down
        }
    }
}

/// `channels`: names of `[[notify]]` channels, each once; a
/// `cloudflare_pool` follows readiness and is told no alerts.
fn notified(field: &str, names: &[String], channels: &[Channel], errs: &mut Errors) -> Vec<usize> {
    let mut out = Vec::new();
    for (j, name) in names.iter().enumerate() {
        match channels.iter().position(|c| &c.name == name) {
            Some(at) if out.contains(&at) => errs.push(format!("{field}[{j}]"), format!("\"{name}\" is listed twice")),
            Some(at) if matches!(channels[at].kind, ChannelKind::CloudflarePool { .. }) => errs.push(
                format!("{field}[{j}]"),
                format!(
                    "\"{name}\" is a cloudflare_pool channel: it follows readiness and is told no burn-rate alerts"
                ),
            ),
            Some(at) => out.push(at),
            None => errs.push(format!("{field}[{j}]"), format!("\"{name}\" names no [[notify]] channel")),
        }
    }
    out
}

/// `[[slo.alerts]]`, or the default pairs; every window within the
/// objective's, at least [`MIN_WINDOW_ROUNDS`] rounds long, and the fine
/// buckets they need at most [`MAX_FINE_BUCKETS`].
fn alerts(
    path: &str,
    raw: Option<&[RawBurnAlert]>,
    window_days: u32,
    refresh_s: u32,
    errs: &mut Errors,
) -> Vec<BurnAlert> {
    let window_ms = u64::from(window_days) * DAY_MS;
    let min_ms = MIN_WINDOW_ROUNDS * u64::from(refresh_s) * 1000;
    let Some(raw) = raw else {
        let alerts = default_alerts();
        if alerts.iter().any(|a| a.long_ms > window_ms) {
            errs.push(
                format!("{path}.window_days"),
                format!(
                    "{window_days} days is shorter than the default ticket pair's 3 d long window; make it at least 3, or set [[slo.alerts]]"
                ),
            );
        }
        if alerts.iter().any(|a| a.short_ms < min_ms) {
            errs.push(
                format!("{path}.alerts"),
                format!(
                    "the default pairs' 5 min window holds fewer than {MIN_WINDOW_ROUNDS} rounds of settings.refresh_s = {refresh_s}; set [[slo.alerts]] with longer windows"
                ),
            );
        }
        return alerts;
    };
    if raw.is_empty() {
        errs.push(format!("{path}.alerts"), "an empty list; leave alerts out for the workbook's three pairs");
    }
    if raw.len() > MAX_ALERTS {
        errs.push(format!("{path}.alerts"), format!("{} pairs; an objective has at most {MAX_ALERTS}", raw.len()));
    }
    let before = errs.len();
    let alerts: Vec<BurnAlert> = raw
        .iter()
        .enumerate()
        .map(|(j, a)| {
            let field = |key: &str| format!("{path}.alerts[{j}].{key}");
            let severity = match a.severity.as_str() {
                "page" => Severity::Page,
                "ticket" => Severity::Ticket,
                other => {
                    errs.push(field("severity"), format!("\"{other}\" is not a severity: page or ticket"));
                    Severity::Ticket
                }
            };
            let mut window = |key: &str, text: &str| -> u64 {
                let ms = match humantime::parse_duration(text) {
                    Ok(d) => d.as_millis().min(u128::from(u64::MAX)) as u64,
                    Err(e) => {
                        errs.push(field(key), format!("\"{text}\" is not a duration ({e}): write \"5m\", \"1h\", \"3d\""));
                        return 0;
                    }
                };
                if ms < min_ms {
                    errs.push(
                        field(key),
                        format!(
                            "\"{text}\" holds fewer than {MIN_WINDOW_ROUNDS} rounds of settings.refresh_s = {refresh_s}: at least {} s",
                            min_ms / 1000
                        ),
                    );
                } else if ms > window_ms {
                    errs.push(
                        field(key),
                        format!("\"{text}\" is longer than the objective's window of {window_days} days"),
                    );
                }
                ms
            };
            let long_ms = window("long_window", &a.long_window);
            let short_ms = window("short_window", &a.short_window);
            if long_ms > 0 && short_ms >= long_ms {
                errs.push(
                    field("short_window"),
                    format!("\"{}\" is not shorter than long_window \"{}\"", a.short_window, a.long_window),
                );
            }
            if !(a.burn_rate > 0.0 && a.burn_rate.is_finite()) {
                errs.push(
                    field("burn_rate"),
                    format!("{} is out of range: expected a rate over 0 (1 spends the budget over the window)", a.burn_rate),
                );
            }
            BurnAlert { severity, long_ms, short_ms, burn_rate: a.burn_rate }
        })
        .collect();
    if errs.len() == before {
        let layout = Layout::of(&alerts, window_days);
        if layout.fine_buckets > MAX_FINE_BUCKETS {
            let longest = (0..alerts.len())
                .filter(|&j| alerts[j].long_ms < BUCKETS_PER_WINDOW * COARSE_MS)
                .max_by_key(|&j| alerts[j].long_ms)
                .unwrap_or(0);
            errs.push(
                format!("{path}.alerts[{longest}].long_window"),
                format!(
                    "windows under 5 h are summed from buckets of a fifth of the shortest ({} s), and this one would need {} of them, more than {MAX_FINE_BUCKETS}: lengthen the shortest window or shorten this one",
                    layout.fine_ms / 1000,
                    layout.fine_buckets
                ),
            );
        }
    }
    alerts
}
