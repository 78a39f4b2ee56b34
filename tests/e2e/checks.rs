//! The checks people write themselves: conditions on an answer, and TCP
//! checks against raw peers on loopback.

use super::*;

/// One origin `api` whose JSON is none of the known formats, with a
/// condition on `$.db`; rise = fall = 1.
pub(crate) fn condition_config(fleet: &Fleet) -> String {
    format!(
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 1\nfall = 1\n\
         [regions.main]\n[[origins]]\nname = \"api\"\nregion = \"main\"\nurl = \"{}\"\n\
         [[origins.conditions]]\nname = \"database\"\njson = \"$.db\"\nop = \"==\"\nvalue = \"up\"\n",
        fleet.url("api", "/health")
    )
}

pub(crate) fn a_failed_condition_is_down_and_named(p: &Prepared) {
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    let up = worker.until("/health/api", 60, |o| o["status"] == "up");
    assert_eq!((up["reason"].as_str(), up.get("condition")), (Some("ok"), None), "{up}");

    // 200 {"db":"down"}: no known format says down, the condition does.
    fleet.set("api", "db-down");
    let down = worker.until("/health/api", 30, |o| o["status"] == "down");
    assert_eq!(
        (&down["reason"], &down["condition"], &down["http_status"]),
        (&json!("assertion_failed"), &json!("database"), &json!(200)),
        "{down}"
    );
    assert_schema("health-origin.schema.json", &down, "/health/api with a failed condition");
    let (status, ready) = worker.get("/ready/main");
    assert_eq!((status, ready), (503, json!({"region": "main", "status": "down", "ready": false})));
    let (status, health) = worker.get("/health");
    assert_eq!(status, 200, "{health}");
    let api = &health["regions"]["main"]["origins"][0];
    assert_eq!(
        (&api["name"], &api["reason"], &api["condition"]),
        (&json!("api"), &json!("assertion_failed"), &json!("database")),
        "{health}"
    );
    // The public view never shows what the body said; the admin's full view does.
    assert!(!health.to_string().contains("\"down\\\""), "body content in /health: {health}");
    let (_, page) = request("GET", &worker.url("/"));
    assert!(page.contains("assertion_failed: database"), "the page names the condition");
    let full = worker.full();
    assert_eq!(full["probes"]["api"]["assertion"], json!({"condition": "database", "seen": "\"down\""}), "{full}");
    assert_schema("health-full.schema.json", &full, "/health?view=full with a failed condition");
    let (_, history) = worker.get("/history");
    assert!(
        history["changes"].as_array().unwrap().iter().any(|c| c["name"] == "api" && c["reason"] == "assertion_failed"),
        "{history}"
    );

    fleet.set("api", "db-up");
    let back = worker.until("/health/api", 30, |o| o["status"] == "up");
    assert_eq!((back["reason"].as_str(), back.get("condition")), (Some("ok"), None), "{back}");
    assert_eq!(worker.get("/ready/main").0, 200);
}

/// Raw TCP peers for the TCP checks: a Redis-like one, an SSH-like one.
pub(crate) fn tcp_fleet() -> Vec<(String, String)> {
    pairs(&[("redis", "redis"), ("ssh", "ssh-banner")])
}

/// `cache` sends Redis's `PING` and expects `+PONG`; `bastion` expects an SSH
/// banner; `secure` wants TLS from the SSH peer, which speaks none.
/// rise = fall = 1, a probe timeout of 800 ms.
pub(crate) fn tcp_config(fleet: &Fleet) -> String {
    let (redis, ssh) = (fleet.ports["redis"], fleet.ports["ssh"]);
    format!(
        "[settings]\nprobe_timeout_ms = 800\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 1\nfall = 1\n\
         [regions.main]\n[regions.edge]\n\
         [[origins]]\nname = \"cache\"\nregion = \"main\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{redis}\"\n\
         send = \"PING\\r\\n\"\nexpect_reply = \"+PONG\"\n\
         [[origins]]\nname = \"bastion\"\nregion = \"edge\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{ssh}\"\n\
         expect_reply = \"SSH-2.0-\"\n\
         [[origins]]\nname = \"secure\"\nregion = \"edge\"\nkind = \"tcp\"\ntarget = \"127.0.0.1:{ssh}\"\ntls = true\n\
         expect_reply = \"SSH-2.0-\"\n"
    )
}

pub(crate) fn tcp_checks_follow_their_peer(p: &Prepared) {
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    let cache = worker.until("/health/cache", 60, |o| o["status"] == "up");
    assert_eq!((&cache["reason"], &cache["http_status"]), (&json!("ok"), &Value::Null), "{cache}");
    assert!(cache["latency_ms"].as_u64().is_some(), "the time to +PONG: {cache}");
    assert_schema("health-origin.schema.json", &cache, "/health/cache");
    let bastion = worker.until("/health/bastion", 30, |o| o["status"] == "up");
    assert_eq!(bastion["reason"], "ok", "{bastion}");
    // A peer that speaks no TLS fails the handshake.
    let secure = worker.until("/health/secure", 30, |o| o["status"] == "down");
    let full = worker.full();
    assert_eq!(secure["reason"], "tls_error", "{secure}\nwhat the probe saw: {}", full["probes"]["secure"]);
    assert_eq!(worker.get("/ready/main").0, 200);
    // The peer counted the probes: the check really went there.
    assert!(fleet.hits("redis") >= 1);

    // Each way the peer can fail, each a reason of its own, /ready/main 503.
    for (mode, reason) in [
        ("redis-noauth", "reply_mismatch"),
        ("accept-close", "connection_closed"),
        ("silent", "timeout"),
        ("refuse", "connect_error"),
    ] {
        fleet.set("redis", mode);
        let down = worker.until("/health/cache", 30, |o| o["status"] == "down" && o["reason"] == reason);
        assert_eq!(down["http_status"], Value::Null, "{mode}: {down}");
        assert_schema("health-origin.schema.json", &down, &format!("/health/cache, {mode}"));
        let (status, ready) = worker.get("/ready/main");
        assert_eq!((status, ready), (503, json!({"region": "main", "status": "down", "ready": false})), "{mode}");
        if reason == "timeout" {
            let latency = down["latency_ms"].as_u64().unwrap();
            // The peer would hold the connection 10 s: the probe's timeout (800 ms) cuts it; the
            // rest of the margin is a loaded machine's timers.
            assert!((800..2_000).contains(&latency), "a silent peer costs one probe timeout: {latency} ms");
        }
    }

    fleet.set("redis", "redis");
    let back = worker.until("/health/cache", 30, |o| o["status"] == "up");
    assert_eq!(back["reason"], "ok", "{back}");
    assert_eq!(worker.get("/ready/main").0, 200);
    // No public document names where a check connects.
    let (_, health) = worker.get("/health");
    assert!(!health.to_string().contains("127.0.0.1"), "an address in /health: {health}");
    // /history records changes of status: cache's first fall, and secure's.
    let (_, history) = worker.get("/history");
    let fell = |name: &str, reason: &str| {
        history["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == name && c["to"] == "down" && c["reason"] == reason)
    };
    assert!(fell("cache", "reply_mismatch") && fell("secure", "tls_error"), "{history}");
    // The peer that speaks no TLS never passed the TLS check.
    assert!(!history.to_string().contains(r#""name":"secure","reason":"ok""#), "{history}");
}
