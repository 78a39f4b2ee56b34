//! A drain is one status for every reader: what `/health` and `/ready` say
//! about a drained region, the webhook, the Cloudflare pool, `/history`,
//! uptime and `since` say too (README.md, "Manual drain").

use super::*;

const NAME: &str = "a_drain_is_one_status_for_every_reader";
const POOL: &str = "e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4";

fn cloudflare() -> Arc<Receiver> {
    west_pool(NAME, POOL)
}

fn hook() -> Arc<Receiver> {
    receiver(&format!("{NAME}/hook"), || Receiver::start(Service::Webhook))
}

/// Two regions (east, west) of one origin each; a webhook told about the
/// fleet, both regions and every origin; the west pool follows west.
pub(crate) fn drains_config(fleet: &Fleet) -> String {
    let cf = cloudflare();
    two_regions(fleet)
        + &format!(
            "[[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl_secret = \"OPS_URL\"\nsigning_secret = \"OPS_SECRET\"\n\
             global = true\nregions = [\"*\"]\norigins = [\"*\"]\n\
             [[notify]]\nname = \"west-pool\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"CF_TOKEN\"\nbase_url = \"{}\"\n\
             account_id = \"{ACCOUNT}\"\npool_id = \"{POOL}\"\nfollows = \"west\"\n",
            cf.url("/client/v4")
        )
}

/// An RFC 3339 time as a `SystemTime`.
fn at(text: &str) -> std::time::SystemTime {
    humantime::parse_rfc3339_weak(text).unwrap_or_else(|e| panic!("{text:?} is not RFC 3339: {e}"))
}

/// `(kind, name, to)` of `/history`'s changes at or after `after`, oldest first.
fn history_since(worker: &Worker, after: std::time::SystemTime) -> Vec<(String, String, String)> {
    let (_, history) = worker.get("/history");
    assert_schema("history.schema.json", &history, "/history");
    let mut out: Vec<(String, String, String)> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| at(c["at"].as_str().unwrap()) >= after)
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or("").to_string();
            (text("kind"), text("name"), text("to"))
        })
        .collect();
    out.reverse();
    out
}

/// Every scope's `(scope, name, to)` told in the webhook's accepted notices after the first `skip`.
fn told_after(hook: &Receiver, skip: usize) -> Vec<(String, String, String)> {
    accepted(&hook.received())
        .iter()
        .skip(skip)
        .flat_map(|r| {
            let doc = verified(r);
            ["global", "region", "origin"]
                .into_iter()
                .flat_map(|scope| told(&doc, scope).into_iter().map(move |(n, to)| (scope.to_string(), n, to)))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub(crate) fn a_drain_is_one_status_for_every_reader(p: &Prepared) {
    let (hook, cf) = (hook(), cloudflare());
    let vars = format!("OPS_URL=\"{}\"\nOPS_SECRET=\"{WHSEC}\"\nCF_TOKEN=\"{CF_TOKEN}\"\n", hook.url("/ops"));
    let worker = p.fresh_worker_with(&vars);
    worker.until("/health", 30, |h| h["status"] == "ok");
    rounds(&worker, 2);
    let before = accepted(&hook.received()).len();
    assert!(cf.pool(POOL)["enabled"].as_bool().unwrap(), "the pool starts enabled");

    // Drained: out of rotation while its probes see it up.
    // Whole seconds: the times edgecheck shows may be rounded down to them.
    let now = || at(&humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string());
    let drained_at = now();
    let (status, _, doc) = admin(&worker, "POST", "/admin/drain/west", Some(ADMIN), r#"{"reason": "switch swap"}"#);
    assert_eq!(status, 200, "{doc}");
    let ready = worker.until("/ready/west", 20, |r| r["ready"] == false);
    assert_eq!((ready["status"].as_str(), ready["reason"].as_str()), (Some("up"), Some("drained")), "{ready}");
    assert_eq!(request("GET", &worker.url("/ready/west")).0, 503);
    // /health: west out of rotation, the fleet degraded (west counts as down in it).
    let health = worker.until("/health", 30, |h| h["status"] == "degraded");
    assert_eq!(health["regions"]["west"]["drain"]["reason"], "switch swap", "{health}");
    assert_schema("health.schema.json", &health, "/health with a drain");

    // The webhook is told west drained and the fleet degraded, once; the pool is disabled.
    let told_drain = |t: &[(String, String, String)]| {
        t.contains(&("region".into(), "west".into(), "drained".into()))
            && t.contains(&("global".into(), String::new(), "degraded".into()))
    };
    hook.until(30, "the drain told", |_| told_drain(&told_after(&hook, before)));
    cf.until(30, "the west pool disabled", |_| !cf.pool(POOL)["enabled"].as_bool().unwrap());
    // /history: the drain and the fleet's change, with the `since` /health shows.
    let history = history_since(&worker, drained_at);
    assert!(history.contains(&("drain".into(), "west".into(), "drained".into())), "{history:?}");
    assert!(history.contains(&("global".into(), String::new(), "degraded".into())), "{history:?}");
    let (_, health) = worker.get("/health");
    let since = health["since"].as_str().unwrap();
    assert!(at(since) >= drained_at, "the fleet is degraded since the drain: {since} is before it");
    // Uptime: drained rounds count apart (as planned time), never as down.
    let region = worker.until("/health/west", 30, |r| r["uptime"]["1h"]["maintenance"].as_f64() > Some(0.0));
    assert_eq!(region["uptime"]["1h"]["down"].as_f64(), Some(0.0), "{region}");
    assert_schema("health-region.schema.json", &region, "/health/west drained");
    let (_, _, metrics) = get_with(&worker, "/metrics", None);
    assert!(metrics.contains(r#"edgecheck_drained{scope="region",name="west"} 1"#), "{metrics}");
    rounds(&worker, 2);
    let drains_told = told_after(&hook, before).iter().filter(|t| t.2 == "drained").count();
    assert_eq!(drains_told, 1, "told once: {:?}", told_after(&hook, before));

    // Lifted: back in rotation, and every reader says so.
    let lifted_at = now();
    let (status, _, doc) = admin(&worker, "DELETE", "/admin/drain/west", Some(ADMIN), "");
    assert_eq!(status, 200, "{doc}");
    worker.until("/ready/west", 20, |r| r["ready"] == true);
    worker.until("/health", 30, |h| h["status"] == "ok");
    let told_lift = |t: &[(String, String, String)]| {
        t.contains(&("region".into(), "west".into(), "up".into()))
            && t.contains(&("global".into(), String::new(), "up".into()))
    };
    hook.until(30, "the lift told", |_| told_lift(&told_after(&hook, before)));
    cf.until(30, "the west pool enabled again", |_| cf.pool(POOL)["enabled"].as_bool().unwrap());
    let history = history_since(&worker, lifted_at);
    assert!(history.contains(&("drain".into(), "west".into(), "lifted".into())), "{history:?}");
    assert!(history.contains(&("global".into(), String::new(), "ok".into())), "{history:?}");
    let (_, health) = worker.get("/health");
    assert!(at(health["since"].as_str().unwrap()) >= lifted_at, "{health}");
    assert!(health["regions"]["west"].get("drain").is_none(), "{health}");
    // Nothing in all this was an origin's outage: no origin was told or recorded down.
    assert!(told_after(&hook, before).iter().all(|t| t.0 != "origin"), "{:?}", told_after(&hook, before));
    let origin_downs = history_since(&worker, drained_at).into_iter().filter(|c| c.0 == "origin").count();
    assert_eq!(origin_downs, 0, "no origin changed");
}
