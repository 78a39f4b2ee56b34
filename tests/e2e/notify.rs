//! Notifications and load-balancer steering, delivered to receivers of our
//! own on loopback (`receiver.rs`) that follow each service's contract.

use super::*;

/// The Standard Webhooks specification's example secret.
pub(crate) const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const PD_KEY: &str = "e2e-routing-key-0001";
const CF_TOKEN: &str = "e2e-cloudflare-token";
const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const EAST_POOL: &str = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0";
const WEST_POOL: &str = "f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1";

const OUTBOX: &str = "notifications_arrive_in_order_through_outages_crashes_and_hangs";
const POOLS: &str = "a_cloudflare_pool_follows_readiness_fail_static_and_damped";

const MASS: usize = 200;

/// `solo` in region main, and 200 origins in region mass, on one port.
pub(crate) fn outbox_fleet() -> Vec<(String, String)> {
    let mut specs = vec![("solo".to_string(), "spring".to_string())];
    specs.extend((0..MASS).map(|i| (format!("m{i:03}"), "spring".to_string())));
    specs
}

fn outbox_receivers() -> [Arc<Receiver>; 5] {
    [
        receiver(&format!("{OUTBOX}/hook"), || Receiver::start(Service::Webhook)),
        receiver(&format!("{OUTBOX}/all"), || Receiver::start(Service::Webhook)),
        receiver(&format!("{OUTBOX}/slack"), || Receiver::start(Service::Slack)),
        receiver(&format!("{OUTBOX}/discord"), || Receiver::start(Service::Discord)),
        receiver(&format!("{OUTBOX}/pager"), || Receiver::pagerduty(PD_KEY)),
    ]
}

/// Five channels: `hook` (solo), `all` (region mass and every origin),
/// `slack` and `discord` (every origin), `pager` (region main).
pub(crate) fn outbox_config(fleet: &Fleet) -> String {
    let [_, _, _, _, pager] = outbox_receivers();
    let mut toml = String::from(
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 3000\nrefresh_s = 4\nrise = 1\nfall = 1\nmin_regions_up = 1\n\
         [regions.main]\n[regions.mass]\n",
    );
    toml += &format!("[[origins]]\nname = \"solo\"\nregion = \"main\"\nurl = \"{}\"\n", fleet.url("solo", "/health"));
    for i in 0..MASS {
        let name = format!("m{i:03}");
        toml +=
            &format!("[[origins]]\nname = \"{name}\"\nregion = \"mass\"\nurl = \"{}\"\n", fleet.url(&name, "/health"));
    }
    toml += &format!(
        "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl_secret = \"HOOK_URL\"\nsigning_secret = \"HOOK_SECRET\"\n\
         origins = [\"solo\"]\ntimeout_ms = 2000\n\
         [[notify]]\nname = \"all\"\nkind = \"webhook\"\nurl_secret = \"ALL_URL\"\nsigning_secret = \"HOOK_SECRET\"\n\
         regions = [\"mass\"]\norigins = [\"*\"]\ntimeout_ms = 5000\n\
         [[notify]]\nname = \"slack\"\nkind = \"slack\"\nurl_secret = \"SLACK_URL\"\norigins = [\"*\"]\nevents = [\"down\", \"up\"]\n\
         [[notify]]\nname = \"discord\"\nkind = \"discord\"\nurl_secret = \"DISCORD_URL\"\norigins = [\"*\"]\n\
         [[notify]]\nname = \"pager\"\nkind = \"pagerduty\"\nrouting_key_secret = \"PD_KEY\"\nbase_url = \"{}\"\nregions = [\"main\"]\n",
        pager.url("")
    );
    toml
}

fn outbox_vars() -> String {
    let [hook, all, slack, discord, _] = outbox_receivers();
    format!(
        "HOOK_URL=\"{}\"\nALL_URL=\"{}\"\nHOOK_SECRET=\"{WHSEC}\"\nSLACK_URL=\"{}\"\nDISCORD_URL=\"{}\"\nPD_KEY=\"{PD_KEY}\"\n",
        hook.url("/hook"),
        all.url("/all"),
        slack.url("/services/T000/B000/XXXX"),
        discord.url("/api/webhooks/1/token")
    )
}

/// Waits for `n` more rounds (their `checked_at`); returns the last `/health`.
pub(crate) fn rounds(worker: &Worker, n: usize) -> Value {
    let mut last = worker.get("/health").1;
    for _ in 0..n {
        let before = last["checked_at"].as_str().unwrap_or_default().to_string();
        last = worker.until("/health", 30, |h| h["checked_at"].as_str().is_some_and(|at| at > before.as_str()));
    }
    last
}

/// The monitor's first round after `last` (both `/health?view=full`
/// documents), polled from the monitor itself for at most 30 s.
fn monitor_round(worker: &Worker, last: &Value) -> Value {
    let started = std::time::Instant::now();
    loop {
        let full = worker.full();
        if full["checked_at"] != last["checked_at"] {
            return full;
        }
        assert!(started.elapsed().as_secs() < 30, "no round after {} within 30 s", last["checked_at"]);
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The requests a receiver accepted (a 2xx).
pub(crate) fn accepted(received: &[Received]) -> Vec<Received> {
    received.iter().filter(|r| (200..300).contains(&r.status)).cloned().collect()
}

/// Verifies a webhook's signature with the Standard Webhooks reference
/// library (not edgecheck's code); returns its JSON.
pub(crate) fn verified(r: &Received) -> Value {
    let mut headers = http::HeaderMap::new();
    for (name, value) in &r.headers {
        if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name.as_bytes()), value.parse()) {
            headers.insert(name, value);
        }
    }
    standardwebhooks::Webhook::new(WHSEC)
        .unwrap()
        .verify(r.body.as_bytes(), &headers)
        .unwrap_or_else(|e| panic!("the webhook's signature does not verify ({e:?}): {r:?}"));
    r.json()
}

/// Every request with the same `webhook-id` carried the same body: a retry
/// repeats its notice.
fn same_id_same_body(received: &[Received]) {
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for r in received {
        let id = r.header("webhook-id").expect("a webhook-id").to_string();
        let first = bodies.entry(id.clone()).or_insert_with(|| r.body.clone());
        assert_eq!(first, &r.body, "{id} was sent with two bodies");
    }
}

/// `(name, to)` of a webhook notice's changes of `scope`.
pub(crate) fn told(doc: &Value, scope: &str) -> Vec<(String, String)> {
    doc["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["scope"] == scope)
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["to"].as_str().unwrap().to_string()))
        .collect()
}

pub(crate) fn notifications_arrive_in_order_through_outages_crashes_and_hangs(p: &Prepared) {
    let fleet = &p.fleet;
    let [hook, all, slack, discord, pager] = outbox_receivers();
    let worker = p.fresh_worker_with(&outbox_vars());

    // A first round of an up fleet is where every channel starts: nothing is told.
    worker.until("/health", 60, |h| h["status"] == "ok");
    let baseline = rounds(&worker, 2);
    for r in [&hook, &all, &slack, &discord, &pager] {
        assert!(r.received().is_empty(), "{r:?} was told something about an up fleet: {:?}", r.received());
    }
    let mut durations = vec![baseline["duration_ms"].as_u64().unwrap()];

    // Outage, then recovery: hook refuses for three rounds while solo goes down, up and down.
    hook.set(Mode::Refuse(503));
    fleet.set("solo", "503");
    worker.until("/health/solo", 30, |o| o["status"] == "down");
    fleet.set("solo", "spring");
    worker.until("/health/solo", 30, |o| o["status"] == "up");
    fleet.set("solo", "503");
    worker.until("/health/solo", 30, |o| o["status"] == "down");
    durations.push(rounds(&worker, 3)["duration_ms"].as_u64().unwrap());
    assert!(!hook.received().is_empty(), "deliveries were attempted while refused");
    assert!(accepted(&hook.received()).is_empty());
    hook.set(Mode::Accept);
    fleet.set("solo", "spring");
    worker.until("/health/solo", 30, |o| o["status"] == "up");
    // Retries back off (up to 64 s after a minute of refusals): an honest wait.
    let got = hook.until(150, "four notices about solo accepted", |r| accepted(r).len() >= 4);
    same_id_same_body(&got);
    let delivered: Vec<Value> = accepted(&got).iter().map(verified).collect();
    let ids: Vec<&str> = delivered.iter().map(|d| d["data"]["id"].as_str().unwrap()).collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a notice accepted twice: {ids:?}");
    let to: Vec<String> = delivered.iter().flat_map(|d| told(d, "origin")).map(|(_, to)| to).collect();
    assert_eq!(to, ["down", "up", "down", "up"], "every transition, in order: {delivered:?}");
    // The same as the monitor recorded.
    let (_, history) = worker.get("/history/solo");
    let recorded: Vec<String> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .filter(|c| !c["from"].is_null())
        .map(|c| c["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(to, recorded, "{history}");

    // PagerDuty: one incident per channel, triggered and resolved, never resolved first.
    let events = pager.until(60, "two triggers and two resolves", |r| accepted(r).len() >= 4);
    let actions: Vec<(String, String)> = accepted(&events)
        .iter()
        .map(|r| {
            let e = r.json();
            (e["event_action"].as_str().unwrap().to_string(), e["dedup_key"].as_str().unwrap().to_string())
        })
        .collect();
    let kinds: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(kinds, ["trigger", "resolve", "trigger", "resolve"], "{actions:?}");
    assert!(actions.iter().all(|(_, key)| key == &actions[0].1), "one dedup_key: {actions:?}");
    assert_eq!(accepted(&events)[0].json()["payload"]["severity"], "critical");
    assert!(slack.received().iter().all(|r| r.status == 200), "slack refused: {:?}", slack.received());

    slack.until(30, "slack told solo's four changes", |r| accepted(r).len() >= 4);
    discord.until(30, "discord told solo's four changes", |r| accepted(r).len() >= 4);

    // Mass outage: every origin goes down in one round; each channel gets one message.
    // The switch is made just after a round was shown, seconds before the next
    // starts, so that no round sees half of it.
    let marks: Vec<usize> = [&all, &slack, &discord].iter().map(|r| r.received().len()).collect();
    rounds(&worker, 1);
    fleet.set("*", "503");
    worker.until("/health", 30, |h| h["status"] == "down");
    durations.push(rounds(&worker, 2)["duration_ms"].as_u64().unwrap());
    for (r, mark) in [&all, &slack, &discord].iter().zip(&marks) {
        let new: Vec<Received> = r.received()[*mark..].to_vec();
        assert_eq!(new.len(), 1, "{r:?}: one message for the mass outage, got {}: {new:?}", new.len());
        assert!((200..300).contains(&new[0].status), "{r:?} refused it: {:?}", new[0]);
    }
    let mass = verified(&all.received()[marks[0]]);
    assert_eq!(mass["data"]["counts"]["down"], json!(MASS + 2), "200 + solo + the region: {mass}");
    let text = slack.received()[marks[1]].json()["text"].as_str().unwrap().to_string();
    assert!(text.contains(&format!("{} down", MASS + 1)), "{text}");

    // A hanging receiver: rounds go on as before while its deliveries are cut and retried.
    all.set(Mode::Hang);
    fleet.set("*", "spring");
    all.until(60, "a delivery held by the hanging receiver", |r| r.last().is_some_and(|l| l.status == 0));
    // Round starts are read from the monitor's own view: the public /health
    // is a held snapshot, which may skip a round it asked for too early.
    let mut last = worker.full();
    for _ in 0..3 {
        let next = monitor_round(&worker, &last);
        let gap = ms(&next["checked_at"]) - ms(&last["checked_at"]);
        assert!(gap <= 4_000 + 2_000, "a round started {gap} ms after the one before (refresh 4 s)");
        durations.push(next["duration_ms"].as_u64().unwrap());
        last = next;
    }
    let before = durations[..3].iter().max().unwrap();
    let during = durations[3..].iter().max().unwrap();
    assert!(*during <= before + 1_000, "rounds took up to {during} ms while a receiver hung, {before} ms before");
    eprintln!("e2e: round durations before and while a receiver hung: {durations:?} ms");

    // Crash mid-delivery: workerd is killed while a delivery is held, and
    // started again on the same state. The notice is delivered with its id.
    let seen = all.received().len();
    let held = all.until(90, "a delivery in flight", |r| r.len() > seen && r.last().is_some_and(|l| l.status == 0));
    let held_id = held.last().unwrap().header("webhook-id").unwrap().to_string();
    worker.crash();
    all.set(Mode::Accept);
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &outbox_vars());
    let got = all.until(120, "the held notice delivered after the restart", |r| {
        accepted(r).iter().any(|a| a.header("webhook-id") == Some(held_id.as_str()))
    });
    same_id_same_body(&got);
    let recovered: Vec<(String, String)> =
        accepted(&got).iter().map(verified).flat_map(|d| told(&d, "origin")).filter(|(_, to)| to == "up").collect();
    assert!(recovered.len() > MASS, "every recovery told: {} of {}", recovered.len(), MASS + 1);

    // A restart with nothing changed tells nothing.
    worker.until("/health", 30, |h| h["status"] == "ok");
    rounds(&worker, 2);
    let settled: Vec<usize> = [&hook, &all, &slack, &discord, &pager].iter().map(|r| r.received().len()).collect();
    drop(worker);
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &outbox_vars());
    rounds(&worker, 3);
    let after: Vec<usize> = [&hook, &all, &slack, &discord, &pager].iter().map(|r| r.received().len()).collect();
    assert_eq!(after, settled, "a restart re-told something");

    // Visible to operators: the admin view and /metrics, never a URL.
    let full = worker.full();
    assert_schema("health-full.schema.json", &full, "/health?view=full with channels");
    let hook_view = &full["notify"]["hook"];
    assert_eq!(hook_view["kind"], "webhook", "{full}");
    assert_eq!(hook_view["pending"], 0);
    assert!(hook_view["last_success"].is_string(), "{hook_view}");
    assert!(hook_view["last_error"].as_str().unwrap().contains("503"), "{hook_view}");
    // The full view shows the origins' (redacted) URLs, never a receiver's.
    let text = full.to_string();
    for r in [&hook, &all, &slack, &discord, &pager] {
        assert!(!text.contains(&format!(":{}", r.port())), "the admin view names {r:?}'s URL");
    }
    assert!(!full["notify"].to_string().contains("127.0.0.1"), "{}", full["notify"]);
    let (_, metrics) = request("GET", &worker.url("/metrics"));
    assert!(metrics.contains("edgecheck_notify_pending{channel=\"all\"} 0"), "{metrics}");
    assert!(metrics.contains("edgecheck_notify_dropped_total{channel=\"hook\"} 0"), "{metrics}");
    let (_, health) = request("GET", &worker.url("/health"));
    assert!(!health.contains("127.0.0.1") && !health.contains("hook"), "a public document names a channel");
}

fn ms(rfc3339: &Value) -> i64 {
    let text = rfc3339.as_str().unwrap();
    let at = humantime::parse_rfc3339(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    at.duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

// ---------------------------------------------------------------------------
// Cloudflare Load Balancing steering
// ---------------------------------------------------------------------------

pub(crate) fn pools_fleet() -> Vec<(String, String)> {
    pairs(&[("east-a", "spring"), ("east-b", "spring"), ("west-a", "spring")])
}

fn pools() -> Value {
    json!({
        EAST_POOL: {
            "id": EAST_POOL, "name": "east", "description": "east pool", "enabled": true, "minimum_origins": 1,
            "monitor": "f00dfeedf00dfeedf00dfeedf00dfeed", "notification_email": "ops@example.com",
            "check_regions": ["ENAM"], "created_on": "2026-01-01T00:00:00Z", "modified_on": "2026-01-01T00:00:00Z",
            "origins": [{"name": "east-lb-1", "address": "192.0.2.10", "enabled": true, "weight": 1}]
        },
        WEST_POOL: {
            "id": WEST_POOL, "name": "west", "description": "west pool", "enabled": true, "minimum_origins": 1,
            "monitor": "f00dfeedf00dfeedf00dfeedf00dfeed", "notification_email": "",
            "check_regions": ["WEU"], "created_on": "2026-01-01T00:00:00Z", "modified_on": "2026-01-01T00:00:00Z",
            "origins": [
                {"name": "west-a", "address": "192.0.2.20", "enabled": true, "weight": 0.7, "header": {"Host": ["west.example.com"]}},
                {"name": "west-b", "address": "192.0.2.21", "enabled": true, "weight": 0.3}
            ]
        }
    })
}

fn cloudflare() -> Arc<Receiver> {
    receiver(&format!("{POOLS}/cloudflare"), || Receiver::cloudflare(CF_TOKEN, ACCOUNT, pools()))
}

fn flap_receiver() -> Arc<Receiver> {
    receiver(&format!("{POOLS}/flap"), || Receiver::start(Service::Webhook))
}

/// east (east-a, east-b; all must be up) steers the east pool; west-a steers
/// its own origin in the west pool; `flap` is told about east-a. Rise and fall 2.
pub(crate) fn pools_config(fleet: &Fleet) -> String {
    pools_config_with(fleet, "")
}

/// The same fleet with one origin more (a redeploy).
pub(crate) fn pools_redeployed(fleet: &Fleet) -> String {
    pools_config_with(
        fleet,
        &format!("[[origins]]\nname = \"west-b\"\nregion = \"west\"\nurl = \"{}\"\n", fleet.url("east-b", "/health")),
    )
}

fn pools_config_with(fleet: &Fleet, extra: &str) -> String {
    let cf = cloudflare();
    let mut toml = String::from(
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 2000\nrefresh_s = 5\nrise = 2\nfall = 2\nmax_stale_s = 6\n\
         min_regions_up = 1\n[regions.east]\nmin_up = \"all\"\n[regions.west]\n",
    );
    for (name, region) in [("east-a", "east"), ("east-b", "east"), ("west-a", "west")] {
        toml += &format!(
            "[[origins]]\nname = \"{name}\"\nregion = \"{region}\"\nurl = \"{}\"\n",
            fleet.url(name, "/health")
        );
    }
    toml += extra;
    let base = cf.url("/client/v4");
    toml += &format!(
        "[[notify]]\nname = \"east-pool\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"CF_TOKEN\"\nbase_url = \"{base}\"\n\
         account_id = \"{ACCOUNT}\"\npool_id = \"{EAST_POOL}\"\nfollows = \"east\"\n\
         [[notify]]\nname = \"west-origin\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"CF_TOKEN\"\nbase_url = \"{base}\"\n\
         account_id = \"{ACCOUNT}\"\npool_id = \"{WEST_POOL}\"\npool_origin = \"west-a\"\nfollows = \"west-a\"\n\
         [[notify]]\nname = \"flap\"\nkind = \"webhook\"\nurl_secret = \"FLAP_URL\"\nsigning_secret = \"HOOK_SECRET\"\n\
         origins = [\"east-a\"]\n"
    );
    toml
}

fn pools_vars() -> String {
    format!("CF_TOKEN=\"{CF_TOKEN}\"\nFLAP_URL=\"{}\"\nHOOK_SECRET=\"{WHSEC}\"\n", flap_receiver().url("/flap"))
}

/// A pool without the fields a PATCH is expected to change.
fn without(mut pool: Value, keys: &[&str]) -> Value {
    for key in keys {
        pool.as_object_mut().unwrap().remove(*key);
    }
    pool
}

pub(crate) fn a_cloudflare_pool_follows_readiness_fail_static_and_damped(p: &Prepared) {
    let fleet = &p.fleet;
    let (cf, flap) = (cloudflare(), flap_receiver());
    let original = pools();
    let worker = p.fresh_worker_with(&pools_vars());
    worker.until("/health", 60, |h| h["status"] == "ok");
    rounds(&worker, 2);
    assert!(cf.received().is_empty(), "a ready fleet changed a pool: {:?}", cf.received());

    // Damping: one bad probe (fall = 2) tells no one and steers nothing. The
    // bad answer is set just after a round was shown and undone as soon as
    // one round saw it, seconds before the next (refresh 5 s).
    rounds(&worker, 1);
    fleet.set("east-a", "503");
    worker.until("/health/east-a", 30, |o| o["probe_status"] == "down");
    fleet.set("east-a", "spring");
    let after = rounds(&worker, 2);
    assert_eq!(origins(&after)["east-a"]["status"], "up", "{after}");
    let (_, history) = worker.get("/history/east-a");
    assert_eq!(history["changes"].as_array().unwrap().len(), 1, "only the first up: {history}");
    assert!(cf.received().is_empty() && flap.received().is_empty(), "a damped flap was told");

    // east goes down (east-a down, min_up = all): the east pool is disabled, every other field kept.
    fleet.set("east-a", "503");
    let patched = cf.until(45, "the east pool disabled", |r| r.iter().any(|r| r.method == "PATCH"));
    let patch = patched.iter().find(|r| r.method == "PATCH").unwrap();
    assert_eq!(patch.json(), json!({"enabled": false}), "only enabled is patched");
    assert!(patched.iter().all(|r| r.header("authorization") == Some(&format!("Bearer {CF_TOKEN}")[..])));
    assert!(patched.iter().all(|r| (200..300).contains(&r.status)), "{patched:?}");
    let east = cf.pool(EAST_POOL);
    assert_eq!(east["enabled"], false);
    assert_eq!(
        without(east, &["enabled", "modified_on"]),
        without(original[EAST_POOL].clone(), &["enabled", "modified_on"])
    );
    let told = flap.until(45, "flap told east-a is down", |r| !accepted(r).is_empty());
    assert_eq!(self::told(&verified(&told[0]), "origin"), [("east-a".to_string(), "down".to_string())]);

    // And back: enabled again.
    fleet.set("east-a", "spring");
    cf.until(45, "the east pool enabled", |_| cf.pool(EAST_POOL)["enabled"] == true);

    // west-a down: one origin of the west pool disabled; the origins array is written back whole.
    fleet.set("west-a", "503");
    cf.until(45, "west-a disabled in its pool", |_| cf.pool(WEST_POOL)["origins"][0]["enabled"] == false);
    let west = cf.pool(WEST_POOL);
    let mut expected = original[WEST_POOL].clone();
    expected["origins"][0]["enabled"] = json!(false);
    assert_eq!(without(west, &["modified_on"]), without(expected, &["modified_on"]), "every other field as it was");
    fleet.set("west-a", "spring");
    cf.until(45, "west-a enabled again", |_| cf.pool(WEST_POOL)["origins"][0]["enabled"] == true);
    worker.until("/health", 30, |h| h["status"] == "ok");
    rounds(&worker, 1);

    // A cut-off checker (every probe refused: stale, then unknown) changes nothing.
    let mark = cf.received().len();
    fleet.set("*", "refuse");
    worker.until("/health", 30, |h| h["stale"] == true);
    worker.until("/health", 30, |h| h["status"] == "unknown");
    rounds(&worker, 1);
    assert_eq!(cf.received().len(), mark, "a cut-off checker steered a pool: {:?}", &cf.received()[mark..]);
    fleet.set("*", "spring");
    worker.until("/health", 30, |h| h["status"] == "ok" && h["stale"] == false);
    rounds(&worker, 2);
    assert_eq!(cf.received().len(), mark, "coming back from a cut-off steered a pool");

    // A restart and a redeploy with the fleet's origins unchanged tell nothing.
    let (cf_mark, flap_mark) = (cf.received().len(), flap.received().len());
    drop(worker);
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &pools_vars());
    rounds(&worker, 3);
    drop(worker);
    let (ok, output) = p.also.as_ref().expect("the redeployed fleet is built");
    assert!(ok, "the redeployed build failed:\n{output}");
    let worker = Worker::run_as(&format!("{}-b", p.name), p.name, &e2e_dir(p.name).join("state"), &pools_vars());
    let health = rounds(&worker, 3);
    assert_eq!(origins(&health).len(), 4, "the redeployed fleet runs: {health}");
    assert_eq!(
        (cf.received().len(), flap.received().len()),
        (cf_mark, flap_mark),
        "a restart or a redeploy told something"
    );
}
