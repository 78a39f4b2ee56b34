//! Shared by the fuzz targets: one small valid fleet (the shape of the core
//! tests' `FLEET`, with loopback URLs as in `edgecheck.toml`, and one origin
//! of each kind: GET with the body read, HEAD, `format = "status_code"`, a
//! heartbeat check; a weekly maintenance window over `west` and `s1` every
//! other day, so that half the times fuzzed fall in it), and
//! every answer the monitor can give for a state.
//!
//! Each target's body is a plain `run(data: &[u8])` in a module of its own
//! here, free of libFuzzer: the target files in `fuzz/fuzz_targets/` only hand
//! libFuzzer's input to it, and `tests/fuzz_corpora.rs` replays every file of
//! `fuzz/corpus/<target>/` through it on every `cargo test`.

#![allow(dead_code)]

pub mod classify;
pub mod conditions;
pub mod config;
pub mod doh;
pub mod render;
pub mod route;

use std::sync::OnceLock;

use edgecheck_core::aggregate::{Probe, Round};
use edgecheck_core::classify::{Health, Reason, Verdict};
use edgecheck_core::config::{parse_toml, Config, Named};
use edgecheck_core::http::{self, BadgeFormat, Extras, MonitorCall, Target, Variant};
use edgecheck_core::monitor::{advance, Change, MonitorState, Snapshot};
use edgecheck_core::publish::{self, Published, RenderKey};
use edgecheck_core::uptime::{Daily, Uptimes};
use edgecheck_core::view::{shown, ShownView};

pub const FLEET: &str = r#"
[settings]
min_regions_up = 2
max_stale_s = 60

[regions.east]
min_up = 2

[regions.west]
min_up = "majority"

[regions.south]
min_up = "all"

[[origins]]
name = "e1"
region = "east"
url = "http://127.0.0.1:9101/actuator/health"
expect_status = ["2xx"]

[[origins]]
name = "e2"
region = "east"
url = "http://127.0.0.1:9102/api/health/ready"
timeout_ms = 1500

[[origins]]
name = "e3"
region = "east"
url = "http://127.0.0.1:9103/health"
critical = true
headers = { Authorization = { secret = "DEMO_TOKEN" }, X-Probe = "edgecheck-fuzz" }

[[origins]]
name = "w1"
region = "west"
url = "http://127.0.0.1:9104/_cluster/health"

[[origins]]
name = "w2"
region = "west"
url = "http://127.0.0.1:9105/healthz"
method = "HEAD"

[[origins]]
name = "w3"
region = "west"
url = "http://127.0.0.1:9110/"
format = "status_code"
expect_status = ["2xx", "429"]

[[origins]]
name = "s1"
region = "south"
url = "http://127.0.0.1:9107/health"
rise = 1
fall = 1

[[origins]]
name = "job"
region = "south"
kind = "heartbeat"
period_s = 60
grace_s = 30
token_secret = "JOB_TOKEN"

[[maintenance]]
id = "west-weekly"
reason = "patching"
regions = ["west"]
origins = ["s1"]
weekly = { days = ["mon", "wed", "fri", "sun"], start = "00:00", minutes = 1440 }
"#;

/// Indices into [`FLEET`]'s origins: a GET whose body is read, a HEAD, and a
/// `format = "status_code"` origin.
pub const GET_AUTO: usize = 0;
pub const HEAD: usize = 4;
pub const STATUS_CODE: usize = 5;

/// The cache identity the worker would use.
pub const MONITOR_ID: &str = "0123456789abcdef";
pub const FLEET_DIGEST: &str = "fuzz";

/// [`FLEET`], parsed and validated once.
pub fn fleet() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let raw = parse_toml(FLEET).expect("FLEET parses");
        Config::from_raw(&raw).expect("FLEET is valid")
    })
}

pub const VARIANTS: [Variant; 5] =
    [Variant::Full, Variant::Summary, Variant::HealthJson, Variant::Verbose, Variant::OpenSlo];

/// Every snapshot route of `config`.
pub fn every_target(config: &Config) -> Vec<Target> {
    let mut targets = vec![Target::Ready, Target::Health, Target::History, Target::StatusPage, Target::Metrics];
    let mut named: Vec<Named> = (0..config.regions().len()).map(Named::Region).collect();
    named.extend((0..config.origins().len()).map(Named::Origin));
    for r in 0..config.regions().len() {
        targets.extend([Target::ReadyRegion(r), Target::HealthRegion(r)]);
    }
    for i in 0..config.origins().len() {
        targets.push(Target::HealthOrigin(i));
    }
    for n in named {
        targets.extend([
            Target::HistoryOf(n),
            Target::Badge(Some(n), BadgeFormat::Json),
            Target::Badge(Some(n), BadgeFormat::Svg),
        ]);
    }
    targets.extend([Target::Badge(None, BadgeFormat::Json), Target::Badge(None, BadgeFormat::Svg), Target::Slo]);
    targets.extend((0..config.slos().len()).map(Target::SloOf));
    targets
}

/// A state with nothing in it: what a monitor with an empty store holds
/// before its first round.
pub fn empty_state() -> MonitorState {
    MonitorState {
        fleet: String::new(),
        origins: Default::default(),
        regions: Default::default(),
        overall: None,
        checked_at_ms: 0,
        duration_ms: 0,
        fresh_at_ms: None,
        isolated: false,
        vantages: Default::default(),
        drains: Default::default(),
        maintenance: Default::default(),
        drained: Default::default(),
        windows_open: None,
    }
}

/// One round over `config`, each origin's health picked by a byte of `pick`.
pub fn round(config: &Config, at_ms: u64, pick: &[u8]) -> Round {
    let probes = (0..config.origins().len())
        .map(|i| {
            let (health, reason, status) = match pick.get(i).copied().unwrap_or(0) % 4 {
                0 => (Health::Up, Reason::Ok, Some(200)),
                1 => (Health::Degraded, Reason::BodyDegraded, Some(200)),
                2 => (Health::Down, Reason::StatusMismatch, Some(503)),
                _ => (Health::Down, Reason::Timeout, None),
            };
            Probe {
                verdict: Verdict { health, reason, http_status: status, condition: None },
                latency_ms: Some(40 + i as u64),
            }
        })
        .collect();
    Round { checked_at_ms: at_ms, duration_ms: 120, probes }
}

/// The state of [`fleet`] after two rounds, the second with one origin down
/// and one degraded.
pub fn fleet_state() -> &'static MonitorState {
    static STATE: OnceLock<MonitorState> = OnceLock::new();
    STATE.get_or_init(|| {
        let c = fleet();
        let first = advance(c, None, &round(c, 1_700_000_000_000, &[]), true).state;
        advance(c, Some(&first), &round(c, 1_700_000_015_000, &[0, 2, 0, 1]), true).state
    })
}

/// The answer to `target` in `variant` from the view, served as the worker
/// serves it (from memory, the Cache API's snapshot or the monitor's; GET or HEAD).
pub fn serve(config: &Config, target: Target, variant: Variant, view: &ShownView, extras: Extras) {
    let reply = http::answer(config, target, variant, view, extras);
    assert!(matches!(reply.status, 200 | 503), "{target:?} {variant:?} answered {}", reply.status);
    let _ = target.history_name(config);
    for source in [http::Source::Memory, http::Source::Cache, http::Source::Monitor] {
        let _ = http::served(reply.clone(), source, true);
        let _ = http::served(reply.clone(), source, false);
    }
}

/// Every answer of `config` for the view of `state` at `now_ms`, and the
/// answer to `POST /refresh`.
pub fn serve_all(
    config: &Config,
    state: &MonitorState,
    now_ms: u64,
    uptimes: &Uptimes,
    changes: &[Change],
    daily: Option<&Daily>,
) {
    let view = shown(config, Snapshot { state, now_ms });
    let extras = Extras { uptimes: Some(uptimes), changes, daily, notify: None, latency: None, slo: None };
    // The published snapshot, through its JSON as the worker receives it.
    let doc = Published {
        fleet: FLEET_DIGEST.into(),
        state: state.clone(),
        uptimes: uptimes.clone(),
        daily: daily.cloned().unwrap_or_default(),
        changes: changes.to_vec(),
        latency: Default::default(),
        notify: Default::default(),
        slo: Default::default(),
    };
    let doc = Published::from_json(FLEET_DIGEST, &doc.to_json()).expect("a published snapshot reads back");
    let _ = http::snapshot_key(&http::deployment(MONITOR_ID, FLEET_DIGEST));
    let _ = publish::next_ask_ms(config, state.checked_at_ms, state.duration_ms, 0, now_ms);
    let _ = publish::cache_ttl_s(config, state.checked_at_ms, state.duration_ms, now_ms);
    for target in every_target(config) {
        for variant in VARIANTS {
            serve(config, target, variant, &view, extras);
            let reply = publish::answer(config, &doc, target, variant, now_ms);
            assert!(matches!(reply.status, 200 | 503), "{target:?} {variant:?} answered {}", reply.status);
            let _ = RenderKey::new(&doc, target, variant, now_ms);
        }
    }
    let refreshed = http::refreshed(config, &view, uptimes);
    assert_eq!(refreshed.status, 200);
}

/// What the Durable Object does with a call's body: a call, or a JSON 400.
pub fn monitor_call(body: &str) {
    if let Err(reply) = MonitorCall::from_json(body) {
        assert_eq!(reply.status, 400, "a bad monitor call is a 400");
    }
}
