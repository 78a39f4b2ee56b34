//! Validation: [`RawConfig`] to [`Config`], or every problem at once, each
//! naming its field path (`origins[3].url`). Ripgrep's `HiArgs::from_low_args`:
//! the rich types are built here once, and nothing downstream re-checks.
//!
//! This file holds [`Config::from_raw`] and what spans sections: the regions
//! and the origins' list (names unique across both, each origin under its
//! region, probed ones first), the regions' quorums, `settings.shard_size`
//! and `settings.min_regions_up`. `[settings]` on its own is `settings.rs`'s,
//! one origin's keys `origin.rs`'s.

use std::collections::{BTreeMap, BTreeSet};

use super::check::{check_name, quorum, ranged, Errors};
use super::origin::{origin, HEARTBEAT};
use super::raw::{RawConfig, RawSettings};
use super::settings::{settings, vantages};
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
        let mut regions = declared_regions(raw, &mut errs);
        let origins = origins(raw, &settings, &mut regions, &mut errs);
        quorums(raw, &mut regions, &mut errs);
        settings.min_regions_up = min_regions_up(&raw.settings, raw.regions.len(), &mut errs);
        let channels = super::notify::channels(&raw.notify, &regions, &origins, &mut errs);
        let maintenance = super::maintenance::windows(&raw.maintenance, &regions, &origins, &mut errs);
        if errs.0.is_empty() {
            Ok(Config::new(settings, regions, origins, channels, maintenance))
        } else {
            Err(errs.0)
        }
    }
}

/// The regions in name order, each without origins yet.
fn declared_regions(raw: &RawConfig, errs: &mut Errors) -> Vec<Region> {
    raw.regions
        .keys()
        .map(|name| {
            check_name(&format!("regions.{name}"), name, errs);
            Region { name: name.clone(), min_up: 1, origins: Vec::new() }
        })
        .collect()
}

/// The origins in file order; each is also listed under its region.
fn origins(raw: &RawConfig, settings: &Settings, regions: &mut [Region], errs: &mut Errors) -> Vec<Origin> {
    let region_index: BTreeMap<&str, usize> =
        raw.regions.keys().enumerate().map(|(i, name)| (name.as_str(), i)).collect();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
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
        out.push(origin(&path, o, region, settings, errs));
    }
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
