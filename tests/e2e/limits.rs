//! Bounded resources: descriptors through a 1,000-origin round, and requests waiting for headers.

use super::*;

pub(crate) const THOUSAND: usize = 1000;
/// Shards of 50 from three vantages: 60 probers.
pub(crate) const THOUSAND_SHARD: usize = 50;
pub(crate) const THOUSAND_VANTAGES: usize = 3;
/// The probe timeout leaves a loaded 2-core machine room: a CI run saw a
/// loopback probe of a healthy origin take more than 2 s while 360 probes
/// started at once with another end-to-end test beside them.
pub(crate) const THOUSAND_TIMEOUT_MS: u64 = 5000;
pub(crate) const THOUSAND_DEADLINE_MS: u64 = 15000;

/// The first origin of every shard hangs.
pub(crate) fn thousand_fleet() -> Vec<(String, String)> {
    (0..THOUSAND)
        .map(|i| (format!("o{i:04}"), if i.is_multiple_of(THOUSAND_SHARD) { "hang" } else { "spring" }.to_string()))
        .collect()
}

pub(crate) fn thousand_config(fleet: &Fleet) -> String {
    // 20 shards of 50 from 3 vantages: 60 probers, all probing at once.
    let mut toml = format!(
        "[settings]\nprobe_timeout_ms = {THOUSAND_TIMEOUT_MS}\ndeadline_ms = {THOUSAND_DEADLINE_MS}\nrefresh_s = 120\n\
         shard_size = {THOUSAND_SHARD}\nvantages = [\"enam\", \"weur\", \"apac\"]\n"
    );
    for r in 0..10 {
        toml += &format!("[regions.r{r}]\n");
    }
    for i in 0..THOUSAND {
        toml += &format!(
            "[[origins]]\nname = \"o{i:04}\"\nregion = \"r{}\"\nurl = \"{}\"\n",
            i % 10,
            fleet.url(&format!("o{i:04}"), "/health")
        );
    }
    toml
}

/// 1,000 origins in 20 shards from 3 vantages, one hanging origin in every
/// shard (probe timeout 5 s, deadline 15 s): every prober probes at once with the
/// whole deadline, so every other origin is up, every hanging one is down
/// (`timeout`), no vantage is isolated or missing, and the round ends by the
/// deadline. And workerd's descriptors stay flat: a round holds the probes in
/// flight (60 probers × 6), not one per origin, and releases them.
pub(crate) fn a_thousand_origin_round_keeps_descriptors_flat(p: &Prepared) {
    let worker = p.fresh_worker();
    let group = worker.child.id();
    let before = worker.workerd_fds();
    // Samples workerd's open descriptors every 20 ms while `work` runs: the most seen.
    let peak_during = |work: &dyn Fn() -> (u16, Value)| {
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let (most, done) = (most.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(std::sync::atomic::Ordering::SeqCst) {
                    most.fetch_max(Worker::fds_of_group(group), std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let answer = work();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        sampler.join().unwrap();
        (answer, most.load(std::sync::atomic::Ordering::SeqCst))
    };
    let settle = |what: &str| {
        let started = Instant::now();
        while worker.workerd_fds() > before + 100 {
            assert!(started.elapsed() < Duration::from_secs(60), "{what}: {} fds 60 s later", worker.workerd_fds());
            std::thread::sleep(Duration::from_millis(250));
        }
        started.elapsed()
    };
    let check = |health: &Value, which: &str| {
        let seen = origins(health);
        assert_eq!(seen.len(), THOUSAND, "{which}");
        for (name, o) in &seen {
            let index: usize = name[1..].parse().unwrap();
            let want = if index.is_multiple_of(THOUSAND_SHARD) { ("down", "timeout") } else { ("up", "ok") };
            assert_eq!((o["status"].as_str().unwrap(), o["reason"].as_str().unwrap()), want, "{which}: {name}: {o}");
        }
        for (vantage, v) in health["vantages"].as_object().unwrap() {
            assert_eq!(v["state"], "reporting", "{which}: vantage {vantage}: {v}");
        }
        assert_eq!(health["vantages"].as_object().unwrap().len(), THOUSAND_VANTAGES);
        let duration = health["duration_ms"].as_u64().unwrap();
        assert!(duration <= THOUSAND_DEADLINE_MS, "{which}: the round took {duration} ms, past the deadline");
        duration
    };

    let started = Instant::now();
    let ((status, health), first_peak) = peak_during(&|| worker.get("/health"));
    let elapsed = started.elapsed();
    assert_eq!(status, 200);
    let first_duration = check(&health, "the first round");
    let first_settled = settle("after the first round");

    // A second round holds no more than the first: nothing accumulates.
    let refresh = || {
        let mut answer = worker.call_with("POST", "/refresh", &[("authorization", &format!("Bearer {ADMIN}"))]);
        (answer.status().as_u16(), serde_json::from_str(&answer.body_mut().read_to_string().unwrap()).unwrap())
    };
    let ((status, again), second_peak) = peak_during(&refresh);
    assert_eq!(status, 200);
    let second_duration = check(&again, "the second round");
    let second_settled = settle("after the second round");
    eprintln!(
        "e2e: 1,000 origins, 20 shards x 3 vantages, a hanging origin per shard: first answer {elapsed:?}, \
         rounds {first_duration} ms and {second_duration} ms (deadline {THOUSAND_DEADLINE_MS} ms); workerd fds \
         {before} before, peaks {first_peak} and {second_peak}, back within 100 of the start {first_settled:?} and \
         {second_settled:?} after each round"
    );
    // Flat: 60 probers probe at once, each with at most max_in_flight (6)
    // connections, so a round needs some 360 connections plus the objects'
    // plumbing, whatever the fleet's size. One descriptor kept per probe would add 3,000.
    for (round, peak) in [("first", first_peak), ("second", second_peak)] {
        assert!(
            peak <= before + FLAT_FDS,
            "the {round} round held {peak} descriptors ({before} before): more than {FLAT_FDS} above the start"
        );
    }
}

/// How far workerd's descriptors may rise during a round of any size: 60
/// probers × 6 probes in flight (measured: a rise of about 550, which is some
/// 1.5 descriptors per probe in flight), the probers' and the monitor's own
/// descriptors, and room for a loaded machine: 1,200, still well under one per
/// probe of the round (3,000).
pub(crate) const FLAT_FDS: usize = 1200;

// ---------------------------------------------------------------------------
// Connections: never more than max_in_flight requests wait for headers.
// ---------------------------------------------------------------------------

pub(crate) const WAITING_ORIGINS: usize = 12;

pub(crate) fn waiting_fleet() -> Vec<(String, String)> {
    let mut specs: Vec<(String, String)> =
        (0..WAITING_ORIGINS).map(|i| (format!("slow-{i:02}"), "delay-400".to_string())).collect();
    specs.push(("canary".into(), "delay-400".into()));
    specs
}

pub(crate) fn waiting_config(fleet: &Fleet) -> String {
    let mut toml = format!(
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 3000\nrefresh_s = 4\nmax_in_flight = 6\ncanary = \"{}\"\n[regions.main]\n",
        fleet.url("canary", "/")
    );
    for name in fleet.ports.keys().filter(|n| *n != "canary") {
        toml +=
            &format!("[[origins]]\nname = \"{name}\"\nregion = \"main\"\nurl = \"{}\"\n", fleet.url(name, "/health"));
    }
    toml
}

/// Workers allow 6 connections waiting for headers per invocation; a seventh is
/// queued while its timer runs. 12 origins and a canary, all answering after
/// 400 ms, with max_in_flight = 6: the origins see at most 6 requests waiting
/// at once (the canary was a seventh beside the round before it took a slot).
pub(crate) fn no_more_than_max_in_flight_requests_wait_for_headers_canary_included(p: &Prepared) {
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    worker.until("/health", 20, |h| h["status"] == "ok");
    let control = |method: &str, path: &str| {
        let (status, body) = request(method, &format!("http://127.0.0.1:{}{path}", fleet.control));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    for _ in 0..2 {
        control("POST", "/waiting/reset");
        let hits_before = control("GET", "/origins")["canary"]["hits"].as_u64().unwrap();
        let mut req = ureq::http::Request::builder().method("POST").uri(worker.url("/refresh"));
        req = req.header("authorization", format!("Bearer {ADMIN}"));
        let mut response = agent().run(req.body(()).unwrap()).unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        assert_eq!(response.status().as_u16(), 200, "{body}");
        let fresh: Value = serde_json::from_str(&body).unwrap();
        assert_eq!((fresh["status"].as_str(), fresh["stale"].as_bool()), (Some("ok"), Some(false)), "{fresh}");
        let waiting = control("GET", "/waiting");
        let max = waiting["max"].as_u64().unwrap();
        assert!(max <= 6, "{max} requests waited for headers at once: more than max_in_flight = 6");
        assert!(max >= 4, "the round ran its probes concurrently (max {max})");
        let hits_after = control("GET", "/origins")["canary"]["hits"].as_u64().unwrap();
        assert!(hits_after > hits_before, "the canary was probed in the round");
    }
}
