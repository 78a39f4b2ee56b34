//! The shown view and the HTTP around it: the readiness rule (one table for the
//! global view, regions and `/ready`), the view computed once per answer, routes
//! that share one cache key, the typed monitor call, and the cache path
//! (the stored copy, a hit, a miss, HEAD).

use edgecheck_core::aggregate::readiness;
use edgecheck_core::classify::Health;
use edgecheck_core::http::{self, dispatch, Dispatch, Extras, Incoming, MonitorCall, Target, Variant};
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

/// Every spelling of a route shares one cache key, made from the route itself.
#[test]
fn routes_resolve_once_and_key_the_cache() {
    let c = valid(FLEET);
    let key = |path: &str| match dispatch(&c, Incoming::new("GET", path)) {
        Dispatch::Snapshot { target, variant, .. } => target.cache_key(&c, variant, "prod.0123456789abcdef"),
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
        for path in paths {
            assert_eq!(
                key(path),
                format!("https://edgecheck.cache.invalid/prod.0123456789abcdef{canonical}"),
                "{path}"
            );
        }
    }
    assert_eq!(Target::HealthOrigin(2).path(&c), "/health/e3");
    // Two deployments in one zone, or one with a changed fleet, never share a key.
    let prod = http::deployment("a1b2c3", "00ff00ff00ff00ff");
    let staging = http::deployment("d4e5f6", "00ff00ff00ff00ff");
    let changed = http::deployment("a1b2c3", "11ee11ee11ee11ee");
    assert_eq!(prod, "a1b2c3.00ff00ff00ff00ff");
    let keys: std::collections::BTreeSet<String> =
        [&prod, &staging, &changed].iter().map(|d| Target::Health.cache_key(&c, Variant::Full, d)).collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(http::deployment("../x/?#", "y z"), "x.yz", "only alphanumerics reach a key");
}

/// The worker hands the monitor a typed call; anything else gets a JSON 400.
#[test]
fn the_monitor_call_is_typed() {
    let c = valid(FLEET);
    for call in [
        MonitorCall::Answer(Target::HealthOrigin(6), Variant::Full),
        MonitorCall::Answer(Target::HistoryOf(edgecheck_core::config::Named::Region(0)), Variant::Full),
        MonitorCall::Answer(Target::Health, Variant::HealthJson),
        MonitorCall::Refresh,
        MonitorCall::EnsureAlarm,
    ] {
        assert_eq!(MonitorCall::from_json(&c, &call.to_json()), Ok(call));
    }
    for bad in [
        "",
        "GET /health",
        r#"{"answer":"nowhere"}"#,
        r#"{"answer":[{"HealthOrigin":7},"Full"]}"#,
        r#"{"answer":[{"ReadyRegion":3},"Full"]}"#,
    ] {
        let reply = MonitorCall::from_json(&c, bad).expect_err(bad);
        assert_eq!((reply.status, header(&reply, "content-type")), (400, Some("application/json")), "{bad}");
        assert!(reply.body.unwrap().contains("bad_monitor_call"));
    }
    let armed = http::alarm_armed();
    assert_eq!((armed.status, armed.body), (204, None));
}

/// The cache path: what is stored, what a hit and a miss look like, HEAD.
#[test]
fn cached_copies_and_answers() {
    let c = valid(FLEET); // refresh_s = 15
    let at = 1_795_000_000_000;
    let state = advance(&c, None, &round(at, "uuxuuud"), true).state;
    let view = shown(&c, Snapshot { state: &state, now_ms: at + 4_000 });
    let answer = http::answer(&c, Target::Ready, Variant::Full, &view, Extras::default());
    assert_eq!((answer.status, header(&answer, "age")), (503, Some("4")));

    // Stored until the next refresh, without Age; as a 200 carrying its status,
    // because the Cache API keeps no 503.
    let copy = http::cache_copy(&c, &answer, at + 4_000).expect("a 503 /ready is cached");
    assert_eq!((header(&copy, "cache-control"), header(&copy, "age")), (Some("public, max-age=11"), None));
    assert_eq!((copy.status, header(&copy, "x-edgecheck-status")), (200, Some("503")));
    assert_eq!(copy.body, answer.body);
    assert_eq!(http::cache_copy(&c, &answer, at + 15_000), None, "due: not stored");
    // A private answer is never copied, even one that carries a round's date.
    let mut private = answer.clone();
    private.set("cache-control", "private, no-store".into());
    assert_eq!(http::cache_copy(&c, &private, at + 4_000), None, "private: not stored");

    // A hit: the public Cache-Control, Age from the round, marked hit.
    let hit = http::from_cache(&c, copy.clone(), at + 9_500, false);
    assert_eq!(
        (hit.status, header(&hit, "cache-control"), header(&hit, "age"), header(&hit, "x-edgecheck-cache")),
        (503, Some("public, max-age=15"), Some("9"), Some("hit"))
    );
    assert_eq!((hit.body.as_ref(), header(&hit, "x-edgecheck-status")), (answer.body.as_ref(), None));
    let head = http::from_cache(&c, copy, at + 9_500, true);
    assert_eq!(head.body, None, "HEAD: no body");
    assert_eq!(header(&head, "content-length"), Some(answer.body.as_ref().unwrap().len().to_string().as_str()));

    // A cached /health says the same age in its body as in Age.
    let health = http::answer(&c, Target::Health, Variant::Full, &view, Extras::default());
    assert!(health.body.as_ref().unwrap().contains("\"age_s\":4,"));
    let copy = http::cache_copy(&c, &health, at + 4_000).unwrap();
    let hit = http::from_cache(&c, copy, at + 12_000, false);
    let doc: serde_json::Value = serde_json::from_str(hit.body.as_deref().unwrap()).unwrap();
    assert_eq!((header(&hit, "age"), doc["age_s"].as_u64()), (Some("12"), Some(12)));
    assert_eq!(doc["checked_at"], "2026-11-18T11:06:40.000Z", "nothing else changed");

    // A copy never lives longer than refresh_s, whatever its round's date says.
    assert_eq!(http::cache_ttl_s(200, u64::MAX, 15, at), Some(15));
    assert_eq!(http::cache_ttl_s(200, at + 3_600_000, 15, at), Some(15));

    // A miss: the monitor's answer as it is, marked miss.
    let miss = http::from_monitor(answer.clone(), false);
    assert_eq!((header(&miss, "x-edgecheck-cache"), miss.body.is_some()), (Some("miss"), true));
    let head = http::from_monitor(answer, true);
    assert_eq!((head.status, header(&head, "content-type"), head.body.clone()), (503, Some("application/json"), None));

    // Errors and /live are never stored.
    let Dispatch::Answer(missing) = dispatch(&c, Incoming::new("GET", "/nope")) else { panic!() };
    assert_eq!(http::cache_copy(&c, &missing, at), None);
}
