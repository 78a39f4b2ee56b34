//! Heartbeat checks: their config, the verdict from their pings as a table,
//! the ping API (routing, tokens, bodies, the one-a-second bound), and how a
//! round judges them beside probed origins.

use edgecheck_core::config::Heartbeat;
use edgecheck_core::heartbeat::{verdict, PingError, PingKind, Pings, TooSoon};
use edgecheck_core::http::{self, PingRoute};
use edgecheck_core::monitor::{advance, take_ping, MonitorState};
use edgecheck_core::store::{self, MemoryStore};
use serde_json::Value;

use super::*;

const AT: u64 = 1_795_000_000_000;

/// One region, two probed origins and two checks, written interleaved.
const CHECKS: &str = r#"
[regions.r]
min_up = "all"
[regions.jobs]
[[origins]]
name = "nightly"
region = "jobs"
kind = "heartbeat"
period_s = 60
grace_s = 30
token_secret = "NIGHTLY_TOKEN"
[[origins]]
name = "a"
region = "r"
url = "https://a.example.com/"
[[origins]]
name = "queue"
region = "r"
kind = "heartbeat"
period_s = 10
grace_s = 0
token_secret = "QUEUE_TOKEN"
fall = 2
[[origins]]
name = "b"
region = "jobs"
url = "https://b.example.com/"
"#;

fn body_of(reply: &http::Reply) -> Value {
    serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
}

#[test]
fn checks_are_validated_naming_the_field() {
    let check = |extra: &str| {
        format!(
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n[[origins]]\nname = \"c\"\nregion = \"r\"\n{extra}\n"
        )
    };
    let hb = "kind = \"heartbeat\"\nperiod_s = 60\ngrace_s = 30\ntoken_secret = \"C_TOKEN\"";
    let rows = super::cases::heartbeat();
    for (text, field, message) in &rows {
        let errs = config(text).expect_err(text);
        assert!(
            errs.iter().any(|e| e.field == *field && e.message.contains(message)),
            "{text}\nexpected {field}: ...{message}..., got {errs:?}"
        );
    }
    let c = valid(&check(hb));
    let heartbeat = c.origins()[1].heartbeat.as_ref().unwrap();
    assert_eq!(*heartbeat, Heartbeat { period_s: 60, grace_s: 30, token_secret: "C_TOKEN".into() });
    assert_eq!((c.origins()[1].rise, c.origins()[1].fall), (1, 1), "grace_s damps a check: rise and fall default to 1");
}

#[test]
fn checks_come_after_the_probed_origins_and_are_in_no_shard() {
    let c = valid(CHECKS);
    let names: Vec<&str> = c.origins().iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "nightly", "queue"], "probed first, then checks, each in file order");
    assert_eq!(c.probed(), 2);
    assert_eq!((c.shard_count(), c.shard(0)), (1, 0..2));
    let members = |region: &str| -> Vec<&str> {
        let r = c.regions().iter().find(|r| r.name == region).unwrap();
        r.origins.iter().map(|&i| c.origins()[i].name.as_str()).collect()
    };
    assert_eq!(members("r"), ["a", "queue"]);
    assert_eq!(members("jobs"), ["b", "nightly"]);
    assert_eq!(c.regions().iter().find(|r| r.name == "r").unwrap().min_up, 2, "a check counts in its region's quorum");
    assert_eq!(c.origins()[3].fall, 2, "a check's own fall is kept");
    // The fleet document reads back the same fleet, the probed count included.
    let (back, _) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!((back.probed(), back.shard(0)), (2, 0..2));
    assert_eq!(back, c);
}

#[test]
fn a_check_is_judged_from_its_pings() {
    let check = Heartbeat { period_s: 60, grace_s: 30, token_secret: "T".into() };
    let s = 1_000;
    let watched = Pings::watched_from(AT);
    let pinged = |success: Option<u64>, failure: Option<u64>, duration: Option<u64>| Pings {
        last_ms: success.max(failure),
        success_ms: success,
        failure_ms: failure,
        duration_ms: duration,
        ..watched.clone()
    };
    // (pings, now, expected health and reason; None: not judged yet).
    type Row = (Pings, u64, Option<(Health, Reason)>);
    let rows: &[Row] = &[
        (watched.clone(), AT, None),
        (watched.clone(), AT + 90 * s, None),
        (watched.clone(), AT + 90 * s + 1, Some((Health::Down, Reason::HeartbeatMissed))),
        (pinged(Some(AT), None, None), AT, Some((Health::Up, Reason::Ok))),
        (pinged(Some(AT), None, None), AT + 90 * s, Some((Health::Up, Reason::Ok))),
        (pinged(Some(AT), None, None), AT + 90 * s + 1, Some((Health::Down, Reason::HeartbeatMissed))),
        (pinged(Some(AT), Some(AT + s), None), AT + 2 * s, Some((Health::Down, Reason::HeartbeatFailed))),
        (pinged(Some(AT + 2 * s), Some(AT + s), None), AT + 2 * s, Some((Health::Up, Reason::Ok))),
        (pinged(None, Some(AT), None), AT + s, Some((Health::Down, Reason::HeartbeatFailed))),
        // A failure long ago and no success since: still failed, not missed.
        (pinged(None, Some(AT), None), AT + 1000 * s, Some((Health::Down, Reason::HeartbeatFailed))),
        // A clock behind the last ping (a round dated before it) is not a miss.
        (pinged(Some(AT + 5 * s), None, None), AT, Some((Health::Up, Reason::Ok))),
    ];
    for (pings, now, expected) in rows {
        let got = verdict(&check, pings, *now).map(|p| (p.verdict.health, p.verdict.reason));
        assert_eq!(got, *expected, "{pings:?} at +{} ms", now - AT);
    }
    let up = verdict(&check, &pinged(Some(AT), None, Some(4_200)), AT).unwrap();
    assert_eq!((up.latency_ms, up.verdict.http_status), (Some(4_200), None), "a run's duration is its latency");
}

#[test]
fn pings_are_taken_at_most_once_a_second() {
    let mut pings = Pings::watched_from(AT);
    pings.record(PingKind::Start, AT).unwrap();
    assert_eq!(pings.record(PingKind::Success, AT + 999), Err(TooSoon { retry_after_s: 1 }));
    assert_eq!(pings.success_ms, None, "a refused ping changes nothing");
    pings.record(PingKind::Success, AT + 4_000).unwrap();
    assert_eq!((pings.success_ms, pings.duration_ms, pings.started_ms), (Some(AT + 4_000), Some(4_000), None));
    pings.record(PingKind::Success, AT + 5_000).unwrap();
    assert_eq!(pings.duration_ms, None, "a success without a start has no duration");
    pings.record(PingKind::Start, AT + 6_000).unwrap();
    pings.record(PingKind::Fail, AT + 7_000).unwrap();
    assert_eq!((pings.failure_ms, pings.started_ms, pings.last_ms), (Some(AT + 7_000), None, Some(AT + 7_000)));
}

#[test]
fn the_ping_api_routes_checks_tokens_and_bodies() {
    let c = valid(CHECKS);
    let route = |check: usize, kind: PingKind, token: Option<&str>| {
        Dispatch::Ping(PingRoute { check, kind, path_token: token.map(str::to_string) })
    };
    let rows: &[(&str, &str, Result<Dispatch, u16>)] = &[
        ("POST", "/ping/nightly", Ok(route(2, PingKind::Success, None))),
        ("POST", "/ping/nightly/fail", Ok(route(2, PingKind::Fail, None))),
        ("POST", "//ping/queue/start/", Ok(route(3, PingKind::Start, None))),
        ("POST", "/ping/s3cret/nightly", Ok(route(2, PingKind::Success, Some("s3cret")))),
        ("POST", "/ping/s3cret/queue/fail", Ok(route(3, PingKind::Fail, Some("s3cret")))),
        ("POST", "/ping/a", Err(404)),
        ("POST", "/ping/r", Err(404)),
        ("POST", "/ping/nobody", Err(404)),
        ("POST", "/ping/nightly/stop", Err(404)),
        ("POST", "/ping/t/nightly/fail/more", Err(404)),
        ("POST", "/ping", Err(404)),
        ("GET", "/ping/nightly", Err(405)),
        ("PUT", "/ping/t/nightly", Err(405)),
        ("OPTIONS", "/ping/nightly", Err(204)),
    ];
    for (method, path, expected) in rows {
        let got = dispatch(&c, Incoming::new(method, path));
        match (expected, &got) {
            (Ok(want), got) => assert_eq!(got, want, "{method} {path}"),
            (Err(status), Dispatch::Answer(reply)) => {
                assert_eq!(reply.status, *status, "{method} {path}");
                if *status == 405 {
                    assert_eq!(reply.header("allow"), Some("POST, OPTIONS"));
                }
                if *status == 404 {
                    assert_eq!(body_of(reply)["error"], "not_found");
                }
            }
            (Err(status), got) => panic!("{method} {path}: expected {status}, got {got:?}"),
        }
    }

    // Tokens: the path's when it has one, else the Bearer header; the same 401 as /refresh.
    let secret = "NIGHTLY_TOKEN";
    assert_eq!(http::authorize_ping(Some("Bearer tok"), None, secret, Some("tok")), Ok(()));
    assert_eq!(http::authorize_ping(Some("bearer   tok"), None, secret, Some("tok")), Ok(()));
    assert_eq!(http::authorize_ping(None, Some("tok"), secret, Some("tok")), Ok(()));
    let refused = http::authorize_ping(Some("Bearer tok"), Some("bad"), secret, Some("tok")).unwrap_err();
    assert_eq!((refused.reply.status, refused.log), (401, None));
    let admin_401 = http::authorize(Some("Bearer wrong"), Some("admin")).unwrap_err();
    let wrong = http::authorize_ping(Some("Bearer tok2"), None, secret, Some("tok")).unwrap_err().reply;
    for (authorization, path) in
        [(None, None), (Some("Bearer tok2"), None), (Some("Basic tok"), None), (None, Some(""))]
    {
        let refused = http::authorize_ping(authorization, path, secret, Some("tok")).unwrap_err();
        let reply = &refused.reply;
        assert_eq!(
            (reply.status, reply.header("www-authenticate"), refused.log.as_deref()),
            (401, Some("Bearer"), None),
            "{authorization:?} {path:?}"
        );
        assert_eq!(body_of(reply)["error"], body_of(&admin_401)["error"]);
        assert_eq!(*reply, wrong, "one 401 for every missing or wrong token");
    }
}

#[test]
fn a_ping_to_a_check_whose_secret_is_unset_learns_nothing_about_it() {
    // The check's secret unset or empty: whatever the caller sends (nothing, a
    // guess, the token in the path), exactly the 401 of a wrong token, which
    // names no secret; the log line names it, for the operator.
    let secret = "NIGHTLY_TOKEN";
    let wrong = http::authorize_ping(Some("Bearer guess"), None, secret, Some("tok")).unwrap_err().reply;
    for token in [None, Some("")] {
        for (authorization, path) in
            [(None, None), (Some("Bearer guess"), None), (Some("Bearer "), None), (None, Some(""))]
        {
            let refused = http::authorize_ping(authorization, path, secret, token).unwrap_err();
            assert_eq!(refused.reply, wrong, "{token:?} {authorization:?} {path:?}");
            assert_eq!(refused.reply.status, 401);
            assert!(!refused.reply.body.as_deref().unwrap().contains(secret), "{:?}", refused.reply.body);
            let log = refused.log.expect("the operator is told which secret to set");
            assert!(log.contains("NIGHTLY_TOKEN is not set"), "{log}");
        }
    }
    // The admin routes stay as documented: closed (403) without their token.
    assert_eq!(http::authorize(Some("Bearer x"), None).unwrap_err().status, 403);
}

#[test]
fn a_pings_body_is_bounded_in_size_and_time() {
    // A ping's body is bounded by the one rule of operator bodies (`body_too_large`, in `drain.rs`).
    assert_eq!(http::body_too_large(Some(http::MAX_OPERATOR_BODY_BYTES), 0), None);
    assert_eq!(http::body_too_large(None, 0), None);
    let too_large = http::body_too_large(None, http::MAX_OPERATOR_BODY_BYTES + 1).unwrap();
    assert_eq!((too_large.status, body_of(&too_large)["error"].as_str()), (413, Some("payload_too_large")));
    // And in time: 10 s for the whole body, then the one JSON 408.
    assert_eq!(http::OPERATOR_BODY_TIMEOUT_MS, 10_000);
    let timed_out = http::body_timed_out();
    assert_eq!((timed_out.status, body_of(&timed_out)["error"].as_str()), (408, Some("request_timeout")));
    assert_eq!(timed_out.header("cache-control"), Some("no-store"));
    // A ping's body is not kept (the shell reads it with nothing kept), so
    // whatever bytes a job sends, the ping is taken: nothing kept is "".
    assert_eq!(http::body_text(Vec::new()), Ok(String::new()));
}

/// A round of `CHECKS`: a and b with `codes`, the checks judged from their pings.
fn step(c: &Config, prev: Option<&MonitorState>, at: u64, codes: &str) -> edgecheck_core::monitor::Advance {
    // The checks' slots are never probed; what a prober would leave there is ignored.
    advance(c, prev, &round(at, &format!("{codes}rr")), true)
}

#[test]
fn a_round_judges_checks_beside_probed_origins() {
    let c = valid(CHECKS);
    let s = 1_000;
    let first = step(&c, None, AT, "uu");
    let nightly = &first.state.origins["nightly"];
    assert_eq!((nightly.health, nightly.stale), (None, true), "not judged before a ping or its period and grace");
    assert_eq!(nightly.pings, Some(Pings::watched_from(AT)));
    assert_eq!(first.state.origins["a"].pings, None);

    // A ping between rounds: taken into the state, then judged by the next round.
    let mut state = first.state.clone();
    let track = take_ping(&c, &mut state, "nightly", PingKind::Success, AT + 2 * s).unwrap();
    let reply = http::pinged("nightly", PingKind::Success, AT + 2 * s);
    assert_eq!(reply.status, 200);
    let doc = body_of(&reply);
    assert_eq!((doc["check"].as_str(), doc["ping"].as_str()), (Some("nightly"), Some("success")));
    assert_eq!(track.pings.as_ref().unwrap().success_ms, Some(AT + 2 * s));
    let too_soon = take_ping(&c, &mut state, "nightly", PingKind::Fail, AT + 2 * s + 500).unwrap_err();
    assert_eq!(too_soon, PingError::TooSoon { check: "nightly".into(), retry_after_s: 1 });
    let too_soon = http::ping_refused(too_soon);
    assert_eq!((too_soon.status, too_soon.header("retry-after")), (429, Some("1")));
    assert_eq!(body_of(&too_soon)["error"], "too_many_requests");
    assert_eq!(state.origins["nightly"].pings.as_ref().unwrap().failure_ms, None, "a 429 changes nothing");
    let not_a_check = take_ping(&c, &mut state, "a", PingKind::Success, AT + 3 * s).unwrap_err();
    assert_eq!(not_a_check, PingError::NotACheck("a".into()));
    assert_eq!(http::ping_refused(not_a_check).status, 404);

    let second = step(&c, Some(&state), AT + 15 * s, "uu");
    let nightly = &second.state.origins["nightly"];
    assert_eq!((nightly.health, nightly.stale, nightly.last.verdict.reason), (Some(Health::Up), false, Reason::Ok));
    assert!(nightly.by_vantage.is_empty(), "no vantage sees a check");
    let queue = &second.state.origins["queue"];
    assert_eq!(queue.health, Some(Health::Down), "never pinged within its 10 s: missed");
    assert_eq!(queue.last.verdict.reason, Reason::HeartbeatMissed);
    assert!(second.changes.iter().any(|ch| ch.name == "queue" && ch.to == "down"));
    assert_eq!(second.state.regions["r"].status, Health::Down, "a down check counts in its region's quorum");

    // A self-isolated round judges no check either: every probed origin refused.
    let isolated = step(&c, Some(&second.state), AT + 200 * s, "rr");
    assert!(isolated.state.isolated);
    assert_eq!(isolated.state.origins["nightly"].health, Some(Health::Up), "kept, though its period and grace passed");
    let kinds: Vec<Kind> = isolated.changes.iter().map(|ch| ch.kind).collect();
    assert_eq!(kinds, [Kind::Vantage], "only the vantage's own change: {:?}", isolated.changes);

    // Past period + grace without a ping: down (fall 1), then up on the next ping.
    let missed = step(&c, Some(&isolated.state), AT + 200 * s, "uu");
    assert_eq!(missed.state.origins["nightly"].health, Some(Health::Down));
    assert_eq!(missed.state.origins["nightly"].last.verdict.reason, Reason::HeartbeatMissed);
    let mut state = missed.state.clone();
    take_ping(&c, &mut state, "nightly", PingKind::Success, AT + 201 * s).unwrap();
    let back = step(&c, Some(&state), AT + 215 * s, "uu");
    assert_eq!(back.state.origins["nightly"].health, Some(Health::Up));
    let mut state = back.state.clone();
    take_ping(&c, &mut state, "nightly", PingKind::Fail, AT + 216 * s).unwrap();
    let failed = step(&c, Some(&state), AT + 230 * s, "uu");
    assert_eq!(failed.state.origins["nightly"].health, Some(Health::Down));
    assert_eq!(failed.state.origins["nightly"].last.verdict.reason, Reason::HeartbeatFailed);
}

#[test]
fn a_ping_is_saved_at_once_and_survives_a_restart() {
    let c = valid(CHECKS);
    let db = MemoryStore::default();
    let first = step(&c, None, AT, "uu");
    let (mut memory, problems) = store::record(&db, &c, None, first);
    assert!(problems.is_empty(), "{problems:?}");
    let track = take_ping(&c, &mut memory.state, "nightly", PingKind::Start, AT + 1_000).unwrap();
    store::save_origin(&db, "nightly", &track).unwrap();
    let (restored, problems) = store::restore(&db, &c, AT + 2_000);
    assert!(problems.is_empty(), "{problems:?}");
    let pings = restored.unwrap().state.origins["nightly"].pings.clone().unwrap();
    assert_eq!((pings.started_ms, pings.watched_since_ms), (Some(AT + 1_000), AT));
    // The largest a check's row can be: every time at its widest, a name of 64.
    let mut widest = track.clone();
    widest.since_ms = u64::MAX;
    widest.last.latency_ms = Some(u64::MAX);
    widest.pings = Some(Pings {
        watched_since_ms: u64::MAX,
        last_ms: Some(u64::MAX),
        success_ms: Some(u64::MAX),
        failure_ms: Some(u64::MAX),
        started_ms: Some(u64::MAX),
        duration_ms: Some(u64::MAX),
    });
    store::save_origin(&db, &"x".repeat(64), &widest).unwrap();
    assert!(db.largest_value.get() < 1_000, "a check's row: {} bytes", db.largest_value.get());
    db.fail_writes.set(true);
    assert!(store::save_origin(&db, "nightly", &track).is_err(), "a refused write is an error the monitor answers 500");
}

#[test]
fn health_shows_a_check_and_its_pings() {
    let c = valid(CHECKS);
    let first = step(&c, None, AT, "uu");
    let mut state = first.state;
    take_ping(&c, &mut state, "nightly", PingKind::Success, AT + 1_000).unwrap();
    let second = step(&c, Some(&state), AT + 15_000, "uu");
    let view = shown(&c, Snapshot { state: &second.state, now_ms: AT + 16_000 });
    let doc = serde_json::to_value(edgecheck_core::render::health(&c, &view, &Uptimes::default(), false)).unwrap();
    let jobs = &doc["regions"]["jobs"]["origins"];
    let nightly = jobs.as_array().unwrap().iter().find(|o| o["name"] == "nightly").unwrap();
    assert_eq!(nightly["status"], "up");
    assert_eq!(nightly["heartbeat"]["period_s"], 60);
    assert_eq!(nightly["heartbeat"]["grace_s"], 30);
    assert_eq!(nightly["heartbeat"]["last_success"], edgecheck_core::render::rfc3339(AT + 1_000));
    assert_eq!(nightly["heartbeat"]["last_failure"], Value::Null);
    assert_eq!(nightly["vantages"], serde_json::json!({}));
    let b = jobs.as_array().unwrap().iter().find(|o| o["name"] == "b").unwrap();
    assert!(b.get("heartbeat").is_none(), "a probed origin has no heartbeat object");
    let page =
        edgecheck_core::render::page::status_page(&c, &view, None, &Default::default(), &[], &Default::default());
    assert!(page.contains("· heartbeat, last ping 15 s ago</small>"), "{page}");
    assert!(page.contains("· heartbeat, no ping yet</small>"), "queue never pinged: {page}");
}
