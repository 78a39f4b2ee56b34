//! The durable monitor: hysteresis, probe load, fail-static, persistence, redeploys.

use super::*;

pub(crate) fn monitor_config(fleet: &Fleet, names: &[&str], settings: &str) -> String {
    let mut toml =
        format!("[settings]\nprobe_timeout_ms = 500\ndeadline_ms = 1500\nrefresh_s = 2\n{settings}\n[regions.main]\n");
    for name in names {
        toml +=
            &format!("[[origins]]\nname = \"{name}\"\nregion = \"main\"\nurl = \"{}\"\n", fleet.url(name, "/health"));
    }
    toml
}

pub(crate) fn a_flapping_origin_does_not_flip(p: &Prepared) {
    let worker = p.fresh_worker();
    let mut raw = std::collections::BTreeSet::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(14) {
        let (status, origin) = worker.get("/health/flapper");
        assert_eq!((status, origin["status"].as_str()), (200, Some("up")), "damped status flipped: {origin}");
        raw.insert(origin["probe_status"].as_str().unwrap().to_string());
        assert_eq!(worker.get("/ready"), (200, json!({"status": "ok", "ready": true})));
        std::thread::sleep(Duration::from_millis(400));
    }
    assert!(raw.contains("up") && raw.contains("down"), "the raw probes flapped: {raw:?}");
    let (_, history) = worker.get("/history/flapper");
    assert_eq!(history["changes"].as_array().unwrap().len(), 1, "only the first status: {history}");
    // POST /refresh runs a round now, for the admin token only.
    let refresh = |auth: Option<&str>| {
        let mut req = ureq::http::Request::builder().method("POST").uri(worker.url("/refresh"));
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let mut response = agent().run(req.body(()).unwrap()).unwrap();
        (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
    };
    assert_eq!(refresh(None).0, 401);
    assert_eq!(refresh(Some("Bearer wrong")).0, 401);
    assert_eq!(refresh(Some(&format!("bearer {ADMIN}"))).0, 200, "the scheme is case-insensitive (RFC 9110)");
    let before = worker.get("/health").1["checked_at"].clone();
    let (status, body) = refresh(Some(&format!("Bearer {ADMIN}")));
    let fresh: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(fresh["checked_at"].as_str() > before.as_str(), "{before} then {}", fresh["checked_at"]);
    // The cron trigger (re-arms a lost alarm) runs without disturbing anything.
    assert_eq!(request("GET", &worker.url("/__scheduled?cron=*+*+*+*+*")).0, 200);
    assert_eq!(worker.get("/health/flapper").1["status"], "up");
}

pub(crate) fn public_traffic_reaches_origins_at_most_once_per_refresh(p: &Prepared) {
    let names = ["o1", "o2", "o3"];
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    worker.until("/health", 10, |h| h["status"] == "ok");
    let hits = |fleet: &Fleet| {
        let (_, body) = request("GET", &format!("http://127.0.0.1:{}/origins", fleet.control));
        let doc: Value = serde_json::from_str(&body).unwrap();
        names.map(|n| doc[n]["hits"].as_u64().unwrap())
    };
    let before = hits(fleet);
    let started = Instant::now();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(1000));
    let threads: Vec<_> = (0..1000)
        .map(|i| {
            let barrier = barrier.clone();
            let url = worker.url(&format!("/{}?r={i}&nonce={}", ["health", "ready", "health/o1"][i % 3], i * 7919));
            std::thread::spawn(move || {
                barrier.wait();
                // Under 1,000 connections at once a few requests now and then
                // get no answer at all (seen: 3 and 5 of 1,000 after 30 s and
                // 120 s). Most likely `wrangler dev`'s proxy in front of
                // workerd lost them, a known failure of its
                // (cloudflare/workers-sdk#15317: the request never reaches
                // the worker); not proven here. What is tested is the probes,
                // so a request without an answer is sent again, at most twice.
                let patient: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(20)))
                    .build()
                    .into();
                let mut lost = 0;
                loop {
                    let req = ureq::http::Request::builder().uri(&url).body(()).unwrap();
                    match patient.run(req) {
                        Ok(mut response) => {
                            let cache =
                                response.headers().get("x-edgecheck-cache").map(|v| v.to_str().unwrap().to_string());
                            let body = response.body_mut().read_to_string().unwrap();
                            return (response.status().as_u16(), cache, body, lost);
                        }
                        Err(e) if lost < 2 => {
                            eprintln!("e2e: {url}: no answer ({e}); sending it again");
                            lost += 1;
                        }
                        Err(e) => panic!("{url}: no answer in 3 attempts of 20 s: {e}"),
                    }
                }
            })
        })
        .collect();
    let answers: Vec<(u16, Option<String>, String, u32)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let elapsed = started.elapsed();
    let resent: u32 = answers.iter().map(|a| a.3).sum();
    eprintln!("e2e: 1,000 concurrent public requests answered in {elapsed:?}; {resent} sent again after a loss");
    let after = hits(fleet);
    for (status, _, body, _) in &answers {
        assert_eq!(*status, 200, "{body}");
        assert!(body.contains("\"status\":\"ok\"") || body.contains("\"status\":\"up\""), "{body}");
    }
    let asked = answers.iter().filter(|(_, c, _, _)| c.as_deref() == Some("miss")).count();
    eprintln!("e2e: {asked} of 1,000 answers asked the monitor");
    assert!(asked as u64 <= elapsed.as_secs() / 2 + 2, "{asked} answers asked the monitor (refresh 2 s)");
    let allowed = elapsed.as_secs() / 2 + 2;
    for (i, name) in names.iter().enumerate() {
        let probes = after[i] - before[i];
        assert!(probes <= allowed, "{name}: {probes} probes during {elapsed:?} (refresh 2 s allows {allowed})");
    }
}

pub(crate) fn a_monitor_cut_off_goes_stale_then_unknown_never_down(p: &Prepared) {
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    worker.until("/health", 10, |h| h["status"] == "ok" && h["stale"] == false);

    // Every origin's network is gone: the last statuses are kept, marked stale.
    fleet.set("a", "refuse");
    fleet.set("b", "refuse");
    let stale = worker.until("/health", 10, |h| h["stale"] == true);
    assert_eq!((stale["status"].as_str(), stale["ready"].as_bool()), (Some("ok"), Some(true)), "{stale}");
    let a = &stale["regions"]["main"]["origins"][0];
    assert_eq!(
        (a["status"].as_str(), a["probe_status"].as_str(), a["reason"].as_str()),
        (Some("up"), Some("down"), Some("connect_error"))
    );
    assert_eq!(worker.get("/ready").0, 200);
    // After max_stale_s: unknown, and /ready says 503; never down.
    let unknown = worker.until("/health", 15, |h| h["status"] == "unknown");
    assert_eq!((unknown["ready"].as_bool(), unknown["stale"].as_bool()), (Some(false), Some(true)));
    assert_eq!(unknown["regions"]["main"]["status"], "unknown");
    assert_eq!(worker.get("/ready"), (503, json!({"status": "unknown", "ready": false})));
    assert_eq!(worker.get("/ready/main"), (503, json!({"region": "main", "status": "unknown", "ready": false})));
    let (_, history) = worker.get("/history");
    assert!(!history.to_string().contains("\"down\""), "no change recorded while cut off: {history}");

    // The network is back.
    fleet.set("a", "spring");
    fleet.set("b", "hassette");
    worker.until("/health", 10, |h| h["status"] == "ok" && h["stale"] == false);

    // Only the canary fails: the monitor is the one in trouble.
    fleet.set("canary", "refuse");
    let stale = worker.until("/health", 10, |h| h["stale"] == true);
    assert_eq!(stale["status"], "ok");
    fleet.set("canary", "plain");
    worker.until("/health", 10, |h| h["stale"] == false);
}

/// Two regions: main (solo, other) and side (keep, away); one of main is enough.
pub(crate) fn restart_config(fleet: &Fleet) -> String {
    let mut toml =
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 2000\nrefresh_s = 3\nfall = 1\nmin_regions_up = 1\n\
                    [regions.main]\n[regions.side]\nmin_up = 1\n"
            .to_string();
    for (name, region) in [("solo", "main"), ("other", "main"), ("keep", "side"), ("away", "side")] {
        toml += &format!(
            "[[origins]]\nname = \"{name}\"\nregion = \"{region}\"\nurl = \"{}\"\n",
            fleet.url(name, "/health")
        );
    }
    toml
}

/// The same fleet redeployed: `away` removed, `other` renamed `renamed` (same
/// URL), `new` added, the region `side` removed (`keep` moves to main), main's
/// `min_up` raised to all, and both regions needed (`min_regions_up = 2`).
pub(crate) fn redeployed_config(fleet: &Fleet) -> String {
    let mut toml =
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 2000\nrefresh_s = 3\nfall = 1\nmin_regions_up = 2\n\
                    [regions.main]\nmin_up = \"all\"\n[regions.fresh]\n"
            .to_string();
    for (name, url_of, region) in
        [("solo", "solo", "main"), ("renamed", "other", "main"), ("keep", "keep", "main"), ("new", "new", "fresh")]
    {
        toml += &format!(
            "[[origins]]\nname = \"{name}\"\nregion = \"{region}\"\nurl = \"{}\"\n",
            fleet.url(url_of, "/health")
        );
    }
    toml
}

pub(crate) fn state_survives_a_restart(p: &Prepared) {
    let fleet = &p.fleet;
    let (since, history) = {
        let worker = p.fresh_worker();
        worker.until("/health/solo", 10, |o| o["status"] == "up");
        fleet.set("solo", "503");
        let down = worker.until("/health/solo", 10, |o| o["status"] == "down");
        let (_, history) = worker.get("/history/solo");
        (down["since"].clone(), history)
    };
    assert_eq!(history["changes"].as_array().unwrap().len(), 2, "{history}");
    let worker = Worker::run(p.name);
    let (_, solo) = worker.get("/health/solo");
    assert_eq!((solo["status"].clone(), solo["since"].clone()), (json!("down"), since), "{solo}");
    let (_, after) = worker.get("/history/solo");
    assert_eq!(after, history);
    let (_, health) = worker.get("/health");
    assert!(health["regions"]["main"]["uptime"]["1h"]["up"].as_f64().unwrap() > 0.0, "{health}");
    drop(worker);

    // A state row dated in the future (clock skew, damage) is not believed:
    // the next request gets a fresh round, and later rounds go on.
    let far = 4_102_444_800_000u64; // 2100-01-01
    edit_state_row(p.name, &format!("json_set(json, '$.checked_at_ms', {far}, '$.fresh_at_ms', {far})"));
    let worker = Worker::run(p.name);
    let (status, first) = worker.get("/health");
    assert_eq!(status, 200);
    let checked_at = first["checked_at"].as_str().unwrap().to_string();
    assert!(!checked_at.starts_with("2100"), "a round from the future was served: {first}");
    worker.until("/health", 15, |h| h["checked_at"].as_str() > Some(checked_at.as_str()));
    drop(worker);

    // A state row that cannot be read is replaced: the monitor starts afresh.
    edit_state_row(p.name, "'{not json'");
    let restarted = std::time::SystemTime::now();
    let worker = Worker::run(p.name);
    let (status, fresh) = worker.get("/health");
    assert_eq!(status, 200, "{fresh}");
    assert!(fresh["regions"]["main"]["origins"].as_array().unwrap().len() == 2, "{fresh}");
    // This worker's own rounds, not a snapshot the Cache API kept from the
    // last one (same deployment, same fleet: the same key).
    let own = |doc: &Value| {
        doc["checked_at"].as_str().and_then(|t| humantime::parse_rfc3339_weak(t).ok()).is_some_and(|t| t >= restarted)
    };
    worker.until("/health/other", 15, |o| o["status"] == "up" && own(o));
    worker.until("/health", 15, |h| h["status"] == "degraded" && h["stale"] == false && own(h));
    let before = worker.until("/health/keep", 15, |o| o["status"] == "up" && own(o));
    let (_, before_health) = worker.get("/health");
    drop(worker);
    a_redeploy_changes_the_fleet_on_the_same_state(p, &before, &before_health);
}

/// The redeployed fleet ([`redeployed_config`]) on the state the first left:
/// kept origins keep `since` and uptime, removed ones are gone from every
/// document but `/history`, the new one starts unknown (its first change comes
/// from nothing), and readiness follows the new rules from the first answer.
pub(crate) fn a_redeploy_changes_the_fleet_on_the_same_state(p: &Prepared, keep_before: &Value, health_before: &Value) {
    let (ok, output) = p.also.as_ref().expect("the redeployed fleet is built");
    assert!(ok, "the redeployed build failed:\n{output}");
    let fleet = &p.fleet;
    // solo is down (503 since the first part); the new rules make main down
    // (min_up = all) and so the fleet down (both regions needed).
    let worker = Worker::run_as(&format!("{}-b", p.name), p.name, &e2e_dir(p.name).join("state"), "");
    let (status, ready) = worker.get("/ready");
    assert_eq!((status, ready), (503, json!({"status": "down", "ready": false})), "the new rules at once");
    assert_eq!(worker.get("/ready/main"), (503, json!({"region": "main", "status": "down", "ready": false})));
    assert_eq!(worker.get("/ready/fresh"), (200, json!({"region": "fresh", "status": "up", "ready": true})));
    assert_eq!(worker.get("/ready/side").0, 404, "a removed region is gone");
    let (_, health) = worker.get("/health");
    assert_schema("health.schema.json", &health, "/health after a redeploy");
    let names: Vec<String> = origins(&health).into_keys().collect();
    assert_eq!(names, ["keep", "new", "renamed", "solo"], "{health}");
    assert_eq!(health["regions"].as_object().unwrap().keys().collect::<Vec<_>>(), ["fresh", "main"]);
    let keep = &origins(&health)["keep"];
    assert_eq!(keep["since"], keep_before["since"], "a kept origin keeps its since: {keep}");
    assert_eq!(keep["uptime"]["1h"], keep_before["uptime"]["1h"].clone(), "and its uptime: {keep}");
    let solo_before = &origins(health_before)["solo"];
    assert_eq!(
        (origins(&health)["solo"]["status"].clone(), origins(&health)["solo"]["since"].clone()),
        (json!("down"), solo_before["since"].clone())
    );
    for (path, gone) in [
        ("/health/away", "away"),
        ("/health/other", "other"),
        ("/badge/away.json", "away"),
        ("/history/away", "away"),
        ("/health/side", "side"),
    ] {
        let (status, _) = request("GET", &worker.url(path));
        assert_eq!(status, 404, "{path}: {gone} left the fleet");
    }
    for path in ["/metrics", "/"] {
        let (status, body) = request("GET", &worker.url(path));
        assert_eq!(status, 200);
        assert!(
            !body.contains("\"away\"") && !body.contains(">away<") && !body.contains("origin=\"away\""),
            "{path} still shows away"
        );
        assert!(!body.contains("region=\"side\""), "{path} still shows side");
    }
    // The new origin started unknown: its first change comes from nothing.
    let (_, history) = worker.get("/history/new");
    let first = history["changes"].as_array().unwrap().last().cloned().unwrap_or_default();
    assert_eq!((first["from"].clone(), first["to"].clone()), (Value::Null, json!("up")), "{history}");
    // The old fleet's changes stay in /history, and the change of fleet is recorded once.
    let (_, history) = worker.get("/history");
    assert_schema("history.schema.json", &history, "/history with a config change");
    let all = history["changes"].as_array().unwrap();
    assert!(all.iter().any(|c| c["name"] == "away"), "the old fleet's history is kept: {history}");
    assert_eq!(all.iter().filter(|c| c["kind"] == "config").count(), 1, "{history}");
    // Back to health under the new rules.
    fleet.set("solo", "spring");
    worker.until("/ready", 20, |r| r["status"] == "ok");
    let (_, history) = worker.get("/history");
    assert_eq!(history["changes"].as_array().unwrap().iter().filter(|c| c["kind"] == "config").count(), 1, "once");
}

/// The monitor's SQLite file of the stopped worker `name`.
fn monitor_db(name: &str) -> std::path::PathBuf {
    let do_dir = e2e_dir(name).join("state/v3/do");
    std::fs::read_dir(&do_dir)
        .unwrap_or_else(|e| panic!("{}: {e}", do_dir.display()))
        .flatten()
        .filter(|dir| dir.file_name().to_string_lossy().ends_with("-Monitor"))
        .flat_map(|dir| std::fs::read_dir(dir.path()).unwrap().flatten())
        .map(|file| file.path())
        .find(|path| path.extension().is_some_and(|e| e == "sqlite") && !path.ends_with("metadata.sqlite"))
        .expect("the monitor's SQLite file")
}

/// Runs the Python `script` with `db`, an open sqlite3 connection to the
/// monitor's SQLite file of the stopped worker `name`, and commits.
pub(crate) fn edit_monitor_db(name: &str, script: &str) {
    let db = monitor_db(name);
    let script = format!("import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\n{script}\ndb.commit()\n");
    let status = Command::new("python3").arg("-c").arg(&script).arg(&db).status().expect("python3 runs");
    assert!(status.success(), "editing {} failed", db.display());
}

/// Sets the monitor's state row (`monitor_state.json`) of the stopped worker
/// `name` to the SQL expression `json`, with Python's sqlite3.
pub(crate) fn edit_state_row(name: &str, json: &str) {
    edit_monitor_db(
        name,
        &format!("n = db.execute(\"UPDATE monitor_state SET json = {json} WHERE id = 1\").rowcount\nassert n == 1, n"),
    );
}
