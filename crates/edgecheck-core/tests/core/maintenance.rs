//! Maintenance windows: the schedule (recurrence, boundaries, UTC) as a
//! table, the config's and the API's validation, what a window does to a
//! round (shown, counted apart, recorded; readiness untouched), and its
//! persistence through the storage port. Held notifications are in
//! `notify.rs`.

use edgecheck_core::http::{self, dispatch, Dispatch, Incoming, MonitorCall};
use edgecheck_core::maintenance::{self, InMaintenance, Schedule, Window, WindowError, MAX_API_WINDOWS};
use edgecheck_core::store::{self, MemoryStore};
use edgecheck_core::uptime::rollup_adds;
use serde_json::Value;

use super::*;

/// `text`, RFC 3339 in UTC, as ms since the Unix epoch.
fn t(text: &str) -> u64 {
    maintenance::parse_time(text).unwrap()
}

fn weekly(days: &[usize], start_min: u32, minutes: u32) -> Schedule {
    Schedule::Weekly { days: days.iter().fold(0, |bits, d| bits | 1 << d), start_min, minutes }
}

#[test]
fn the_window_schedule_opens_and_closes_on_time() {
    // Monday 0 … Sunday 6. 2026-12-06 is a Sunday, 2026-12-07 a Monday.
    let sunday_night = weekly(&[6], 23 * 60 + 30, 60);
    let mon_wed_all_day = weekly(&[0, 2], 0, 24 * 60);
    let once = Schedule::Once { start_ms: t("2026-12-06T22:00:00Z"), end_ms: t("2026-12-07T01:00:00Z") };
    let thursday_at_epoch = weekly(&[3], 0, 60);
    // (schedule, at, the open occurrence as (start, end) or None).
    type Row<'a> = (&'a Schedule, &'a str, Option<(&'a str, &'a str)>);
    let rows: &[Row] = &[
        (&sunday_night, "2026-12-06T23:29:59.999Z", None),
        (&sunday_night, "2026-12-06T23:30:00Z", Some(("2026-12-06T23:30:00Z", "2026-12-07T00:30:00Z"))),
        // Past midnight UTC, yesterday's occurrence is still open.
        (&sunday_night, "2026-12-07T00:00:00Z", Some(("2026-12-06T23:30:00Z", "2026-12-07T00:30:00Z"))),
        (&sunday_night, "2026-12-07T00:29:59.999Z", Some(("2026-12-06T23:30:00Z", "2026-12-07T00:30:00Z"))),
        (&sunday_night, "2026-12-07T00:30:00Z", None),
        (&sunday_night, "2026-12-05T23:45:00Z", None),
        (&sunday_night, "2026-12-13T23:45:00Z", Some(("2026-12-13T23:30:00Z", "2026-12-14T00:30:00Z"))),
        (&sunday_night, "2027-01-03T23:59:00Z", Some(("2027-01-03T23:30:00Z", "2027-01-04T00:30:00Z"))),
        (&mon_wed_all_day, "2026-12-07T00:00:00Z", Some(("2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z"))),
        (&mon_wed_all_day, "2026-12-07T23:59:59.999Z", Some(("2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z"))),
        (&mon_wed_all_day, "2026-12-08T00:00:00Z", None),
        (&mon_wed_all_day, "2026-12-09T12:00:00Z", Some(("2026-12-09T00:00:00Z", "2026-12-10T00:00:00Z"))),
        (&mon_wed_all_day, "2026-12-06T23:59:59.999Z", None),
        (&once, "2026-12-06T21:59:59.999Z", None),
        (&once, "2026-12-06T22:00:00Z", Some(("2026-12-06T22:00:00Z", "2026-12-07T01:00:00Z"))),
        (&once, "2026-12-07T00:59:59.999Z", Some(("2026-12-06T22:00:00Z", "2026-12-07T01:00:00Z"))),
        (&once, "2026-12-07T01:00:00Z", None),
        (&once, "2027-12-06T22:30:00Z", None),
        // The first day of the epoch was a Thursday; no day before it.
        (&thursday_at_epoch, "1970-01-01T00:00:00Z", Some(("1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"))),
        (&thursday_at_epoch, "1970-01-01T01:00:00Z", None),
        (&thursday_at_epoch, "1970-01-08T00:59:00Z", Some(("1970-01-08T00:00:00Z", "1970-01-08T01:00:00Z"))),
    ];
    for (schedule, at, expected) in rows {
        let expected = expected.map(|(start, end)| (t(start), t(end)));
        assert_eq!(schedule.window_at(t(at)), expected, "{schedule:?} at {at}");
    }
}

#[test]
fn the_next_occurrence_is_the_first_to_open_later() {
    // Monday 0 … Sunday 6. 2026-12-06 is a Sunday.
    let sunday_night = weekly(&[6], 23 * 60 + 30, 60);
    let sat_sun = weekly(&[5, 6], 10 * 60, 120);
    let once = Schedule::Once { start_ms: t("2026-12-06T22:00:00Z"), end_ms: t("2026-12-07T01:00:00Z") };
    // (schedule, at, the next occurrence as (start, end) or None).
    type Row<'a> = (&'a Schedule, &'a str, Option<(&'a str, &'a str)>);
    let rows: &[Row] = &[
        (&sunday_night, "2026-12-06T23:29:59.999Z", Some(("2026-12-06T23:30:00Z", "2026-12-07T00:30:00Z"))),
        // Open now: the next one is a week on.
        (&sunday_night, "2026-12-06T23:30:00Z", Some(("2026-12-13T23:30:00Z", "2026-12-14T00:30:00Z"))),
        (&sunday_night, "2026-12-07T00:10:00Z", Some(("2026-12-13T23:30:00Z", "2026-12-14T00:30:00Z"))),
        (&sunday_night, "2026-12-09T12:00:00Z", Some(("2026-12-13T23:30:00Z", "2026-12-14T00:30:00Z"))),
        (&sat_sun, "2026-12-05T11:00:00Z", Some(("2026-12-06T10:00:00Z", "2026-12-06T12:00:00Z"))),
        (&sat_sun, "2026-12-06T11:00:00Z", Some(("2026-12-12T10:00:00Z", "2026-12-12T12:00:00Z"))),
        (&once, "2026-12-06T21:59:59.999Z", Some(("2026-12-06T22:00:00Z", "2026-12-07T01:00:00Z"))),
        (&once, "2026-12-06T22:00:00Z", None),
        (&once, "2026-12-08T00:00:00Z", None),
    ];
    for (schedule, at, expected) in rows {
        let expected = expected.map(|(start, end)| (t(start), t(end)));
        assert_eq!(schedule.next_after(t(at)), expected, "{schedule:?} after {at}");
    }
    assert_eq!(weekly(&[], 0, 60).next_after(0), None, "no day, no occurrence");
}

#[test]
fn the_maintenance_list_shows_every_window_with_its_source_and_occurrences() {
    // Declared: west's one-off window (open at `now`), a weekly one over the
    // fleet (closed); started through the API: one on w1, not begun.
    let c = valid(&format!(
        "{SMALL}\n[[maintenance]]\nid = \"west-upgrade\"\nreason = \"kernel upgrade\"\nregions = [\"west\"]\nstart = \"2026-12-06T22:00:00Z\"\nend = \"2026-12-06T23:00:00Z\"\n\
         [[maintenance]]\nid = \"saturday\"\nreason = \"patching\"\nweekly = {{ days = [\"sat\"], start = \"23:30\", minutes = 60 }}\n"
    ));
    let now = t("2026-12-06T22:30:00Z");
    let mut state = advance(&c, None, &round(now, "uuu"), true).state;
    let body = r#"{"id": "db", "reason": "db move", "origins": ["w1"], "start": "2026-12-07T01:00:00Z", "end": "2026-12-07T02:00:00Z"}"#;
    let Ok(MonitorCall::StartMaintenance { window }) = http::maintenance_call(&c, None, body, now) else { panic!() };
    maintenance::start(&mut state.maintenance, window, now).unwrap();

    // Routing: GET and HEAD go to the monitor after the shell's `authorize`
    // (the one 401 of the admin routes, `drain.rs`); the call reads back.
    assert_eq!(dispatch(&c, Incoming::new("GET", "/admin/maintenance")), Dispatch::ListMaintenance { head: false });
    let call = MonitorCall::ListMaintenance;
    assert_eq!(MonitorCall::from_json(&call.to_json()), Ok(call));

    let reply = http::maintenance_list(&c, &state.maintenance, now);
    assert_eq!(reply.status, 200);
    assert_eq!(header(&reply, "content-type"), Some("application/json"));
    assert_eq!(header(&reply, "cache-control"), Some("no-store"), "never cached");
    assert_eq!(
        body_of(&reply),
        serde_json::json!({"windows": [
            {"id": "west-upgrade", "reason": "kernel upgrade", "source": "config",
             "fleet": false, "regions": ["west"], "origins": [],
             "schedule": {"kind": "once", "start": "2026-12-06T22:00:00.000Z", "end": "2026-12-06T23:00:00.000Z"},
             "open": true,
             "current": {"start": "2026-12-06T22:00:00.000Z", "end": "2026-12-06T23:00:00.000Z"},
             "next": null},
            {"id": "saturday", "reason": "patching", "source": "config",
             "fleet": true, "regions": [], "origins": [],
             "schedule": {"kind": "weekly", "days": ["sat"], "start": "23:30", "minutes": 60},
             "open": false, "current": null,
             "next": {"start": "2026-12-12T23:30:00.000Z", "end": "2026-12-13T00:30:00.000Z"}},
            {"id": "db", "reason": "db move", "source": "api",
             "fleet": false, "regions": [], "origins": ["w1"],
             "schedule": {"kind": "once", "start": "2026-12-07T01:00:00.000Z", "end": "2026-12-07T02:00:00.000Z"},
             "open": false, "current": null,
             "next": {"start": "2026-12-07T01:00:00.000Z", "end": "2026-12-07T02:00:00.000Z"}},
        ]})
    );
    // Whether a window is open is `window_at`'s answer, as for every surface.
    let view = shown(&c, Snapshot { state: &state, now_ms: now });
    assert_eq!(view.maintenance.region(&c, 1).map(|o| o.id.as_str()), Some("west-upgrade"));
}

use super::cases::SMALL;

#[test]
fn bad_windows_stop_the_build_naming_the_field() {
    for (text, field, _) in super::cases::maintenance() {
        let errs = config(&text).expect_err(&text);
        assert!(errs.iter().any(|e| e.field.starts_with(field)), "{text}: expected {field}, got {errs:?}");
    }
    let twice = format!(
        "{SMALL}\n[[maintenance]]\nid = \"u\"\nreason = \"x\"\nweekly = {{ days = [\"sun\"], start = \"02:00\", minutes = 60 }}\n[[maintenance]]\nid = \"u\"\nreason = \"y\"\nweekly = {{ days = [\"mon\"], start = \"02:00\", minutes = 60 }}\n"
    );
    let errs = config(&twice).unwrap_err();
    assert_eq!(errs[0].field, "maintenance[1].id", "{errs:?}");
    // A valid pair, read back from the embedded JSON unchanged.
    let good = format!(
        "{SMALL}\n[[maintenance]]\nid = \"sunday\"\nreason = \"  patching  \"\nregions = [\"west\"]\norigins = [\"e1\"]\nweekly = {{ days = [\"sun\", \"mon\"], start = \"23:30\", minutes = 90 }}\n"
    );
    let c = valid(&good);
    assert_eq!(
        c.maintenance(),
        [Window {
            id: "sunday".into(),
            reason: "patching".into(),
            scope: maintenance::Scope { regions: vec!["west".into()], origins: vec!["e1".into()] },
            schedule: weekly(&[6, 0], 23 * 60 + 30, 90),
        }]
    );
    let (document, _) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!(document, c);
}

/// SMALL with a declared window over `west` from 22:00 to 23:00 on 2026-12-06.
fn with_window() -> Config {
    valid(&format!(
        "{SMALL}\n[[maintenance]]\nid = \"west-upgrade\"\nreason = \"kernel upgrade\"\nregions = [\"west\"]\nstart = \"2026-12-06T22:00:00Z\"\nend = \"2026-12-06T23:00:00Z\"\n"
    ))
}

fn body_of(reply: &http::Reply) -> Value {
    serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
}

#[test]
fn maintenance_requests_are_validated_naming_the_field() {
    let c = with_window();
    let now = t("2026-12-06T21:00:00Z");
    // (body, Ok((id, regions, origins, start, end)) or Err((status, start of the message))).
    type Row<'a> = (&'a str, Result<(&'a str, &'a [&'a str], &'a [&'a str], &'a str, &'a str), (u16, &'a str)>);
    let rows: &[Row] = &[
        (
            r#"{"reason": "db move", "regions": ["east"], "end": "2026-12-06T22:00:00Z"}"#,
            Ok(("api-1796590800000", &["east"], &[], "2026-12-06T21:00:00Z", "2026-12-06T22:00:00Z")),
        ),
        (
            r#"{"id": "db", "reason": "db", "origins": ["w1"], "start": "2026-12-07T01:00:00Z", "end": "2026-12-07T02:00:00Z"}"#,
            Ok(("db", &[], &["w1"], "2026-12-07T01:00:00Z", "2026-12-07T02:00:00Z")),
        ),
        (
            r#"{"reason": "all", "end": "2026-12-06T21:30:00Z"}"#,
            Ok(("api-1796590800000", &[], &[], "2026-12-06T21:00:00Z", "2026-12-06T21:30:00Z")),
        ),
        (r#"{"reason": "x", "regions": ["north"], "end": "2026-12-06T22:00:00Z"}"#, Err((404, "regions: "))),
        (r#"{"reason": "x", "origins": ["east"], "end": "2026-12-06T22:00:00Z"}"#, Err((404, "origins: "))),
        (
            r#"{"reason": "x", "end": "2026-12-06T20:00:00Z"}"#,
            Err((400, "end: 2026-12-06T20:00:00Z is not after the start")),
        ),
        (
            r#"{"reason": "x", "start": "2026-12-06T19:00:00Z", "end": "2026-12-06T20:00:00Z"}"#,
            Err((400, "end: 2026-12-06T20:00:00Z is not in the future")),
        ),
        (
            r#"{"reason": "x", "start": "2026-12-06T23:00:00Z", "end": "2026-12-06T22:30:00Z"}"#,
            Err((400, "end: 2026-12-06T22:30:00Z is not after the start")),
        ),
        (r#"{"reason": "x", "end": "2027-01-30T00:00:00Z"}"#, Err((400, "end: a window lasts at most 31 days"))),
        (r#"{"reason": "x"}"#, Err((400, "end: required"))),
        (r#"{"reason": "x", "end": "tomorrow"}"#, Err((400, "end: "))),
        (r#"{"reason": "x", "end": "2026-12-06T22:00:00+01:00"}"#, Err((400, "end: "))),
        (r#"{"end": "2026-12-06T22:00:00Z"}"#, Err((400, "reason: "))),
        (r#"{"reason": "a\nb", "end": "2026-12-06T22:00:00Z"}"#, Err((400, "reason: "))),
        (r#"{"id": "Bad Id", "reason": "x", "end": "2026-12-06T22:00:00Z"}"#, Err((400, "id: "))),
        (
            r#"{"id": "west-upgrade", "reason": "x", "end": "2026-12-06T22:00:00Z"}"#,
            Err((400, "id: \"west-upgrade\" is declared")),
        ),
        (r#"{"reason": "x", "end": "2026-12-06T22:00:00Z", "for": 60}"#, Err((400, "body: "))),
        ("not json", Err((400, "body: "))),
    ];
    for (body, expected) in rows {
        match (expected, http::maintenance_call(&c, None, body, now)) {
            (Ok((id, regions, origins, start, end)), Ok(MonitorCall::StartMaintenance { window })) => {
                assert_eq!(window.id, *id, "{body}");
                assert_eq!(window.scope.regions, *regions, "{body}");
                assert_eq!(window.scope.origins, *origins, "{body}");
                assert_eq!(window.schedule, Schedule::Once { start_ms: t(start), end_ms: t(end) }, "{body}");
            }
            (Err((status, message)), Err(reply)) => {
                assert_eq!(reply.status, *status, "{body}");
                let got = body_of(&reply)["message"].as_str().unwrap().to_string();
                assert!(got.starts_with(message), "{body}: {got:?} should start with {message:?}");
            }
            (expected, got) => panic!("{body}: expected {expected:?}, got {got:?}"),
        }
    }
    let big = format!(r#"{{"reason": "{}", "end": "2026-12-06T22:00:00Z"}}"#, "x".repeat(10 * 1024));
    let too_large = http::maintenance_call(&c, None, &big, now).unwrap_err();
    assert_eq!(too_large, http::body_too_large(None, big.len() as u64).unwrap(), "the one 413 of operator bodies");
    // Ending: an API window by id; a declared one is a 409 (change the file).
    assert_eq!(http::maintenance_call(&c, Some("db"), "", now), Ok(MonitorCall::EndMaintenance { id: "db".into() }));
    assert_eq!(http::maintenance_call(&c, Some("west-upgrade"), "", now).unwrap_err().status, 409);
    // Routing by method and path; the token is checked by the shell before the call.
    assert_eq!(dispatch(&c, Incoming::new("POST", "/admin/maintenance")), Dispatch::Maintenance { end: None });
    assert_eq!(
        dispatch(&c, Incoming::new("DELETE", "/admin/maintenance/db")),
        Dispatch::Maintenance { end: Some("db".into()) }
    );
    assert_eq!(dispatch(&c, Incoming::new("GET", "/admin/maintenance")), Dispatch::ListMaintenance { head: false });
    assert_eq!(dispatch(&c, Incoming::new("HEAD", "//admin/maintenance/")), Dispatch::ListMaintenance { head: true });
    for (method, path, status, allow) in [
        ("PUT", "/admin/maintenance", 405, Some("GET, HEAD, POST, OPTIONS")),
        ("DELETE", "/admin/maintenance", 405, Some("GET, HEAD, POST, OPTIONS")),
        ("POST", "/admin/maintenance/db", 405, Some("DELETE, OPTIONS")),
        ("GET", "/admin/maintenance/db", 405, Some("DELETE, OPTIONS")),
        ("OPTIONS", "/admin/maintenance", 204, Some("GET, HEAD, POST, OPTIONS")),
        ("DELETE", "/admin/maintenance/db/x", 404, None),
    ] {
        let Dispatch::Answer(reply) = dispatch(&c, Incoming::new(method, path)) else { panic!("{method} {path}") };
        assert_eq!(reply.status, status, "{method} {path}");
        assert_eq!(header(&reply, "allow"), allow, "{method} {path}");
    }
}

#[test]
fn a_window_is_shown_counted_apart_and_recorded_while_readiness_stays_truthful() {
    let c = with_window();
    let west = 1;
    let before = t("2026-12-06T21:59:00Z");
    let first = advance(&c, None, &round(before, "uuu"), true);
    assert!(!first.changes.iter().any(|ch| ch.kind == Kind::Maintenance));
    // In the window, west's origins go down: west is down and not ready, as
    // the probes say; it shows the window and counts maintenance, not down.
    let inside = t("2026-12-06T22:00:15Z");
    let during = advance(&c, Some(&first.state), &round(inside, "uxx"), true);
    let started: Vec<_> = during.changes.iter().filter(|ch| ch.kind == Kind::Maintenance).collect();
    assert_eq!(started.len(), 1, "{:?}", during.changes);
    assert_eq!((started[0].name.as_str(), started[0].to.as_str()), ("west-upgrade", "started"));
    assert_eq!(started[0].at_ms, t("2026-12-06T22:00:00Z"), "recorded when it opened");
    let view = shown(&c, Snapshot { state: &during.state, now_ms: inside + 1_000 });
    assert_eq!(view.regions[west].status, Some(Health::Down));
    assert!(!view.regions[west].ready, "a window never hides reality from a load balancer");
    assert_eq!(view.maintenance.region(&c, west).map(|o| o.id.as_str()), Some("west-upgrade"));
    assert_eq!(view.maintenance.origin(&c, 2).map(|o| o.until_ms), Some(t("2026-12-06T23:00:00Z")));
    assert_eq!(view.maintenance.region(&c, 0), None);
    let health = serde_json::to_value(edgecheck_core::render::health(&c, &view, &Uptimes::new(), false)).unwrap();
    assert_eq!(
        health["regions"]["west"]["maintenance"],
        serde_json::json!({"id": "west-upgrade", "reason": "kernel upgrade", "since": "2026-12-06T22:00:00.000Z", "until": "2026-12-06T23:00:00.000Z"})
    );
    assert_eq!(health["regions"]["west"]["origins"][0]["maintenance"]["id"], "west-upgrade");
    assert_eq!(health["regions"]["west"]["ready"], false);
    assert!(health["regions"]["east"].get("maintenance").is_none());
    assert!(health.get("maintenance").is_none(), "no window over the whole fleet");
    let adds = rollup_adds(&c, &during);
    let of = |name: &str| adds.iter().find(|a| a.name == name).unwrap();
    assert_eq!((of("w1").down, of("w1").maintenance), (0, 1), "counted apart from down");
    assert_eq!((of("west").down, of("west").maintenance), (0, 1));
    assert_eq!((of("e1").up, of("e1").maintenance), (1, 0));
    // Surfaces: the page, the badges and /metrics say so.
    let page =
        edgecheck_core::render::page::status_page(&c, &view, None, &Default::default(), &[], &Default::default());
    assert!(page.contains("This region is in maintenance (west-upgrade): kernel upgrade"), "{page}");
    let badge = edgecheck_core::render::badge::endpoint(&c, &view, Some(Named::Region(west)));
    assert_eq!((badge.message.as_str(), badge.color), ("down · maintenance", "blue"));
    let metrics = edgecheck_core::render::metrics::exposition(
        &c,
        &view,
        &Default::default(),
        &Default::default(),
        &Default::default(),
    );
    assert!(
        metrics.contains("edgecheck_maintenance{scope=\"region\",name=\"west\",id=\"west-upgrade\"} 1"),
        "{metrics}"
    );
    // After the window: its end is recorded, and uptime counts down again.
    let after = t("2026-12-06T23:00:15Z");
    let past = advance(&c, Some(&during.state), &round(after, "uxx"), true);
    let ended: Vec<_> = past.changes.iter().filter(|ch| ch.kind == Kind::Maintenance).collect();
    assert_eq!(ended.len(), 1);
    assert_eq!((ended[0].from.as_deref(), ended[0].to.as_str()), (Some("started"), "ended"));
    assert_eq!(ended[0].at_ms, t("2026-12-06T23:00:00Z"));
    let adds = rollup_adds(&c, &past);
    assert_eq!(adds.iter().find(|a| a.name == "w1").map(|a| (a.down, a.maintenance)), Some((1, 0)));
    let view = shown(&c, Snapshot { state: &past.state, now_ms: after });
    assert!(view.maintenance.is_empty());
    assert!(!edgecheck_core::render::metrics::exposition(
        &c,
        &view,
        &Default::default(),
        &Default::default(),
        &Default::default()
    )
    .contains("edgecheck_maintenance"));
}

#[test]
fn api_windows_survive_a_restart_end_on_time_and_are_bounded() {
    let c = valid(SMALL);
    let db = MemoryStore::default();
    let at = t("2026-12-06T21:00:00Z");
    let next = advance(&c, None, &round(at, "uuu"), true);
    let (mut memory, problems) = store::record(&db, &c, None, next);
    assert!(problems.is_empty(), "{problems:?}");
    let call = |body: &str| match http::maintenance_call(&c, None, body, at + 1_000) {
        Ok(MonitorCall::StartMaintenance { window }) => window,
        other => panic!("{other:?}"),
    };
    let window = call(r#"{"id": "east-db", "reason": "db", "regions": ["east"], "end": "2026-12-06T21:10:00Z"}"#);
    maintenance::start(&mut memory.state.maintenance, window.clone(), at + 1_000).unwrap();
    store::save_monitor(&db, &memory.state).unwrap();
    let (restored, problems) = store::restore(&db, &c, at + 60_000);
    assert!(problems.is_empty(), "{problems:?}");
    let restored = restored.unwrap();
    assert_eq!(restored.state.maintenance, std::slice::from_ref(&window), "survives a restart");
    let open = |state: &edgecheck_core::monitor::MonitorState, now: u64| {
        InMaintenance::at(&c, &state.maintenance, now).region(&c, 0).map(|o| o.id.clone())
    };
    assert_eq!(open(&restored.state, at + 60_000).as_deref(), Some("east-db"));
    assert_eq!(open(&restored.state, t("2026-12-06T21:10:00Z")), None, "ends on time across the restart");
    // Ending it early cuts it to now; the next round records its start and
    // its end (both between the two rounds), and drops it.
    maintenance::end(&mut memory.state.maintenance, "east-db", at + 120_000).unwrap();
    assert_eq!(open(&memory.state, at + 120_000), None);
    let next = advance(&c, Some(&memory.state), &round(at + 135_000, "uuu"), true);
    let recorded: Vec<_> = next
        .changes
        .iter()
        .filter(|ch| ch.kind == Kind::Maintenance)
        .map(|ch| (ch.name.as_str(), ch.to.as_str(), ch.at_ms))
        .collect();
    assert_eq!(recorded, [("east-db", "started", at + 1_000), ("east-db", "ended", at + 120_000)]);
    assert!(next.state.maintenance.is_empty(), "an API window that is over is dropped");
    memory.state = next.state;
    let refused = maintenance::end(&mut memory.state.maintenance, "nope", at).unwrap_err();
    assert_eq!(refused, WindowError::NotFound("nope".into()));
    assert_eq!(http::window_refused(refused).status, 404);
    // At most MAX_API_WINDOWS are kept: one more is a 409 and changes nothing.
    for k in 0..MAX_API_WINDOWS {
        let w = Window { id: format!("w{k}"), ..window.clone() };
        maintenance::start(&mut memory.state.maintenance, w, at + 1_000).unwrap();
    }
    let kept = memory.state.maintenance.clone();
    let one_more = Window { id: "one-more".into(), ..window.clone() };
    let refused = maintenance::start(&mut memory.state.maintenance, one_more, at + 1_000).unwrap_err();
    assert_eq!(refused, WindowError::TooMany { kept: MAX_API_WINDOWS });
    let refused = http::window_refused(refused);
    assert_eq!((refused.status, body_of(&refused)["error"].as_str()), (409, Some("too_many_windows")));
    assert_eq!(memory.state.maintenance, kept);
    // Starting one again by id replaces it, and the row stays small.
    let again = Window { reason: "db, second try".into(), ..Window { id: "w0".into(), ..window } };
    maintenance::start(&mut memory.state.maintenance, again, at + 2_000).unwrap();
    assert_eq!(memory.state.maintenance.len(), MAX_API_WINDOWS);
    assert_eq!(memory.state.maintenance.last().unwrap().reason, "db, second try");
    assert!(store::save_monitor(&db, &memory.state).is_ok());
}

/// The maintenance changes of a round: `(id, to, at)`.
fn window_history(advance: &edgecheck_core::monitor::Advance) -> Vec<(String, String, u64)> {
    advance
        .changes
        .iter()
        .filter(|ch| ch.kind == Kind::Maintenance)
        .map(|ch| (ch.name.clone(), ch.to.clone(), ch.at_ms))
        .collect()
}

#[test]
fn a_window_that_began_before_the_last_round_is_recorded_once_from_its_start() {
    let c = valid(SMALL);
    let at = t("2026-12-06T21:00:00Z");
    let owned = |rows: &[(&str, &str, u64)]| -> Vec<(String, String, u64)> {
        rows.iter().map(|(id, to, at)| (id.to_string(), to.to_string(), *at)).collect()
    };
    let first = advance(&c, None, &round(at, "uuu"), true);
    assert_eq!(first.state.windows_open, Some(Default::default()), "what the round found open is kept");

    // Started through the API after that round, with a `start` an hour
    // before it: the next round records its start, at the start it was given.
    let db = MemoryStore::default();
    let (mut memory, _) = store::record(&db, &c, None, first);
    let body = r#"{"id": "east-db", "reason": "db", "regions": ["east"], "start": "2026-12-06T20:00:00Z", "end": "2026-12-06T22:00:00Z"}"#;
    let Ok(MonitorCall::StartMaintenance { window }) = http::maintenance_call(&c, None, body, at + 5_000) else {
        panic!()
    };
    maintenance::start(&mut memory.state.maintenance, window, at + 5_000).unwrap();
    // Across a restart, too: what the last round found open is in the monitor's row.
    store::save_monitor(&db, &memory.state).unwrap();
    let (restored, problems) = store::restore(&db, &c, at + 10_000);
    assert!(problems.is_empty(), "{problems:?}");
    let restored = restored.unwrap().state;
    assert_eq!(restored.windows_open, memory.state.windows_open);
    let second = advance(&c, Some(&restored), &round(at + 15_000, "uuu"), true);
    assert_eq!(window_history(&second), owned(&[("east-db", "started", t("2026-12-06T20:00:00Z"))]));
    assert_eq!(second.state.windows_open, Some(["east-db".to_string()].into()));
    // Once: the next round records nothing; its end is recorded when it comes.
    let third = advance(&c, Some(&second.state), &round(at + 30_000, "uuu"), true);
    assert_eq!(window_history(&third), []);
    let mut state = third.state;
    maintenance::end(&mut state.maintenance, "east-db", at + 40_000).unwrap();
    let fourth = advance(&c, Some(&state), &round(at + 45_000, "uuu"), true);
    assert_eq!(window_history(&fourth), owned(&[("east-db", "ended", at + 40_000)]));
    assert_eq!(fourth.state.windows_open, Some(Default::default()));

    // A window started and ended between two rounds, begun before the
    // first: both its start and its end.
    let mut state = fourth.state;
    let past = Window {
        id: "brief".into(),
        reason: "brief".into(),
        scope: Default::default(),
        schedule: Schedule::Once { start_ms: at, end_ms: at + 3_600_000 },
    };
    maintenance::start(&mut state.maintenance, past, at + 50_000).unwrap();
    maintenance::end(&mut state.maintenance, "brief", at + 55_000).unwrap();
    let fifth = advance(&c, Some(&state), &round(at + 60_000, "uuu"), true);
    assert_eq!(window_history(&fifth), owned(&[("brief", "started", at), ("brief", "ended", at + 55_000)]));

    // A row written before what the round found open was kept (`None`): the
    // windows open at its round are taken as recorded, so none is recorded twice.
    let mut old = second.state.clone();
    old.windows_open = None;
    let after_upgrade = advance(&c, Some(&old), &round(at + 30_000, "uuu"), true);
    assert_eq!(window_history(&after_upgrade), []);
    assert_eq!(after_upgrade.state.windows_open, Some(["east-db".to_string()].into()));
}

#[test]
fn a_redeploy_records_a_declared_window_open_since_before_it_and_one_it_removes() {
    let before = valid(SMALL);
    let with = |extra: &str| valid(&format!("{SMALL}\n{extra}"));
    let declared = with(
        "[[maintenance]]\nid = \"west-upgrade\"\nreason = \"kernel upgrade\"\nregions = [\"west\"]\nstart = \"2026-12-06T20:00:00Z\"\nend = \"2026-12-06T23:00:00Z\"\n\
         [[maintenance]]\nid = \"nightly\"\nreason = \"backups\"\nweekly = { days = [\"sun\"], start = \"20:30\", minutes = 120 }\n",
    );
    let at = t("2026-12-06T21:00:00Z"); // a Sunday
    let first = advance(&before, None, &round(at, "uuu"), true);
    // Deployed with two windows open since before the last round: each
    // recorded from its start (the weekly one from its occurrence's).
    let second = advance(&declared, Some(&first.state), &round(at + 15_000, "uuu"), true);
    let mut got = window_history(&second);
    got.sort();
    assert_eq!(
        got,
        [
            ("nightly".to_string(), "started".to_string(), t("2026-12-06T20:30:00Z")),
            ("west-upgrade".to_string(), "started".to_string(), t("2026-12-06T20:00:00Z")),
        ]
    );
    let third = advance(&declared, Some(&second.state), &round(at + 30_000, "uuu"), true);
    assert_eq!(window_history(&third), []);
    // Deployed again without them while they are open: their end, at the round.
    let fourth = advance(&before, Some(&third.state), &round(at + 45_000, "uuu"), true);
    let mut got = window_history(&fourth);
    got.sort();
    assert_eq!(
        got,
        [
            ("nightly".to_string(), "ended".to_string(), at + 45_000),
            ("west-upgrade".to_string(), "ended".to_string(), at + 45_000),
        ]
    );
    assert_eq!(fourth.state.windows_open, Some(Default::default()));
}
