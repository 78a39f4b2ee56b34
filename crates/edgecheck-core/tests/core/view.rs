//! The shown view and the HTTP around it: the readiness rule (one table for the
//! global view, regions and `/ready`), the view computed once per answer, routes
//! that resolve once, the snapshot's cache key and the typed monitor call.

use edgecheck_core::aggregate::readiness;
use edgecheck_core::classify::Health;
use edgecheck_core::http::{self, dispatch, Dispatch, Incoming, MonitorCall, Target};
use edgecheck_core::monitor::{advance, Snapshot};
use edgecheck_core::view::shown;

use super::{header, round, valid, FLEET, PAIR};

#[test]
fn readiness_is_one_rule() {
    let rows: &[(Option<Health>, bool, bool)] = &[
        (Some(Health::Up), false, true),
        (Some(Health::Up), true, true),
        (Some(Health::Degraded), false, false),
        (Some(Health::Degraded), true, true),
        (Some(Health::Down), false, false),
        (Some(Health::Down), true, false),
        (None, false, false),
        (None, true, false),
    ];
    for &(health, degraded_is_ready, ready) in rows {
        assert_eq!(
            readiness(health, degraded_is_ready),
            ready,
            "{health:?} with degraded_is_ready={degraded_is_ready}"
        );
    }
}

/// The view every answer maps: regions unknown with the global view, origins
/// unknown until judged, readiness from the one rule.
#[test]
fn the_shown_view_carries_unknown_and_readiness() {
    let c = valid(&PAIR.replace("max_stale_s = 60", "max_stale_s = 60\ndegraded_is_ready = true"));
    // A first round that is isolated: nothing known.
    let first = advance(&c, None, &round(0, "rr"), true).state;
    let view = shown(&c, Snapshot { state: &first, now_ms: 1_000 });
    assert_eq!((view.status, view.ready, view.stale), (None, false, true));
    assert_eq!((view.regions[0].status, view.regions[0].ready), (None, false));
    let a = view.origin(&c, 0);
    assert_eq!((a.status, a.since_ms, a.probe.map(|p| p.verdict.health)), (None, None, Some(Health::Down)));

    // b is down, a up: the region is degraded, which this fleet counts as ready.
    let state = advance(&c, None, &round(0, "ux"), true).state;
    let view = shown(&c, Snapshot { state: &state, now_ms: 4_000 });
    assert_eq!((view.status.map(|s| s.as_str()), view.ready, view.age_s), (Some("degraded"), true, 4));
    let r = view.regions[0];
    assert_eq!((r.status, r.ready, r.up, r.down, r.total, r.min_up), (Some(Health::Degraded), true, 1, 1, 2, 1));
    assert_eq!(view.origin(&c, 1).status, Some(Health::Down));
    assert_eq!(view.origin(&c, 99).status, None, "an index outside the fleet shows nothing, never panics");

    // Isolated for longer than max_stale_s: unknown everywhere above the origins.
    let cut_off = advance(&c, Some(&state), &round(15_000, "tt"), true).state;
    let view = shown(&c, Snapshot { state: &cut_off, now_ms: 61_000 });
    assert_eq!((view.status, view.ready, view.regions[0].status, view.regions[0].ready), (None, false, None, false));
    assert_eq!(view.origin(&c, 0).status, Some(Health::Up), "the damped status is kept");
}

/// Every spelling of a route resolves to one target and variant.
#[test]
fn routes_resolve_once() {
    let c = valid(FLEET);
    let path = |path: &str| match dispatch(&c, Incoming::new("GET", path)) {
        Dispatch::Snapshot { target, .. } => target.path(&c),
        other => panic!("{path}: {other:?}"),
    };
    let spellings: &[(&[&str], &str)] = &[
        (&["/health", "//health", "/health/", "/health//", "/health///", "///health//"], "/health"),
        (&["/ready", "/ready/", "//ready"], "/ready"),
        (&["/ready/west", "/ready//west/", "//ready/west"], "/ready/west"),
        (&["/health/e3", "/health//e3//"], "/health/e3"),
        (&["/history/south", "/history/south/"], "/history/south"),
    ];
    for &(paths, canonical) in spellings {
        for p in paths {
            assert_eq!(path(p), canonical, "{p}");
        }
    }
    assert_eq!(Target::HealthOrigin(2).path(&c), "/health/e3");
}

/// The snapshot's Cache API key: one per deployment and fleet.
#[test]
fn two_deployments_never_share_a_snapshot_key() {
    let prod = http::deployment("a1b2c3", "00ff00ff00ff00ff");
    let staging = http::deployment("d4e5f6", "00ff00ff00ff00ff");
    let changed = http::deployment("a1b2c3", "11ee11ee11ee11ee");
    assert_eq!(prod, "a1b2c3.00ff00ff00ff00ff");
    assert_eq!(http::snapshot_key(&prod), "https://edgecheck.cache.invalid/a1b2c3.00ff00ff00ff00ff/snapshot");
    let keys: std::collections::BTreeSet<String> = [&prod, &staging, &changed].map(|d| http::snapshot_key(d)).into();
    assert_eq!(keys.len(), 3);
    assert_eq!(http::deployment("../x/?#", "y z"), "x.yz", "only alphanumerics reach a key");
}

/// The worker hands the monitor a typed call; anything else gets a JSON 400.
#[test]
fn the_monitor_call_is_typed() {
    for call in [MonitorCall::Snapshot, MonitorCall::Refresh, MonitorCall::EnsureAlarm, MonitorCall::Detail] {
        assert_eq!(MonitorCall::from_json(&call.to_json()), Ok(call));
    }
    for bad in ["", "GET /health", r#"{"answer":"nowhere"}"#, r#"{"answer":[{"HealthOrigin":7},"Full"]}"#] {
        let reply = MonitorCall::from_json(bad).expect_err(bad);
        assert_eq!((reply.status, header(&reply, "content-type")), (400, Some("application/json")), "{bad}");
        assert!(reply.body.unwrap().contains("bad_monitor_call"));
    }
    let armed = http::alarm_armed();
    assert_eq!((armed.status, armed.body), (204, None));
}
