//! End-to-end tests: the built worker runs in workerd (`wrangler dev`) and probes
//! real demo origins (`demo_origins`) over real sockets on 127.0.0.1.
//!
//! A harness of its own (libtest-mimic), in two phases, so that no test measures
//! time while a release build runs on the same cores:
//!
//! 1. **Prepare**: build the one wasm every test runs, once
//!    (`scripts/build-worker.sh --out-dir target/e2e-wasm/build`, with the
//!    `fault-injection` feature); then for every selected test, one at a time:
//!    start its demo fleet, write its config and check it into its own fleet
//!    document (`edgecheck check --out target/e2e/<name>/build`), beside the
//!    entry module and a link to the one wasm. `one_wasm_serves_every_fleet`
//!    alone builds whole workers, as `wrangler deploy` does.
//! 2. **Run** the tests, `--test-threads` at a time (default: `RUST_TEST_THREADS`,
//!    else 2). Each starts `wrangler dev` on free ports and stops it when it ends,
//!    pass or fail; the fleets stop when the harness ends.
//!
//! One test binary: this file holds the table of tests and the two phases;
//! `harness.rs` the fleets, builds and workers; one module per concern holds
//! its tests (`scenarios`, `deadline`, `config_error`, `bundle`, `drains`, `monitor`, `served`,
//! `vantages`, `zones`, `limits`, `surfaces`, `notify`, `operations`, `heartbeat`, `dns`); `receiver.rs` holds
//! the loopback stand-ins for the services notifications go to.
//!
//! Needs the tools `scripts/setup.sh` installs.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Trial};
use serde_json::{json, Value};

mod bundle;
mod checks;
mod config_error;
mod deadline;
mod dns;
mod drains;
mod harness;
mod heartbeat;
mod limits;
mod monitor;
mod notify;
mod operations;
mod receiver;
mod receivers;
mod scenarios;
mod served;
mod slo;
mod surfaces;
mod vantages;
mod zones;

use bundle::*;
use checks::*;
use config_error::*;
use deadline::*;
use dns::*;
use drains::*;
use harness::*;
use heartbeat::*;
use limits::*;
use monitor::*;
use notify::*;
use operations::*;
use receiver::*;
use receivers::*;
use scenarios::*;
use served::*;
use slo::*;
use surfaces::*;
use vantages::*;
use zones::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SECRET: &str = "Bearer demo-only-token";
const ADMIN: &str = "e2e-admin-token";

// ---------------------------------------------------------------------------
// The tests, and the harness that prepares and runs them
// ---------------------------------------------------------------------------

/// One end-to-end test: its demo fleet (origin name, mode), its config, its body.
struct Case {
    name: &'static str,
    fleet: fn() -> Vec<(String, String)>,
    config: fn(&Fleet) -> String,
    run: fn(&Prepared),
    /// A second worker on the same fleet, built as `<name>-b`.
    also: Option<fn(&Fleet) -> String>,
    /// Whether the fleet serves every origin on one port (`--shared-port`).
    shared_port: bool,
    /// Whether the test's worker (and its `also`) is built whole by
    /// `scripts/build-worker.sh` with its config, as `wrangler deploy` builds
    /// it, instead of its fleet beside the one shared wasm.
    own_wasm: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "every_format_and_fault_is_classified_and_served",
        fleet: scenario_fleet,
        config: scenario_config,
        run: every_format_and_fault_is_classified_and_served,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "hanging_fleet_larger_than_max_in_flight_answers_by_the_deadline",
        fleet: hanging_fleet,
        config: hanging_config,
        run: hanging_fleet_larger_than_max_in_flight_answers_by_the_deadline,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_config_error_stops_the_build_naming_file_and_field",
        fleet: || pairs(&[("ok", "plain")]),
        config: bad_config,
        run: a_config_error_stops_the_build_naming_file_and_field,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "one_wasm_serves_every_fleet",
        fleet: || pairs(&[("a", "spring"), ("b", "503")]),
        config: |f| monitor_config(f, &["a"], ""),
        run: one_wasm_serves_every_fleet,
        also: Some(|f| monitor_config(f, &["b"], "")),
        shared_port: false,
        own_wasm: true,
    },
    Case {
        name: "a_flapping_origin_does_not_flip",
        fleet: || pairs(&[("flapper", "flap"), ("steady", "spring")]),
        config: |f| monitor_config(f, &["flapper", "steady"], ""),
        run: a_flapping_origin_does_not_flip,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "public_traffic_reaches_origins_at_most_once_per_refresh",
        fleet: || pairs(&[("o1", "spring"), ("o2", "spring"), ("o3", "spring")]),
        config: |f| monitor_config(f, &["o1", "o2", "o3"], ""),
        run: public_traffic_reaches_origins_at_most_once_per_refresh,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_monitor_cut_off_goes_stale_then_unknown_never_down",
        fleet: || pairs(&[("a", "spring"), ("b", "hassette"), ("canary", "plain")]),
        config: |f| monitor_config(f, &["a", "b"], &format!("max_stale_s = 6\ncanary = \"{}\"", f.url("canary", "/"))),
        run: a_monitor_cut_off_goes_stale_then_unknown_never_down,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "answers_are_rendered_where_they_are_served",
        fleet: || pairs(&[("a", "spring"), ("b", "hassette")]),
        config: served_config,
        run: answers_are_rendered_where_they_are_served,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "an_unknown_starts_while_a_snapshot_is_held",
        fleet: || pairs(&[("a", "spring"), ("b", "503")]),
        config: unknown_config,
        run: an_unknown_starts_while_a_snapshot_is_held,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "state_survives_a_restart",
        fleet: || {
            pairs(&[("solo", "spring"), ("other", "spring"), ("keep", "spring"), ("away", "spring"), ("new", "spring")])
        },
        config: restart_config,
        run: state_survives_a_restart,
        also: Some(redeployed_config),
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_drain_holds_across_a_restart_and_lapses_on_time",
        fleet: drain_fleet,
        config: drain_config,
        run: a_drain_holds_across_a_restart_and_lapses_on_time,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_drain_is_one_status_for_every_reader",
        fleet: drain_fleet,
        config: drains_config,
        run: a_drain_is_one_status_for_every_reader,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_maintenance_window_holds_notices_and_keeps_readiness_true",
        fleet: drain_fleet,
        config: window_config,
        run: a_maintenance_window_holds_notices_and_keeps_readiness_true,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "the_surfaces_people_plug_into",
        fleet: surfaces_fleet,
        config: surfaces_config,
        run: the_surfaces_people_plug_into,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "two_deployments_in_one_zone_never_share_answers",
        fleet: || pairs(&[("a1", "spring"), ("a2", "spring"), ("b1", "503")]),
        config: |f| monitor_config(f, &["a1", "a2"], ""),
        run: two_deployments_in_one_zone_never_share_answers,
        also: Some(|f| monitor_config(f, &["b1"], "")),
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "vantages_agree_before_an_origin_fails",
        fleet: || pairs(&[("o1", "spring"), ("o2", "spring"), ("o3", "spring"), ("trace", "trace")]),
        config: vantage_config,
        run: vantages_agree_before_an_origin_fails,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_failed_condition_is_down_and_named",
        fleet: || pairs(&[("api", "db-up")]),
        config: condition_config,
        run: a_failed_condition_is_down_and_named,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "tcp_checks_follow_their_peer",
        fleet: tcp_fleet,
        config: tcp_config,
        run: tcp_checks_follow_their_peer,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "slow_from_a_quorum_of_vantages_is_degraded",
        fleet: || pairs(&[("s", "spring")]),
        config: slow_config,
        run: slow_from_a_quorum_of_vantages_is_degraded,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_dns_check_follows_its_resolver_answers",
        fleet: dns_fleet,
        config: dns_config,
        run: a_dns_check_follows_its_resolver_answers,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_thousand_origin_round_keeps_descriptors_flat",
        fleet: thousand_fleet,
        config: thousand_config,
        run: a_thousand_origin_round_keeps_descriptors_flat,
        also: None,
        shared_port: true,
        own_wasm: false,
    },
    Case {
        name: "no_more_than_max_in_flight_requests_wait_for_headers_canary_included",
        fleet: waiting_fleet,
        config: waiting_config,
        run: no_more_than_max_in_flight_requests_wait_for_headers_canary_included,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "an_origin_failing_one_probe_in_five_pages_and_resolves",
        fleet: || pairs(&[("api", "spring"), ("steady", "spring")]),
        config: slo_config,
        run: an_origin_failing_one_probe_in_five_pages_and_resolves,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "notifications_arrive_in_order_through_outages_crashes_and_hangs",
        fleet: outbox_fleet,
        config: outbox_config,
        run: notifications_arrive_in_order_through_outages_crashes_and_hangs,
        also: None,
        shared_port: true,
        own_wasm: false,
    },
    Case {
        name: "a_refusing_receiver_keeps_its_outbox_bounded_and_catches_up_in_order",
        fleet: churn_fleet,
        config: churn_config,
        run: a_refusing_receiver_keeps_its_outbox_bounded_and_catches_up_in_order,
        also: Some(churn_peer_config),
        shared_port: true,
        own_wasm: false,
    },
    Case {
        name: "hostile_receivers_are_credited_once_and_a_retry_after_holds_the_queue",
        fleet: hostile_fleet,
        config: hostile_config,
        run: hostile_receivers_are_credited_once_and_a_retry_after_holds_the_queue,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_heartbeat_check_goes_down_when_its_pings_stop",
        fleet: heartbeat_fleet,
        config: heartbeat_config,
        run: a_heartbeat_check_goes_down_when_its_pings_stop,
        also: None,
        shared_port: false,
        own_wasm: false,
    },
    Case {
        name: "a_cloudflare_pool_follows_readiness_fail_static_and_damped",
        fleet: pools_fleet,
        config: pools_config,
        run: a_cloudflare_pool_follows_readiness_fail_static_and_damped,
        also: Some(pools_redeployed),
        shared_port: false,
        own_wasm: false,
    },
];

/// A test's fleet and its build, made in the prepare phase.
struct Prepared {
    /// The test's name: its directory under `target/e2e/`.
    name: &'static str,
    fleet: Fleet,
    /// Whether the worker build succeeded, and its output.
    build: (bool, String),
    /// The same for [`Case::also`], built as `<name>-b`.
    also: Option<(bool, String)>,
}

fn main() {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        let threads = std::env::var("RUST_TEST_THREADS").ok().and_then(|t| t.parse().ok());
        args.test_threads = Some(threads.unwrap_or(2));
    }
    let selected: Vec<&Case> =
        CASES.iter().filter(|case| !args.is_filtered_out(&Trial::test(case.name, || Ok(())))).collect();
    let started = Instant::now();
    let prepared: Vec<Arc<Prepared>> = if args.list { Vec::new() } else { prepare(&selected) };
    let prepare_time = started.elapsed();
    // Where the time goes: each test's own, printed as it ends, and the phases at the end.
    let took: Arc<std::sync::Mutex<Vec<(&str, Duration)>>> = Arc::default();
    let trials = CASES
        .iter()
        .map(|case| {
            let prepared = prepared.iter().find(|p| p.name == case.name).cloned();
            let (run, took) = (case.run, took.clone());
            Trial::test(case.name, move || {
                let started = Instant::now();
                let result = std::panic::catch_unwind(|| run(prepared.as_deref().expect("prepared before it runs")));
                took.lock().unwrap_or_else(|e| e.into_inner()).push((case.name, started.elapsed()));
                eprintln!("e2e: {} took {:.1?}", case.name, started.elapsed());
                if let Err(panic) = result {
                    std::panic::resume_unwind(panic);
                }
                Ok(())
            })
        })
        .collect();
    let running = Instant::now();
    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        let mut took = took.lock().unwrap_or_else(|e| e.into_inner()).clone();
        took.sort_by_key(|(_, d)| std::cmp::Reverse(*d));
        let slowest: Vec<String> = took.iter().take(5).map(|(n, d)| format!("{n} {:.0?}", d)).collect();
        eprintln!(
            "e2e: prepare {:.0?} (the one wasm and every fleet), tests {:.0?} ({} at a time); slowest: {}",
            prepare_time,
            running.elapsed(),
            args.test_threads.unwrap_or(2),
            slowest.join(", ")
        );
    }
    drop(prepared); // stops the fleets
    stop_receivers();
    conclusion.exit();
}

/// Builds `demo_origins`, then for each case, one at a time: starts its fleet
/// and builds its worker.
fn prepare(cases: &[&Case]) -> Vec<Arc<Prepared>> {
    if cases.is_empty() {
        return Vec::new();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(ROOT)
        .args(["build", "--quiet", "-p", "demo-origins", "--bin", "demo_origins"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building demo_origins failed");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(ROOT)
        .args(["build", "--quiet", "-p", "edgecheck-cli", "--bin", "edgecheck"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building edgecheck (the check command) failed");
    let started = Instant::now();
    let (ok, output) = build_wasm();
    assert!(ok, "building the worker failed (run scripts/setup.sh first?):\n{output}");
    eprintln!("e2e: built the one wasm in {:.0?}", started.elapsed());
    cases
        .iter()
        .map(|case| {
            let started = Instant::now();
            let specs = (case.fleet)();
            let fleet = Fleet::start(&specs, case.shared_port);
            let config = (case.config)(&fleet);
            let build_one = |name: &str, config: &str| {
                if case.own_wasm {
                    build_whole(name, config)
                } else {
                    build(name, config)
                }
            };
            let also = case.also.map(|config| build_one(&format!("{}-b", case.name), &config(&fleet)));
            let build = build_one(case.name, &config);
            eprintln!("e2e: prepared {} in {:.0?} (build ok: {})", case.name, started.elapsed(), build.0);
            Arc::new(Prepared { name: case.name, fleet, build, also })
        })
        .collect()
}

impl Prepared {
    /// Runs the worker built for this test with fresh state.
    fn fresh_worker(&self) -> Worker {
        let (ok, output) = &self.build;
        assert!(ok, "worker build failed (run scripts/setup.sh first?):\n{output}");
        let _ = std::fs::remove_dir_all(e2e_dir(self.name).join("state"));
        Worker::run(self.name)
    }
}

fn pairs(specs: &[(&str, &str)]) -> Vec<(String, String)> {
    specs.iter().map(|(n, m)| (n.to_string(), m.to_string())).collect()
}
