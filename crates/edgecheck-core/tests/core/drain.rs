//! Manual drain: the API's validation and routing, what a drain does to the
//! shown view (readiness held whatever the probes say, quorums, expiry at the
//! time of the answer), and its persistence through the storage port.

use edgecheck_core::drain::{self, Drain, DrainError, MAX_DRAINS, MAX_REASON_CHARS};
use edgecheck_core::http::{self, dispatch, Dispatch, Incoming, MonitorCall};
use edgecheck_core::store::{self, MemoryStore};
use serde_json::{json, Value};

use super::*;

const AT: u64 = 1_795_000_000_000;

fn body_of(reply: &edgecheck_core::http::Reply) -> Value {
    serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
}

#[test]
fn drain_requests_are_validated_naming_the_field() {
    let long = "x".repeat(MAX_REASON_CHARS + 1);
    // (body, Ok((reason, until)) or Err(the start of the 400's message)).
    type Row<'a> = (&'a str, Result<(&'a str, Option<u64>), &'a str>);
    let rows: &[Row] = &[
        (r#"{"reason": "kernel upgrade"}"#, Ok(("kernel upgrade", None))),
        (r#"{"reason": " db move ", "until": "2026-11-18T12:06:40Z"}"#, Ok(("db move", Some(AT + 3_600_000)))),
        (r#"{"reason": "x", "until": "2026-11-18T12:06:40.500Z"}"#, Ok(("x", Some(AT + 3_600_500)))),
        (r#"{}"#, Err("reason: ")),
        (r#"{"reason": "   "}"#, Err("reason: ")),
        (&format!(r#"{{"reason": "{long}"}}"#), Err("reason: at most 200")),
        (r#"{"reason": "a\nb"}"#, Err("reason: ")),
        (
            r#"{"reason": "x", "until": "2026-11-18T11:06:40Z"}"#,
            Err("until: 2026-11-18T11:06:40Z is not in the future"),
        ),
        (
            r#"{"reason": "x", "until": "2020-01-01T00:00:00Z"}"#,
            Err("until: 2020-01-01T00:00:00Z is not in the future"),
        ),
        (r#"{"reason": "x", "until": "tomorrow"}"#, Err("until: ")),
        (r#"{"reason": "x", "until": "2026-11-18T12:06:40+02:00"}"#, Err("until: ")),
        (r#"{"reason": "x", "for": 60}"#, Err("body: ")),
        ("not json", Err("body: ")),
        ("", Err("body: ")),
    ];
    let c = valid(FLEET);
    let west = c.find("west").unwrap();
    for (body, expected) in rows {
        let got = http::drain_call(&c, west, false, body, AT);
        match (expected, got) {
            (Ok((reason, until_ms)), Ok(MonitorCall::Drain { name, drain: Some(d) })) => {
                assert_eq!(name, "west");
                assert_eq!(d, Drain { reason: reason.to_string(), since_ms: AT, until_ms: *until_ms }, "{body}");
            }
            (Err(field), Err(reply)) => {
                assert_eq!(reply.status, 400, "{body}");
                let message = body_of(&reply)["message"].as_str().unwrap().to_string();
                assert!(message.starts_with(field), "{body}: {message:?} should start with {field:?}");
            }
            (expected, got) => panic!("{body}: expected {expected:?}, got {got:?}"),
        }
    }
    // One bound and one 413 for every operator body (drain, maintenance,
    // ping): by `Content-Length` before reading, by what was read after.
    let big = format!(r#"{{"reason": "{}"}}"#, "x".repeat(20_000));
    let too_large = http::drain_call(&c, west, false, &big, AT).unwrap_err();
    assert_eq!(too_large, http::body_too_large(None, big.len() as u64).unwrap());
    assert_eq!(
        (too_large.status, body_of(&too_large)),
        (413, json!({"error": "payload_too_large", "message": "body: 20014 bytes; at most 10240"}))
    );
    assert_eq!(http::MAX_OPERATOR_BODY_BYTES, 10 * 1024);
    assert_eq!(http::body_too_large(Some(10_241), 0).map(|r| r.status), Some(413));
    assert_eq!(http::body_too_large(Some(10_240), 10_240), None);
    assert_eq!(http::body_too_large(Some(5), 10_241).map(|r| r.status), Some(413), "a length that lied");
    assert_eq!(header(&http::body_too_large(None, 10_241).unwrap(), "cache-control"), Some("no-store"));
    assert_eq!(
        http::drain_call(&c, west, true, "ignored", AT),
        Ok(MonitorCall::Drain { name: "west".into(), drain: None })
    );
}

#[test]
fn the_drain_api_routes_by_method_and_name() {
    let c = valid(FLEET);
    use edgecheck_core::config::Named;
    assert_eq!(
        dispatch(&c, Incoming::new("POST", "/admin/drain/west")),
        Dispatch::Drain { named: Named::Region(2), lift: false }
    );
    assert_eq!(
        dispatch(&c, Incoming::new("DELETE", "//admin/drain/e3/")),
        Dispatch::Drain { named: Named::Origin(2), lift: true }
    );
    for (method, path, status) in [
        ("POST", "/admin/drain/nowhere", 404),
        ("GET", "/admin/drain/west", 405),
        ("PUT", "/admin/drain/west", 405),
        ("OPTIONS", "/admin/drain/west", 204),
    ] {
        let Dispatch::Answer(reply) = dispatch(&c, Incoming::new(method, path)) else {
            panic!("{method} {path} is answered at once")
        };
        assert_eq!(reply.status, status, "{method} {path}");
        assert_eq!(header(&reply, "content-type"), Some("application/json"));
        if status != 404 {
            assert_eq!(header(&reply, "allow"), Some(http::DRAIN_ALLOW), "{method} {path}");
        }
    }
}

/// FLEET (regions in name order: east, south, west) all up, then the drains at `now`.
fn shown_with(drains: &[(&str, Option<u64>)], now: u64) -> (Config, edgecheck_core::monitor::MonitorState) {
    let c = valid(FLEET);
    let mut state = advance(&c, None, &round(AT, "uuuuuuu"), true).state;
    for &(name, until_ms) in drains {
        let d = Drain { reason: format!("{name} maintenance"), since_ms: AT, until_ms };
        drain::apply(&mut state.drains, name, Some(d), now).unwrap();
    }
    (c, state)
}

#[test]
fn a_drain_holds_readiness_whatever_the_probes_say() {
    let now = AT + 1_000;
    let answer = |c: &Config, state, target| {
        let view = shown(c, Snapshot { state, now_ms: now });
        http::answer(c, target, Variant::Full, &view, Default::default())
    };
    // A drained region: 503 with reason drained, its status what the probes saw;
    // it counts as down for the global view.
    let (c, state) = shown_with(&[("west", None)], now);
    let ready = answer(&c, &state, Target::ReadyRegion(2));
    assert_eq!(ready.status, 503);
    assert_eq!(
        body_of(&ready),
        json!({"region": "west", "status": "up", "ready": false, "reason": "drained",
               "drain": {"reason": "west maintenance", "since": "2026-11-18T11:06:40.000Z"}})
    );
    assert_eq!(answer(&c, &state, Target::ReadyRegion(0)).status, 200, "east is not drained");
    let global = body_of(&answer(&c, &state, Target::Ready));
    assert_eq!(global, json!({"status": "degraded", "ready": false}), "west counts as down");
    let health = body_of(&answer(&c, &state, Target::Health));
    assert_eq!(health["regions"]["west"]["drain"]["reason"], "west maintenance");
    assert_eq!(
        (health["regions"]["west"]["ready"].as_bool(), health["regions"]["west"]["status"].as_str()),
        (Some(false), Some("up"))
    );
    assert!(health["regions"]["east"].get("drain").is_none());

    // A drained origin: not ready, counts as down in its region's quorum (east needs 2 of 3).
    let (c, state) = shown_with(&[("e1", None)], now);
    let east = body_of(&answer(&c, &state, Target::HealthRegion(0)));
    assert_eq!(
        (east["status"].as_str(), east["up"].as_u64(), east["down"].as_u64()),
        (Some("degraded"), Some(2), Some(1))
    );
    let e1 = &east["origins"][0];
    assert_eq!(
        (e1["name"].as_str(), e1["status"].as_str(), e1["ready"].as_bool()),
        (Some("e1"), Some("up"), Some(false))
    );
    assert_eq!(e1["drain"]["reason"], "e1 maintenance");
    let (c, state) = shown_with(&[("e1", None), ("e2", None)], now);
    assert_eq!(answer(&c, &state, Target::ReadyRegion(0)).status, 503, "below its quorum");

    // Expiry is decided at the time of the answer: exact, with no timer.
    let (c, state) = shown_with(&[("west", Some(AT + 60_000))], now);
    let at = |ms| shown(&c, Snapshot { state: &state, now_ms: ms }).regions[2].ready;
    assert_eq!((at(AT + 59_999), at(AT + 60_000)), (false, true));

    // Every region drained: allowed, and said.
    let (c, state) = shown_with(&[("east", None), ("west", None), ("south", None)], now);
    let view = shown(&c, Snapshot { state: &state, now_ms: now });
    assert!(view.no_region_left_ready());
    assert_eq!((view.status, view.ready), (Some(Overall::Down), false));
    let page = render_page(&c, &view);
    assert!(page.contains("No region is left ready"), "{page}");
    assert!(page.contains("Drained: west maintenance"), "{page}");
}

fn render_page(c: &Config, view: &edgecheck_core::view::ShownView) -> String {
    edgecheck_core::render::page::status_page(c, view, None, &Default::default(), &[], &Default::default())
}

#[test]
fn drains_survive_a_restart_and_lapse_on_time() {
    let c = valid(FLEET);
    let db = MemoryStore::default();
    let next = advance(&c, None, &round(AT, "uuuuuuu"), true);
    let (mut memory, problems) = store::record(&db, &c, None, next);
    assert!(problems.is_empty(), "{problems:?}");
    let until = AT + 120_000;
    let d = Drain { reason: "rack move".into(), since_ms: AT + 1_000, until_ms: Some(until) };
    drain::apply(&mut memory.state.drains, "west", Some(d.clone()), AT + 1_000).unwrap();
    drain::apply(&mut memory.state.drains, "e1", Some(Drain { until_ms: None, ..d.clone() }), AT + 1_000).unwrap();
    store::save_monitor(&db, &memory.state).unwrap();
    let (restored, problems) = store::restore(&db, &c, AT + 60_000);
    assert!(problems.is_empty(), "{problems:?}");
    let restored = restored.unwrap();
    assert_eq!(restored.state.drains["west"], d, "survives a restart");
    // Across a restart past its until, it has lapsed; the other holds.
    let (later, problems) = store::restore(&db, &c, until + 1);
    assert!(problems.is_empty(), "a lapsed drain is no problem: {problems:?}");
    let later = later.unwrap();
    assert_eq!(later.state.drains.keys().collect::<Vec<_>>(), ["e1"]);
    // A round keeps the drains; lifting one is committed.
    let next = advance(&c, Some(&memory.state), &round(AT + 15_000, "uuuuuuu"), true);
    assert_eq!(next.state.drains, memory.state.drains, "rounds carry the drains");
    drain::apply(&mut memory.state.drains, "e1", None, AT + 2_000).unwrap();
    store::save_monitor(&db, &memory.state).unwrap();
    let (after, _) = store::restore(&db, &c, AT + 3_000);
    assert_eq!(after.unwrap().state.drains.keys().collect::<Vec<_>>(), ["west"]);
    // A failed commit is an error, and storage is as before.
    db.fail_writes.set(true);
    drain::apply(&mut memory.state.drains, "west", None, AT + 4_000).unwrap();
    assert!(store::save_monitor(&db, &memory.state).is_err());
    db.fail_writes.set(false);
    assert!(store::restore(&db, &c, AT + 5_000).0.unwrap().state.drains.contains_key("west"));
}

/// The most drains at once, each with the longest reason (4-byte
/// characters), in a fleet of 10,000 regions of long names: the monitor's row
/// stays under 2 MB (the memory store refuses more, as production does), and
/// one more is a 409. Every bound of the row at its worst at once is
/// `every_bound_at_its_worst_fits_the_platform_at_the_fleet_limit`'s.
#[test]
fn the_most_drains_fit_the_monitor_row_at_the_fleet_limit() {
    let c = fleet_limit("shard_size = 500\n");
    let db = MemoryStore::default();
    let codes = "u".repeat(10_000);
    let (mut memory, problems) = store::record(&db, &c, None, advance(&c, None, &round(AT, &codes), true));
    assert!(problems.is_empty(), "{problems:?}");
    let reason = "\u{1F6A7}".repeat(MAX_REASON_CHARS);
    for i in 0..MAX_DRAINS {
        let d = Drain { reason: reason.clone(), since_ms: AT, until_ms: Some(u64::MAX / 2) };
        drain::apply(&mut memory.state.drains, &format!("region-with-a-long-name-{i:05}"), Some(d), AT).unwrap();
    }
    store::save_monitor(&db, &memory.state).unwrap();
    let largest = db.largest_value.get();
    assert!(largest <= store::MAX_ROW_BYTES, "{largest} bytes");
    eprintln!("the monitor's row with {MAX_DRAINS} drains at the fleet limit: {largest} bytes");
    let d = Drain { reason: "one more".into(), since_ms: AT, until_ms: None };
    let refused =
        drain::apply(&mut memory.state.drains, "origin-with-a-rather-long-name-00000", Some(d), AT).unwrap_err();
    assert_eq!(refused, DrainError::TooMany { active: MAX_DRAINS });
    assert_eq!(http::drain_refused(refused).status, 409);
    assert_eq!(memory.state.drains.len(), MAX_DRAINS, "unchanged");
    let (restored, problems) = store::restore(&db, &c, AT + 1);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(restored.unwrap().state.drains.len(), MAX_DRAINS);
}

#[test]
fn verbose_readiness_says_drained() {
    let now = AT + 1_000;
    let (c, state) = shown_with(&[("west", None), ("e1", None)], now);
    let view = shown(&c, Snapshot { state: &state, now_ms: now });
    let all = http::answer(&c, Target::Ready, Variant::Verbose, &view, Default::default());
    let text = all.body.unwrap();
    assert!(text.contains("[-]west ok: 3 of 3 origins up or degraded, 2 needed; drained\n"), "{text}");
    let west = http::answer(&c, Target::ReadyRegion(2), Variant::Verbose, &view, Default::default());
    assert_eq!(west.status, 503);
    assert!(west.body.unwrap().ends_with("readiness check failed: west is up but drained\n"));
    let east = http::answer(&c, Target::ReadyRegion(0), Variant::Verbose, &view, Default::default()).body.unwrap();
    assert!(east.starts_with("[-]e1 ok; drained\n[+]e2 ok\n"), "{east}");
}

#[test]
fn metrics_count_each_active_drain() {
    let now = AT + 1_000;
    let (c, state) = shown_with(&[("west", None), ("e1", Some(AT + 500))], now);
    let view = shown(&c, Snapshot { state: &state, now_ms: now });
    let text = http::answer(&c, Target::Metrics, Variant::Full, &view, Default::default()).body.unwrap();
    assert!(
        text.contains("# TYPE edgecheck_drained gauge\nedgecheck_drained{scope=\"region\",name=\"west\"} 1\n"),
        "{text}"
    );
    assert!(!text.contains("name=\"e1\""), "e1's drain lapsed: {text}");
    assert!(text.contains("edgecheck_region_ready{region=\"west\"} 0"), "{text}");
}

#[test]
fn the_drain_list_is_an_admin_route_showing_the_drains_in_effect() {
    let c = valid(FLEET);
    // Routing: GET and HEAD of /admin/drain go to the monitor only after the
    // shell's `authorize`, as every admin route (dispatch never sees the
    // token); other methods are a 405 with `Allow` at once.
    assert_eq!(dispatch(&c, Incoming::new("GET", "/admin/drain")), Dispatch::ListDrains { head: false });
    assert_eq!(dispatch(&c, Incoming::new("HEAD", "//admin/drain/")), Dispatch::ListDrains { head: true });
    for (method, status) in [("POST", 405), ("DELETE", 405), ("PUT", 405), ("OPTIONS", 204)] {
        let Dispatch::Answer(reply) = dispatch(&c, Incoming::new(method, "/admin/drain")) else {
            panic!("{method} /admin/drain is answered at once")
        };
        assert_eq!((reply.status, header(&reply, "allow")), (status, Some(http::DRAIN_LIST_ALLOW)), "{method}");
    }
    // The token: the one 401 of `authorize` (as `POST /refresh`), 403 while closed.
    let refresh_401 = http::authorize(None, Some("tok")).unwrap_err();
    for authorization in [None, Some("Bearer wrong"), Some("Basic tok")] {
        assert_eq!(http::authorize(authorization, Some("tok")).unwrap_err(), refresh_401, "{authorization:?}");
    }
    assert_eq!(http::authorize(Some("Bearer tok"), None).unwrap_err().status, 403);
    assert_eq!(http::authorize(Some("Bearer tok"), Some("tok")), Ok(()));

    // The list: the drains that hold at the time of the answer, by name; a
    // lapsed one is left out.
    let (c, state) = shown_with(&[("west", None), ("e3", Some(AT + 60_000)), ("e1", Some(AT + 500))], AT);
    let reply = http::drain_list(&c, &state.drains, AT + 1_000);
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "content-type"), Some("application/json"));
    assert_eq!(header(&reply, "cache-control"), Some("no-store"), "never cached");
    assert_eq!(
        body_of(&reply),
        json!({"drains": [
            {"name": "e3", "kind": "origin", "reason": "e3 maintenance",
             "since": "2026-11-18T11:06:40.000Z", "until": "2026-11-18T11:07:40.000Z"},
            {"name": "west", "kind": "region", "reason": "west maintenance",
             "since": "2026-11-18T11:06:40.000Z", "until": null},
        ]})
    );
    assert_eq!(body_of(&http::drain_list(&c, &Default::default(), AT)), json!({"drains": []}));
    assert_eq!(
        MonitorCall::from_json(&MonitorCall::ListDrains.to_json()),
        Ok(MonitorCall::ListDrains),
        "the call reads back"
    );
}

#[test]
fn a_drain_is_recorded_told_and_counted_by_the_round() {
    use edgecheck_core::monitor::{Change, Kind};
    use edgecheck_core::uptime::rollup_adds;
    let c = valid(&format!(
        "{FLEET}\n[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl_secret = \"HOOK_URL\"\nsigning_secret = \"HOOK_SECRET\"\nglobal = true\nregions = [\"*\"]\n"
    ));
    let db = MemoryStore::default();
    let (mut m, problems) = store::record(&db, &c, None, advance(&c, None, &round(AT, "uuuuuuu"), true));
    assert!(problems.is_empty(), "{problems:?}");
    let pending = |m: &store::Memory| -> Vec<(String, String, Option<String>, String)> {
        let notices = m.notify.values().flat_map(|cs| cs.pending.iter().map(|p| p.notice.clone()));
        let last = notices.last().expect("a notice");
        last.changes.iter().map(|t| (t.scope.clone(), t.name.clone(), t.from.clone(), t.to.clone())).collect()
    };
    let change = |at_ms, kind, name: &str, from: Option<&str>, to: &str| Change {
        at_ms,
        kind,
        name: name.into(),
        from: from.map(Into::into),
        to: to.into(),
        reason: None,
    };

    // Drained between rounds: the next round records the drain at its time,
    // the fleet degraded (west counts as down in it, min_regions_up = 2 of 3),
    // and west's own status untouched (its probes see it up).
    let drain = Drain { reason: "switch swap".into(), since_ms: AT + 1_000, until_ms: None };
    drain::apply(&mut m.state.drains, "west", Some(drain), AT + 1_000).unwrap();
    let next = advance(&c, Some(&m.state), &round(AT + 15_000, "uuuuuuu"), true);
    assert_eq!(
        next.changes,
        [
            change(AT + 15_000, Kind::Global, "", Some("ok"), "degraded"),
            change(AT + 1_000, Kind::Drain, "west", None, "drained")
        ]
    );
    assert_eq!(next.state.regions["west"].status, Health::Up);
    assert_eq!(next.state.overall.unwrap().since_ms, AT + 15_000, "the fleet's since follows the drain");
    // Uptime: west's round is planned time out of rotation, not up and not down.
    let west: Vec<(u32, u32, u32)> = rollup_adds(&c, &next)
        .into_iter()
        .filter(|a| a.name == "west")
        .map(|a| (a.up, a.down, a.maintenance))
        .collect();
    assert_eq!(west, [(0, 0, 1), (0, 0, 1)], "its minute and hour buckets");
    // The channel is told west drained and the fleet degraded, once.
    let (m, _) = store::record(&db, &c, Some(m), next);
    assert_eq!(
        pending(&m),
        [
            ("global".into(), "".into(), Some("up".into()), "degraded".into()),
            ("region".into(), "west".into(), Some("up".into()), "drained".into())
        ]
    );
    let next = advance(&c, Some(&m.state), &round(AT + 30_000, "uuuuuuu"), true);
    assert_eq!(next.changes, [], "a drain is recorded once");
    let (mut m, _) = store::record(&db, &c, Some(m), next);

    // Lifted: recorded by the next round, the fleet and west told back up.
    drain::apply(&mut m.state.drains, "west", None, AT + 40_000).unwrap();
    let next = advance(&c, Some(&m.state), &round(AT + 45_000, "uuuuuuu"), true);
    assert_eq!(
        next.changes,
        [
            change(AT + 45_000, Kind::Global, "", Some("degraded"), "ok"),
            change(AT + 45_000, Kind::Drain, "west", Some("drained"), "lifted")
        ]
    );
    let (m, _) = store::record(&db, &c, Some(m), next);
    assert_eq!(
        pending(&m),
        [
            ("global".into(), "".into(), Some("degraded".into()), "up".into()),
            ("region".into(), "west".into(), Some("drained".into()), "up".into())
        ]
    );

    // A drain that lapses is recorded at its `until`.
    let mut state = m.state.clone();
    let drain = Drain { reason: "short".into(), since_ms: AT + 50_000, until_ms: Some(AT + 55_000) };
    drain::apply(&mut state.drains, "e1", Some(drain), AT + 50_000).unwrap();
    let drained = advance(&c, Some(&state), &round(AT + 52_000, "uuuuuuu"), true);
    assert!(
        drained.changes.contains(&change(AT + 50_000, Kind::Drain, "e1", None, "drained")),
        "{:?}",
        drained.changes
    );
    let lapsed = advance(&c, Some(&drained.state), &round(AT + 60_000, "uuuuuuu"), true);
    assert!(
        lapsed.changes.contains(&change(AT + 55_000, Kind::Drain, "e1", Some("drained"), "lifted")),
        "{:?}",
        lapsed.changes
    );
}
