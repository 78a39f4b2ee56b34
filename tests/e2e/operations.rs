//! Day-to-day operations: a manual drain through the admin API, held across
//! a restart, followed by a Cloudflare pool, lifted, and lapsing on time.

use super::*;

const NAME: &str = "a_drain_holds_across_a_restart_and_lapses_on_time";
const CF_TOKEN: &str = "e2e-cloudflare-token";
const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const POOL: &str = "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2";

pub(crate) fn drain_fleet() -> Vec<(String, String)> {
    pairs(&[("east-a", "spring"), ("west-a", "spring")])
}

fn drain_cloudflare() -> Arc<Receiver> {
    receiver(&format!("{NAME}/cloudflare"), || {
        Receiver::cloudflare(
            CF_TOKEN,
            ACCOUNT,
            json!({ POOL: {
                "id": POOL, "name": "west", "enabled": true, "minimum_origins": 1,
                "origins": [{"name": "west-lb", "address": "192.0.2.30", "enabled": true, "weight": 1}]
            }}),
        )
    })
}

/// east (east-a) and west (west-a), rise = fall = 1; the west pool follows west.
pub(crate) fn drain_config(fleet: &Fleet) -> String {
    let cf = drain_cloudflare();
    let mut toml = String::from(
        "[settings]\nprobe_timeout_ms = 800\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 1\nfall = 1\nmin_regions_up = 1\n\
         [regions.east]\n[regions.west]\n",
    );
    for (name, region) in [("east-a", "east"), ("west-a", "west")] {
        toml += &format!(
            "[[origins]]\nname = \"{name}\"\nregion = \"{region}\"\nurl = \"{}\"\n",
            fleet.url(name, "/health")
        );
    }
    toml += &format!(
        "[[notify]]\nname = \"west-pool\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"CF_TOKEN\"\nbase_url = \"{}\"\n\
         account_id = \"{ACCOUNT}\"\npool_id = \"{POOL}\"\nfollows = \"west\"\n",
        cf.url("/client/v4")
    );
    toml
}

/// `method path` with `headers` and `body`: (status, `WWW-Authenticate`, body as JSON).
fn admin(worker: &Worker, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String, Value) {
    let mut req = ureq::http::Request::builder().method(method).uri(worker.url(path));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let mut response =
        agent().run(req.header("content-type", "application/json").body(body.to_string()).unwrap()).unwrap();
    let authenticate =
        response.headers().get("www-authenticate").map_or(String::new(), |v| v.to_str().unwrap().to_string());
    let text = response.body_mut().read_to_string().unwrap();
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text:?}"));
    (response.status().as_u16(), authenticate, doc)
}

/// RFC 3339 (UTC, whole seconds) `secs` from now.
fn in_secs(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now() + Duration::from_secs(secs)).to_string()
}

fn pool_enabled(cf: &Receiver) -> bool {
    cf.pool(POOL)["enabled"].as_bool().unwrap()
}

pub(crate) fn a_drain_holds_across_a_restart_and_lapses_on_time(p: &Prepared) {
    let cf = drain_cloudflare();
    let vars = format!("CF_TOKEN=\"{CF_TOKEN}\"\n");
    let worker = p.fresh_worker_with(&vars);
    worker.until("/ready/west", 20, |r| r["ready"] == true);
    let body = r#"{"reason": "kernel upgrade"}"#;

    // The API's bad input: the same 401 as POST /refresh, a JSON 404, 400s naming the field, a 413.
    let refresh = admin(&worker, "POST", "/refresh", None, "");
    for token in [None, Some("wrong")] {
        let (status, authenticate, doc) = admin(&worker, "POST", "/admin/drain/west", token, body);
        assert_eq!((status, authenticate.as_str(), &doc), (401, "Bearer", &refresh.2), "token {token:?}");
    }
    let (status, _, doc) = admin(&worker, "POST", "/admin/drain/nowhere", Some(ADMIN), body);
    assert_eq!((status, doc["error"].as_str()), (404, Some("not_found")), "{doc}");
    for (bad, field) in [
        (r#"{"reason": "x", "until": "2020-01-01T00:00:00Z"}"#.to_string(), "until"),
        (r#"{"reason": "x", "until": "next tuesday"}"#.to_string(), "until"),
        (r#"{"until": "2099-01-01T00:00:00Z"}"#.to_string(), "reason"),
        ("[1, 2]".to_string(), "body"),
    ] {
        let (status, _, doc) = admin(&worker, "POST", "/admin/drain/west", Some(ADMIN), &bad);
        assert_eq!(status, 400, "{bad}: {doc}");
        assert!(doc["message"].as_str().unwrap().starts_with(&format!("{field}: ")), "{bad}: {doc}");
        assert_schema("error.schema.json", &doc, "a drain's 400");
    }
    let huge = format!(r#"{{"reason": "{}"}}"#, "x".repeat(20_000));
    let (status, _, doc) = admin(&worker, "POST", "/admin/drain/west", Some(ADMIN), &huge);
    assert_eq!(status, 413, "{doc}");
    assert_schema("error.schema.json", &doc, "a drain's 413");
    let (_, west) = worker.get("/ready/west");
    assert_eq!(west, json!({"region": "west", "status": "up", "ready": true}), "no bad request changed anything");

    // A drain: 503 with reason drained while the probes still see it up; the pool is disabled.
    let (status, _, doc) = admin(&worker, "POST", "/admin/drain/west", Some(ADMIN), body);
    assert_eq!(
        (status, doc["name"].as_str(), doc["kind"].as_str(), doc["ready"].as_bool()),
        (200, Some("west"), Some("region"), Some(false)),
        "{doc}"
    );
    assert_eq!(doc["drain"]["reason"], "kernel upgrade");
    assert_schema("drain.schema.json", &doc, "POST /admin/drain/west");
    let ready = worker.until("/ready/west", 20, |r| r["ready"] == false);
    assert_eq!((ready["status"].as_str(), ready["reason"].as_str()), (Some("up"), Some("drained")), "{ready}");
    assert_eq!(ready["drain"]["reason"], "kernel upgrade");
    assert_schema("ready-region.schema.json", &ready, "/ready/west drained");
    assert_eq!(request("GET", &worker.url("/ready/west")).0, 503);
    assert_eq!(worker.get("/ready/east").0, 200, "east is not drained");
    let (_, health) = worker.get("/health");
    assert_eq!(
        (health["regions"]["west"]["status"].as_str(), health["regions"]["west"]["ready"].as_bool()),
        (Some("up"), Some(false)),
        "{health}"
    );
    assert_eq!(health["regions"]["west"]["drain"]["reason"], "kernel upgrade");
    assert_schema("health.schema.json", &health, "/health with a drain");
    let (_, _, page) = get_with(&worker, "/", Some("text/html"));
    assert!(page.contains("Drained: kernel upgrade"), "the page says so:\n{page}");
    cf.until(20, "the west pool disabled", |_| !pool_enabled(&cf));

    // It survives a restart (a crash, even), and nothing but the API lifts it.
    worker.crash();
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &vars);
    let (status, ready) = worker.get("/ready/west");
    assert_eq!((status, ready["reason"].as_str()), (503, Some("drained")), "after a restart: {ready}");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(worker.get("/ready/west").0, 503, "rounds after the restart keep it");
    assert!(!pool_enabled(&cf));

    // Lifted: ready again, the pool enabled again.
    let (status, _, doc) = admin(&worker, "DELETE", "/admin/drain/west", Some(ADMIN), "");
    assert_eq!((status, doc["drain"].clone(), doc["ready"].as_bool()), (200, Value::Null, Some(true)), "{doc}");
    assert_schema("drain.schema.json", &doc, "DELETE /admin/drain/west");
    let ready = worker.until("/ready/west", 20, |r| r["ready"] == true);
    assert!(ready.get("reason").is_none(), "{ready}");
    cf.until(20, "the west pool enabled again", |_| pool_enabled(&cf));

    // An origin's drain with an expiry: it counts as down in its region's
    // quorum, and lapses on time across a restart. 40 s leaves a loaded
    // machine time to see it and to restart the worker before it lapses.
    let until = in_secs(40);
    let until_at = humantime::parse_rfc3339(&until).unwrap();
    let (status, _, doc) = admin(
        &worker,
        "POST",
        "/admin/drain/west-a",
        Some(ADMIN),
        &format!(r#"{{"reason": "disk swap", "until": "{until}"}}"#),
    );
    assert_eq!((status, doc["kind"].as_str()), (200, Some("origin")), "{doc}");
    let origin = worker.until("/health/west-a", 20, |o| o["ready"] == false);
    assert_eq!(
        (origin["status"].as_str(), origin["drain"]["reason"].as_str()),
        (Some("up"), Some("disk swap")),
        "{origin}"
    );
    assert_eq!(origin["drain"]["until"].as_str().map(|u| &u[..19]), Some(&until[..19]), "{origin}");
    assert_schema("health-origin.schema.json", &origin, "/health/west-a drained");
    let (status, west) = worker.get("/ready/west");
    assert_eq!((status, west["status"].as_str()), (503, Some("down")), "west's one origin is drained: {west}");
    assert!(origin["latency"]["1h"]["count"].as_u64() >= Some(1), "{origin}");
    drop(worker);
    // The state as a deployment before latency history left it: the rollups
    // table without its latency columns. The restart adds them back at zero
    // and keeps every uptime count.
    edit_monitor_db(p.name, OLD_ROLLUPS);
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &vars);
    let (status, west) = worker.get("/ready/west");
    assert!(std::time::SystemTime::now() < until_at, "the restart took the whole 40 s: the check below means nothing");
    assert_eq!(status, 503, "still drained after the restart: {west}");
    let origin = worker.until("/health/west-a", 60, |o| o["ready"] == true);
    assert!(std::time::SystemTime::now() >= until_at, "lapsed before its until {until}: {origin}");
    assert!(origin.get("drain").is_none(), "lapsed: {origin}");
    assert!(origin["uptime"]["1h"]["up"].as_f64() > Some(0.0), "uptime kept across the migration: {origin}");
    let count = origin["latency"]["1h"]["count"].as_u64();
    assert!(count >= Some(1), "latency recorded again in the columns the restart added: {origin}");
    worker.until("/ready/west", 20, |r| r["ready"] == true);
}

/// Python (sqlite3, `db`): rebuilds `rollups` as deployments before latency
/// history made it, keeping its rows.
const OLD_ROLLUPS: &str = r#"
n = db.execute("SELECT COUNT(*) FROM rollups").fetchone()[0]
assert n > 0, n
db.executescript("""
CREATE TABLE old AS SELECT name, width_ms, bucket_ms, up, degraded, down FROM rollups;
DROP TABLE rollups;
CREATE TABLE rollups (name TEXT NOT NULL, width_ms INTEGER NOT NULL, bucket_ms INTEGER NOT NULL,
  up INTEGER NOT NULL, degraded INTEGER NOT NULL, down INTEGER NOT NULL, PRIMARY KEY (name, width_ms, bucket_ms));
INSERT INTO rollups SELECT * FROM old;
DROP TABLE old;
""")
assert "lat_sum_ms" not in db.execute("SELECT sql FROM sqlite_master WHERE name = 'rollups'").fetchone()[0]
"#;
