//! Any text as `edgecheck.toml`: `parse_toml`, then `Config::from_raw`, never
//! panic; errors are fine. A config that validates must also keep the
//! invariants `Config` promises (names unique and routable, every origin in a
//! declared region, every quorum reachable), survive the fleet document round
//! trip (`edgecheck check --out` writes it, the worker reads it), and render
//! every answer. The same text as a fleet document: `Config::from_fleet_document`
//! never panics either.

use edgecheck_core::config::{parse_toml, Config, Named};
use edgecheck_core::http::{dispatch, BadgeFormat, Dispatch, Incoming, Target, Variant};
use edgecheck_core::monitor::advance;
use edgecheck_core::uptime::Uptimes;

/// The `config` target: any bytes (only UTF-8 text is read).
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The worker reads whatever fleet document it is deployed with.
    if let Err(e) = Config::from_fleet_document(text) {
        let _ = e.to_string();
    }
    let raw = match parse_toml(text) {
        Ok(raw) => raw,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let config = match Config::from_raw(&raw) {
        Ok(config) => config,
        Err(errs) => {
            assert!(!errs.is_empty(), "an invalid config names at least one problem");
            for e in &errs {
                let _ = e.to_string();
            }
            return;
        }
    };
    for w in config.warnings() {
        let _ = (w.field, w.message);
    }
    check_invariants(&config);

    // `edgecheck check --out` writes the fleet document; the worker reads it back.
    let (back, digest) = Config::from_fleet_document(&config.fleet_document()).expect("a fleet document loads");
    assert_eq!(back, config, "the fleet document's config is the validated one");
    assert_eq!(digest.len(), 64, "the fleet document's digest is a SHA-256: {digest}");

    // Every answer, before the first round and after one.
    let uptimes = Uptimes::new();
    super::serve_all(&config, &super::empty_state(), 0, &uptimes, &[], None);
    let at = 1_700_000_000_000;
    let next = advance(&config, None, &super::round(&config, at, data), true);
    super::serve_all(&config, &next.state, at + 5_000, &uptimes, &next.changes, None);
}

fn check_invariants(config: &Config) {
    let s = &config.settings();
    assert!((1..=6).contains(&s.max_in_flight), "max_in_flight {}", s.max_in_flight);
    assert!((1..=config.regions().len()).contains(&s.min_regions_up), "min_regions_up {}", s.min_regions_up);
    for (r, region) in config.regions().iter().enumerate() {
        assert!(!region.origins.is_empty(), "region {} has no origin", region.name);
        let needed = region.min_up;
        assert!(needed <= region.origins.len(), "region {} needs {needed} of {}", region.name, region.origins.len());
        for &i in &region.origins {
            assert_eq!(config.origins().get(i).map(|o| o.region), Some(r), "region {} lists origin {i}", region.name);
        }
        assert_eq!(config.find(&region.name), Some(Named::Region(r)), "region {} is found", region.name);
        routes_to(config, &format!("/health/{}", region.name), Target::HealthRegion(r));
        routes_to(config, &format!("/ready/{}", region.name), Target::ReadyRegion(r));
        routes_to(
            config,
            &format!("/badge/{}.svg", region.name),
            Target::Badge(Some(Named::Region(r)), BadgeFormat::Svg),
        );
    }
    // The shards cover exactly the probed origins, which come first; heartbeat checks are in none.
    let sharded: Vec<usize> = (0..config.shard_count()).flat_map(|shard| config.shard(shard)).collect();
    assert_eq!(sharded, (0..config.probed()).collect::<Vec<_>>(), "the shards");
    assert!(config.origins()[..config.probed()].iter().all(|o| o.heartbeat.is_none()), "a check among the probed");
    assert!(
        config.origins()[config.probed()..].iter().all(|o| o.heartbeat.is_some()),
        "a probed origin among the checks"
    );
    for (i, origin) in config.origins().iter().enumerate() {
        assert!(origin.region < config.regions().len(), "origin {} has region {}", origin.name, origin.region);
        assert!(config.regions()[origin.region].origins.contains(&i), "origin {} is not in its region", origin.name);
        assert!(origin.timeout_ms >= 1 && origin.timeout_ms <= s.deadline_ms, "origin {} timeout", origin.name);
        assert_eq!(config.find(&origin.name), Some(Named::Origin(i)), "origin {} is found", origin.name);
        routes_to(config, &format!("/health/{}", origin.name), Target::HealthOrigin(i));
        routes_to(config, &format!("/history/{}", origin.name), Target::HistoryOf(Named::Origin(i)));
        routes_to(
            config,
            &format!("/badge/{}.json", origin.name),
            Target::Badge(Some(Named::Origin(i)), BadgeFormat::Json),
        );
    }
}

/// Names are validated to be routable: `GET path` reaches `target`, and so
/// does the target's canonical path.
fn routes_to(config: &Config, path: &str, target: Target) {
    for p in [path, &target.path(config)] {
        let got = dispatch(config, Incoming::new("GET", p));
        assert_eq!(got, Dispatch::Snapshot { target, variant: Variant::Full, head: false }, "GET {p}");
    }
}
