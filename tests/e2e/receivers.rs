//! Receivers that misbehave as real ones do: slower than the gap between
//! rounds, a 200 whose body drips, a 429 with a long `Retry-After`, and one
//! that refuses through 100 rounds of churn and then catches up.

use super::*;

const HOSTILE: &str = "hostile_receivers_are_credited_once_and_a_retry_after_holds_the_queue";
const CHURN: &str = "a_refusing_receiver_keeps_its_outbox_bounded_and_catches_up_in_order";

/// What the monitor's `Retry-After` test asks for, seconds: five rounds.
const RETRY_AFTER_S: u64 = 10;
/// Origins flapping through the churn.
const FLAPPING: usize = 20;
/// Rounds of churn while the receiver refuses.
const CHURN_ROUNDS: usize = 100;
/// `notify::MAX_PENDING_NOTICES`: a channel's queue at most.
const MAX_PENDING_NOTICES: usize = 16;
/// How much workerd may grow through the 100 rounds, KiB: 42 to 45 MiB
/// measured (warm-up included) on a loaded 2-core machine.
const CHURN_GROWTH_KIB: u64 = 64 * 1024;
/// How much more a refused worker may grow than its peer whose receiver
/// accepts everything through the last 50 rounds, KiB (measured: 12.5 and
/// 12.8 MiB against 8.3 and 7.2 MiB); the queue itself is at most 512 KiB.
const PEER_MARGIN_KIB: u64 = 16 * 1024;

fn hostile_receivers() -> [Arc<Receiver>; 3] {
    [
        receiver(&format!("{HOSTILE}/slow"), || Receiver::start(Service::Webhook)),
        receiver(&format!("{HOSTILE}/drip"), || Receiver::start(Service::Webhook)),
        receiver(&format!("{HOSTILE}/limited"), || Receiver::start(Service::Webhook)),
    ]
}

pub(crate) fn hostile_fleet() -> Vec<(String, String)> {
    pairs(&[("s", "spring"), ("d", "spring"), ("l", "spring")])
}

/// Rounds every 2 s; `slow` answers in 3 s within its 5 s, `drip` answers
/// 200 at once and drips its body for 10 s past its 2 s, `limited` asks to
/// wait 10 s.
pub(crate) fn hostile_config(fleet: &Fleet) -> String {
    let mut toml = String::from(
        "[settings]\nprobe_timeout_ms = 800\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 1\nfall = 1\nmin_regions_up = 1\n\
         [regions.main]\n",
    );
    for name in ["s", "d", "l"] {
        toml +=
            &format!("[[origins]]\nname = \"{name}\"\nregion = \"main\"\nurl = \"{}\"\n", fleet.url(name, "/health"));
    }
    for (channel, origin, timeout) in [("slow", "s", 5000), ("drip", "d", 2000), ("limited", "l", 2000)] {
        toml += &format!(
            "[[notify]]\nname = \"{channel}\"\nkind = \"webhook\"\nurl_secret = \"{}_URL\"\nsigning_secret = \"HOOK_SECRET\"\n\
             origins = [\"{origin}\"]\ntimeout_ms = {timeout}\n",
            channel.to_uppercase()
        );
    }
    toml
}

fn hostile_vars() -> String {
    let [slow, drip, limited] = hostile_receivers();
    format!(
        "SLOW_URL=\"{}\"\nDRIP_URL=\"{}\"\nLIMITED_URL=\"{}\"\nHOOK_SECRET=\"{WHSEC}\"\n",
        slow.url("/slow"),
        drip.url("/drip"),
        limited.url("/limited")
    )
}

/// The `webhook-id`s of `received`, in the order they came.
fn ids(received: &[Received]) -> Vec<String> {
    received.iter().map(|r| r.header("webhook-id").expect("a webhook-id").to_string()).collect()
}

/// A counter of `/metrics` for `channel`.
fn metric(worker: &Worker, name: &str, channel: &str) -> u64 {
    let (status, metrics) = request("GET", &worker.url("/metrics"));
    assert_eq!(status, 200, "{metrics}");
    let prefix = format!("{name}{{channel=\"{channel}\"}} ");
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
        .trim()
        .parse()
        .unwrap()
}

pub(crate) fn hostile_receivers_are_credited_once_and_a_retry_after_holds_the_queue(p: &Prepared) {
    let fleet = &p.fleet;
    let [slow, drip, limited] = hostile_receivers();
    slow.set(Mode::Slow(3_000));
    drip.set(Mode::Drip { bytes: 40, every_ms: 250 });
    limited.set(Mode::RetryAfter(RETRY_AFTER_S));
    let worker = p.fresh_worker_with(&hostile_vars());
    worker.until("/health", 60, |h| h["status"] == "ok");
    rounds(&worker, 2);
    for r in [&slow, &drip, &limited] {
        assert!(r.received().is_empty(), "{r:?} was told about an up fleet: {:?}", r.received());
    }

    // Every origin goes down: one notice to each channel.
    for name in ["s", "d", "l"] {
        fleet.set(name, "503");
    }
    worker.until("/health", 30, |h| h["regions"]["main"]["down"] == 3);
    let first = limited.until(30, "the first notice, refused with Retry-After", |r| !r.is_empty());
    assert_eq!(first[0].status, 429);
    limited.set(Mode::Accept);
    let asked_at = first[0].at;
    let held = first[0].header("webhook-id").unwrap().to_string();
    let round_before = worker.get("/health").1["checked_at"].clone();

    // And back up: a second notice each, queued behind the first.
    for name in ["s", "d", "l"] {
        fleet.set(name, "spring");
    }
    worker.until("/health", 30, |h| h["regions"]["main"]["up"] == 3);

    // The slow receiver: each notice sent once, credited once, in order.
    let got = slow.until(60, "two notices accepted by the slow receiver", |r| accepted(r).len() >= 2);
    let to: Vec<String> =
        accepted(&got).iter().map(verified).flat_map(|d| told(&d, "origin")).map(|(_, t)| t).collect();
    assert_eq!(to, ["down", "up"], "{got:?}");
    // The drip: its 200 status line is success, its body is not waited for.
    let dripped = drip.until(60, "two notices answered by the dripping receiver", |r| r.len() >= 2);
    // The Retry-After: the held notice again after its wait, then the next one.
    let told_l = limited.until(60, "the held notice and the next accepted", |r| accepted(r).len() >= 2);
    rounds(&worker, 3);

    for (r, channel) in [(&slow, "slow"), (&drip, "drip")] {
        let sent = ids(&r.received());
        let unique: std::collections::BTreeSet<&String> = sent.iter().collect();
        assert_eq!(sent.len(), 2, "{channel}: each notice sent once, never again: {sent:?}");
        assert_eq!(unique.len(), 2, "{channel}: {sent:?}");
        assert_eq!(metric(&worker, "edgecheck_notify_delivered_total", channel), 2, "{channel} credited once each");
        assert_eq!(metric(&worker, "edgecheck_notify_dropped_total", channel), 0);
        assert_eq!(metric(&worker, "edgecheck_notify_pending", channel), 0);
    }
    assert!(dripped.iter().all(|r| r.status == 200), "{dripped:?}");

    let sent = ids(&limited.received());
    assert_eq!(sent.len(), 3, "429, then the same notice, then the next: {sent:?} {told_l:?}");
    assert_eq!((&sent[0], &sent[1]), (&held, &held), "the held notice is sent again first: {sent:?}");
    assert_ne!(sent[2], held, "then the next notice, never before the held one");
    let waited = told_l[1].at - asked_at;
    assert!(
        waited >= Duration::from_millis(RETRY_AFTER_S * 1000 - 500),
        "sent again {waited:?} after a Retry-After of {RETRY_AFTER_S} s"
    );
    let l: Vec<String> =
        accepted(&limited.received()).iter().map(verified).flat_map(|d| told(&d, "origin")).map(|(_, t)| t).collect();
    assert_eq!(l, ["down", "up"]);
    assert_eq!(metric(&worker, "edgecheck_notify_delivered_total", "limited"), 2);
    // Rounds went on through the wait: the held notice waited several of them.
    let (_, history) = worker.get("/history/l");
    assert!(history["changes"].as_array().unwrap().len() >= 2, "{history}");
    assert_ne!(worker.get("/health").1["checked_at"], round_before);
    eprintln!("e2e: the Retry-After of {RETRY_AFTER_S} s was waited {waited:?}");
}

fn churn_receiver() -> Arc<Receiver> {
    receiver(&format!("{CHURN}/hook"), || Receiver::start(Service::Webhook))
}

/// The peer's receiver, which accepts everything.
fn peer_receiver() -> Arc<Receiver> {
    receiver(&format!("{CHURN}/peer"), || Receiver::start(Service::Webhook))
}

/// `f00`..: the refused worker's origins; `g00`..: its peer's, whose
/// receiver accepts (each worker probes its own, so each sees every flap).
pub(crate) fn churn_fleet() -> Vec<(String, String)> {
    ["f", "g"]
        .iter()
        .flat_map(|prefix| (0..FLAPPING).map(move |i| (format!("{prefix}{i:02}"), "flap".to_string())))
        .collect()
}

/// Rounds every second; every origin flaps each round; one channel told of
/// every origin, retried every 2 s at most.
pub(crate) fn churn_config(fleet: &Fleet) -> String {
    churn_config_of(fleet, "f")
}

/// The same fleet and channel for the peer, over the `g` origins.
pub(crate) fn churn_peer_config(fleet: &Fleet) -> String {
    churn_config_of(fleet, "g")
}

fn churn_config_of(fleet: &Fleet, prefix: &str) -> String {
    let mut toml = String::from(
        "[settings]\nprobe_timeout_ms = 300\ndeadline_ms = 500\nrefresh_s = 1\nrise = 1\nfall = 1\nmin_regions_up = 1\n\
         [regions.main]\n",
    );
    for (name, _) in churn_fleet().iter().filter(|(n, _)| n.starts_with(prefix)) {
        toml +=
            &format!("[[origins]]\nname = \"{name}\"\nregion = \"main\"\nurl = \"{}\"\n", fleet.url(name, "/health"));
    }
    toml += "[[notify]]\nname = \"churn\"\nkind = \"webhook\"\nurl_secret = \"CHURN_URL\"\nsigning_secret = \"HOOK_SECRET\"\n\
             global = true\norigins = [\"*\"]\ntimeout_ms = 1000\nretry_max_s = 2\n";
    toml
}

/// The sequence number at the end of a notice id (`<channel>-<round>-<seq>`).
fn seq_of(id: &str) -> u64 {
    id.rsplit('-').next().unwrap().parse().unwrap()
}

pub(crate) fn a_refusing_receiver_keeps_its_outbox_bounded_and_catches_up_in_order(p: &Prepared) {
    let fleet = &p.fleet;
    let hook = churn_receiver();
    hook.set(Mode::Refuse(503));
    let vars = |r: &Receiver| format!("CHURN_URL=\"{}\"\nHOOK_SECRET=\"{WHSEC}\"\n", r.url("/churn"));
    let worker = p.fresh_worker_with(&vars(&hook));
    // The peer: the same churn, its receiver accepting everything.
    let (ok, output) = p.also.as_ref().expect("the peer is built");
    assert!(ok, "the peer's build failed:\n{output}");
    let peer_name = format!("{}-b", p.name);
    let peer_receiver = peer_receiver();
    let _ = std::fs::remove_dir_all(e2e_dir(&peer_name).join("state"));
    let peer = Worker::run_as(&peer_name, &peer_name, &e2e_dir(&peer_name).join("state"), &vars(&peer_receiver));
    worker.until("/health", 60, |h| h["checked_at"].is_string());
    peer.until("/health", 60, |h| h["checked_at"].is_string());
    rounds(&worker, 5);
    let mut rss = vec![(worker.workerd_rss_kib(), peer.workerd_rss_kib())];
    let mut most = 0;
    for _ in 0..CHURN_ROUNDS / 10 {
        rounds(&worker, 10);
        let pending = metric(&worker, "edgecheck_notify_pending", "churn");
        assert!(pending as usize <= MAX_PENDING_NOTICES, "{pending} notices queued");
        most = most.max(pending);
        rss.push((worker.workerd_rss_kib(), peer.workerd_rss_kib()));
    }
    eprintln!(
        "e2e: workerd's memory every 10 rounds of churn (refused, peer accepted), KiB: {rss:?}; queue at most {most}"
    );
    // Warm-up (V8's heap, SQLite's cache) is over by half-way in both: from
    // there, a refused worker grows as its peer does, within a margin.
    let half = rss.len() / 2;
    let grown = |from: usize, pick: fn(&(u64, u64)) -> u64| pick(rss.last().unwrap()).saturating_sub(pick(&rss[from]));
    let growth = grown(0, |r| r.0);
    assert!(growth <= CHURN_GROWTH_KIB, "workerd grew {growth} KiB through the churn: {rss:?}");
    let (late, peer_late) = (grown(half, |r| r.0), grown(half, |r| r.1));
    assert!(
        late <= peer_late + PEER_MARGIN_KIB,
        "through the last {} rounds a refused worker grew {late} KiB, its accepted peer {peer_late} KiB: {rss:?}",
        CHURN_ROUNDS / 2
    );
    let told_peer = accepted(&peer_receiver.received()).len();
    assert!(told_peer >= CHURN_ROUNDS / 2, "the peer's receiver was told {told_peer} notices: no churn?");
    drop(peer);
    let refused = hook.received();
    assert!(refused.len() >= 10 && refused.iter().all(|r| r.status == 503), "{} attempts", refused.len());
    assert_eq!(metric(&worker, "edgecheck_notify_dropped_total", "churn"), 0, "nothing dropped");

    // The churn stops with every origin up; then the receiver accepts.
    for (name, _) in churn_fleet().iter().filter(|(n, _)| n.starts_with('f')) {
        fleet.set(name, "spring");
    }
    worker.until("/health", 30, |h| h["regions"]["main"]["up"] == FLAPPING);
    let mark = hook.received().len();
    hook.set(Mode::Accept);
    let started = Instant::now();
    while metric(&worker, "edgecheck_notify_pending", "churn") > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the backlog was not delivered in 60 s");
        std::thread::sleep(Duration::from_millis(300));
    }
    let after: Vec<Received> = hook.received()[mark..].to_vec();
    assert!(
        after.len() <= MAX_PENDING_NOTICES + 1,
        "the backlog took {} requests, more than the queue's {MAX_PENDING_NOTICES} and one more",
        after.len()
    );
    assert!(after.iter().all(|r| (200..300).contains(&r.status)), "{after:?}");
    let delivered: Vec<Value> = after.iter().map(verified).collect();
    let seqs: Vec<u64> = delivered.iter().map(|d| seq_of(d["data"]["id"].as_str().unwrap())).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order: {seqs:?}");
    assert!(delivered.iter().any(|d| d["data"]["folded"]["notices"].as_u64() > Some(1)), "a folded notice");
    // Ending in the current state: each origin's last change told is up, as /health says.
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for d in &delivered {
        for (name, to) in told(d, "origin") {
            last.insert(name, to);
        }
    }
    for (name, _) in churn_fleet().iter().filter(|(n, _)| n.starts_with('f')) {
        assert_eq!(last.get(name).map(String::as_str), Some("up"), "{name}: {last:?}");
        assert_eq!(worker.get(&format!("/health/{name}")).1["status"], "up");
    }
    assert_eq!(delivered.last().unwrap()["data"]["status"], "up", "the last notice says the fleet is up");
    assert_eq!(metric(&worker, "edgecheck_notify_dropped_total", "churn"), 0);
    eprintln!("e2e: the backlog arrived in {} requests after {} refusals", after.len(), refused.len());
}
