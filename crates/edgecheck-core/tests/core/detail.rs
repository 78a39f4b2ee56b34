//! The admin token's full view (`/health?view=full`): routed apart from the
//! public `/health`, closed without the token, never cached, URLs redacted,
//! every captured part capped.

use edgecheck_core::detail::{redact_url, ProbeDetail, BODY_HEAD_BYTES, ERROR_BYTES, MAX_HEADERS};
use edgecheck_core::http::{self, authorize, dispatch, Dispatch, Incoming, MonitorCall, Target, Variant};
use edgecheck_core::monitor::{advance, Snapshot};
use edgecheck_core::uptime::Uptimes;
use edgecheck_core::view::shown;
use serde_json::Value;

use super::{round, valid, FLEET};

#[test]
fn the_full_view_is_routed_apart_from_public_health() {
    let c = valid(FLEET);
    let at = |method, query| dispatch(&c, Incoming { method, path: "/health", query, accept: None });
    assert_eq!(at("GET", "view=full"), Dispatch::Detail { head: false });
    assert_eq!(at("HEAD", "x=1&view=full"), Dispatch::Detail { head: true });
    assert_eq!(
        at("GET", "view=public"),
        Dispatch::Snapshot { target: Target::Health, variant: Variant::Full, head: false }
    );
    let Dispatch::Answer(bad) = at("GET", "view=everything") else { panic!("a bad view value is answered") };
    assert_eq!(bad.status, 400);
    assert!(bad.body.unwrap().contains("view=everything"));
    // Only /health has a full view; elsewhere `view` is an ignored key.
    let ready = dispatch(&c, Incoming { method: "GET", path: "/ready", query: "view=full", accept: None });
    assert_eq!(ready, Dispatch::Snapshot { target: Target::Ready, variant: Variant::Full, head: false });
    assert_eq!(MonitorCall::from_json(&MonitorCall::Detail.to_json()), Ok(MonitorCall::Detail));
}

#[test]
fn a_missing_empty_or_wrong_token_gets_one_401() {
    let token = Some("s3cret");
    let answers: Vec<_> = [None, Some(""), Some("Bearer"), Some("Bearer "), Some("Bearer s3cre"), Some("Basic s3cret")]
        .into_iter()
        .map(|given| authorize(given, token).expect_err("refused"))
        .collect();
    for reply in &answers {
        assert_eq!((reply.status, reply.header("www-authenticate")), (401, Some("Bearer")));
        assert_eq!(reply.body, answers[0].body, "no hint of which part was wrong");
    }
    assert!(authorize(Some("Bearer s3cret"), token).is_ok());
    assert_eq!(authorize(Some("Bearer s3cret"), None).unwrap_err().status, 403, "no token: the view is off");
}

#[test]
fn the_full_view_shows_what_public_hides_and_is_never_cached() {
    let c = valid(&FLEET.replace("https://e1.example.com/", "https://e1.example.com:8443/hc?key=abc123&v"));
    let state = advance(&c, None, &round(1_000, "uuuuuuu"), true).state;
    let view = shown(&c, Snapshot { state: &state, now_ms: 3_000 });
    let mut details = vec![None; c.origins().len()];
    details[0] = Some(ProbeDetail::new(
        Some("connection refused"),
        vec![("Content-Type".into(), "application/json".into())],
        Some(br#"{"status":"UP"}"#),
    ));
    let reply = http::detail(&c, &view, &Uptimes::new(), &details, &Default::default());
    assert_eq!((reply.status, reply.header("cache-control")), (200, Some("private, no-store")));
    assert_eq!(reply.header("x-edgecheck-checked-at"), None, "no round date: not a snapshot answer");
    let doc: Value = serde_json::from_str(reply.body.as_deref().unwrap()).unwrap();
    assert_eq!(doc["origin_count"], 7, "the whole /health document is there");
    let e1 = &doc["probes"]["e1"];
    assert_eq!(e1["url"], "https://e1.example.com:8443/hc?key=REDACTED&v");
    assert_eq!(e1["region"], "east");
    assert_eq!(e1["error"], "connection refused");
    assert_eq!(e1["headers"], serde_json::json!([["content-type", "application/json"]]));
    assert_eq!(
        (e1["body"].as_str(), e1["body_bytes"].as_u64(), e1["probed"].as_bool()),
        (Some(r#"{"status":"UP"}"#), Some(15), Some(true))
    );
    assert_eq!((doc["probes"]["w1"]["probed"].as_bool(), doc["probes"]["w1"]["body"].is_null()), (Some(false), true));
    assert!(!reply.body.unwrap().contains("abc123"), "query values never shown");
}

#[test]
fn urls_are_redacted() {
    let rows = [
        ("https://a.example.com/health", "https://a.example.com/health"),
        ("https://a.example.com", "https://a.example.com"),
        ("https://user:pw@a.example.com:8443/h", "https://REDACTED@a.example.com:8443/h"),
        ("https://a.example.com/h?token=t0p&region=eu", "https://a.example.com/h?token=REDACTED&region=REDACTED"),
        ("https://a.example.com/h?flag&k=&x=1#frag", "https://a.example.com/h?flag&k=REDACTED&x=REDACTED"),
        ("http://[::1]:9/x?a=b", "http://[::1]:9/x?a=REDACTED"),
        ("not a url?k=v", "not a url?k=REDACTED"),
        ("", ""),
    ];
    for (url, redacted) in rows {
        assert_eq!(redact_url(url), redacted, "{url}");
    }
}

#[test]
fn captured_detail_is_capped() {
    let long = "é".repeat(ERROR_BYTES);
    let headers = (0..100).map(|i| (format!("X-H{i}"), "v".repeat(1000))).collect();
    let body = vec![b'a'; 5 * BODY_HEAD_BYTES];
    let d = ProbeDetail::new(Some(&long), headers, Some(&body));
    assert!(d.error.as_ref().unwrap().len() <= ERROR_BYTES && d.error.as_ref().unwrap().starts_with('é'));
    assert_eq!(d.headers.len(), MAX_HEADERS);
    assert_eq!(d.headers[0].0, "x-h0", "names lower case");
    assert!(d.headers.iter().all(|(_, v)| v.len() <= edgecheck_core::detail::HEADER_VALUE_BYTES));
    assert_eq!((d.body_head.as_ref().unwrap().len(), d.body_bytes), (BODY_HEAD_BYTES, 5 * BODY_HEAD_BYTES as u64));
    let invalid = ProbeDetail::new(None, Vec::new(), Some(&[0xff, 0xfe, b'x']));
    assert_eq!(invalid.body_head.as_deref(), Some("\u{fffd}\u{fffd}x"));
}
