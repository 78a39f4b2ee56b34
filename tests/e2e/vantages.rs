//! Vantages: several probers, a quorum, isolated and missing vantages.

use super::*;

/// Three vantages, majority quorum, one origin per region, rise = fall = 1.
pub(crate) fn vantage_config(fleet: &Fleet) -> String {
    // The canary answers as Cloudflare's /cdn-cgi/trace does, so each vantage shows its colo.
    let mut toml = format!(
        "[settings]\nprobe_timeout_ms = 500\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 1\nfall = 1\n\
         vantages = [\"enam\", \"weur\", \"apac\"]\nvantage_quorum = \"majority\"\ncanary = \"{}\"\n",
        fleet.url("trace", "/cdn-cgi/trace")
    );
    for name in ["o1", "o2", "o3"] {
        toml += &format!(
            "[regions.r-{name}]\n[[origins]]\nname = \"{name}\"\nregion = \"r-{name}\"\nurl = \"{}\"\n",
            fleet.url(name, "/health")
        );
    }
    toml
}

/// The vantages' changes in `/history`, oldest first: (name, from, to).
pub(crate) fn vantage_history(worker: &Worker) -> Vec<(String, String, String)> {
    let (_, history) = worker.get("/history");
    let mut changes: Vec<(String, String, String)> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "vantage")
        .map(|c| (c["name"].to_string(), c["from"].to_string(), c["to"].to_string()))
        .collect();
    changes.reverse();
    changes
}

pub(crate) fn vantages_agree_before_an_origin_fails(p: &Prepared) {
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    let all_reporting = json!({
        "enam": "reporting", "weur": "reporting", "apac": "reporting"
    });
    let states = |h: &Value| {
        h["vantages"].as_object().map(|v| v.iter().map(|(k, s)| (k.clone(), s["state"].clone())).collect::<Value>())
    };
    let health = worker.until("/health", 30, |h| h["status"] == "ok" && states(h) == Some(all_reporting.clone()));
    assert_schema("health.schema.json", &health, "/health with vantages");
    for vantage in ["enam", "weur", "apac"] {
        assert_eq!(health["vantages"][vantage]["colo"], "LHR", "where {vantage} ran, from the trace canary: {health}");
    }
    let o1 = &origins(&health)["o1"];
    assert_eq!(o1["vantages"].as_object().unwrap().len(), 3, "{o1}");
    assert!(o1.get("failing_from").is_none() && o1["stale"] == false, "{o1}");

    // Failing from one vantage of three: still up, and the disagreement is shown.
    fleet.set("o1", "fail-from-apac");
    let o1 = worker.until("/health/o1", 20, |o| o["vantages"]["apac"]["status"] == "down");
    assert_eq!((o1["status"].as_str(), o1["failing_from"].clone()), (Some("up"), json!(["apac"])), "{o1}");
    assert_eq!(o1["vantages"]["weur"]["status"], "up");
    assert_schema("health-origin.schema.json", &o1, "/health/o1");
    assert_eq!(worker.get("/ready/r-o1"), (200, json!({"region": "r-o1", "status": "up", "ready": true})));
    // The page marks it with the vantage and has a line per vantage, in a real browser, and fits a phone.
    let (status, _, html) = get_with(&worker, "/", Some("text/html"));
    assert_eq!(status, 200, "{html}");
    let dir = e2e_dir(p.name);
    let profile = dir.join("chromium-profile");
    let dom = chromium(&profile, &["--dump-dom", &worker.url("/")]);
    let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
    let row = dom.split("<th scope=\"row\">o1</th>").nth(1).and_then(|r| r.split("</tr>").next()).unwrap_or_default();
    assert!(
        row.contains("Up</span> <small class=\"s-degraded\">· failing from apac</small>"),
        "the o1 row: {row}\n{dom}"
    );
    for vantage in ["enam", "weur", "apac"] {
        let line = format!("<li><strong>{vantage}</strong> <span class=\"s-up\"><span aria-hidden=\"true\">✓</span> Reporting</span> · last report ");
        assert!(dom.contains(&line) && dom.contains(" · ran in LHR</li>"), "no line {line:?} on the page:\n{dom}");
    }
    assert_fits_a_phone(&profile, &dir, &html);

    // Failing from two: down.
    fleet.set("o1", "fail-from-apac+weur");
    let o1 = worker.until("/health/o1", 20, |o| o["status"] == "down");
    assert_eq!((o1["reason"].as_str(), o1["http_status"].as_u64()), (Some("status_mismatch"), Some(503)), "{o1}");
    assert_eq!(worker.get("/ready/r-o1").0, 503);

    // A vantage that reaches no origin is isolated and stops voting: no false down.
    fleet.set("*", "refuse-from-enam");
    let h = worker.until("/health", 20, |h| h["vantages"]["enam"]["state"] == "isolated");
    for (name, o) in origins(&h) {
        assert_eq!(o["vantages"]["enam"]["reason"], "connect_error", "{name}: {o}");
    }
    let h = worker.until("/health", 20, |h| h["status"] == "ok");
    assert!(origins(&h).values().all(|o| o["status"] == "up" && o["stale"] == false), "{h}");
    assert_eq!(worker.get("/ready"), (200, json!({"status": "ok", "ready": true})));
    fleet.set("*", "spring");
    worker.until("/health", 20, |h| h["vantages"]["enam"]["state"] == "reporting");
    let expected = [("enam", "reporting", "isolated"), ("enam", "isolated", "reporting")]
        .map(|(n, f, t)| (format!("\"{n}\""), format!("\"{f}\""), format!("\"{t}\"")));
    assert_eq!(vantage_history(&worker), expected, "/history records the vantage leaving and coming back");
    let (_, history) = worker.get("/history");
    assert_schema("history.schema.json", &history, "/history with vantage changes");
    drop(worker);

    // A prober that stops reporting is missing; the two left still make the quorum.
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), "EDGECHECK_FAULT_SILENT_VANTAGES=\"weur\"\n");
    let h = worker.until("/health", 30, |h| h["vantages"]["weur"]["state"] == "missing");
    assert!(h["vantages"]["weur"]["age_s"].as_u64().is_some(), "the age of its last report: {h}");
    assert_eq!(h["status"], "ok", "{h}");
    assert!(origins(&h).values().all(|o| o["stale"] == false && o["vantages"].get("weur").is_none()), "{h}");
    let (_, _, html) = get_with(&worker, "/", Some("text/html"));
    assert!(
        html.contains(
            "<li><strong>weur</strong> <span class=\"s-unknown\"><span aria-hidden=\"true\">?</span> Missing</span>"
        ),
        "{html}"
    );
    fleet.set("o2", "fail-from-apac");
    let o2 = worker.until("/health/o2", 20, |o| o["vantages"]["apac"]["status"] == "down");
    assert_eq!((o2["status"].as_str(), o2["failing_from"].clone()), (Some("up"), json!(["apac"])), "{o2}");
    fleet.set("o2", "fail-from-apac+enam");
    worker.until("/health/o2", 20, |o| o["status"] == "down");
    // Both of the two voters cut off: no quorum, so o3 keeps its status, stale.
    fleet.set("*", "refuse-from-enam+apac");
    let h = worker.until("/health", 20, |h| h["vantages"]["apac"]["state"] == "isolated");
    assert!(origins(&h).values().all(|o| o["stale"] == true), "{h}");
    assert_eq!(origins(&h)["o3"]["status"], "up", "no quorum keeps the last status: {h}");
    assert!(vantage_history(&worker).contains(&("\"weur\"".into(), "\"reporting\"".into(), "\"missing\"".into())));
}

/// Three vantages, majority quorum, rise = fall = 2, and answers slower than
/// 250 ms degraded (`slow-from-…` answers 600 ms late).
pub(crate) fn slow_config(fleet: &Fleet) -> String {
    format!(
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 2\nfall = 2\n\
         degraded_after_ms = 250\nvantages = [\"enam\", \"weur\", \"apac\"]\nvantage_quorum = \"majority\"\n\
         [regions.main]\n[[origins]]\nname = \"s\"\nregion = \"main\"\nurl = \"{}\"\n",
        fleet.url("s", "/health")
    )
}

/// `(status, reason)` of each vantage's last probe of `o`.
fn by_vantage(o: &Value) -> Vec<(String, String)> {
    ["enam", "weur", "apac"]
        .iter()
        .map(|v| {
            let seen = &o["vantages"][v];
            (seen["status"].as_str().unwrap_or("").to_string(), seen["reason"].as_str().unwrap_or("").to_string())
        })
        .collect()
}

pub(crate) fn slow_from_a_quorum_of_vantages_is_degraded(p: &Prepared) {
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    worker.until("/health/s", 60, |o| o["status"] == "up");
    let (_, s) = worker.get("/health/s");
    assert_eq!(s["degraded_after_ms"], 250, "the threshold is shown: {s}");

    // Slow from two vantages of three: their probes say slow at once, the
    // origin stays up for that first round (fall = 2), then is degraded.
    fleet.set("s", "slow-from-enam+weur");
    let first = worker.until("/health/s", 30, |o| by_vantage(o).iter().filter(|(_, r)| r == "slow").count() == 2);
    assert_eq!(first["status"], "up", "one slow round is not fall = 2: {first}");
    assert_eq!(by_vantage(&first)[2], ("up".to_string(), "ok".to_string()), "apac is fast: {first}");
    let slow = worker.until("/health/s", 30, |o| o["status"] == "degraded");
    assert_eq!(slow["reason"], "slow", "{slow}");
    assert_eq!(by_vantage(&slow)[0].0, "degraded");
    assert_schema("health-origin.schema.json", &slow, "/health/s slow");
    // Readiness as for any degraded origin: not ready unless degraded_is_ready.
    let (status, ready) = worker.get("/ready/main");
    assert_eq!((status, ready), (503, json!({"region": "main", "status": "degraded", "ready": false})));
    let (_, page) = request("GET", &worker.url("/"));
    assert!(page.contains("slow"), "the page names the reason");
    let (_, metrics) = request("GET", &worker.url("/metrics"));
    assert!(metrics.contains("reason=\"slow\""), "{metrics}");

    // Fast again: up after rise = 2 rounds.
    fleet.set("s", "spring");
    let back = worker.until("/health/s", 30, |o| o["status"] == "up");
    assert_eq!(back["reason"], "ok", "{back}");

    // Slow from one vantage of three: below the quorum, it stays up and names it.
    fleet.set("s", "slow-from-apac");
    let one = worker.until("/health/s", 30, |o| by_vantage(o)[2].1 == "slow");
    assert_eq!(one["status"], "up", "{one}");
    assert_eq!(one["failing_from"], json!(["apac"]), "{one}");
    let later = rounds_of(&worker, "/health/s", 3);
    assert_eq!(later["status"], "up", "still up after three rounds: {later}");
    assert_eq!(later["failing_from"], json!(["apac"]), "{later}");
    let (_, history) = worker.get("/history/s");
    let to: Vec<&str> = history["changes"].as_array().unwrap().iter().filter_map(|c| c["to"].as_str()).collect();
    assert!(to.contains(&"degraded") && to.contains(&"up"), "{history}");
}

/// Waits for `n` more rounds of `path` (its `checked_at`); returns the last.
fn rounds_of(worker: &Worker, path: &str, n: usize) -> Value {
    let mut last = worker.get(path).1;
    for _ in 0..n {
        let before = last["checked_at"].clone();
        last = worker.until(path, 30, |o| o["checked_at"] != before);
    }
    last
}
