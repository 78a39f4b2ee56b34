//! The operations of the core benchmarks, shared by the host benchmarks
//! (`benches/core.rs`, criterion) and the same operations compiled to wasm and
//! run in workerd (`bench/core-wasm`), so the two compare one to one.

use std::hint::black_box;

use edgecheck_core::aggregate::{aggregate, Probe, Round};
use edgecheck_core::classify::{classify, Health, Outcome, Reason, Verdict};
use edgecheck_core::config::{parse_toml, Config, RawConfig};
use edgecheck_core::http::{answer, Extras, Target, Variant};
use edgecheck_core::monitor::{advance, advance_merged, MonitorState, Snapshot};
use edgecheck_core::publish::{self, Published};
use edgecheck_core::uptime::Uptimes;
use edgecheck_core::vantage::{merge, Report};
use edgecheck_core::view::shown;

/// The operations measured, by name. `render_*_10000x3` render the fleet limit
/// (10,000 origins in shards of 500) merged from 3 vantages: `/health` in full
/// and `/health?detailed=false`. `reuse_health_1000` is what serving an answer
/// the isolate already rendered costs (a copy of the kept `Reply`), against
/// `render_health_1000`, rendering it again; `parse_snapshot_1000` reads a
/// 1,000-origin published snapshot, once per refresh per isolate.
/// `conditions_64KB` judges a 64 KiB JSON answer (the default
/// `max_body_bytes`) against [`CONDITION_SET`], against `classify_64KB`, the
/// same answer with no conditions.
pub const OPS: [&str; 12] = [
    "classify_200B",
    "classify_4KB",
    "aggregate_50",
    "aggregate_1000",
    "render_health_50",
    "render_health_1000",
    "reuse_health_1000",
    "parse_snapshot_1000",
    "render_health_10000x3",
    "render_summary_10000x3",
    "classify_64KB",
    "conditions_64KB",
];

/// The condition set of `conditions_64KB`, as an origin's TOML: one of each
/// subject (status, header, body text, a pattern, JSONPath values, a filter,
/// `length()` and `count()`), each holding on [`spring_body`].
pub const CONDITION_SET: &str = r#"
[[origins.conditions]]
name = "status"
status = true
op = "=="
value = 200
[[origins.conditions]]
name = "json-type"
header = "content-type"
op = "contains"
value = "json"
[[origins.conditions]]
name = "text"
body = true
op = "contains"
value = '"status":"UP"'
[[origins.conditions]]
name = "pattern"
body = true
op = "matches"
value = '"c[0-9]+":\{"status":"UP"'
[[origins.conditions]]
name = "top"
json = "$.status"
op = "=="
value = "UP"
[[origins.conditions]]
name = "one"
json = "$.components.c7.details.v"
op = "=="
value = 7
[[origins.conditions]]
name = "none-down"
json = "count($.components[?@.status == 'DOWN'])"
op = "=="
value = 0
[[origins.conditions]]
name = "size"
json = "length($.components)"
op = ">="
value = 100
"#;

/// The fleet of the `*_10000x3` operations: shards of this many origins.
pub const LIMIT_SHARD: usize = 500;
/// The vantages of the `*_10000x3` operations.
pub const LIMIT_VANTAGES: [&str; 3] = ["enam", "weur", "apac"];

/// A fleet of `n` origins in up to 4 regions, one vantage, one shard.
pub fn fleet(n: usize) -> Config {
    sharded_fleet(n, None, &[])
}

/// A fleet of `n` origins in up to 4 regions, in shards of `shard_size`
/// (`None`: the default), probed from `vantages` (empty: one, unnamed).
pub fn sharded_fleet(n: usize, shard_size: Option<usize>, vantages: &[&str]) -> Config {
    let regions = n.min(4);
    let mut settings = serde_json::Map::new();
    if let Some(size) = shard_size {
        settings.insert("shard_size".into(), size.into());
    }
    if !vantages.is_empty() {
        settings.insert("vantages".into(), vantages.to_vec().into());
    }
    let raw = serde_json::json!({
        "settings": settings,
        "regions": (1..=regions).map(|r| (format!("r{r}"), serde_json::json!({}))).collect::<serde_json::Map<_, _>>(),
        "origins": (0..n).map(|i| serde_json::json!({
            "name": format!("o{i}"),
            "region": format!("r{}", i % regions + 1),
            "url": format!("https://o{i}.example.com/health"),
        })).collect::<Vec<_>>(),
    });
    let raw: RawConfig = serde_json::from_value(raw).expect("a RawConfig");
    Config::from_raw(&raw).expect("a valid fleet")
}

/// One origin `o0` in `r1` with `conditions` (`[[origins.conditions]]` TOML).
pub fn with_conditions(conditions: &str) -> Config {
    let text = format!("[regions.r1]\n[[origins]]\nname = \"o0\"\nregion = \"r1\"\nurl = \"https://o0.example.com/health\"\n{conditions}");
    Config::from_raw(&parse_toml(&text).expect("TOML")).expect("a valid fleet")
}

/// A Spring Boot body of about `size` bytes: components, each with details.
pub fn spring_body(size: usize) -> Vec<u8> {
    let mut components = String::new();
    let mut i = 0;
    while components.len() + 40 < size {
        components += &format!("\"c{i}\":{{\"status\":\"UP\",\"details\":{{\"v\":{i}}}}},");
        i += 1;
    }
    format!("{{\"status\":\"UP\",\"components\":{{{}}}}}", components.trim_end_matches(',')).into_bytes()
}

/// One probe per origin: up, up, degraded, down, repeating.
pub fn probes(n: usize) -> Vec<Probe> {
    (0..n)
        .map(|i| {
            let health = [Health::Up, Health::Up, Health::Degraded, Health::Down][i % 4];
            Probe {
                verdict: Verdict { health, reason: Reason::Ok, http_status: Some(200), condition: None },
                latency_ms: Some(12),
            }
        })
        .collect()
}

/// Prepares operation `op` (one of [`OPS`]) and returns a closure that runs it
/// once and returns a number derived from its result.
pub fn prepare(op: &str) -> Option<Box<dyn Fn() -> usize>> {
    let n = |s: &str| s.rsplit('_').next().and_then(|n| n.parse::<usize>().ok());
    Some(match op {
        "classify_200B" | "classify_4KB" | "classify_64KB" | "conditions_64KB" => {
            let size = match op {
                "classify_200B" => 200,
                "classify_4KB" => 4096,
                _ => 64 * 1024,
            };
            let config = if op == "conditions_64KB" { with_conditions(CONDITION_SET) } else { fleet(1) };
            let outcome = Outcome::Answered {
                status: 200,
                content_type: Some("application/json".into()),
                headers: vec![("content-type".into(), "application/json".into())],
                body: spring_body(size),
            };
            Box::new(move || classify(black_box(&config.origins()[0]), black_box(&outcome)).health as usize)
        }
        "aggregate_50" | "aggregate_1000" => {
            let config = fleet(n(op)?);
            let healths: Vec<Health> = probes(config.origins().len()).iter().map(|p| p.verdict.health).collect();
            Box::new(move || aggregate(black_box(&config), black_box(&healths)).regions.len())
        }
        "render_health_50" | "render_health_1000" => {
            let config = fleet(n(op)?);
            let round =
                Round { checked_at_ms: 1_795_000_000_000, duration_ms: 40, probes: probes(config.origins().len()) };
            let state = advance(&config, None, &round, true).state;
            let uptimes = Uptimes::new();
            Box::new(move || {
                let snap = Snapshot { state: black_box(&state), now_ms: 1_795_000_003_000 };
                let extras = Extras { uptimes: Some(&uptimes), ..Extras::default() };
                answer(&config, Target::Health, Variant::Full, &shown(&config, snap), extras)
                    .body
                    .map_or(0, |b| b.len())
            })
        }
        "reuse_health_1000" => {
            let doc = published(1000);
            let kept = publish::answer(&fleet(1000), &doc, Target::Health, Variant::Full, 1_795_000_003_000);
            Box::new(move || black_box(&kept).clone().body.map_or(0, |b| b.len()))
        }
        "parse_snapshot_1000" => {
            let json = published(1000).to_json();
            Box::new(move || Published::from_json("bench", black_box(&json)).map_or(0, |d| d.state.origins.len()))
        }
        "render_health_10000x3" | "render_summary_10000x3" => {
            let config = sharded_fleet(10_000, Some(LIMIT_SHARD), &LIMIT_VANTAGES);
            let state = merged_state(&config, 1_795_000_000_000);
            let uptimes = Uptimes::new();
            let variant = if op.starts_with("render_health") { Variant::Full } else { Variant::Summary };
            Box::new(move || {
                let snap = Snapshot { state: black_box(&state), now_ms: 1_795_000_003_000 };
                let extras = Extras { uptimes: Some(&uptimes), ..Extras::default() };
                answer(&config, Target::Health, variant, &shown(&config, snap), extras).body.map_or(0, |b| b.len())
            })
        }
        _ => return None,
    })
}

/// The published snapshot of `n` origins after one round of [`probes`].
pub fn published(n: usize) -> Published {
    let config = fleet(n);
    let round = Round { checked_at_ms: 1_795_000_000_000, duration_ms: 40, probes: probes(n) };
    let state = advance(&config, None, &round, true).state;
    Published {
        fleet: "bench".into(),
        state,
        uptimes: Uptimes::new(),
        daily: Default::default(),
        changes: Vec::new(),
        latency: Default::default(),
        notify: Default::default(),
        slo: Default::default(),
    }
}

/// The monitor's state after one round in which every prober of `config`
/// reported [`probes`] for its shard at `checked_at_ms`.
pub fn merged_state(config: &Config, checked_at_ms: u64) -> MonitorState {
    let reports = config
        .probers()
        .map(|(vantage, shard)| Report {
            fleet: String::new(),
            round: checked_at_ms,
            vantage,
            shard,
            canary_ok: true,
            colo: None,
            duration_ms: 40,
            probes: probes(config.shard(shard).len()),
            details: Vec::new(),
        })
        .collect();
    let (merged, dropped) = merge(config, "", checked_at_ms, 2_000, reports);
    assert!(dropped.is_empty(), "every report fits: {dropped:?}");
    advance_merged(config, None, &merged).state
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every condition of the set holds on the 64 KiB body, so the benchmark
    /// runs them all; and one that cannot hold makes it `down`.
    #[test]
    fn the_condition_set_holds_on_the_benchmark_body() {
        let outcome = Outcome::Answered {
            status: 200,
            content_type: Some("application/json".into()),
            headers: vec![("content-type".into(), "application/json".into())],
            body: spring_body(64 * 1024),
        };
        let config = with_conditions(CONDITION_SET);
        assert_eq!(config.origins()[0].conditions.len(), 8);
        assert_eq!(classify(&config.origins()[0], &outcome), Verdict::new(Health::Up, Reason::Ok, Some(200)));
        let failing = with_conditions(&CONDITION_SET.replace("value = 100", "value = 100000"));
        let verdict = classify(&failing.origins()[0], &outcome);
        assert_eq!((verdict.health, verdict.reason), (Health::Down, Reason::AssertionFailed));
        assert!((60_000..=64 * 1024).contains(&spring_body(64 * 1024).len()));
    }
}
