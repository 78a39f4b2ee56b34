//! The published snapshot: every public answer rendered from it at the time of
//! the request (ages, `Age`, `unknown`, status codes), the document's round
//! trip, and when an isolate asks for a newer one.

use edgecheck_core::http::{self, Target, Variant};
use edgecheck_core::monitor::{advance, Change, Kind};
use edgecheck_core::publish::{self, Published, RenderKey, ASK_MARGIN_MS};
use edgecheck_core::uptime::{Daily, Uptimes};
use serde_json::Value;

use super::{header, round, valid, FLEET, PAIR};

const AT: u64 = 1_795_000_000_000;

fn doc(state: edgecheck_core::monitor::MonitorState, changes: Vec<Change>) -> Published {
    Published {
        fleet: "f00d".into(),
        state,
        uptimes: Uptimes::new(),
        daily: Daily::new(),
        changes,
        latency: Default::default(),
        notify: Default::default(),
        slo: Default::default(),
    }
}

fn body(reply: &http::Reply) -> &str {
    reply.body.as_deref().unwrap()
}

/// The document the monitor publishes reads back as it was, and a document of
/// another fleet, or not a document at all, is refused saying why.
#[test]
fn the_published_snapshot_round_trips_and_refuses_another_fleet() {
    let c = valid(FLEET);
    let state = advance(&c, None, &round(AT, "uuxuuud"), true).state;
    let change =
        Change { at_ms: AT, kind: Kind::Origin, name: "e3".into(), from: None, to: "down".into(), reason: None };
    let published = doc(state, vec![change]);
    let json = published.to_json();
    assert_eq!(Published::from_json("f00d", &json), Ok(published.clone()));
    let other = Published::from_json("beef", &json).unwrap_err();
    assert!(other.contains("another fleet"), "{other}");
    assert!(Published::from_json("f00d", "{}").unwrap_err().starts_with("not a published snapshot"));
}

/// Every age field of `/health`, `/metrics` and the page, and `Age`, is the
/// seconds since the round at the time of the request: the same document
/// served 4 s and 12 s after its round says 4 and 12.
#[test]
fn every_age_is_counted_at_the_time_of_the_request() {
    let c = valid(FLEET);
    let published = doc(advance(&c, None, &round(AT, "uuuuuuu"), true).state, Vec::new());
    for elapsed_s in [4u64, 12] {
        let now = AT + elapsed_s * 1000 + 300;
        let health = publish::answer(&c, &published, Target::Health, Variant::Full, now);
        let doc: Value = serde_json::from_str(body(&health)).unwrap();
        assert_eq!(
            (header(&health, "age"), doc["age_s"].as_u64()),
            (Some(elapsed_s.to_string().as_str()), Some(elapsed_s))
        );
        let metrics = publish::answer(&c, &published, Target::Metrics, Variant::Full, now);
        assert!(
            body(&metrics).contains(&format!("\nedgecheck_snapshot_age_seconds {elapsed_s}\n")),
            "{}",
            body(&metrics)
        );
        let page = publish::answer(&c, &published, Target::StatusPage, Variant::Full, now);
        assert!(body(&page).contains(&format!(">{elapsed_s} s ago</time>")), "{elapsed_s} s");
        assert_eq!(header(&page, "age"), Some(elapsed_s.to_string().as_str()));
    }
}

/// A not-ready answer is a 503 from the document itself, with no header that
/// carries a status.
#[test]
fn a_503_is_rendered_as_a_503() {
    let c = valid(FLEET);
    let published = doc(advance(&c, None, &round(AT, "uuxuuud"), true).state, Vec::new());
    let ready = publish::answer(&c, &published, Target::Ready, Variant::Full, AT + 2_000);
    assert_eq!((ready.status, body(&ready)), (503, r#"{"status":"degraded","ready":false}"#));
    assert!(ready.headers.iter().all(|(name, _)| name != "x-edgecheck-status"), "{:?}", ready.headers);
    let served = http::served(ready, http::Source::Memory, true);
    assert_eq!(
        (served.status, served.body.as_deref(), header(&served, "x-edgecheck-cache")),
        (503, None, Some("memory"))
    );
}

/// `unknown` is decided when the answer is served: a self-isolated round is
/// `unknown` from `max_stale_s` after the last trustworthy one, and a snapshot
/// with no round after it for `refresh_s` + `max_stale_s` is `unknown` too.
#[test]
fn unknown_starts_when_it_is_due_not_when_a_copy_was_made() {
    let c = valid(PAIR); // refresh_s = 15, max_stale_s = 60
    let good = advance(&c, None, &round(AT, "uu"), true).state;
    let cut_off = doc(advance(&c, Some(&good), &round(AT + 15_000, "rr"), true).state, Vec::new());
    let status = |d: &Published, now: u64| {
        let r = publish::answer(&c, d, Target::Ready, Variant::Full, now);
        (r.status, serde_json::from_str::<Value>(body(&r)).unwrap()["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status(&cut_off, AT + 60_000), (200, "ok".into()), "stale, not yet too old");
    assert_eq!(status(&cut_off, AT + 60_001), (503, "unknown".into()), "isolated past max_stale_s");
    let quiet = doc(good, Vec::new());
    assert_eq!(status(&quiet, AT + 75_000), (200, "ok".into()), "no round for refresh_s + max_stale_s: not yet");
    assert_eq!(status(&quiet, AT + 75_001), (503, "unknown".into()), "a snapshot is not believed for ever");
}

/// `/history/{name}` shows that name's changes from the document; `/history` all of them.
#[test]
fn history_comes_from_the_document() {
    let c = valid(FLEET);
    let change = |name: &str, to: &str| Change {
        at_ms: AT,
        kind: Kind::Origin,
        name: name.into(),
        from: None,
        to: to.into(),
        reason: None,
    };
    let published =
        doc(advance(&c, None, &round(AT, "uuuuuuu"), true).state, vec![change("e1", "up"), change("w1", "down")]);
    let all = publish::answer(&c, &published, Target::History, Variant::Full, AT);
    let one = publish::answer(&c, &published, Target::HistoryOf(c.find("w1").unwrap()), Variant::Full, AT);
    let names = |r: &http::Reply| {
        let doc: Value = serde_json::from_str(body(r)).unwrap();
        doc["changes"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!((names(&all), names(&one)), (vec!["e1".to_string(), "w1".into()], vec!["w1".to_string()]));
}

/// A rendered answer may be reused only while its age second is the same.
#[test]
fn a_rendered_answer_is_reused_within_its_age_second_only() {
    let c = valid(FLEET);
    let published = doc(advance(&c, None, &round(AT + 400, "uuuuuuu"), true).state, Vec::new());
    let key = |now| RenderKey::new(&published, Target::Health, Variant::Full, now);
    assert_eq!(key(AT + 1_400), key(AT + 2_399));
    assert_ne!(key(AT + 2_399), key(AT + 2_400));
    assert_ne!(key(AT + 1_400), RenderKey::new(&published, Target::Health, Variant::Summary, AT + 1_400));
}

/// When an isolate asks for a newer snapshot: once the next round should be
/// merged, once more at the latest it can be, then once per refresh. The
/// Cache API keeps a document until the first of those, 1 s to refresh_s.
#[test]
fn an_isolate_asks_once_per_refresh() {
    let c = valid(FLEET); // refresh_s = 15, deadline_ms = 5000
    let took = 300;
    let rows: &[(u32, u64, u64)] = &[
        (0, AT + 1_000, AT + 15_000 + took + ASK_MARGIN_MS),
        (1, AT + 16_400, AT + 15_000 + 5_000 + edgecheck_core::vantage::PROBER_GRACE_MS + ASK_MARGIN_MS),
        (1, AT + 60_000, AT + 60_000 + ASK_MARGIN_MS),
        (2, AT + 22_000, AT + 37_000),
        (7, AT + 90_000, AT + 105_000),
    ];
    for &(fruitless, now, next) in rows {
        assert_eq!(publish::next_ask_ms(&c, AT, took, fruitless, now), next, "{fruitless} fruitless asks at {now}");
    }
    assert_eq!(publish::cache_ttl_s(&c, AT, took, AT + 500), 15);
    assert_eq!(publish::cache_ttl_s(&c, AT, took, AT + 10_000), 6);
    assert_eq!(publish::cache_ttl_s(&c, AT, took, AT + 16_000), 1, "already due: at least 1 s");
    assert_eq!(publish::cache_ttl_s(&c, AT + 3_600_000, took, AT), 15, "a round dated in the future pins nothing");
}
