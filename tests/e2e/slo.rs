//! Error budgets end to end: an origin that fails one probe in five never
//! leaves `up` (fall = 10 here; the host test has fall = 3), yet burns a 99.9 % objective 200 times too fast.
//! Its page and its ticket fire through a webhook (verified with the
//! Standard Webhooks reference library) and a PagerDuty stand-in, a restart
//! while they fire re-sends nothing, `/slo`, `/metrics` (promtool) and the
//! page agree, and both resolve once it is healthy again. The windows are
//! scaled down through config: a page over 1 min and 20 s, a ticket over
//! 4 min and 1 min, a round every 2 s.

use super::*;

const SLO: &str = "an_origin_failing_one_probe_in_five_pages_and_resolves";
const PD_KEY: &str = "e2e-routing-key-slo0";

fn slo_receivers() -> [Arc<Receiver>; 2] {
    [
        receiver(&format!("{SLO}/hook"), || Receiver::start(Service::Webhook)),
        receiver(&format!("{SLO}/pager"), || Receiver::pagerduty(PD_KEY)),
    ]
}

/// `api` and `steady` in region main; the objective `api-availability`
/// (99.9 %, told to `hook` and `pager`) with two scaled-down pairs, and
/// `steady-availability` (99 %, the default pairs, told to nobody).
pub(crate) fn slo_config(fleet: &Fleet) -> String {
    let [_, pager] = slo_receivers();
    format!(
        "[settings]\nprobe_timeout_ms = 1000\ndeadline_ms = 1500\nrefresh_s = 2\nrise = 1\nfall = 10\n\
         [regions.main]\n\
         [[origins]]\nname = \"api\"\nregion = \"main\"\nurl = \"{}\"\n\
         [[origins]]\nname = \"steady\"\nregion = \"main\"\nurl = \"{}\"\n\
         [[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl_secret = \"HOOK_URL\"\nsigning_secret = \"HOOK_SECRET\"\n\
         origins = [\"api\"]\n\
         [[notify]]\nname = \"pager\"\nkind = \"pagerduty\"\nrouting_key_secret = \"PD_KEY\"\nbase_url = \"{}\"\n\
         regions = [\"main\"]\n\
         [[slo]]\nname = \"api-availability\"\norigin = \"api\"\nobjective = 99.9\nwindow_days = 1\n\
         channels = [\"hook\", \"pager\"]\n\
         [[slo.alerts]]\nseverity = \"page\"\nlong_window = \"1m\"\nshort_window = \"20s\"\nburn_rate = 14.4\n\
         [[slo.alerts]]\nseverity = \"ticket\"\nlong_window = \"4m\"\nshort_window = \"1m\"\nburn_rate = 1\n\
         [[slo]]\nname = \"steady-availability\"\norigin = \"steady\"\nobjective = 99\n",
        fleet.url("api", "/health"),
        fleet.url("steady", "/health"),
        pager.url("")
    )
}

fn slo_vars() -> String {
    let [hook, _] = slo_receivers();
    format!("HOOK_URL=\"{}\"\nHOOK_SECRET=\"{WHSEC}\"\nPD_KEY=\"{PD_KEY}\"\n", hook.url("/hook"))
}

/// The webhook's burn-rate notices accepted: `(severity, state)` in order.
fn burns(received: &[Received]) -> Vec<(String, String)> {
    accepted(received)
        .iter()
        .map(verified)
        .filter(|d| d["type"] == "edgecheck.burn_rate")
        .map(|d| {
            (d["data"]["severity"].as_str().unwrap().to_string(), d["data"]["state"].as_str().unwrap().to_string())
        })
        .collect()
}

/// PagerDuty events accepted: `(event_action, severity or "", dedup_key)`.
fn events(received: &[Received]) -> Vec<(String, String, String)> {
    accepted(received)
        .iter()
        .map(|r| {
            let e = r.json();
            (
                e["event_action"].as_str().unwrap().to_string(),
                e["payload"]["severity"].as_str().unwrap_or_default().to_string(),
                e["dedup_key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The value of the one series `series` (name and labels, as written) in `metrics`.
fn sample(metrics: &str, series: &str) -> f64 {
    let line = metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .unwrap_or_else(|| panic!("no {series} in {metrics}"));
    line[series.len() + 1..].parse().unwrap()
}

pub(crate) fn an_origin_failing_one_probe_in_five_pages_and_resolves(p: &Prepared) {
    let fleet = &p.fleet;
    let [hook, pager] = slo_receivers();
    let worker = p.fresh_worker_with(&slo_vars());
    worker.until("/health", 60, |h| h["status"] == "ok");
    let (status, slo) = worker.get("/slo");
    assert_eq!(status, 200, "{slo}");
    assert_schema("slo.schema.json", &slo, "/slo before any failure");
    assert_eq!(slo["objectives"][0]["slices"]["bad"], 0, "{slo}");

    // One probe in five fails: api stays up, the page and the ticket fire.
    fleet.set("api", "fail-one-in-5");
    let got = hook.until(120, "the page and the ticket firing", |r| {
        let b = burns(r);
        ["page", "ticket"].iter().all(|s| b.contains(&(s.to_string(), "firing".to_string())))
    });
    let told = burns(&got);
    assert!(told.iter().all(|(_, state)| state == "firing"), "nothing resolves while it burns: {told:?}");
    let page = accepted(&got).iter().map(verified).find(|d| d["data"]["severity"] == "page").unwrap();
    assert_eq!(
        (&page["data"]["slo"], &page["data"]["scope"], &page["data"]["name"]),
        (&json!("api-availability"), &json!("origin"), &json!("api")),
        "{page}"
    );
    assert_eq!((&page["data"]["long_window"], &page["data"]["short_window"]), (&json!("1m"), &json!("20s")));
    assert!(page["data"]["long_rate"].as_f64().unwrap() > 14.4, "{page}");
    assert!(page["data"]["short_rate"].as_f64().unwrap() > 14.4, "{page}");
    let fired = pager.until(60, "a critical and a warning trigger", |r| events(r).len() >= 2);
    let fired = events(&fired);
    let severities: std::collections::BTreeSet<&str> = fired.iter().map(|(_, s, _)| s.as_str()).collect();
    assert_eq!(severities, ["critical", "warning"].into(), "{fired:?}");
    assert!(fired.iter().all(|(action, _, _)| action == "trigger"), "{fired:?}");
    let page_key = fired.iter().find(|(_, s, _)| s == "critical").unwrap().2.clone();
    assert_eq!(page_key, "edgecheck-slo-api-availability-page-1m-20s");
    // The damped status never left up, and readiness held.
    let api = worker.get("/health/api").1;
    assert_eq!(api["status"], "up", "{api}");
    assert_eq!(worker.get("/ready").0, 200);

    // /slo, /metrics and the page show the same round's budget and alerts.
    let (slo, metrics, page) = (0..20)
        .find_map(|_| {
            let (_, slo) = worker.get("/slo/api-availability");
            let (_, metrics) = request("GET", &worker.url("/metrics"));
            let (_, page) = request("GET", &worker.url("/"));
            let (_, again) = worker.get("/slo/api-availability");
            // The same round throughout: the budget moved on otherwise.
            (slo == again).then_some((slo, metrics, page))
        })
        .expect("/slo held still across three reads");
    assert_schema("slo-one.schema.json", &slo, "/slo/api-availability while it burns");
    assert_eq!(slo["alerts"][0]["firing"], true, "{slo}");
    assert_eq!(slo["alerts"][1]["firing"], true, "{slo}");
    let remaining = slo["error_budget"]["remaining_ratio"].as_f64().unwrap();
    assert!(remaining < 1.0, "the budget is burning: {slo}");
    assert!(slo["slices"]["bad"].as_u64().unwrap() >= 1, "{slo}");
    promtool_check(&metrics);
    let name = "slo=\"api-availability\"";
    assert_eq!(sample(&metrics, &format!("edgecheck_slo_objective_ratio{{{name}}}")), 0.999);
    assert_eq!(sample(&metrics, &format!("edgecheck_slo_error_budget_remaining_ratio{{{name}}}")), remaining);
    // The 5m and 30m windows are longer than the pairs' fine buckets span
    // (4 min) and shorter than an hour bucket: no rate, null in /slo and no
    // series; the others as /slo says.
    for window in ["5m", "30m", "1h", "6h", "3d"] {
        let series = format!("edgecheck_slo_burn_rate{{{name},window=\"{window}\"}}");
        match slo["burn_rates"][window].as_f64() {
            Some(rate) => assert_eq!(sample(&metrics, &series), rate, "{window}: {slo}"),
            None => assert!(!metrics.contains(&series), "{series} without a rate: {metrics}"),
        }
    }
    assert_eq!((&slo["burn_rates"]["5m"], &slo["burn_rates"]["30m"]), (&Value::Null, &Value::Null), "{slo}");
    let firing =
        format!("edgecheck_slo_alert_firing{{{name},severity=\"page\",long_window=\"1m\",short_window=\"20s\"}}");
    assert_eq!(sample(&metrics, &firing), 1.0);
    assert!(page.contains("Error budgets"), "{page}");
    assert!(page.contains(&format!("value=\"{:.4}\"", remaining.clamp(0.0, 1.0))), "the page's budget bar: {page}");
    assert!(page.contains("page 1m/20s"), "the page names the firing pair: {page}");

    // A restart while both fire re-sends nothing. Through the restart api
    // fails every probe (fall = 10 keeps it up for these few rounds), so
    // that no window can fall back under its rate on its own and a notice
    // could only be a re-send. (A short window that empties while workerd
    // is down holds its pair: a_short_window_without_slices_holds_a_firing_pair.)
    let since = |slo: &Value| slo["alerts"].as_array().unwrap().iter().map(|a| a["since"].clone()).collect::<Vec<_>>();
    let before = since(&worker.get("/slo/api-availability").1);
    let (hooked, paged) = (hook.received().len(), pager.received().len());
    fleet.set("api", "503");
    worker.crash();
    let worker = Worker::run_with(p.name, &e2e_dir(p.name).join("state"), &slo_vars());
    worker.until("/health", 60, |h| h["status"] == "ok");
    rounds(&worker, 3);
    let (_, slo) = worker.get("/slo/api-availability");
    assert_eq!(since(&slo), before, "both pairs fire on, since the same rounds, after the restart: {slo}");
    assert_eq!(
        hook.received().len(),
        hooked,
        "the webhook was told again after a restart: {:?}",
        burns(&hook.received())
    );
    assert_eq!(
        pager.received().len(),
        paged,
        "PagerDuty was told again after a restart: {:?}",
        events(&pager.received())
    );

    assert_eq!(worker.get("/health/api").1["status"], "up", "fall = 10 kept api up through the restart");

    // Healthy again: the page resolves once its 20 s window holds no bad
    // slice, the ticket once its 1 min one does; each under its own key.
    fleet.set("api", "spring");
    let done = pager.until(120, "the page and the ticket resolved", |r| {
        events(r).iter().filter(|(action, _, _)| action == "resolve").count() >= 2
    });
    let all = events(&done);
    let resolves: Vec<&String> = all.iter().filter(|(a, _, _)| a == "resolve").map(|(_, _, key)| key).collect();
    let triggers: std::collections::BTreeSet<&String> =
        all.iter().filter(|(a, _, _)| a == "trigger").map(|(_, _, key)| key).collect();
    assert_eq!(triggers.len(), 2, "one trigger per pair: {all:?}");
    assert!(resolves.iter().all(|k| triggers.contains(k)), "each resolve closes its trigger: {all:?}");
    let told = burns(&hook.until(60, "the webhook told both resolved", |r| {
        burns(r).iter().filter(|(_, state)| state == "resolved").count() >= 2
    }));
    assert_eq!(told.iter().filter(|(_, s)| s == "firing").count(), 2, "{told:?}");
    let (_, slo) = worker.get("/slo/api-availability");
    assert!(slo["alerts"].as_array().unwrap().iter().all(|a| a["firing"] == false), "{slo}");
    assert_eq!(worker.get("/health/api").1["status"], "up");
}
