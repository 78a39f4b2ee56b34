//! HTTP: routing, the answers and what they never carry, the admin token.

use super::*;

#[test]
fn routing() {
    let c = valid(FLEET);
    let rows: &[(&str, &str, Result<Target, u16>)] = &[
        ("GET", "/ready", Ok(Target::Ready)),
        ("HEAD", "/ready/", Ok(Target::Ready)),
        ("GET", "/ready/west", Ok(Target::ReadyRegion(2))),
        ("GET", "/ready/w1", Err(404)),
        ("GET", "/ready/nowhere", Err(404)),
        ("GET", "/health", Ok(Target::Health)),
        ("GET", "/health/south", Ok(Target::HealthRegion(1))),
        ("GET", "/health/e3", Ok(Target::HealthOrigin(2))),
        ("GET", "/health/e3/x", Err(404)),
        ("GET", "/history", Ok(Target::History)),
        ("GET", "/history/e1", Ok(Target::HistoryOf(Named::Origin(0)))),
        ("GET", "/history/west", Ok(Target::HistoryOf(Named::Region(2)))),
        ("GET", "/history/nowhere", Err(404)),
        ("GET", "/", Ok(Target::StatusPage)),
        ("GET", "/livez", Err(404)),
        ("POST", "/ready", Err(405)),
        ("DELETE", "/health/e1", Err(405)),
        ("POST", "/nowhere", Err(404)),
        ("OPTIONS", "/health", Err(204)),
        ("GET", "/live", Err(200)),
        ("GET", "/refresh", Err(405)),
        ("HEAD", "/live", Err(200)),
        ("HEAD", "/refresh", Err(405)),
        ("HEAD", "/nowhere", Err(404)),
        ("OPTIONS", "/refresh", Err(204)),
    ];
    for &(method, path, expected) in rows {
        let got = match dispatch(&c, Incoming::new(method, path)) {
            Dispatch::Snapshot { target, head, .. } => {
                assert_eq!(head, method == "HEAD", "{method} {path}");
                Ok(target)
            }
            Dispatch::Refresh
            | Dispatch::Detail { .. }
            | Dispatch::Drain { .. }
            | Dispatch::Maintenance { .. }
            | Dispatch::ListDrains { .. }
            | Dispatch::ListMaintenance { .. }
            | Dispatch::Ping(_) => {
                panic!("only POST /refresh refreshes")
            }
            Dispatch::Answer(reply) => {
                if reply.status != 204 {
                    assert_eq!(header(&reply, "content-type"), Some("application/json"), "{method} {path}");
                    assert_eq!(reply.body.is_none(), method == "HEAD", "{method} {path}: HEAD has no body");
                }
                if reply.status == 405 || reply.status == 204 {
                    let allow = if path == "/refresh" { "POST, OPTIONS" } else { "GET, HEAD, OPTIONS" };
                    assert_eq!(header(&reply, "allow"), Some(allow), "{method} {path}");
                }
                if method == "HEAD" {
                    assert!(header(&reply, "content-length").is_some_and(|n| n != "0"), "HEAD has GET's length");
                }
                assert_eq!(header(&reply, "cache-control"), Some("no-store"));
                Err(reply.status)
            }
        };
        assert_eq!(got, expected, "{method} {path}");
    }
    assert_eq!(dispatch(&c, Incoming::new("POST", "/refresh")), Dispatch::Refresh);
    let Dispatch::Answer(live) = dispatch(&c, Incoming::new("GET", "/live")) else { panic!("/live answers directly") };
    assert_eq!(live.body.as_deref(), Some(r#"{"status":"live"}"#));
    let Dispatch::Answer(missing) = dispatch(&c, Incoming::new("GET", "/nope")) else { panic!() };
    let doc: serde_json::Value = serde_json::from_str(missing.body.as_deref().unwrap()).unwrap();
    assert_eq!(doc["error"], "not_found");
}

#[test]
fn every_head_answered_at_once_has_its_length_and_no_body() {
    // Whatever the path (the admin, ping and refresh routes too), a HEAD
    // answered by routing alone is GET's answer without its body: the same
    // status and headers, and the Content-Length of the body it drops.
    let c = valid(FLEET);
    for path in
        ["/refresh", "/admin/drain/west", "/admin/maintenance/x", "/ping/nobody", "/ping/a/b/c/d", "/nowhere", "/live"]
    {
        let (Dispatch::Answer(head), Dispatch::Answer(get)) =
            (dispatch(&c, Incoming::new("HEAD", path)), dispatch(&c, Incoming::new("GET", path)))
        else {
            panic!("{path}: answered by routing")
        };
        assert_eq!((head.status, head.body.as_deref()), (get.status, None), "HEAD {path}");
        let length: usize = header(&head, "content-length").unwrap_or_else(|| panic!("HEAD {path}")).parse().unwrap();
        // A 405 names the method: "HEAD" is one letter longer than "GET".
        let get_length = get.body.as_deref().unwrap().len();
        assert_eq!(length, get_length + usize::from(head.status == 405), "HEAD {path}");
        let names = |r: &edgecheck_core::http::Reply| {
            r.headers.iter().map(|(n, _)| n.clone()).filter(|n| n != "content-length").collect::<Vec<_>>()
        };
        assert_eq!(names(&head), names(&get), "HEAD {path}: GET's headers");
        for (name, value) in get.headers.iter() {
            assert_eq!(header(&head, name), Some(value.as_str()), "HEAD {path}: {name}");
        }
    }
}

#[test]
fn an_operator_body_is_utf8_and_arrives_in_time() {
    use edgecheck_core::http;
    let body = |reply: &http::Reply| serde_json::from_str::<serde_json::Value>(reply.body.as_deref().unwrap()).unwrap();
    // A kept body (a drain's, a maintenance window's) that is not UTF-8: the
    // JSON 400 naming `body`, never a reason of replacement characters.
    let latin1 = b"{\"reason\": \"caf\xe9 break\"}".to_vec();
    let refused = http::body_text(latin1).unwrap_err();
    assert_eq!(
        (refused.status, body(&refused)),
        (
            400,
            serde_json::json!({"error": "bad_request", "message": "body: not UTF-8 (an invalid byte at offset 15); send JSON in UTF-8"})
        )
    );
    assert_eq!(header(&refused, "cache-control"), Some("no-store"));
    for bytes in [&b"\xff\xfe"[..], b"{\"reason\": \"x\xc3\"}", b"\xed\xa0\x80"] {
        assert_eq!(http::body_text(bytes.to_vec()).map_err(|r| r.status), Err(400), "{bytes:?}");
    }
    // UTF-8 (any of it) is the text itself, for the core to read as JSON.
    let utf8 = "{\"reason\": \"café 🛠\"}";
    assert_eq!(http::body_text(utf8.as_bytes().to_vec()).as_deref(), Ok(utf8));
    assert_eq!(http::body_text(Vec::new()).as_deref(), Ok(""), "no body: the core's 400 of a missing field");
    let c = valid(FLEET);
    let west = c.find("west").unwrap();
    assert_eq!(http::drain_call(&c, west, false, "", 0).map_err(|r| r.status), Err(400));

    // A body not whole within OPERATOR_BODY_TIMEOUT_MS (10 s): the one JSON
    // 408 of every operator request; nothing was changed.
    assert_eq!(http::OPERATOR_BODY_TIMEOUT_MS, 10_000);
    let timed_out = http::body_timed_out();
    assert_eq!(
        (timed_out.status, body(&timed_out)),
        (
            408,
            serde_json::json!({"error": "request_timeout", "message": "body: not received whole within 10000 ms; nothing was changed"})
        )
    );
    assert_eq!(header(&timed_out, "cache-control"), Some("no-store"));
    assert_eq!(header(&timed_out, "content-type"), Some("application/json"));
}

#[test]
fn answers_carry_the_view_and_never_an_address() {
    let c = valid(FLEET);
    let at = 1_795_000_000_123;
    let state = advance(&c, None, &round(at, "uuxuuud"), true).state;
    let snap = Snapshot { state: &state, now_ms: at + 4_900 };
    let json = |target| {
        let uptimes = Uptimes::new();
        let extras = Extras { uptimes: Some(&uptimes), ..Extras::default() };
        let reply = edgecheck_core::http::answer(&c, target, Variant::Full, &shown(&c, snap), extras);
        assert_eq!(header(&reply, "access-control-allow-origin"), Some("*"));
        assert_eq!(header(&reply, "cache-control"), Some("public, max-age=15"));
        assert_eq!(header(&reply, "age"), Some("4"));
        let body = reply.body.unwrap();
        assert!(!body.contains("example.com") && !body.contains("https"), "{body}");
        (reply.status, serde_json::from_str::<serde_json::Value>(&body).unwrap())
    };
    let (status, ready) = json(Target::Ready);
    assert_eq!((status, ready), (503, serde_json::json!({"status": "degraded", "ready": false})));
    let (status, west) = json(Target::ReadyRegion(2));
    assert_eq!((status, west), (200, serde_json::json!({"region": "west", "status": "up", "ready": true})));
    let (status, east) = json(Target::ReadyRegion(0));
    assert_eq!((status, &east["status"]), (503, &serde_json::json!("down")));

    let (status, health) = json(Target::Health);
    assert_eq!(status, 200);
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["checked_at"], "2026-11-18T11:06:40.123Z");
    assert_eq!(health["since"], "2026-11-18T11:06:40.123Z");
    assert_eq!((health["age_s"].as_u64(), health["stale"].as_bool()), (Some(4), Some(false)));
    assert_eq!(
        (health["duration_ms"].as_u64(), health["origin_count"].as_u64(), health["region_count"].as_u64()),
        (Some(42), Some(7), Some(3))
    );
    let east = &health["regions"]["east"];
    assert_eq!(
        (east["status"].as_str(), east["up"].as_u64(), east["total"].as_u64(), east["min_up"].as_u64()),
        (Some("down"), Some(2), Some(3), Some(2))
    );
    let no_uptime = serde_json::json!({"1h": null, "24h": null, "7d": null, "30d": null});
    assert_eq!(
        east["origins"][2],
        serde_json::json!({"name": "e3", "status": "down", "since": "2026-11-18T11:06:40.123Z", "probe_status": "down", "reason": "status_mismatch", "http_status": 503, "latency_ms": 1, "critical": true, "uptime": no_uptime, "ready": false,
            "stale": false, "vantages": {"default": {"status": "down", "reason": "status_mismatch", "http_status": 503, "latency_ms": 1}}})
    );
    assert_eq!(health["vantages"], serde_json::json!({"default": {"state": "reporting", "age_s": 4}}));

    let (_, origin) = json(Target::HealthOrigin(6));
    assert_eq!(
        (origin["name"].as_str(), origin["region"].as_str(), origin["status"].as_str()),
        (Some("s1"), Some("south"), Some("degraded"))
    );
    let (_, region) = json(Target::HealthRegion(1));
    assert_eq!(
        (region["region"].as_str(), region["status"].as_str(), region["origins"].as_array().map(Vec::len)),
        (Some("south"), Some("degraded"), Some(1))
    );
    let (status, history) = json(Target::History);
    assert_eq!((status, history), (200, serde_json::json!({"changes": []})));

    use edgecheck_core::http::freshness_headers;
    assert_eq!(
        freshness_headers(at, 15, at + 61_000),
        [("cache-control", "public, max-age=15".to_string()), ("age", "61".to_string())]
    );

    let unavailable = edgecheck_core::http::monitor_unavailable();
    assert_eq!((unavailable.status, header(&unavailable, "cache-control")), (503, Some("no-store")));
}

#[test]
fn the_admin_refresh_needs_the_token() {
    use edgecheck_core::http::authorize;
    let rows: &[(Option<&str>, Option<&str>, Option<u16>)] = &[
        (Some("Bearer s3cret"), Some("s3cret"), None),
        (Some("bearer s3cret"), Some("s3cret"), None),
        (Some("BEARER  s3cret"), Some("s3cret"), None),
        (Some("Bearerx s3cret"), Some("s3cret"), Some(401)),
        (Some("Basic s3cret"), Some("s3cret"), Some(401)),
        (Some("Bearer s3cre"), Some("s3cret"), Some(401)),
        (Some("Bearer s3cret!"), Some("s3cret"), Some(401)),
        (Some("s3cret"), Some("s3cret"), Some(401)),
        (None, Some("s3cret"), Some(401)),
        (Some("Bearer "), Some(""), Some(403)),
        (Some("Bearer x"), None, Some(403)),
    ];
    for &(given, token, expected) in rows {
        assert_eq!(authorize(given, token).err().map(|r| r.status), expected, "{given:?} against {token:?}");
    }
}
