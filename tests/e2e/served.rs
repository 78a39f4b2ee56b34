//! Answers rendered where they are served: every age true at the time of the
//! request, the monitor asked at most once per refresh, `unknown` at once, and
//! a 503 from the Cache API's snapshot a plain 503.

use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

/// One answer as the client saw it.
struct Seen {
    path: &'static str,
    status: u16,
    /// `x-edgecheck-cache`: memory, hit or miss.
    source: String,
    /// `x-edgecheck-checked-at`, ms.
    checked_at: u64,
    age: u64,
    body: String,
    /// The client's clock before and after the request, ms.
    sent: u64,
    answered: u64,
}

fn seen(worker: &Worker, path: &'static str) -> Seen {
    let sent = now_ms();
    let mut answer = worker.call("GET", path);
    let answered = now_ms();
    let header = |name: &str| {
        answer.headers().get(name).unwrap_or_else(|| panic!("GET {path}: no {name}")).to_str().unwrap().to_string()
    };
    let (source, checked_at, age) = (header("x-edgecheck-cache"), header("x-edgecheck-checked-at"), header("age"));
    let body = answer.body_mut().read_to_string().unwrap();
    Seen {
        path,
        status: answer.status().as_u16(),
        source,
        checked_at: checked_at.parse().unwrap(),
        age: age.parse().unwrap(),
        body,
        sent,
        answered,
    }
}

impl Seen {
    /// Asserts that `age` (seconds) is the seconds since the round at the time
    /// of the request, within 1 s.
    fn assert_true_age(&self, what: &str, age: u64) {
        self.assert_age_since(what, age, 0);
    }

    /// The same for an age counted from up to `later_ms` after the round
    /// started (a vantage's report comes in during its round).
    fn assert_age_since(&self, what: &str, age: u64, later_ms: u64) {
        let low = self.sent.saturating_sub(self.checked_at + later_ms) / 1000;
        let high = self.answered.saturating_sub(self.checked_at) / 1000;
        assert!(
            age + 1 >= low && age <= high + 1,
            "{} ({}): {what} = {age} s, but the round started {low}..{high} s before",
            self.path,
            self.source
        );
    }
}

pub(crate) fn served_config(fleet: &Fleet) -> String {
    monitor_config(fleet, &["a", "b"], "").replace("refresh_s = 2", "refresh_s = 3")
}

/// Sequential requests across at least three refreshes: every age field of
/// `/health`, `/metrics` and the page is the seconds since the round at the
/// time of the request, and the monitor is asked at most once per refresh.
pub(crate) fn answers_are_rendered_where_they_are_served(p: &Prepared) {
    let worker = p.fresh_worker();
    worker.until("/health", 10, |h| h["status"] == "ok");
    let mut all: Vec<Seen> = Vec::new();
    let started = Instant::now();
    let rounds = |all: &[Seen]| all.iter().map(|a| a.checked_at).collect::<std::collections::BTreeSet<_>>().len();
    // Until four rounds were shown (three refreshes), for at most 30 s.
    while rounds(&all) < 4 && started.elapsed() < Duration::from_secs(30) {
        for path in ["/health", "/metrics", "/", "/ready"] {
            let answer = seen(&worker, path);
            assert_eq!(answer.status, 200, "{path}: {}", answer.body);
            answer.assert_true_age("Age", answer.age);
            match path {
                "/health" => {
                    let doc: Value = serde_json::from_str(&answer.body).unwrap();
                    answer.assert_true_age("age_s", doc["age_s"].as_u64().unwrap());
                    let took = doc["duration_ms"].as_u64().unwrap();
                    for (name, vantage) in doc["vantages"].as_object().unwrap() {
                        let age = vantage["age_s"].as_u64().unwrap();
                        answer.assert_age_since(&format!("vantages.{name}.age_s"), age, took);
                    }
                }
                "/metrics" => {
                    let line = answer.body.lines().find(|l| l.starts_with("edgecheck_snapshot_age_seconds ")).unwrap();
                    answer.assert_true_age(line, line.rsplit(' ').next().unwrap().parse().unwrap());
                }
                "/" => {
                    let shown = answer.body.split(" ago</time>").next().unwrap().rsplit('>').next().unwrap();
                    let seconds = shown.strip_suffix(" s").unwrap_or_else(|| panic!("the page says {shown:?} ago"));
                    answer.assert_true_age("the page's \"checked … ago\"", seconds.parse().unwrap());
                }
                _ => {}
            }
            all.push(answer);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // Per round shown: how many of its answers asked the monitor.
    let mut asks: BTreeMap<u64, usize> = BTreeMap::new();
    for answer in &all {
        *asks.entry(answer.checked_at).or_default() += usize::from(answer.source == "miss");
    }
    eprintln!("e2e: {} answers over {} rounds; asks of the monitor per round: {asks:?}", all.len(), asks.len());
    assert!(asks.len() >= 4, "three refreshes at least: {asks:?}");
    assert!(asks.values().all(|&n| n <= 1), "the monitor was asked more than once in a refresh: {asks:?}");
    let from_memory = all.iter().filter(|a| a.source == "memory").count();
    assert!(from_memory * 10 >= all.len() * 9, "{from_memory} of {} answers from memory", all.len());
}

pub(crate) fn unknown_config(fleet: &Fleet) -> String {
    "[settings]\nprobe_timeout_ms = 500\ndeadline_ms = 1500\nrefresh_s = 30\nmax_stale_s = 45\n\
     [regions.main]\nmin_up = \"all\"\n"
        .to_string()
        + &["a", "b"]
            .map(|name| {
                format!("[[origins]]\nname = \"{name}\"\nregion = \"main\"\nurl = \"{}\"\n", fleet.url(name, "/health"))
            })
            .concat()
}

/// A 503 read from the Cache API's snapshot by a fresh isolate is a 503 with
/// no private header; and an `unknown` that starts while an isolate holds a
/// snapshot is served as `unknown` at once, not at the next refresh.
pub(crate) fn an_unknown_starts_while_a_snapshot_is_held(p: &Prepared) {
    let fleet = &p.fleet;
    let state = e2e_dir(p.name).join("restarted-state");
    let _ = std::fs::remove_dir_all(&state);
    // b answers 503 and main needs all: down, and /ready is 503.
    let (checked_at, worker) = {
        let worker = Worker::run_with_state(p.name, &state);
        worker.until("/ready", 20, |r| r["status"] == "down");
        (seen(&worker, "/ready").checked_at, worker)
    };
    // A new isolate (wrangler dev restarted on the same state) finds the
    // snapshot in the Cache API, kept until the next round (refresh_s = 30).
    drop(worker);
    let worker = Worker::run_with_state(p.name, &state);
    let first = worker.call("GET", "/ready");
    let headers: BTreeMap<String, String> =
        first.headers().iter().map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string())).collect();
    let status = first.status().as_u16();
    let body = first.into_body().read_to_string().unwrap();
    assert_eq!((status, body.as_str()), (503, r#"{"status":"down","ready":false}"#));
    assert_eq!(headers["x-edgecheck-cache"], "hit", "{headers:?}");
    let trusted: u64 = headers["x-edgecheck-checked-at"].parse().unwrap();
    assert!(trusted >= checked_at, "{headers:?}");
    assert!(headers.keys().all(|h| h != "x-edgecheck-status"), "no private header: {headers:?}");
    assert!(headers["cache-control"].starts_with("public, max-age="), "{headers:?}");

    // The network goes: the next round is self-isolated, and the last
    // trustworthy one (`trusted`, the one just served) stays shown, stale,
    // until max_stale_s after it; the next round after that is 60 s after it.
    assert!(now_ms() + 2_000 < trusted + 30_000, "the next round is too close to cut the network before it");
    fleet.set("a", "refuse");
    fleet.set("b", "refuse");
    let stale = worker.until("/health", 40, |h| h["stale"] == true);
    assert_eq!(stale["status"], "down", "{stale}");
    let due = trusted + 45_000;
    let next_round = trusted + 60_000;
    let mut went_unknown = None;
    while now_ms() < next_round {
        let answer = seen(&worker, "/ready");
        let doc: Value = serde_json::from_str(&answer.body).unwrap();
        if doc["status"] == "unknown" {
            assert_eq!(answer.status, 503);
            went_unknown = Some(answer.answered);
            break;
        }
        assert!(answer.sent <= due + 1_000, "still {} at {} ms past max_stale_s", doc["status"], answer.sent - due);
        std::thread::sleep(Duration::from_millis(200));
    }
    let at = went_unknown.expect("unknown before the next round");
    eprintln!("e2e: unknown served {} ms after it was due", at as i64 - due as i64);
    assert!(at + 1_000 >= due, "unknown {} ms before max_stale_s", due - at);
}
