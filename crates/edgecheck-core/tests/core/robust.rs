//! The core never panics on a state it can load or a request it can receive:
//! arbitrary states (any times, origins missing or unknown, rounds dated in the
//! future or after year 9999) rendered through every target and variant, and
//! arbitrary requests through the router.

use edgecheck_core::aggregate::{Overall, Probe};
use edgecheck_core::classify::{Health, Reason, Verdict};
use edgecheck_core::config::{ConditionName, Named};
use edgecheck_core::http::{self, dispatch, BadgeFormat, Extras, Incoming, Target, Variant};
use edgecheck_core::monitor::{Change, Kind, MonitorState, OriginTrack, Snapshot, Track, VantageTrack};
use edgecheck_core::uptime::{daily, Uptimes};
use edgecheck_core::vantage::VantageState;
use edgecheck_core::view::shown;
use proptest::prelude::*;

use super::{valid, FLEET};

fn health() -> impl Strategy<Value = Health> {
    prop_oneof![Just(Health::Up), Just(Health::Degraded), Just(Health::Down)]
}

fn time() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(u64::MAX), 0u64..=253_402_300_799_999, any::<u64>()]
}

fn probe() -> impl Strategy<Value = Probe> {
    // A condition's name, of any length a name may have (any reason may carry one in a loaded state).
    let condition = proptest::option::of("[a-z0-9._-]{1,32}".prop_map(|n| ConditionName::new(&n).unwrap()));
    (health(), 0..Reason::ALL.len(), proptest::option::of(any::<u16>()), proptest::option::of(any::<u64>()), condition)
        .prop_map(|(health, r, http_status, latency_ms, condition)| Probe {
            verdict: Verdict { health, reason: Reason::ALL[r], http_status, condition },
            latency_ms,
        })
}

fn track() -> impl Strategy<Value = OriginTrack> {
    let by_vantage = proptest::collection::btree_map(vantage_name(), probe(), 0..4);
    (proptest::option::of(health()), time(), any::<u32>(), any::<u32>(), probe(), by_vantage, any::<bool>()).prop_map(
        |(health, since_ms, better, worse, last, by_vantage, stale)| OriginTrack {
            pings: None,
            health,
            since_ms,
            better,
            worse,
            last,
            by_vantage,
            stale,
        },
    )
}

/// Vantage names of FLEET (`default`) and some it does not have.
fn vantage_name() -> impl Strategy<Value = String> {
    prop_oneof![Just("default"), Just("enam"), Just("weur"), Just("")].prop_map(String::from)
}

fn vantage_track() -> impl Strategy<Value = VantageTrack> {
    let state = prop_oneof![Just(VantageState::Reporting), Just(VantageState::Isolated), Just(VantageState::Missing)];
    (state, time(), proptest::option::of(time())).prop_map(|(state, since_ms, reported_at_ms)| VantageTrack {
        state,
        since_ms,
        reported_at_ms,
        colo: None,
    })
}

/// Names of FLEET and some it does not have.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("e1"),
        Just("e2"),
        Just("e3"),
        Just("w1"),
        Just("w2"),
        Just("w3"),
        Just("s1"),
        Just("east"),
        Just("west"),
        Just("south"),
        Just("gone"),
        Just("")
    ]
    .prop_map(String::from)
}

fn state() -> impl Strategy<Value = MonitorState> {
    let overall = prop_oneof![Just(Overall::Ok), Just(Overall::Degraded), Just(Overall::Down)];
    (
        proptest::collection::btree_map(name(), track(), 0..10),
        proptest::collection::btree_map(name(), (health(), time()), 0..5),
        proptest::option::of((overall, time())),
        (time(), any::<u64>(), proptest::option::of(time()), any::<bool>()),
        proptest::collection::btree_map(vantage_name(), vantage_track(), 0..3),
    )
        .prop_map(|(origins, regions, overall, (checked_at_ms, duration_ms, fresh_at_ms, isolated), vantages)| {
            MonitorState {
                fleet: String::new(),
                origins,
                regions: regions.into_iter().map(|(n, (status, since_ms))| (n, Track { status, since_ms })).collect(),
                overall: overall.map(|(status, since_ms)| Track { status, since_ms }),
                checked_at_ms,
                duration_ms,
                fresh_at_ms,
                isolated,
                vantages,
                drains: Default::default(),
                maintenance: Default::default(),
                drained: Default::default(),
                windows_open: None,
            }
        })
}

fn every_target() -> Vec<Target> {
    let mut targets = vec![Target::Ready, Target::Health, Target::History, Target::StatusPage, Target::Metrics];
    for r in 0..3 {
        targets.extend([Target::ReadyRegion(r), Target::HealthRegion(r), Target::HistoryOf(Named::Region(r))]);
        targets.push(Target::Badge(Some(Named::Region(r)), BadgeFormat::Svg));
    }
    for i in 0..7 {
        targets.extend([Target::HealthOrigin(i), Target::HistoryOf(Named::Origin(i))]);
        targets.push(Target::Badge(Some(Named::Origin(i)), BadgeFormat::Json));
    }
    targets.extend([Target::Badge(None, BadgeFormat::Json), Target::Badge(None, BadgeFormat::Svg), Target::Slo]);
    targets
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_state_renders_every_answer(state in state(), now_ms in time(), change_at in time()) {
        let c = valid(FLEET);
        let view = shown(&c, Snapshot { state: &state, now_ms });
        let changes = vec![Change { at_ms: change_at, kind: Kind::Origin, name: "e1".into(), from: None, to: "up".into(), reason: None }];
        let strips = daily(&[("e1".to_string(), change_at, [1, 2, 3, 4])], now_ms);
        let uptimes = Uptimes::new();
        let extras = Extras { uptimes: Some(&uptimes), changes: &changes, daily: Some(&strips), notify: None, latency: None, slo: None };
        for target in every_target() {
            for variant in [Variant::Full, Variant::Summary, Variant::HealthJson, Variant::Verbose, Variant::OpenSlo] {
                let reply = http::answer(&c, target, variant, &view, extras);
                prop_assert!(matches!(reply.status, 200 | 503), "{target:?} {variant:?}: {}", reply.status);
            }
        }
        let _ = http::refreshed(&c, &view, &uptimes);
    }

    /// A loaded state (any counts, times, names) advanced by any round: found
    /// by fuzzing, `better` or `worse` at `u32::MAX` overflowed.
    #[test]
    fn any_state_advances_through_any_round(state in state(), at in time(), healths in proptest::collection::vec(health(), 7), isolated in any::<bool>()) {
        let c = valid(FLEET);
        let probes = healths.iter().map(|&health| Probe {
            verdict: Verdict { health, reason: if health == Health::Up { Reason::Ok } else { Reason::StatusMismatch }, http_status: Some(200), condition: None },
            latency_ms: Some(1),
        }).collect();
        let round = edgecheck_core::aggregate::Round { checked_at_ms: at, duration_ms: 1, probes };
        let next = edgecheck_core::monitor::advance(&c, Some(&state), &round, !isolated).state;
        let _ = shown(&c, Snapshot { state: &next, now_ms: at });
    }

    #[test]
    fn any_request_is_routed(method in "[A-Z]{0,8}", path in "[/a-z0-9.%_-]{0,40}", query in "[a-z=&+%0-9]{0,40}", accept in proptest::option::of("[a-z/+;=.,* 0-9]{0,40}")) {
        let c = valid(FLEET);
        let _ = dispatch(&c, Incoming { method: &method, path: &path, query: &query, accept: accept.as_deref() });
    }

    #[test]
    fn any_drain_body_is_answered(body in ".{0,80}", reason in ".{0,220}", until in "[0-9TZ:.+-]{0,30}", now in time()) {
        use edgecheck_core::drain::{parse, MAX_REASON_CHARS};
        let _ = parse(&body, now);
        let doc = serde_json::json!({"reason": reason, "until": until}).to_string();
        if let Ok(drain) = parse(&doc, now) {
            prop_assert!(!drain.reason.is_empty() && drain.reason.chars().count() <= MAX_REASON_CHARS);
            prop_assert!(!drain.reason.chars().any(char::is_control));
            prop_assert!(drain.until_ms.is_some_and(|u| u > now) && drain.since_ms == now);
        }
    }

    #[test]
    fn any_monitor_call_body_is_answered(body in ".{0,80}") {
        if let Err(reply) = http::MonitorCall::from_json(&body) {
            prop_assert_eq!(reply.status, 400);
        }
    }
}

#[test]
fn times_after_year_9999_are_written() {
    assert_eq!(edgecheck_core::render::rfc3339(u64::MAX), "9999-12-31T23:59:59.999Z");
    assert_eq!(edgecheck_core::render::rfc3339(0), "1970-01-01T00:00:00.000Z");
}

/// Regression (found by fuzzing a loaded row): rise/fall counters at `u32::MAX`
/// saturate instead of overflowing.
#[test]
fn counters_at_their_limit_saturate() {
    use edgecheck_core::aggregate::Round;
    use edgecheck_core::monitor::advance;
    let c = valid(FLEET);
    let probes = |health| {
        let reason = if health == Health::Up { Reason::Ok } else { Reason::StatusMismatch };
        vec![
            Probe { verdict: Verdict { health, reason, http_status: Some(200), condition: None }, latency_ms: Some(1) };
            7
        ]
    };
    let down = advance(&c, None, &Round { checked_at_ms: 0, duration_ms: 1, probes: probes(Health::Down) }, true);
    let mut state = down.state;
    for track in state.origins.values_mut() {
        (track.better, track.worse) = (u32::MAX, u32::MAX);
    }
    let up =
        advance(&c, Some(&state), &Round { checked_at_ms: 1_000, duration_ms: 1, probes: probes(Health::Up) }, true);
    assert!(up.state.origins.values().all(|t| t.health == Some(Health::Up)), "the saturated count still rises");
}
