//! Day-to-day operations: a manual drain through the admin API, held across
//! a restart, followed by a Cloudflare pool, lifted, and lapsing on time.

use std::io::Write as _;
use std::net::TcpStream;

use super::*;

const NAME: &str = "a_drain_holds_across_a_restart_and_lapses_on_time";
pub(crate) const CF_TOKEN: &str = "e2e-cloudflare-token";
pub(crate) const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const POOL: &str = "d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2d2";

pub(crate) fn drain_fleet() -> Vec<(String, String)> {
    pairs(&[("east-a", "spring"), ("west-a", "spring")])
}

fn drain_cloudflare() -> Arc<Receiver> {
    west_pool(NAME, POOL)
}

/// Test `test`'s stand-in for the Cloudflare API, holding one enabled pool
/// `pool` (named west) of one origin, under [`CF_TOKEN`] and [`ACCOUNT`].
pub(crate) fn west_pool(test: &str, pool: &str) -> Arc<Receiver> {
    receiver(&format!("{test}/cloudflare"), || {
        Receiver::cloudflare(
            CF_TOKEN,
            ACCOUNT,
            json!({ pool: {
                "id": pool, "name": "west", "enabled": true, "minimum_origins": 1,
                "origins": [{"name": "west-lb", "address": "192.0.2.30", "enabled": true, "weight": 1}]
            }}),
        )
    })
}

/// The settings, regions and origins the operations tests share: east
/// (east-a) and west (west-a), rise = fall = 1, a round every 2 s.
pub(crate) fn two_regions(fleet: &Fleet) -> String {
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
    toml
}

/// [`two_regions`]; the west pool follows west.
pub(crate) fn drain_config(fleet: &Fleet) -> String {
    let cf = drain_cloudflare();
    let mut toml = two_regions(fleet);
    toml += &format!(
        "[[notify]]\nname = \"west-pool\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"CF_TOKEN\"\nbase_url = \"{}\"\n\
         account_id = \"{ACCOUNT}\"\npool_id = \"{POOL}\"\nfollows = \"west\"\n",
        cf.url("/client/v4")
    );
    toml
}

/// `method path` with `headers` and `body`: (status, `WWW-Authenticate`, body as JSON).
pub(crate) fn admin(
    worker: &Worker,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    admin_bytes(worker, method, path, token, body.as_bytes())
}

/// [`admin`] with a body of any bytes.
fn admin_bytes(worker: &Worker, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String, Value) {
    let mut req = ureq::http::Request::builder().method(method).uri(worker.url(path));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let mut response =
        agent().run(req.header("content-type", "application/json").body(body.to_vec()).unwrap()).unwrap();
    let authenticate =
        response.headers().get("www-authenticate").map_or(String::new(), |v| v.to_str().unwrap().to_string());
    let text = response.body_mut().read_to_string().unwrap();
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text:?}"));
    (response.status().as_u16(), authenticate, doc)
}

/// `POST path` on the worker at `port` with the admin token and `body`, its
/// bytes sent one a second after the headers (its `Content-Length` says them
/// all): (the answer's status, its body as JSON, how long after the headers
/// it came).
fn dripped(port: u16, path: &str, body: &'static [u8]) -> (u16, Value, Duration) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {ADMIN}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    writer.write_all(head.as_bytes()).unwrap();
    let sent = Instant::now();
    let drip = std::thread::spawn(move || {
        for byte in body {
            std::thread::sleep(Duration::from_secs(1));
            // The worker answers, and may close, before the body is whole.
            if writer.write_all(std::slice::from_ref(byte)).is_err() {
                break;
            }
        }
    });
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let took = sent.elapsed();
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut text = vec![0; length];
    reader.read_exact(&mut text).unwrap();
    let _ = stream.shutdown(std::net::Shutdown::Both);
    drip.join().unwrap();
    let doc = serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{line:?}: not JSON ({e}): {text:?}"));
    (status, doc, took)
}

/// `GET path` (an admin list) with `token`: (status, `WWW-Authenticate`,
/// `Cache-Control`, body as JSON).
fn list(worker: &Worker, path: &str, token: Option<&str>) -> (u16, String, String, Value) {
    let mut req = ureq::http::Request::builder().method("GET").uri(worker.url(path));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let mut response = agent().run(req.body(()).unwrap()).unwrap();
    let header = |name: &str| response.headers().get(name).map_or(String::new(), |v| v.to_str().unwrap().to_string());
    let (authenticate, cache_control) = (header("www-authenticate"), header("cache-control"));
    let text = response.body_mut().read_to_string().unwrap();
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {text:?}"));
    (response.status().as_u16(), authenticate, cache_control, doc)
}

/// `GET /admin/drain` with the admin token: 200, never cached, valid
/// against its schema; the list.
fn drains(worker: &Worker, what: &str) -> Value {
    let (status, _, cache_control, doc) = list(worker, "/admin/drain", Some(ADMIN));
    assert_eq!((status, cache_control.as_str()), (200, "no-store"), "{what}: {doc}");
    assert_schema("drain-list.schema.json", &doc, what);
    doc["drains"].clone()
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

    // The API's bad input: the same 401 as POST /refresh, a JSON 404, 400s
    // naming the field, a 413, and a 408 for a body dripped a byte a second
    // (its 33 bytes would be a 400, no reason, if they were waited for).
    let drip = {
        let port = worker.port;
        std::thread::spawn(move || dripped(port, "/admin/drain/west", br#"{"until": "2099-01-01T00:00:00Z"}"#))
    };
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
    // A body that is not UTF-8: a 400 naming the body, not a reason of
    // replacement characters.
    let (status, _, doc) = admin_bytes(&worker, "POST", "/admin/drain/west", Some(ADMIN), b"{\"reason\": \"caf\xe9\"}");
    assert_eq!((status, doc["error"].as_str()), (400, Some("bad_request")), "{doc}");
    assert!(doc["message"].as_str().unwrap().starts_with("body: not UTF-8"), "{doc}");
    assert_schema("error.schema.json", &doc, "a drain's 400 for a body not UTF-8");
    let huge = format!(r#"{{"reason": "{}"}}"#, "x".repeat(20_000));
    let (status, _, doc) = admin(&worker, "POST", "/admin/drain/west", Some(ADMIN), &huge);
    assert_eq!(status, 413, "{doc}");
    assert_schema("error.schema.json", &doc, "a drain's 413");
    let (_, west) = worker.get("/ready/west");
    assert_eq!(west, json!({"region": "west", "status": "up", "ready": true}), "no bad request changed anything");
    // The list: the same 401 as POST /refresh without the token; none yet.
    for token in [None, Some("wrong")] {
        let (status, authenticate, _, doc) = list(&worker, "/admin/drain", token);
        assert_eq!((status, authenticate.as_str(), &doc), (401, "Bearer", &refresh.2), "GET, token {token:?}");
        assert_schema("error.schema.json", &doc, "GET /admin/drain without the token");
    }
    assert_eq!(drains(&worker, "no drain yet"), json!([]));

    // A drain: 503 with reason drained while the probes still see it up; the pool is disabled.
    let (status, _, doc) = admin(&worker, "POST", "/admin/drain/west", Some(ADMIN), body);
    assert_eq!(
        (status, doc["name"].as_str(), doc["kind"].as_str(), doc["ready"].as_bool()),
        (200, Some("west"), Some("region"), Some(false)),
        "{doc}"
    );
    assert_eq!(doc["drain"]["reason"], "kernel upgrade");
    assert_schema("drain.schema.json", &doc, "POST /admin/drain/west");
    let west_drained = json!([{
        "name": "west", "kind": "region", "reason": "kernel upgrade", "since": doc["drain"]["since"], "until": null
    }]);
    assert_eq!(drains(&worker, "west drained"), west_drained, "exactly what was set");
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
    // The dripped body: a 408 once its 10 s were up, before it was whole.
    let (status, doc, took) = drip.join().unwrap();
    assert_eq!((status, doc["error"].as_str()), (408, Some("request_timeout")), "after {took:?}: {doc}");
    assert!((Duration::from_secs(10)..Duration::from_secs(25)).contains(&took), "408 after {took:?}");
    assert_schema("error.schema.json", &doc, "a drain's 408");
    assert_eq!(drains(&worker, "after the dripped body")[0]["reason"], "kernel upgrade", "the 408 changed nothing");

    // It survives a restart (a crash, even), and nothing but the API lifts it.
    worker.crash();
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &vars);
    let (status, ready) = worker.get("/ready/west");
    assert_eq!((status, ready["reason"].as_str()), (503, Some("drained")), "after a restart: {ready}");
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(worker.get("/ready/west").0, 503, "rounds after the restart keep it");
    assert!(!pool_enabled(&cf));
    assert_eq!(drains(&worker, "after a restart"), west_drained, "listed after a restart");

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
    assert_eq!(
        drains(&worker, "west-a drained until"),
        json!([{
            "name": "west-a", "kind": "origin", "reason": "disk swap",
            "since": doc["drain"]["since"], "until": doc["drain"]["until"]
        }]),
        "west lifted, west-a drained"
    );
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

const WINDOW: &str = "a_maintenance_window_holds_notices_and_keeps_readiness_true";

fn window_hook() -> Arc<Receiver> {
    receiver(&format!("{WINDOW}/hook"), || Receiver::start(Service::Webhook))
}

/// [`two_regions`]; a webhook `ops` told about region west and every origin;
/// a one-off window declared on east in 2000, never open while the test
/// runs (it shows the declared windows reach the worker: its id cannot be
/// ended through the API).
pub(crate) fn window_config(fleet: &Fleet) -> String {
    let mut toml = two_regions(fleet);
    toml +=
        "[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl_secret = \"OPS_URL\"\nsigning_secret = \"OPS_SECRET\"\n\
             regions = [\"west\"]\norigins = [\"*\"]\n\
             [[maintenance]]\nid = \"east-yearly\"\nreason = \"never during the test\"\nregions = [\"east\"]\n\
             start = \"2000-01-01T00:00:00Z\"\nend = \"2000-01-01T01:00:00Z\"\n";
    toml
}

pub(crate) fn a_maintenance_window_holds_notices_and_keeps_readiness_true(p: &Prepared) {
    let fleet = &p.fleet;
    let hook = window_hook();
    let vars = format!("OPS_URL=\"{}\"\nOPS_SECRET=\"{WHSEC}\"\n", hook.url("/ops"));
    let worker = p.fresh_worker_with(&vars);
    worker.until("/ready/west", 20, |r| r["ready"] == true);
    let end = in_secs(3_600);
    let body = format!(r#"{{"id": "west-switch", "reason": "switch swap", "regions": ["west"], "end": "{end}"}}"#);

    // The API's bad input: the same 401 as POST /refresh, JSON 404s, 400s naming the field, a 409, a 413.
    let refresh = admin(&worker, "POST", "/refresh", None, "");
    for token in [None, Some("wrong")] {
        let (status, authenticate, doc) = admin(&worker, "POST", "/admin/maintenance", token, &body);
        assert_eq!((status, authenticate.as_str(), &doc), (401, "Bearer", &refresh.2), "token {token:?}");
    }
    for (bad, status, field) in [
        (format!(r#"{{"reason": "x", "regions": ["north"], "end": "{end}"}}"#), 404, "regions"),
        (format!(r#"{{"reason": "x", "origins": ["west"], "end": "{end}"}}"#), 404, "origins"),
        (format!(r#"{{"reason": "x", "start": "{end}", "end": "{}"}}"#, in_secs(60)), 400, "end"),
        (r#"{"reason": "x", "end": "2020-01-01T00:00:00Z"}"#.to_string(), 400, "end"),
        (r#"{"reason": "x", "end": "tonight"}"#.to_string(), 400, "end"),
        (format!(r#"{{"end": "{end}"}}"#), 400, "reason"),
        (format!(r#"{{"id": "east-yearly", "reason": "x", "end": "{end}"}}"#), 400, "id"),
        ("[1, 2]".to_string(), 400, "body"),
        (format!(r#"{{"reason": "{}", "end": "{end}"}}"#, "x".repeat(20_000)), 413, "body"),
    ] {
        let (got, _, doc) = admin(&worker, "POST", "/admin/maintenance", Some(ADMIN), &bad);
        assert_eq!(got, status, "{bad:.80}: {doc}");
        if status != 413 {
            assert!(doc["message"].as_str().unwrap().starts_with(&format!("{field}: ")), "{bad}: {doc}");
        }
        assert_schema("error.schema.json", &doc, "a maintenance request's refusal");
    }
    let (status, _, doc) = admin(&worker, "DELETE", "/admin/maintenance/east-yearly", Some(ADMIN), "");
    assert_eq!((status, doc["error"].as_str()), (409, Some("conflict")), "a declared window: {doc}");
    let (status, _, doc) = admin(&worker, "DELETE", "/admin/maintenance/nope", Some(ADMIN), "");
    assert_eq!((status, doc["error"].as_str()), (404, Some("not_found")), "{doc}");
    assert_schema("error.schema.json", &doc, "DELETE of an unknown window");
    assert!(worker.get("/health").1.get("maintenance").is_none());
    // The list: the same 401 as POST /refresh without the token; with it,
    // the declared window only.
    for token in [None, Some("wrong")] {
        let (status, authenticate, _, doc) = list(&worker, "/admin/maintenance", token);
        assert_eq!((status, authenticate.as_str(), &doc), (401, "Bearer", &refresh.2), "GET, token {token:?}");
        assert_schema("error.schema.json", &doc, "GET /admin/maintenance without the token");
    }
    let declared = json!({
        "id": "east-yearly", "reason": "never during the test", "source": "config",
        "fleet": false, "regions": ["east"], "origins": [],
        "schedule": {"kind": "once", "start": "2000-01-01T00:00:00.000Z", "end": "2000-01-01T01:00:00.000Z"},
        "open": false, "current": null, "next": null
    });
    let windows = |what: &str| {
        let (status, _, cache_control, doc) = list(&worker, "/admin/maintenance", Some(ADMIN));
        assert_eq!((status, cache_control.as_str()), (200, "no-store"), "{what}: {doc}");
        assert_schema("maintenance-list.schema.json", &doc, what);
        doc
    };
    assert_eq!(windows("the declared window"), json!({"windows": [declared]}));

    // The window opens on west.
    let (status, _, doc) = admin(&worker, "POST", "/admin/maintenance", Some(ADMIN), &body);
    assert_eq!((status, doc["id"].as_str(), doc["open"].as_bool()), (200, Some("west-switch"), Some(true)), "{doc}");
    assert_eq!(doc["regions"], json!(["west"]));
    assert_schema("maintenance.schema.json", &doc, "POST /admin/maintenance");
    let occurrence = json!({"start": doc["start"], "end": doc["end"]});
    let started = json!({
        "id": "west-switch", "reason": "switch swap", "source": "api",
        "fleet": false, "regions": ["west"], "origins": [],
        "schedule": {"kind": "once", "start": doc["start"], "end": doc["end"]},
        "open": true, "current": occurrence, "next": null
    });
    assert_eq!(windows("west-switch open"), json!({"windows": [declared, started]}), "exactly what was set");
    let health = worker.until("/health", 20, |h| h["regions"]["west"]["maintenance"]["id"] == "west-switch");
    assert_eq!(health["regions"]["west"]["maintenance"]["reason"], "switch swap");
    assert!(health["regions"]["east"].get("maintenance").is_none(), "{health}");

    // Down within the window: /ready/west tells the truth, every surface
    // says maintenance, and the rounds count as maintenance, not down.
    fleet.set("west-a", "503");
    let ready = worker.until("/ready/west", 20, |r| r["ready"] == false);
    assert_eq!(ready["status"], "down", "{ready}");
    assert_eq!(request("GET", &worker.url("/ready/west")).0, 503, "a load balancer sees reality");
    let (_, health) = worker.get("/health");
    assert_eq!(health["regions"]["west"]["origins"][0]["maintenance"]["id"], "west-switch", "{health}");
    assert_schema("health.schema.json", &health, "/health in a window");
    let (_, badge) = worker.get("/badge/west.json");
    assert_eq!((badge["message"].as_str(), badge["color"].as_str()), (Some("down · maintenance"), Some("blue")));
    assert_schema("badge.schema.json", &badge, "/badge/west.json in a window");
    let (_, _, metrics) = get_with(&worker, "/metrics", None);
    assert!(metrics.contains(r#"edgecheck_maintenance{scope="region",name="west",id="west-switch"} 1"#), "{metrics}");
    let (_, _, page) = get_with(&worker, "/", Some("text/html"));
    assert!(page.contains("This region is in maintenance (west-switch): switch swap"), "{page}");

    // It survives a restart (a crash, even).
    worker.crash();
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &vars);
    let (_, health) = worker.get("/health");
    assert_eq!(health["regions"]["west"]["maintenance"]["id"], "west-switch", "after a restart: {health}");

    // Back up within the window: nothing was told, and west-a's uptime has
    // maintenance time but no down time.
    fleet.set("west-a", "spring");
    worker.until("/ready/west", 20, |r| r["ready"] == true);
    rounds(&worker, 2);
    assert!(accepted(&hook.received()).is_empty(), "told during a window: {:?}", hook.received());
    let (_, origin) = worker.get("/health/west-a");
    let hour = &origin["uptime"]["1h"];
    assert!(hour["maintenance"].as_f64() > Some(0.0) && hour["down"].as_f64() == Some(0.0), "{origin}");
    assert_schema("health-origin.schema.json", &origin, "/health/west-a in a window");

    // Down again, and still down when the window ends: told once.
    fleet.set("west-a", "503");
    worker.until("/ready/west", 20, |r| r["ready"] == false);
    rounds(&worker, 1);
    assert!(accepted(&hook.received()).is_empty(), "told during a window: {:?}", hook.received());
    let (status, _, doc) = admin(&worker, "DELETE", "/admin/maintenance/west-switch", Some(ADMIN), "");
    assert_eq!((status, doc["open"].as_bool()), (200, Some(false)), "{doc}");
    assert_schema("maintenance.schema.json", &doc, "DELETE /admin/maintenance/west-switch");
    let told_once = hook.until(30, "the notice at the window's end", |r| !accepted(r).is_empty());
    let notice = verified(&accepted(&told_once)[0]);
    assert_eq!(told(&notice, "origin"), [("west-a".to_string(), "down".to_string())], "{notice}");
    assert_eq!(told(&notice, "region"), [("west".to_string(), "down".to_string())], "{notice}");
    rounds(&worker, 3);
    assert_eq!(accepted(&hook.received()).len(), 1, "told once: {:?}", hook.received());
    let (_, health) = worker.get("/health");
    assert!(health["regions"]["west"].get("maintenance").is_none(), "{health}");

    // /history has the window's start and end; uptime counts down again.
    let (_, history) = worker.get("/history");
    let events: Vec<&str> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "maintenance" && c["name"] == "west-switch")
        .map(|c| c["to"].as_str().unwrap())
        .collect();
    assert_eq!(events, ["ended", "started"], "newest first: {history}");
    assert_schema("history.schema.json", &history, "/history");
    worker.until("/health/west-a", 20, |o| o["uptime"]["1h"]["down"].as_f64() > Some(0.0));

    // A window started with a `start` before the last round: /history
    // records its start, at the start it was given, once.
    let start = humantime::format_rfc3339_seconds(std::time::SystemTime::now() - Duration::from_secs(600)).to_string();
    let body = format!(
        r#"{{"id": "east-late", "reason": "filed late", "regions": ["east"], "start": "{start}", "end": "{}"}}"#,
        in_secs(600)
    );
    let (status, _, doc) = admin(&worker, "POST", "/admin/maintenance", Some(ADMIN), &body);
    assert_eq!((status, doc["open"].as_bool()), (200, Some(true)), "{doc}");
    rounds(&worker, 2);
    let (_, history) = worker.get("/history");
    let late: Vec<(&str, std::time::SystemTime)> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "maintenance" && c["name"] == "east-late")
        .map(|c| (c["to"].as_str().unwrap(), humantime::parse_rfc3339(c["at"].as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(late, [("started", humantime::parse_rfc3339(&start).unwrap())], "{history}");
    assert_schema("history.schema.json", &history, "/history with a window started in the past");
}
