//! `[settings]` on its own: the numeric settings resolved in order from a
//! table of defaults and bounds ([`SETTINGS`]), the canary, and the vantages
//! with their quorum. The settings checked against the regions or origins
//! (`shard_size`, `min_regions_up`) are `validate.rs`'s.

use std::collections::BTreeSet;

use super::check::{check_url, opt_ranged, quorum, ranged, Errors};
use super::raw::RawSettings;
use super::{
    Quorum, Settings, Vantage, DEADLINE_LIMIT_MS, DEFAULT_DEADLINE_MS, DEFAULT_FALL, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_STALE_S, DEFAULT_PROBE_TIMEOUT_MS, DEFAULT_REFRESH_S, DEFAULT_RETENTION_DAYS, DEFAULT_RISE,
    DEFAULT_VANTAGE, LOCATION_HINTS, MAX_BODY_BYTES_LIMIT, MAX_CONNECTIONS_WAITING,
};

/// One numeric setting of `[settings]`: its key, where the raw file has it,
/// and its default and bounds, which may depend on the settings above it in
/// [`SETTINGS`] (`v`, indexed by position: `v[DEADLINE]`, ...).
struct Row {
    key: &'static str,
    raw: fn(&RawSettings) -> Option<i64>,
    default: fn(&[i64]) -> i64,
    min: fn(&[i64]) -> i64,
    max: fn(&[i64]) -> i64,
    unit: &'static str,
}

const DEADLINE: usize = 0;
const TIMEOUT: usize = 1;
const IN_FLIGHT: usize = 2;
const BODY: usize = 3;
const REFRESH: usize = 4;
const STALE: usize = 5;
const RISE: usize = 6;
const FALL: usize = 7;
const RETENTION: usize = 8;

/// The numeric settings, in the order they are resolved: each row's bounds
/// may read the rows above it.
const SETTINGS: [Row; 9] = [
    Row {
        key: "deadline_ms",
        raw: |r| r.deadline_ms,
        default: |_| i64::from(DEFAULT_DEADLINE_MS),
        min: |_| 1,
        max: |_| i64::from(DEADLINE_LIMIT_MS),
        unit: "ms",
    },
    Row {
        key: "probe_timeout_ms",
        raw: |r| r.probe_timeout_ms,
        default: |v| i64::from(DEFAULT_PROBE_TIMEOUT_MS).min(v[DEADLINE]),
        min: |_| 1,
        max: |v| v[DEADLINE],
        unit: "ms, at most settings.deadline_ms",
    },
    Row {
        key: "max_in_flight",
        raw: |r| r.max_in_flight,
        default: |_| MAX_CONNECTIONS_WAITING as i64,
        min: |_| 1,
        max: |_| MAX_CONNECTIONS_WAITING as i64,
        unit: "probes; Cloudflare Workers allow 6 connections waiting for headers, and a 7th would be queued and time out falsely",
    },
    Row {
        key: "max_body_bytes",
        raw: |r| r.max_body_bytes,
        default: |_| DEFAULT_MAX_BODY_BYTES as i64,
        min: |_| 1,
        max: |_| MAX_BODY_BYTES_LIMIT as i64,
        unit: "bytes",
    },
    Row {
        key: "refresh_s",
        raw: |r| r.refresh_s,
        default: |v| i64::from(DEFAULT_REFRESH_S).max(v[DEADLINE] / 1000 + 1),
        min: |v| v[DEADLINE] / 1000 + 1,
        max: |_| 3600,
        unit: "seconds, longer than settings.deadline_ms so that rounds never overlap",
    },
    Row {
        key: "max_stale_s",
        raw: |r| r.max_stale_s,
        default: |v| i64::from(DEFAULT_MAX_STALE_S).max(v[REFRESH]),
        min: |v| v[REFRESH],
        max: |_| 7 * 24 * 3600,
        unit: "seconds, at least settings.refresh_s",
    },
    Row {
        key: "rise",
        raw: |r| r.rise,
        default: |_| i64::from(DEFAULT_RISE),
        min: |_| 1,
        max: |_| 10,
        unit: "consecutive probes",
    },
    Row {
        key: "fall",
        raw: |r| r.fall,
        default: |_| i64::from(DEFAULT_FALL),
        min: |_| 1,
        max: |_| 10,
        unit: "consecutive probes",
    },
    Row {
        key: "retention_days",
        raw: |r| r.retention_days,
        default: |_| i64::from(DEFAULT_RETENTION_DAYS),
        min: |_| 1,
        max: |_| 366,
        unit: "days",
    },
];

pub(super) fn settings(raw: &RawSettings, errs: &mut Errors) -> Settings {
    let mut v = [0i64; SETTINGS.len()];
    for (i, row) in SETTINGS.iter().enumerate() {
        let field = format!("settings.{}", row.key);
        let (default, min, max) = ((row.default)(&v), (row.min)(&v), (row.max)(&v));
        v[i] = opt_ranged(&field, (row.raw)(raw), default, min, max, row.unit, errs);
    }
    // In range by the table, so every value fits its type.
    let as_u32 = |i: usize| u32::try_from(v[i]).expect("bounded by SETTINGS");
    let as_usize = |i: usize| usize::try_from(v[i]).expect("bounded by SETTINGS");
    Settings {
        probe_timeout_ms: as_u32(TIMEOUT),
        deadline_ms: as_u32(DEADLINE),
        max_in_flight: as_usize(IN_FLIGHT),
        max_body_bytes: as_usize(BODY),
        degraded_is_ready: raw.degraded_is_ready.unwrap_or(false),
        min_regions_up: 1,
        refresh_s: as_u32(REFRESH),
        rise: as_u32(RISE),
        fall: as_u32(FALL),
        retention_days: as_u32(RETENTION),
        max_stale_s: as_u32(STALE),
        canary: raw.canary.as_deref().map(|url| check_url("settings.canary", url, errs)),
        vantages: Vec::new(),
        vantage_quorum: 1,
        shard_size: 1,
        degraded_after_ms: slow_threshold("settings.degraded_after_ms", raw.degraded_after_ms, as_u32(DEADLINE), errs),
    }
}

/// A slow threshold of `[settings]` or a region (`field`), in ms: 1 to
/// `deadline_ms` − 1, as no origin's timeout is longer than the deadline.
/// Whether it is below the timeout of each origin that takes it is
/// `validate.rs`'s (`slow_thresholds`).
pub(super) fn slow_threshold(field: &str, raw: Option<i64>, deadline_ms: u32, errs: &mut Errors) -> Option<u32> {
    let unit = "ms, below the timeout_ms of the origins that take it, each at most settings.deadline_ms";
    let v = ranged(field, raw?, 1, i64::from(deadline_ms) - 1, unit, errs)?;
    Some(u32::try_from(v).expect("bounded by the deadline"))
}

/// `settings.vantages` (location hints, each once) and `settings.vantage_quorum`.
pub(super) fn vantages(raw: &RawSettings, settings: &mut Settings, errs: &mut Errors) {
    settings.vantages = match &raw.vantages {
        None => vec![Vantage { name: DEFAULT_VANTAGE.into(), hint: None }],
        Some(hints) if hints.is_empty() => {
            errs.push(
                "settings.vantages",
                "at least one location hint; leave the key out for one vantage without a hint",
            );
            vec![Vantage { name: DEFAULT_VANTAGE.into(), hint: None }]
        }
        Some(hints) => {
            let mut seen = BTreeSet::new();
            for (i, hint) in hints.iter().enumerate() {
                let field = format!("settings.vantages[{i}]");
                if !LOCATION_HINTS.contains(&hint.as_str()) {
                    let hint: String = hint.chars().filter(|c| !c.is_control()).take(64).collect();
                    errs.push(
                        field,
                        format!("\"{hint}\" is not a location hint; use one of {}", LOCATION_HINTS.join(", ")),
                    );
                } else if !seen.insert(hint.as_str()) {
                    errs.push(field, format!("\"{hint}\" is listed twice; each vantage once"));
                }
            }
            hints.iter().map(|h| Vantage { name: h.clone(), hint: Some(h.clone()) }).collect()
        }
    };
    let count = settings.vantages.len();
    let unit = format!("vantages, at most the {count} in settings.vantages");
    let resolved = raw
        .vantage_quorum
        .as_ref()
        .map_or(Quorum::Majority, |q| quorum("settings.vantage_quorum", q, count, &unit, errs));
    settings.vantage_quorum = resolved.needed(count);
}
