//! Classification: the rule table of `classify`, failures, interim answers, body reading.

use super::*;

/// The rule table of `classify`, row by row: (format toml, status, content type,
/// body, expected health, expected reason).
#[test]
fn classification_by_status_and_body() {
    use Health::*;
    use Reason::*;
    let json = Some("application/json");
    let text = Some("text/plain");
    type Row = (&'static str, u16, Option<&'static str>, &'static str, Health, Reason);
    let rows: &[Row] = &[
        // Hassette
        ("", 200, json, r#"{"status":"ok","ready":true}"#, Up, Ok),
        ("", 200, json, r#"{"status":"live"}"#, Up, Ok),
        ("", 200, json, r#"{"ready":true}"#, Up, Ok),
        ("", 200, json, r#"{"status":"degraded","ready":true}"#, Degraded, BodyDegraded),
        ("", 503, json, r#"{"status":"starting","ready":false}"#, Degraded, BodyDegraded),
        ("", 200, json, r#"{"status":"ok","ready":false}"#, Degraded, BodyDegraded),
        ("", 503, json, r#"{"status":"ok","ready":true}"#, Down, StatusMismatch),
        // Hatch
        ("", 200, json, r#"{"status":"ok","vm_count":15,"route_count":23}"#, Up, Ok),
        // Smallest AI
        ("", 200, json, r#"{"status":"healthy"}"#, Up, Ok),
        (
            "",
            200,
            json,
            r#"{"status":"healthy","components":{"a":{"status":"healthy"},"b":{"status":"unhealthy"}}}"#,
            Degraded,
            BodyDegraded,
        ),
        ("", 503, json, r#"{"status":"unhealthy","reason":"model not loaded"}"#, Down, BodyDown),
        // Python /_system/check
        ("", 200, json, r#"{"code":"OK","ok":true}"#, Up, Ok),
        ("", 200, json, r#"{"code":"WARNING","error":true}"#, Degraded, BodyDegraded),
        ("", 500, json, r#"{"code":"ERROR","error":true}"#, Down, BodyDown),
        ("", 200, json, r#"{"ok":false}"#, Down, BodyDown),
        // IETF health+json
        ("", 200, Some("application/health+json"), r#"{"status":"pass"}"#, Up, Ok),
        ("", 200, Some("application/health+json"), r#"{"status":"up"}"#, Up, Ok),
        ("", 200, Some("application/health+json"), r#"{"status":"warn"}"#, Degraded, BodyDegraded),
        (
            "",
            200,
            Some("application/health+json"),
            r#"{"status":"pass","checks":{"db:responseTime":[{"status":"warn"}]}}"#,
            Degraded,
            BodyDegraded,
        ),
        ("", 503, Some("application/health+json"), r#"{"status":"fail"}"#, Down, BodyDown),
        ("", 200, Some("application/health+json"), r#"{"status":"error"}"#, Down, BodyDown),
        // Spring Boot / MicroProfile
        ("", 200, json, r#"{"status":"UP","components":{"db":{"status":"UP"}}}"#, Up, Ok),
        ("", 200, json, r#"{"status":"UP","components":{"db":{"status":"DOWN"}}}"#, Degraded, BodyDegraded),
        ("", 200, json, r#"{"status":"DOWN"}"#, Down, BodyDown),
        ("", 503, json, r#"{"status":"OUT_OF_SERVICE"}"#, Down, BodyDown),
        ("", 200, json, r#"{"status":"UNKNOWN"}"#, Up, Ok),
        ("", 503, json, r#"{"status":"UNKNOWN"}"#, Down, StatusMismatch),
        // Elasticsearch
        ("", 200, json, r#"{"cluster_name":"c","status":"green"}"#, Up, Ok),
        ("", 200, json, r#"{"cluster_name":"c","status":"yellow"}"#, Degraded, BodyDegraded),
        ("", 200, json, r#"{"cluster_name":"c","status":"red"}"#, Down, BodyDown),
        // ASP.NET Core
        ("", 200, text, "Healthy", Up, Ok),
        ("", 200, text, "Degraded", Degraded, BodyDegraded),
        ("", 503, text, "Unhealthy", Down, BodyDown),
        ("", 200, json, r#"{"status":"Healthy","entries":{"db":{"status":"Degraded"}}}"#, Degraded, BodyDegraded),
        // NestJS Terminus
        ("", 200, json, r#"{"status":"ok","info":{"db":{"status":"up"}},"error":{},"details":{}}"#, Up, Ok),
        ("", 503, json, r#"{"status":"error","info":{},"error":{"db":{"status":"down"}}}"#, Down, BodyDown),
        ("", 503, json, r#"{"status":"shutting_down"}"#, Down, BodyDown),
        // Anything else: the status code decides.
        ("", 200, text, "OK", Up, Ok),
        ("", 204, None, "", Up, Ok),
        ("", 200, json, r#"{"version":"1.2.3"}"#, Up, Ok),
        ("", 200, json, r#"[1,2]"#, Up, Ok),
        ("", 503, text, "Service Unavailable", Down, StatusMismatch),
        ("", 302, text, "", Down, StatusMismatch),
        ("expect_status = [\"2xx\", \"3xx\"]", 302, text, "", Up, Ok),
        ("expect_status = [\"429\"]", 429, json, r#"{"status":"ok"}"#, Up, Ok),
        // Invalid bodies.
        ("", 200, json, r#"{"status": "UP", "comp"#, Down, BodyInvalid),
        ("", 200, text, r#"{"status": "UP""#, Down, BodyInvalid),
        ("", 500, json, "<html>oops</html>", Down, StatusMismatch),
        // Bodies ignored: format = "status_code", and HEAD.
        ("format = \"status_code\"", 200, json, r#"{"status":"DOWN"}"#, Up, Ok),
        ("format = \"status_code\"", 503, json, r#"{"status":"degraded"}"#, Down, StatusMismatch),
        ("method = \"HEAD\"", 200, json, r#"{"status":"DOWN"}"#, Up, Ok),
    ];
    for &(extra, status, content_type, body, health, reason) in rows {
        let c = valid(&format!("{BASE}{extra}\n"));
        let outcome = Outcome::Answered {
            status,
            content_type: content_type.map(String::from),
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
        };
        let got = classify(&c.origins()[0], &outcome);
        assert_eq!(
            (got.health, got.reason, got.http_status),
            (health, reason, Some(status)),
            "{status} {content_type:?} {body:?} with {extra:?}"
        );
    }
}

#[test]
fn classification_of_failures() {
    let c = valid(BASE);
    let rows = [
        (Outcome::ConnectError, Reason::ConnectError, None),
        (Outcome::Timeout { status: None }, Reason::Timeout, None),
        (Outcome::Timeout { status: Some(200) }, Reason::Timeout, Some(200)),
        (Outcome::Skipped, Reason::Skipped, None),
        (Outcome::SecretMissing, Reason::SecretMissing, None),
        (Outcome::RequestInvalid, Reason::RequestInvalid, None),
        (Outcome::BodyTooLarge { status: 200 }, Reason::BodyTooLarge, Some(200)),
    ];
    for (outcome, reason, http_status) in rows {
        assert_eq!(
            classify(&c.origins()[0], &outcome),
            Verdict { health: Health::Down, reason, http_status, condition: None },
            "{outcome:?}"
        );
    }
}

/// workerd hands back an interim 1xx as the response and the final answer,
/// raw, as its body: the final answer decides.
#[test]
fn interim_answers_are_looked_past() {
    let c = valid(BASE);
    let judge = |status: u16, body: &[u8]| {
        let outcome = Outcome::Answered { status, content_type: None, headers: Vec::new(), body: body.to_vec() };
        let v = classify(&c.origins()[0], &outcome);
        (v.health, v.reason, v.http_status)
    };
    let up = br#"{"status":"UP"}"#;
    let final_200 =
        [&b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"[..], up].concat();
    type Row = (u16, Vec<u8>, (Health, Reason, Option<u16>));
    let rows: Vec<Row> = vec![
        (103, final_200.clone(), (Health::Up, Reason::Ok, Some(200))),
        (100, [&b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"[..], &final_200].concat(), (Health::Up, Reason::Ok, Some(200))),
        (
            103,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"statu\r\n8\r\ns\":\"DOWN\r\n2\r\n\"}\r\n0\r\n\r\n".to_vec(),
            (Health::Down, Reason::BodyDown, Some(200)),
        ),
        (103, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec(), (Health::Down, Reason::StatusMismatch, Some(503))),
        (103, [&b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"[..], b"Healthy and more"].concat(), (Health::Up, Reason::Ok, Some(200))),
        // No complete final head: the 1xx is judged as it is.
        (103, b"HTTP/1.1 200 OK\r\nContent-Le".to_vec(), (Health::Down, Reason::StatusMismatch, Some(103))),
        (103, Vec::new(), (Health::Down, Reason::StatusMismatch, Some(103))),
        (103, b"garbage".to_vec(), (Health::Down, Reason::StatusMismatch, Some(103))),
        // 101 is final, and so is a status outside 1xx.
        (101, final_200.clone(), (Health::Down, Reason::StatusMismatch, Some(101))),
        (99, final_200.clone(), (Health::Down, Reason::StatusMismatch, Some(99))),
    ];
    for (status, body, expected) in rows {
        assert_eq!(judge(status, &body), expected, "{status} {:?}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn body_reading_edge_cases() {
    let rows: &[(Option<&str>, &[u8], BodyHealth)] = &[
        (Some("application/json; charset=utf-8"), br#"{"status":"UP"}"#, BodyHealth::Up),
        (Some("application/json"), b"\xef\xbb\xbf{\"status\":\"UP\"}", BodyHealth::Up),
        (None, b"\xef\xbb\xbf{\"status\":\"DOWN\"}", BodyHealth::Down),
        (Some("APPLICATION/HEALTH+JSON"), br#"{"status":"Pass"}"#, BodyHealth::Up),
        (Some("application/json"), b"", BodyHealth::Unrecognised),
        (Some("application/json"), b"\xff\xfe", BodyHealth::Invalid),
        (Some("text/plain"), b"\xff\xfe", BodyHealth::Unrecognised),
        (None, b"  unhealthy \n", BodyHealth::Down),
        (None, b"down", BodyHealth::Unrecognised),
        (None, br#"{"status":{"nested":true}}"#, BodyHealth::Unrecognised),
        (None, br#"{"status":"UP","components":{"ping":"DOWN"}}"#, BodyHealth::Degraded),
        (None, br#"{"status":"UP","details":{"db":{"status":"UP"}}}"#, BodyHealth::Up),
    ];
    for &(content_type, body, expected) in rows {
        assert_eq!(read_body(content_type, body), expected, "{content_type:?} {:?}", String::from_utf8_lossy(body));
    }
}

/// Rule 11, a table of latencies against thresholds at every level of the
/// config ([`LEVELS`]: the origin's own, its region's, the settings', none):
/// below, exactly at (still up) and just over (degraded, `slow`, the status
/// code kept); unhealthy answers keep their own verdict however slow; a body
/// that says degraded keeps `body_degraded`; nothing is judged slow without
/// a latency. `classify` alone never applies the rule.
#[test]
fn slow_answers_are_degraded_by_the_most_specific_threshold() {
    use Health::*;
    use Reason::*;
    let c = valid(LEVELS);
    let bare = valid(BASE);
    let answer = |status: u16, body: &str| Outcome::Answered {
        status,
        content_type: Some("application/json".into()),
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    };
    let ok = answer(200, r#"{"status":"UP"}"#);
    type Row = (&'static str, Outcome, Option<u64>, Health, Reason, Option<u16>);
    let rows: Vec<Row> = vec![
        // The origin's own threshold (100 ms), under a region's of 300.
        ("own", ok.clone(), Some(99), Up, Ok, Some(200)),
        ("own", ok.clone(), Some(100), Up, Ok, Some(200)),
        ("own", ok.clone(), Some(101), Degraded, Slow, Some(200)),
        // The origin's own (500 ms) wins over its region's smaller one.
        ("roomy", ok.clone(), Some(301), Up, Ok, Some(200)),
        ("roomy", ok.clone(), Some(500), Up, Ok, Some(200)),
        ("roomy", ok.clone(), Some(501), Degraded, Slow, Some(200)),
        // The region's (300 ms) wins over the settings'.
        ("regional", ok.clone(), Some(300), Up, Ok, Some(200)),
        ("regional", ok.clone(), Some(301), Degraded, Slow, Some(200)),
        // The settings' (1000 ms), in a region without its own.
        ("settled", ok.clone(), Some(1000), Up, Ok, Some(200)),
        ("settled", ok.clone(), Some(1001), Degraded, Slow, Some(200)),
        // The origin's own (1500 ms) wins over the settings' smaller one.
        ("wide", ok.clone(), Some(1001), Up, Ok, Some(200)),
        ("wide", ok.clone(), Some(1500), Up, Ok, Some(200)),
        ("wide", ok.clone(), Some(1501), Degraded, Slow, Some(200)),
        // A HEAD origin, judged by status code alone, is judged slow too.
        ("head", answer(204, ""), Some(1001), Degraded, Slow, Some(204)),
        // Unhealthy answers stay what they are, however slow.
        ("own", answer(503, ""), Some(1900), Down, StatusMismatch, Some(503)),
        ("own", answer(200, r#"{"status":"DOWN"}"#), Some(1900), Down, BodyDown, Some(200)),
        ("own", answer(200, r#"{"status":"UP""#), Some(1900), Down, BodyInvalid, Some(200)),
        ("own", Outcome::BodyTooLarge { status: 200 }, Some(1900), Down, BodyTooLarge, Some(200)),
        ("own", Outcome::Timeout { status: Some(200) }, Some(2000), Down, Timeout, Some(200)),
        ("own", Outcome::ConnectError, Some(1900), Down, ConnectError, None),
        // Already degraded by its body: the body's reason stands.
        ("own", answer(200, r#"{"status":"WARN"}"#), Some(1900), Degraded, BodyDegraded, Some(200)),
        // Nothing sent, no latency: nothing to judge.
        ("own", ok.clone(), None, Up, Ok, Some(200)),
        ("own", Outcome::Skipped, None, Down, Skipped, None),
    ];
    for (name, outcome, latency_ms, health, reason, http_status) in rows {
        let origin = named(&c, name);
        let got = judge(origin, &outcome, latency_ms);
        assert_eq!(got, Verdict::new(health, reason, http_status), "{name} {outcome:?} in {latency_ms:?} ms");
        let probe = Probe::judged(origin, &outcome, latency_ms);
        assert_eq!((probe.verdict, probe.latency_ms), (got, latency_ms), "{name}");
        // classify is every rule but this one: never slow.
        assert_ne!(classify(origin, &outcome).reason, Slow, "{name}");
    }
    // Without a threshold at any level, no latency is slow.
    let a = &bare.origins()[0];
    for ms in [0, 1, 1999, 2000, u64::MAX] {
        assert_eq!(judge(a, &ok, Some(ms)), Verdict::new(Up, Ok, Some(200)), "{ms}");
    }
}
