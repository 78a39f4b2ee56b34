//! DNS checks end to end: a `kind = "dns"` check resolved through a DoH
//! stand-in on loopback (`demo_origins` in a `doh-*` mode: RFC 8484, GET with
//! `?dns=` base64url, `Accept: application/dns-message`, the query decoded by
//! hickory-proto and answered with its ID and question; 400 to any request
//! that breaks the contract) goes `up` for the expected address, and `down`
//! with `dns_nxdomain`, `dns_servfail` and `dns_mismatch` after `fall`
//! rounds, its region not ready while it is down; nothing public shows the
//! resolver's URL, the name asked about or the record data.

use super::*;

/// The name the check asks about: seen by the stand-in only.
const QUERY: &str = "www.dns-e2e.test";
/// The address the check expects, and another one.
const EXPECTED: &str = "192.0.2.10";
const OTHER: &str = "192.0.2.99";

/// The stand-in resolver `doh`, answering `EXPECTED`; a plain origin `web`.
pub(crate) fn dns_fleet() -> Vec<(String, String)> {
    pairs(&[("doh", &format!("doh-a-{EXPECTED}")), ("web", "spring")])
}

/// The check `resolve` (A of [`QUERY`], expecting [`EXPECTED`]) in region
/// `names`, through the stand-in; `web` in region `main`. Rounds every 2 s,
/// rise = fall = 1.
pub(crate) fn dns_config(fleet: &Fleet) -> String {
    format!(
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 1\nfall = 1\n\
         [regions.names]\n[regions.main]\n\
         [[origins]]\nname = \"resolve\"\nregion = \"names\"\nkind = \"dns\"\nquery = \"{QUERY}\"\nrecord = \"A\"\n\
         resolver = \"{}\"\nexpect = [\"{EXPECTED}\"]\n\
         [[origins]]\nname = \"web\"\nregion = \"main\"\nurl = \"{}\"\n",
        fleet.url("doh", "/dns-query"),
        fleet.url("web", "/actuator/health"),
    )
}

pub(crate) fn a_dns_check_follows_its_resolver_answers(p: &Prepared) {
    let fleet = &p.fleet;
    let worker = p.fresh_worker();
    let up = worker.until("/health/resolve", 60, |o| o["status"] == "up");
    assert_eq!(up["reason"], "ok", "{up}");
    assert_schema("health-origin.schema.json", &up, "/health/resolve up");
    assert!(fleet.hits("doh") > 0, "the check asked the stand-in");
    let (status, ready) = worker.get("/ready/names");
    assert_eq!((status, &ready["ready"]), (200, &json!(true)), "{ready}");

    // Each answer in turn, with rise = fall = 1: down with its reason on the
    // first round that sees it, up on the first round after it.
    for (mode, reason) in [
        ("doh-nxdomain", "dns_nxdomain"),
        ("doh-servfail", "dns_servfail"),
        (&*format!("doh-a-{OTHER}"), "dns_mismatch"),
    ] {
        fleet.set("doh", mode);
        let down = worker.until("/health/resolve", 30, |o| o["status"] == "down");
        assert_eq!(down["reason"], reason, "{mode}: {down}");
        assert_schema("health-origin.schema.json", &down, &format!("/health/resolve {reason}"));
        let (status, ready) = worker.get("/ready/names");
        assert_eq!((status, &ready["ready"]), (503, &json!(false)), "{mode}: {ready}");
        let (status, _) = worker.get("/ready/main");
        assert_eq!(status, 200, "{mode}: another region is not touched");
        let (_, metrics) = request("GET", &worker.url("/metrics"));
        assert!(metrics.contains(&format!("edgecheck_round_probes{{reason=\"{reason}\"}} 1")), "{mode}: {metrics}");
        assert_nothing_of_the_check_is_public(&worker, fleet);

        fleet.set("doh", &format!("doh-a-{EXPECTED}"));
        let back = worker.until("/health/resolve", 30, |o| o["status"] == "up");
        assert_eq!(back["reason"], "ok", "after {mode}: {back}");
    }
    let (_, history) = worker.get("/history/resolve");
    let reasons: Vec<&str> =
        history["changes"].as_array().unwrap().iter().filter_map(|c| c["reason"].as_str()).collect();
    for reason in ["dns_nxdomain", "dns_servfail", "dns_mismatch"] {
        assert!(reasons.contains(&reason), "/history names {reason}: {history}");
    }
}

/// `/health`, `/metrics`, `?verbose` and the status page name the check and
/// its reason, never its resolver's address, the name asked about or an
/// address an answer held.
fn assert_nothing_of_the_check_is_public(worker: &Worker, fleet: &Fleet) {
    // The resolver's host and port, as http://127.0.0.1:<port>.
    let address = fleet.url("doh", "");
    let address = address.trim_start_matches("http://");
    for path in ["/health", "/health/resolve", "/health/names", "/metrics", "/ready/names?verbose", "/"] {
        let (_, body) = request("GET", &worker.url(path));
        assert!(body.contains("resolve"), "{path} names the check: {body}");
        for secret in ["/dns-query", "dns=", address, QUERY, "dns-e2e", EXPECTED, OTHER] {
            assert!(!body.contains(secret), "{path} shows {secret:?}: {body}");
        }
    }
}
