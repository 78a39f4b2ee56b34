//! Heartbeat checks end to end: a check's pings (bad ones refused, each with
//! its 4xx, changing nothing; a check whose secret is not set answering the
//! one 401 of a wrong token), the check going `up` on a ping, `down` with
//! `heartbeat_missed` when they stop for `period_s` + `grace_s`, `up` again on
//! the next, `down` with `heartbeat_failed` on a fail ping, and its pings kept
//! across a crash.

use std::io::Write as _;
use std::net::TcpStream;

use super::*;

const TOKEN: &str = "e2e-nightly-token";
/// The check's period and grace, s: short, so that the test sees a miss.
const PERIOD_S: u64 = 4;
const GRACE_S: u64 = 2;
/// The token secret of the check weekly: never set.
const UNSET_SECRET: &str = "WEEKLY_TOKEN";

pub(crate) fn heartbeat_fleet() -> Vec<(String, String)> {
    pairs(&[("app", "spring")])
}

/// app (probed) in region main, the check nightly in region jobs; rounds
/// every 2 s. The check weekly, in region spare, has a `token_secret` that is
/// never set (and a period that never passes while the test runs).
pub(crate) fn heartbeat_config(fleet: &Fleet) -> String {
    format!(
        "[settings]\nprobe_timeout_ms = 800\ndeadline_ms = 1500\nrefresh_s = 2\n\
         [regions.main]\n[regions.jobs]\n[regions.spare]\n\
         [[origins]]\nname = \"nightly\"\nregion = \"jobs\"\nkind = \"heartbeat\"\nperiod_s = {PERIOD_S}\ngrace_s = {GRACE_S}\ntoken_secret = \"NIGHTLY_TOKEN\"\n\
         [[origins]]\nname = \"weekly\"\nregion = \"spare\"\nkind = \"heartbeat\"\nperiod_s = 604800\ngrace_s = 3600\ntoken_secret = \"{UNSET_SECRET}\"\n\
         [[origins]]\nname = \"app\"\nregion = \"main\"\nurl = \"{}\"\n",
        fleet.url("app", "/health")
    )
}

/// `POST path` with an optional Bearer token and a body: (status, `Retry-After`, body as JSON).
fn ping(worker: &Worker, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Option<String>, Value) {
    ping_bytes(worker, method, path, token, body.as_bytes())
}

/// [`ping`] with a body of any bytes.
fn ping_bytes(
    worker: &Worker,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &[u8],
) -> (u16, Option<String>, Value) {
    let mut req = ureq::http::Request::builder().method(method).uri(worker.url(path));
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let mut response = agent().run(req.body(body.to_vec()).unwrap()).unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let text = response.body_mut().read_to_string().unwrap();
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text:?}"));
    (response.status().as_u16(), retry_after, doc)
}

/// A ping whose body streams in chunks without a `Content-Length`, longer
/// than the 10 KB taken: the status line of the answer.
fn chunked_ping(worker: &Worker, bytes: usize) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", worker.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /ping/nightly HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {TOKEN}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let chunk = vec![b'x'; 1024];
    for _ in 0..bytes / 1024 {
        // The worker may answer and close before every chunk is sent.
        if stream.write_all(b"400\r\n").is_err()
            || stream.write_all(&chunk).is_err()
            || stream.write_all(b"\r\n").is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n");
    let mut answer = Vec::new();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    answer.extend_from_slice(line.as_bytes());
    String::from_utf8(answer).unwrap()
}

fn nightly(worker: &Worker) -> Value {
    check_doc(worker, "nightly")
}

/// `/health/{name}`: 200, its document.
fn check_doc(worker: &Worker, name: &str) -> Value {
    let (status, doc) = worker.get(&format!("/health/{name}"));
    assert_eq!(status, 200, "{doc}");
    doc
}

pub(crate) fn a_heartbeat_check_goes_down_when_its_pings_stop(p: &Prepared) {
    let vars = format!("NIGHTLY_TOKEN=\"{TOKEN}\"\n");
    let worker = p.fresh_worker_with(&vars);

    // Watched from the first round, not judged before a ping (or its period and grace).
    let first = nightly(&worker);
    assert_eq!((first["status"].as_str(), first["reason"].as_str()), (Some("unknown"), Some("skipped")), "{first}");
    assert_eq!(first["heartbeat"]["period_s"], PERIOD_S);
    assert_eq!(first["heartbeat"]["last_ping"], Value::Null, "{first}");
    assert_eq!(first["vantages"], json!({}), "no vantage sees a check: {first}");
    assert_schema("health-origin.schema.json", &first, "/health/nightly before a ping");

    // Bad pings: each its 4xx, none changes anything. A check whose secret
    // is not set answers exactly the 401 of a wrong token (its secret is
    // named in the worker's log only).
    let refresh_401 = ping(&worker, "POST", "/refresh", None, "").2;
    let wrong_401 = ping(&worker, "POST", "/ping/nightly", Some("wrong"), "").2;
    let huge = "x".repeat(20_000);
    let bad: [(&str, &str, Option<&str>, &str, u16); 12] = [
        ("POST", "/ping/nightly", None, "", 401),
        ("POST", "/ping/nightly", Some("wrong"), "", 401),
        ("POST", "/ping/wrong/nightly", None, "", 401),
        ("POST", "/ping/wrong/nightly/fail", Some(TOKEN), "", 401),
        ("POST", "/ping/weekly", None, "", 401),
        ("POST", "/ping/weekly", Some("guess"), "", 401),
        ("POST", "/ping/guess/weekly", None, "", 401),
        ("POST", "/ping/weekly/fail", Some(TOKEN), "", 401),
        ("POST", "/ping/nobody", Some(TOKEN), "", 404),
        ("POST", "/ping/app", Some(TOKEN), "", 404),
        ("GET", "/ping/nightly", Some(TOKEN), "", 405),
        ("POST", "/ping/nightly", Some(TOKEN), &huge, 413),
    ];
    for (method, path, token, body, status) in bad {
        let (got, _, doc) = ping(&worker, method, path, token, body);
        assert_eq!(got, status, "{method} {path} with {token:?}: {doc}");
        assert_schema("error.schema.json", &doc, &format!("{method} {path}'s {status}"));
        if status == 401 {
            assert_eq!(doc["error"], refresh_401["error"], "the same 401 as POST /refresh: {doc}");
            assert_eq!(doc, wrong_401, "{method} {path}: one 401, whatever the secret's state");
            assert!(!doc.to_string().contains(UNSET_SECRET), "{doc}");
        }
    }
    let weekly = check_doc(&worker, "weekly");
    assert_eq!(weekly["heartbeat"]["last_ping"], Value::Null, "no ping of weekly was taken: {weekly}");
    let streamed = chunked_ping(&worker, 64 * 1024);
    assert!(streamed.starts_with("HTTP/1.1 413"), "a chunked body over 10 KB: {streamed:?}");
    std::thread::sleep(Duration::from_millis(2_500)); // a round or more
    let after = nightly(&worker);
    assert_eq!(after["heartbeat"]["last_ping"], Value::Null, "no bad ping was taken: {after}");

    // A ping: 200 at once; up at the next round. Its body is read and
    // dropped, whatever its bytes (here not UTF-8, as a job's log may be).
    let pinged = Instant::now();
    let (status, _, doc) = ping_bytes(&worker, "POST", "/ping/nightly", Some(TOKEN), b"run 1 ok \xff\xfe");
    assert_eq!((status, doc["check"].as_str(), doc["ping"].as_str()), (200, Some("nightly"), Some("success")), "{doc}");
    assert_schema("ping.schema.json", &doc, "a ping's 200");
    let up = worker.until("/health/nightly", 20, |o| o["status"] == "up");
    assert_eq!(up["reason"], "ok", "{up}");
    assert_eq!(up["heartbeat"]["last_success"], doc["received_at"], "{up}");
    assert_eq!(up["heartbeat"]["last_ping"], doc["received_at"], "{up}");
    assert_schema("health-origin.schema.json", &up, "/health/nightly up");
    let (status, ready) = worker.get("/ready/jobs");
    assert_eq!((status, ready["ready"].as_bool()), (200, Some(true)), "the check's region: {ready}");

    // No ping for period + grace: down, heartbeat_missed, never sooner.
    let missed = worker.until("/health/nightly", 30, |o| o["status"] == "down");
    assert!(
        pinged.elapsed() >= Duration::from_secs(PERIOD_S + GRACE_S),
        "down {:?} after the ping, before its period and grace: {missed}",
        pinged.elapsed()
    );
    assert_eq!(missed["reason"], "heartbeat_missed", "{missed}");
    let (status, ready) = worker.get("/ready/jobs");
    assert_eq!((status, ready["ready"].as_bool()), (503, Some(false)), "{ready}");

    // The next ping (its token in the path this time): up again.
    let (status, _, doc) = ping(&worker, "POST", &format!("/ping/{TOKEN}/nightly"), None, "");
    assert_eq!(status, 200, "{doc}");
    worker.until("/health/nightly", 20, |o| o["status"] == "up");

    // A fail ping: down, heartbeat_failed.
    std::thread::sleep(Duration::from_millis(1_100));
    let (status, _, doc) = ping(&worker, "POST", "/ping/nightly/fail", Some(TOKEN), "exit 1");
    assert_eq!((status, doc["ping"].as_str()), (200, Some("fail")), "{doc}");
    let failed = worker.until("/health/nightly", 20, |o| o["status"] == "down");
    assert_eq!(failed["reason"], "heartbeat_failed", "{failed}");
    assert!(failed["heartbeat"]["last_failure"].is_string(), "{failed}");

    // A run with a start: up, its duration the latency.
    std::thread::sleep(Duration::from_millis(1_100));
    assert_eq!(ping(&worker, "POST", "/ping/nightly/start", Some(TOKEN), "").0, 200);
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(ping(&worker, "POST", "/ping/nightly", Some(TOKEN), "").0, 200);
    let run = worker.until("/health/nightly", 20, |o| o["status"] == "up");
    let latency = run["latency_ms"].as_u64().unwrap_or(0);
    assert!((1_400..60_000).contains(&latency), "the run's duration, about 1.5 s: {run}");

    // A ping storm: at most one a second is taken, the rest get 429.
    std::thread::sleep(Duration::from_millis(1_100));
    let stormed = Instant::now();
    let storm: Vec<u16> = (0..20).map(|_| ping(&worker, "POST", "/ping/nightly", Some(TOKEN), "").0).collect();
    let spanned_s = stormed.elapsed().as_secs() as usize;
    assert!(storm.iter().all(|s| *s == 200 || *s == 429), "{storm:?}");
    let taken = storm.iter().filter(|s| **s == 200).count();
    assert!((1..=spanned_s + 1).contains(&taken), "{taken} of 20 taken over {spanned_s} s: {storm:?}");
    assert!(storm.contains(&429) || spanned_s >= 19, "20 pings within {spanned_s} s and no 429: {storm:?}");

    // History, metrics and the page name it like any origin.
    let (_, history) = worker.get("/history/nightly");
    let reasons: Vec<&str> =
        history["changes"].as_array().unwrap().iter().filter_map(|c| c["reason"].as_str()).collect();
    assert!(reasons.contains(&"heartbeat_missed") && reasons.contains(&"heartbeat_failed"), "{history}");
    assert_schema("history.schema.json", &history, "/history/nightly");
    let (status, metrics) = request("GET", &worker.url("/metrics"));
    assert_eq!(status, 200);
    assert!(
        metrics.contains("edgecheck_origin_status{region=\"jobs\",origin=\"nightly\",state=\"up\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("edgecheck_round_probes{reason=\"heartbeat_missed\"}"), "{metrics}");
    let (status, page) = request("GET", &worker.url("/"));
    assert_eq!(status, 200);
    assert!(page.contains("nightly</th>") && page.contains("· heartbeat, last ping"), "{page}");

    // A ping is saved when it is taken, not at the next round: a crash right
    // after it loses nothing.
    std::thread::sleep(Duration::from_millis(1_100));
    let (status, _, last) = ping(&worker, "POST", "/ping/nightly", Some(TOKEN), "");
    assert_eq!(status, 200, "{last}");
    worker.crash();
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &vars);
    let after = worker.until("/health/nightly", 20, |o| o["heartbeat"]["last_success"] == last["received_at"]);
    assert_eq!(after["status"], "up", "{after}");
    let last_failure = after["heartbeat"]["last_failure"].clone();
    assert!(last_failure.is_string(), "{after}");

    // A fail ping right after a success: a 429 that changes nothing (or, on
    // a machine so loaded that a second passed between them, taken).
    std::thread::sleep(Duration::from_millis(1_100));
    let sent = Instant::now();
    assert_eq!(ping(&worker, "POST", "/ping/nightly", Some(TOKEN), "").0, 200);
    let (status, retry_after, doc) = ping(&worker, "POST", "/ping/nightly/fail", Some(TOKEN), "");
    if status == 429 {
        assert_eq!(retry_after.as_deref(), Some("1"), "{doc}");
        assert_eq!(doc["error"], "too_many_requests", "{doc}");
        assert_schema("error.schema.json", &doc, "a ping's 429");
        let checked = nightly(&worker)["checked_at"].clone();
        let next = worker.until("/health/nightly", 20, |o| o["checked_at"] != checked);
        assert_eq!(next["heartbeat"]["last_failure"], last_failure, "the 429's fail was not taken: {next}");
        assert_eq!(next["status"], "up", "{next}");
    } else {
        assert_eq!(status, 200, "{doc}");
        assert!(sent.elapsed() >= Duration::from_secs(1), "a second ping within {:?} was taken", sent.elapsed());
    }
    assert_schema("health-origin.schema.json", &after, "/health/nightly after a restart");
}
