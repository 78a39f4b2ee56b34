//! Validation: [`RawConfig`] to [`Config`], or every problem at once, each
//! naming its field path (`origins[3].url`). Ripgrep's `HiArgs::from_low_args`:
//! the rich types are built here once, and nothing downstream re-checks.
//!
//! This file holds [`Config::from_raw`] and what spans sections: the regions
//! and the origins' list (names unique across both, each origin under its
//! region, probed ones first), the regions' quorums and slow thresholds
//! (`degraded_after_ms`: an origin's own, else its region's, else the
//! settings', each inherited one below the timeout of every origin that takes
//! it), `settings.shard_size` and `settings.min_regions_up`. `[settings]` on
//! its own is `settings.rs`'s, one origin's keys `origin.rs`'s.

use std::collections::{BTreeMap, BTreeSet};

use super::check::{check_name, quorum, ranged, Errors};
use super::origin::{origin, HEARTBEAT};
use super::raw::{RawConfig, RawSettings};
use super::settings::{settings, slow_threshold, vantages};
use super::{Config, ConfigError, Origin, Region, Settings, MAX_FLEET, MAX_ORIGINS};

impl Config {
    /// Validates `raw`. On failure returns every problem found, in file order.
    pub fn from_raw(raw: &RawConfig) -> Result<Config, Vec<ConfigError>> {
        let mut errs = Errors::default();
        let mut settings = settings(&raw.settings, &mut errs);
        if raw.regions.is_empty() {
            errs.push("regions", "at least one region must be declared, as [regions.<name>]");
        }
        if raw.origins.is_empty() {
            errs.push("origins", "at least one origin must be declared, as [[origins]]");
        }
        vantages(&raw.settings, &mut settings, &mut errs);
        let probed = raw.origins.iter().filter(|o| o.kind.as_deref() != Some(HEARTBEAT)).count();
        if probed == 0 && !raw.origins.is_empty() {
            errs.push(
                "origins",
                "every origin is a heartbeat check: at least one must be probed (kind = \"http\", with a url), as the vantages judge the monitor's own path by the probed ones",
            );
        }
        settings.shard_size = shard_size(&raw.settings, raw.origins.len(), probed, &mut errs);
        let mut regions = declared_regions(raw, &settings, &mut errs);
        let origins = origins(raw, &settings, &mut regions, &mut errs);
        quorums(raw, &mut regions, &mut errs);
        settings.min_regions_up = min_regions_up(&raw.settings, raw.regions.len(), &mut errs);
        let channels = super::notify::channels(&raw.notify, &regions, &origins, &mut errs);
        let maintenance = super::maintenance::windows(&raw.maintenance, &regions, &origins, &mut errs);
        let slos = super::slo::slos(&raw.slo, &regions, &origins, &channels, settings.refresh_s, &mut errs);
        if errs.0.is_empty() {
            Ok(Config::new(settings, regions, origins, channels, maintenance, slos))
        } else {
            Err(errs.0)
        }
    }
}

/// The regions in name order, each without origins yet, with its slow
/// threshold.
fn declared_regions(raw: &RawConfig, settings: &Settings, errs: &mut Errors) -> Vec<Region> {
    raw.regions
        .iter()
        .map(|(name, region)| {
            check_name(&format!("regions.{name}"), name, errs);
            let field = format!("regions.{name}.degraded_after_ms");
            let degraded_after_ms = slow_threshold(&field, region.degraded_after_ms, settings.deadline_ms, errs);
            Region { name: name.clone(), min_up: 1, origins: Vec::new(), degraded_after_ms }
        })
        .collect()
}

/// Origins that take an inherited slow threshold not below their timeout,
/// by the field that set it (`regions.<name>.degraded_after_ms` or
/// `settings.degraded_after_ms`).
#[derive(Default)]
struct Unfired<'a>(BTreeMap<String, Takers<'a>>);

/// An inherited slow threshold in ms, and each origin that takes it though
/// it is not below its timeout: its name and `timeout_ms`.
struct Takers<'a> {
    ms: u32,
    origins: Vec<(&'a str, u32)>,
}

impl<'a> Unfired<'a> {
    /// Origin `name`, whose timeout is `timeout_ms`, takes `ms` from `field`.
    fn add(&mut self, field: String, ms: u32, name: &'a str, timeout_ms: u32) {
        self.0.entry(field).or_insert(Takers { ms, origins: Vec::new() }).origins.push((name, timeout_ms));
    }

    /// One error per field that set such a threshold, naming the first origin
    /// it could never fire for and how many more.
    fn report(self, errs: &mut Errors) {
        for (field, Takers { ms, origins }) in self.0 {
            let (name, timeout_ms) = origins[0];
            let (who, them) = match origins.len() - 1 {
                0 => (format!("origin \"{name}\" (timeout_ms {timeout_ms}), which takes it"), "that origin"),
                n => (format!("origin \"{name}\" (timeout_ms {timeout_ms}) and {n} more that take it"), "each of them"),
            };
            errs.push(
                field,
                format!(
                    "{ms} ms is not below the timeout of {who}: an answer slower than its timeout is a timeout, so this threshold could never fire there; lower it, or set degraded_after_ms on {them} below its timeout"
                ),
            );
        }
    }
}

/// The origins in file order; each is also listed under its region.
fn origins(raw: &RawConfig, settings: &Settings, regions: &mut [Region], errs: &mut Errors) -> Vec<Origin> {
    let region_index: BTreeMap<&str, usize> =
        raw.regions.keys().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut unfired = Unfired::default();
    let mut out = Vec::with_capacity(raw.origins.len());
    for (i, o) in raw.origins.iter().enumerate() {
        let path = format!("origins[{i}]");
        check_name(&format!("{path}.name"), &o.name, errs);
        if region_index.contains_key(o.name.as_str()) {
            errs.push(
                format!("{path}.name"),
                format!(
                    "\"{}\" is already a region name; /health/{{name}} needs names unique across regions and origins",
                    o.name
                ),
            );
        } else if !seen.insert(o.name.as_str()) {
            errs.push(
                format!("{path}.name"),
                format!("\"{}\" is used by an earlier origin; names must be unique", o.name),
            );
        }
        let region = match region_index.get(o.region.as_str()) {
            Some(&r) => {
                regions[r].origins.push(i);
                r
            }
            None => {
                let declared: Vec<&str> = region_index.keys().copied().collect();
                errs.push(
                    format!("{path}.region"),
                    format!("\"{}\" is not declared under [regions] (declared: {})", o.region, declared.join(", ")),
                );
                0
            }
        };
        // The most specific slow threshold wins: the origin's own (checked
        // in `origin`), else its region's, else the settings'.
        let inherited = match regions.get(region).and_then(|r| r.degraded_after_ms) {
            Some(ms) => Some((ms, format!("regions.{}.degraded_after_ms", regions[region].name))),
            None => settings.degraded_after_ms.map(|ms| (ms, "settings.degraded_after_ms".to_string())),
        };
        let built = origin(&path, o, region, inherited.as_ref().map(|(ms, _)| *ms), settings, errs);
        if let Some((ms, field)) = inherited {
            let takes_it = o.degraded_after_ms.is_none() && built.heartbeat.is_none();
            if takes_it && ms >= built.timeout_ms {
                unfired.add(field, ms, &o.name, built.timeout_ms);
            }
        }
        out.push(built);
    }
    unfired.report(errs);
    probed_first(out, regions)
}

/// Orders the probed origins first and the heartbeat checks after them, each
/// in file order (shards cover the probed ones only), and renumbers the
/// regions' lists to match.
fn probed_first(origins: Vec<Origin>, regions: &mut [Region]) -> Vec<Origin> {
    let mut order: Vec<usize> = (0..origins.len()).collect();
    order.sort_by_key(|&i| origins[i].heartbeat.is_some()); // stable: file order within each kind
    let mut new_index = vec![0; origins.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    for region in regions.iter_mut() {
        for i in region.origins.iter_mut() {
            *i = new_index[*i];
        }
        region.origins.sort_unstable();
    }
    let mut slots: Vec<Option<Origin>> = origins.into_iter().map(Some).collect();
    order.iter().filter_map(|&old| slots[old].take()).collect()
}

/// Each region's `min_up`, checked against its origin count; a region without
/// origins is an error.
fn quorums(raw: &RawConfig, regions: &mut [Region], errs: &mut Errors) {
    for (region, (name, raw_region)) in regions.iter_mut().zip(raw.regions.iter()) {
        let path = format!("regions.{name}");
        if region.origins.is_empty() {
            errs.push(
                path,
                format!("no origin names this region; remove it or add an origin with region = \"{name}\""),
            );
            continue;
        }
        if let Some(q) = &raw_region.min_up {
            let total = region.origins.len();
            let unit = format!("origins, at most the {total} in this region");
            region.min_up = quorum(&format!("{path}.min_up"), q, total, &unit, errs).needed(total);
        }
    }
}

/// `settings.min_regions_up`, at most the number of declared regions.
fn min_regions_up(raw: &RawSettings, declared: usize, errs: &mut Errors) -> usize {
    let declared = declared.max(1);
    match raw.min_regions_up {
        None => 1,
        Some(v) => ranged(
            "settings.min_regions_up",
            v,
            1,
            declared as i64,
            &format!("regions, at most the {declared} declared"),
            errs,
        )
        .unwrap_or(1) as usize,
    }
}

/// `settings.shard_size`: by default the whole fleet in one shard; a fleet of
/// more than [`MAX_ORIGINS`] needs it set.
fn shard_size(raw: &RawSettings, origins: usize, probed: usize, errs: &mut Errors) -> usize {
    if origins > MAX_FLEET {
        errs.push("origins", format!("{origins} origins, more than the {MAX_FLEET} a fleet may have"));
    }
    match raw.shard_size {
        Some(n) => ranged("settings.shard_size", n, 1, MAX_ORIGINS as i64, "origins per prober", errs)
            .map_or(MAX_ORIGINS, |n| n as usize),
        None if probed > MAX_ORIGINS => {
            errs.push(
                "origins",
                format!(
                    "{probed} origins, more than the {MAX_ORIGINS} one prober covers in a round (its connections and subrequests); set settings.shard_size (at most {MAX_ORIGINS}) to split them across probers"
                ),
            );
            MAX_ORIGINS
        }
        None => probed.max(1),
    }
}
