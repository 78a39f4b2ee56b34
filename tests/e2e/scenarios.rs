//! Every format and every fault: one origin per region, each classified and served.

use super::*;

/// (origin name, demo mode, extra origin keys, expected status, reason, http_status).
pub(crate) type Scenario = (&'static str, &'static str, &'static str, &'static str, &'static str, Option<u16>);

/// Each origin sits alone in region `r-<name>`.
pub(crate) const SCENARIOS: &[Scenario] = &[
    ("healthy", "spring", "rise = 1\nfall = 1\nheaders = { X-Probe = \"hv-e2e-7f3a\" }", "up", "ok", Some(200)),
    ("unavailable", "503", "", "down", "status_mismatch", Some(503)),
    ("refused", "refuse", "", "down", "connect_error", None),
    ("hanging", "hang", "", "down", "timeout", None),
    ("dripping", "drip", "", "down", "timeout", Some(200)),
    ("flooding", "flood", "", "down", "body_too_large", Some(200)),
    ("invalid", "invalid-json", "", "down", "body_invalid", Some(200)),
    ("redirecting", "redirect", "", "down", "status_mismatch", Some(302)),
    ("redirect-ok", "redirect", "expect_status = [\"2xx\", \"302\"]", "up", "ok", Some(302)),
    ("head-probe", "spring-down-200", "method = \"HEAD\"", "up", "ok", Some(200)),
    ("token", "require-token", "headers = { Authorization = { secret = \"E2E_TOKEN\" } }", "up", "ok", Some(200)),
    (
        "token-unset",
        "require-token",
        "headers = { Authorization = { secret = \"NOT_SET\" } }",
        "down",
        "secret_missing",
        None,
    ),
    ("hassette", "hassette", "", "up", "ok", Some(200)),
    ("hassette-live", "hassette-live", "", "up", "ok", Some(200)),
    ("hassette-starting", "hassette-starting", "", "degraded", "body_degraded", Some(503)),
    ("hatch", "hatch", "", "up", "ok", Some(200)),
    ("smallest", "smallest", "", "up", "ok", Some(200)),
    ("smallest-component", "smallest-component", "", "degraded", "body_degraded", Some(200)),
    ("smallest-unhealthy", "smallest-unhealthy", "", "down", "body_down", Some(503)),
    ("system-check", "system-check", "", "up", "ok", Some(200)),
    ("system-check-warning", "system-check-warning", "", "degraded", "body_degraded", Some(200)),
    ("system-check-error", "system-check-error", "", "down", "body_down", Some(500)),
    ("health-json", "health-json", "", "up", "ok", Some(200)),
    ("health-json-warn", "health-json-warn", "", "degraded", "body_degraded", Some(200)),
    ("health-json-fail", "health-json-fail", "", "down", "body_down", Some(503)),
    ("spring-down", "spring-down", "", "down", "body_down", Some(503)),
    ("spring-down-200", "spring-down-200", "", "down", "body_down", Some(200)),
    ("spring-out-of-service", "spring-out-of-service", "", "down", "body_down", Some(503)),
    ("elasticsearch", "elasticsearch", "", "up", "ok", Some(200)),
    ("elasticsearch-yellow", "elasticsearch-yellow", "", "degraded", "body_degraded", Some(200)),
    ("elasticsearch-red", "elasticsearch-red", "", "down", "body_down", Some(200)),
    ("aspnet", "aspnet", "", "up", "ok", Some(200)),
    ("aspnet-degraded", "aspnet-degraded", "", "degraded", "body_degraded", Some(200)),
    ("aspnet-unhealthy", "aspnet-unhealthy", "", "down", "body_down", Some(503)),
    ("terminus", "terminus", "", "up", "ok", Some(200)),
    ("terminus-error", "terminus-error", "", "down", "body_down", Some(503)),
    ("terminus-shutting-down", "terminus-shutting-down", "", "down", "body_down", Some(503)),
    ("degraded-503", "503-degraded", "", "degraded", "body_degraded", Some(503)),
    ("plain", "plain", "", "up", "ok", Some(200)),
    ("bom", "spring-bom", "", "up", "ok", Some(200)),
    ("resetting", "reset-mid-body", "", "down", "connect_error", None),
    ("flooding-50mb", "flood-50mb", "", "down", "body_too_large", Some(200)),
    ("gzip-bomb", "gzip-bomb", "", "down", "body_too_large", Some(200)),
    ("status-99", "status-99", "", "down", "status_mismatch", Some(99)),
    ("status-600", "status-600", "", "down", "status_mismatch", Some(600)),
    ("early-hints", "early-hints", "", "up", "ok", Some(200)),
    ("redirect-metadata", "redirect-metadata", "", "down", "status_mismatch", Some(302)),
    // Set to redirect to REDIRECT_TARGET (not in the config) when the test starts.
    ("redirect-loopback", "redirect", "", "down", "status_mismatch", Some(302)),
    ("duplicate-keys", "duplicate-keys", "", "down", "body_down", Some(200)),
    ("deep-json", "deep-json", "", "down", "body_invalid", Some(200)),
    ("bad-header", "plain", "headers = { X-Probe = { secret = \"E2E_BAD_HEADER\" } }", "down", "request_invalid", None),
];

pub(crate) const SCENARIO_TIMEOUT_MS: u64 = 1000;

/// A demo origin outside the config: `redirect-loopback` points its `Location`
/// here, and its hit counter shows whether the redirect was followed.
pub(crate) const REDIRECT_TARGET: &str = "redirect-target";

/// Each scenario origin's URL: a path and a query value that no public
/// document may show.
pub(crate) fn scenario_url(fleet: &Fleet, name: &str) -> String {
    fleet.url(name, &format!("/hc/{name}?probe_key=qv-{name}"))
}

pub(crate) fn scenario_config(fleet: &Fleet) -> String {
    let mut toml = format!(
        "[settings]\nprobe_timeout_ms = {SCENARIO_TIMEOUT_MS}\ndeadline_ms = 3000\nrefresh_s = 4\nmax_in_flight = 6\nmax_body_bytes = 65536\nmin_regions_up = 1\n"
    );
    for (name, ..) in SCENARIOS {
        toml += &format!("[regions.r-{name}]\n");
    }
    for (name, _, extra, ..) in SCENARIOS {
        toml += &format!(
            "[[origins]]\nname = \"{name}\"\nregion = \"r-{name}\"\nurl = \"{}\"\n{extra}\n",
            scenario_url(fleet, name)
        );
    }
    toml
}

pub(crate) fn scenario_fleet() -> Vec<(String, String)> {
    let mut specs = scenario_origins();
    specs.push((REDIRECT_TARGET.to_string(), "spring".to_string()));
    specs
}

pub(crate) fn scenario_origins() -> Vec<(String, String)> {
    SCENARIOS.iter().map(|(name, mode, ..)| (name.to_string(), mode.to_string())).collect()
}

pub(crate) fn every_format_and_fault_is_classified_and_served(p: &Prepared) {
    let fleet = &p.fleet;
    fleet.set("redirect-loopback", &format!("redirect-to-{}", fleet.ports[REDIRECT_TARGET]));
    let worker = p.fresh_worker();

    let (status, health) = worker.get("/health");
    assert_eq!(status, 200);
    assert_eq!((health["status"].as_str(), health["ready"].as_bool()), (Some("degraded"), Some(false)), "{health}");
    assert_eq!(health["origin_count"], SCENARIOS.len());
    assert_eq!(health["region_count"], SCENARIOS.len());
    assert!(health["checked_at"].as_str().unwrap().ends_with('Z'));
    let seen = origins(&health);
    let mut wrong = Vec::new();
    for &(name, mode, _, status, reason, http_status) in SCENARIOS {
        let o = &seen[name];
        let got =
            (o["status"].as_str().unwrap(), o["reason"].as_str().unwrap(), o["http_status"].as_u64().map(|c| c as u16));
        if got != (status, reason, http_status) {
            wrong.push(format!("{name} ({mode}): expected {:?}, got {got:?}", (status, reason, http_status)));
        }
    }
    if !wrong.is_empty() {
        // What the probes saw, from the full view, to tell why.
        let mut full = worker.call_with("GET", "/health?view=full", &[("authorization", &format!("Bearer {ADMIN}"))]);
        let full: Value = serde_json::from_str(&full.body_mut().read_to_string().unwrap()).unwrap_or_default();
        let seen: Vec<String> =
            wrong.iter().map(|w| w.split(' ').next().unwrap()).map(|n| format!("{n}: {}", full["probes"][n])).collect();
        panic!("misclassified:\n{}\nwhat the probes saw:\n{}", wrong.join("\n"), seen.join("\n"));
    }
    // Timeouts fire at the probe timeout: the drip is cut by time, not by the byte cap.
    for name in ["hanging", "dripping"] {
        let latency = seen[name]["latency_ms"].as_u64().unwrap();
        assert!((SCENARIO_TIMEOUT_MS..SCENARIO_TIMEOUT_MS + 500).contains(&latency), "{name}: latency {latency} ms");
    }

    // Redirects are never followed: the loopback target saw no request.
    assert_eq!(fleet.hits(REDIRECT_TARGET), 0, "a redirect was followed");

    // No public document carries a configured host, IP, port, path, query or
    // header value, or a token.
    assert_nothing_configured_is_public(&worker, fleet);

    // The admin token's full view shows what the public view hides, never cached.
    the_full_view_needs_the_token(&worker, fleet);

    // Readiness per region.
    for (region, code, status) in
        [("r-healthy", 200, "up"), ("r-refused", 503, "down"), ("r-smallest-component", 503, "degraded")]
    {
        let (got, doc) = worker.get(&format!("/ready/{region}"));
        assert_eq!(
            (got, doc),
            (code, json!({"region": region, "status": status, "ready": code == 200})),
            "/ready/{region}"
        );
    }
    assert_eq!(worker.get("/ready"), (503, json!({"status": "degraded", "ready": false})));
    assert_eq!(worker.get("/live"), (200, json!({"status": "live"})));

    // Named parts of the view, and 404s.
    let (status, region) = worker.get("/health/r-hassette-starting");
    assert_eq!(
        (status, region["region"].as_str(), region["status"].as_str(), region["total"].as_u64()),
        (200, Some("r-hassette-starting"), Some("degraded"), Some(1))
    );
    let (status, origin) = worker.get("/health/token");
    assert_eq!((status, origin["name"].as_str(), origin["reason"].as_str()), (200, Some("token"), Some("ok")));
    assert_eq!(worker.get("/ready/nowhere").0, 404);
    let (status, missing) = worker.get("/health/nowhere");
    assert_eq!((status, missing["error"].as_str()), (404, Some("not_found")));
    assert_eq!(request("GET", &worker.url("/metrics")).0, 200, "/metrics is served (issue 9)");

    // Methods: HEAD has the status and headers of GET and no body; others get 405.
    let mut head = worker.call("HEAD", "/ready/r-refused");
    assert_eq!(head.status().as_u16(), 503);
    assert_eq!(head.headers()["content-type"], "application/json");
    let get_length = request("GET", &worker.url("/ready/r-refused")).1.len().to_string();
    assert_eq!(head.headers()["content-length"], get_length.as_str(), "HEAD has GET's Content-Length");
    assert_eq!(head.body_mut().read_to_string().unwrap(), "");
    let options = worker.call("OPTIONS", "/refresh");
    assert_eq!((options.status().as_u16(), options.headers()["allow"].to_str().unwrap()), (204, "POST, OPTIONS"));
    let post = worker.call("POST", "/ready");
    assert_eq!((post.status().as_u16(), post.headers()["allow"].to_str().unwrap()), (405, "GET, HEAD, OPTIONS"));
    let get = worker.call("GET", "/health?cache=bust");
    assert_eq!(get.headers()["cache-control"], "public, max-age=4");
    assert!(get.headers()["age"].to_str().unwrap().parse::<u64>().unwrap() <= 8);
    assert_eq!(get.headers()["access-control-allow-origin"], "*");
    assert_eq!(worker.call("GET", "/live").headers()["cache-control"], "no-store");

    // Killing, hanging and restoring an origin changes its region as the rules say
    // (this origin has rise = fall = 1: one round decides).
    fleet.set("healthy", "refuse");
    worker.until("/health/healthy", 20, |o| o["reason"] == "connect_error" && o["status"] == "down");
    assert_eq!(worker.get("/ready/r-healthy"), (503, json!({"region": "r-healthy", "status": "down", "ready": false})));
    fleet.set("healthy", "hang");
    worker.until("/health/healthy", 20, |o| o["reason"] == "timeout");
    fleet.set("healthy", "elasticsearch-yellow");
    worker.until("/ready/r-healthy", 20, |r| r["status"] == "degraded");
    fleet.set("healthy", "spring");
    worker.until("/ready/r-healthy", 20, |r| r["status"] == "up");
    assert_eq!(worker.get("/ready/r-healthy"), (200, json!({"region": "r-healthy", "status": "up", "ready": true})));
    let (_, history) = worker.get("/history/healthy");
    let tos: Vec<&str> = history["changes"].as_array().unwrap().iter().map(|c| c["to"].as_str().unwrap()).collect();
    assert_eq!(tos, ["up", "degraded", "down", "up"], "newest first: {history}");

    // Every spelling of a route is one route: a spelling never asked before
    // (more slashes each time) is rendered from the snapshot the isolate
    // holds, with no I/O, and shows the same round.
    let mut shared = false;
    for k in 1..=40 {
        let first = worker.call("GET", "/health");
        let variant = format!("{}health{}", "/".repeat(k + 1), "/".repeat(k));
        let again = worker.call("GET", &variant);
        assert_eq!(again.status().as_u16(), 200, "{variant}");
        if again.headers()["x-edgecheck-cache"] == "memory"
            && again.headers()["x-edgecheck-checked-at"] == first.headers()["x-edgecheck-checked-at"]
        {
            shared = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(shared, "a new spelling of /health never came from the held snapshot");

    // A not-ready /ready rendered from memory is a 503 with no private header,
    // and a /health says in its body the age its Age header says.
    let mut memory_503 = false;
    let mut same_age = false;
    for _ in 0..40 {
        let ready = worker.call("GET", "/ready");
        if ready.status().as_u16() == 503 && ready.headers()["x-edgecheck-cache"] != "miss" {
            assert!(ready.headers().get("x-edgecheck-status").is_none(), "{:?}", ready.headers());
            memory_503 = true;
        }
        let mut health = worker.call("GET", "/health");
        let age = health.headers()["age"].to_str().unwrap().to_string();
        let doc: Value = serde_json::from_str(&health.body_mut().read_to_string().unwrap()).unwrap();
        // The two are rendered together, at one time.
        assert_eq!(doc["age_s"].to_string(), age, "age_s in the body agrees with Age");
        same_age = true;
        if memory_503 && same_age {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(memory_503 && same_age, "a 503 /ready from memory: {memory_503}; a /health: {same_age}");
}

/// Every public document, fetched in every form, holds no configured host, IP,
/// port, path, query value, header value or token.
pub(crate) fn assert_nothing_configured_is_public(worker: &Worker, fleet: &Fleet) {
    let mut paths: Vec<String> = [
        "/",
        "/live",
        "/ready",
        "/ready?verbose",
        "/health",
        "/health?detailed=false",
        "/health?format=health+json",
        "/history",
        "/metrics",
        "/badge/global.svg",
        "/badge/global.json",
        "/health/nowhere",
        "/health?view=bogus",
    ]
    .map(String::from)
    .into();
    for (name, ..) in SCENARIOS {
        paths.extend([format!("/health/{name}"), format!("/history/{name}"), format!("/badge/{name}.svg")]);
        paths.extend([format!("/ready/r-{name}"), format!("/ready/r-{name}?verbose"), format!("/health/r-{name}")]);
    }
    let mut forbidden: Vec<String> =
        ["127.0.0.1", "localhost", "/hc/", "qv-", "probe_key", "hv-e2e-7f3a", "line one"].map(String::from).into();
    forbidden.extend([SECRET.trim_start_matches("Bearer ").to_string(), ADMIN.to_string()]);
    let ports: Vec<String> = fleet.ports.values().chain([&fleet.control]).map(u16::to_string).collect();
    for path in &paths {
        let (_, body) = request("GET", &worker.url(path));
        for word in &forbidden {
            assert!(!body.contains(word.as_str()), "GET {path} shows {word:?}: {body}");
        }
        for port in &ports {
            // A port as a number of its own, not as digits inside a timestamp.
            let standalone = body.match_indices(port.as_str()).any(|(i, _)| {
                let before = body[..i].chars().next_back();
                let after = body[i + port.len()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
            });
            assert!(!standalone, "GET {path} shows port {port}: {body}");
        }
    }
}

/// `/health?view=full`: 401 without the right token (one answer for every
/// wrong one), and with it the hidden detail, never cached.
pub(crate) fn the_full_view_needs_the_token(worker: &Worker, fleet: &Fleet) {
    let bearer = format!("Bearer {ADMIN}");
    let mut refused = Vec::new();
    for given in [None, Some(""), Some("Bearer "), Some("Bearer wrong"), Some("Basic e2e-admin-token")] {
        let headers: Vec<(&str, &str)> = given.map(|g| ("authorization", g)).into_iter().collect();
        let mut answer = worker.call_with("GET", "/health?view=full", &headers);
        assert_eq!(answer.status().as_u16(), 401, "{given:?}");
        assert_eq!(answer.headers()["www-authenticate"], "Bearer", "{given:?}");
        refused.push(answer.body_mut().read_to_string().unwrap());
    }
    assert!(refused.iter().all(|body| *body == refused[0]), "no hint of which part was wrong: {refused:?}");

    let lowercase = format!("bearer {ADMIN}");
    let mut answer = worker.call_with("GET", "/health?view=full&x=1", &[("authorization", &lowercase)]);
    assert_eq!(answer.status().as_u16(), 200);
    assert_eq!(answer.headers()["cache-control"], "private, no-store");
    assert_eq!(answer.headers()["x-edgecheck-cache"], "miss");
    let full: Value = serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap();
    assert_schema("health-full.schema.json", &full, "/health?view=full");
    assert_eq!(full["origin_count"], SCENARIOS.len(), "the whole /health document is there");
    let probes = &full["probes"];
    let healthy = &probes["healthy"];
    assert_eq!(healthy["url"], format!("http://127.0.0.1:{}/hc/healthy?probe_key=REDACTED", fleet.ports["healthy"]));
    assert_eq!((healthy["region"].as_str(), healthy["probed"].as_bool()), (Some("r-healthy"), Some(true)));
    assert!(healthy["error"].is_null(), "{healthy}");
    assert!(healthy["headers"].as_array().unwrap().iter().any(|h| h[0] == "content-type"), "{healthy}");
    assert!(healthy["body"].as_str().unwrap().starts_with(r#"{"status":"UP""#), "{healthy}");
    assert!(!probes["refused"]["error"].as_str().unwrap_or("").is_empty(), "raw error text: {}", probes["refused"]);
    assert!(probes["hanging"]["error"].as_str().unwrap().contains("within"), "{}", probes["hanging"]);
    let flood = &probes["flooding-50mb"];
    assert!(flood["body"].as_str().unwrap().len() <= 1024 && flood["body_bytes"].as_u64() <= Some(65536), "{flood}");
    let text = full.to_string();
    assert!(!text.contains("qv-") && !text.contains(SECRET), "query values and secrets stay hidden");

    // Never cached: a second answer is made by the monitor again.
    let again = worker.call_with("GET", "/health?view=full", &[("authorization", &bearer)]);
    assert_eq!(again.headers()["x-edgecheck-cache"], "miss");
    let head = worker.call_with("HEAD", "/health?view=full", &[("authorization", &bearer)]);
    assert_eq!((head.status().as_u16(), head.headers()["cache-control"].to_str().unwrap()), (200, "private, no-store"));
}
