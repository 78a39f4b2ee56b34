//! The surfaces people plug into: variants and their cache keys, health+json,
//! detail levels, verbose readiness, Prometheus, badges, the status page.

use edgecheck_core::aggregate::{Probe, Round};
use edgecheck_core::classify::Outcome;
use edgecheck_core::config::Config;
use edgecheck_core::http::{self, dispatch, BadgeFormat, Dispatch, Extras, Incoming, Target, Variant};
use edgecheck_core::monitor::{advance, Change, Kind, Snapshot};
use edgecheck_core::render::page::PALETTES;
use edgecheck_core::uptime::{daily, first_day, Uptime, DAYS, DAY_MS, HOUR_MS};
use edgecheck_core::view::shown;
use serde_json::{json, Value};

use super::{header, round, valid, FLEET};

const AT: u64 = 1_795_000_000_000;

/// (path, query, Accept) -> the variant, or the status of the error answer.
#[test]
fn variants_come_from_a_fixed_set() {
    let c = valid(FLEET);
    type Row = (&'static str, &'static str, Option<&'static str>, Result<(Target, Variant), u16>);
    let rows: &[Row] = &[
        ("/health", "", None, Ok((Target::Health, Variant::Full))),
        ("/health", "format=json", None, Ok((Target::Health, Variant::Full))),
        ("/health", "format=health+json", None, Ok((Target::Health, Variant::HealthJson))),
        ("/health", "format=health%2Bjson", None, Ok((Target::Health, Variant::HealthJson))),
        ("/health", "format=xml", None, Err(400)),
        ("/health", "", Some("application/health+json"), Ok((Target::Health, Variant::HealthJson))),
        ("/health", "", Some("application/json, application/health+json;q=0.5"), Ok((Target::Health, Variant::Full))),
        (
            "/health",
            "",
            Some("application/health+json;q=0.9, application/json;q=0.8"),
            Ok((Target::Health, Variant::HealthJson)),
        ),
        ("/health", "", Some("text/html"), Ok((Target::Health, Variant::Full))),
        ("/health", "", Some("*/*"), Ok((Target::Health, Variant::Full))),
        ("/health", "format=json", Some("application/health+json"), Ok((Target::Health, Variant::Full))),
        ("/health", "detailed=false", None, Ok((Target::Health, Variant::Summary))),
        ("/health", "detailed=true&r=1", None, Ok((Target::Health, Variant::Full))),
        ("/health", "detailed=maybe", None, Err(400)),
        ("/health/east", "detailed=false", None, Ok((Target::HealthRegion(0), Variant::Summary))),
        ("/health/e1", "detailed=false", None, Ok((Target::HealthOrigin(0), Variant::Full))),
        ("/ready", "verbose", None, Ok((Target::Ready, Variant::Verbose))),
        ("/ready", "verbose=true", None, Ok((Target::Ready, Variant::Verbose))),
        ("/ready", "verbose=false", None, Ok((Target::Ready, Variant::Full))),
        ("/ready", "verbose=loud", None, Err(400)),
        ("/ready/west", "verbose&nonce=5", None, Ok((Target::ReadyRegion(2), Variant::Verbose))),
        ("/ready", "format=health+json&detailed=false", None, Ok((Target::Ready, Variant::Full))),
        ("/metrics", "verbose", None, Ok((Target::Metrics, Variant::Full))),
        ("/", "", Some("text/html"), Ok((Target::StatusPage, Variant::Full))),
        ("/badge/global.svg", "", None, Ok((Target::Badge(None, BadgeFormat::Svg), Variant::Full))),
        (
            "/badge/west.json",
            "",
            None,
            Ok((Target::Badge(Some(edgecheck_core::config::Named::Region(2)), BadgeFormat::Json), Variant::Full)),
        ),
        (
            "/badge/e3.svg",
            "",
            None,
            Ok((Target::Badge(Some(edgecheck_core::config::Named::Origin(2)), BadgeFormat::Svg), Variant::Full)),
        ),
        ("/badge/nowhere.svg", "", None, Err(404)),
        ("/badge/global.png", "", None, Err(404)),
        ("/badge/global", "", None, Err(404)),
    ];
    for &(path, query, accept, expected) in rows {
        let got = match dispatch(&c, Incoming { method: "GET", path, query, accept }) {
            Dispatch::Snapshot { target, variant, .. } => Ok((target, variant)),
            Dispatch::Answer(reply) => {
                let body: Value = serde_json::from_str(reply.body.as_deref().unwrap()).unwrap();
                let message = body["message"].as_str().unwrap();
                if reply.status == 400 {
                    assert!(message.contains(query.split('&').next().unwrap()), "{message} names {query}");
                } else if path.starts_with("/badge/") {
                    assert!(
                        message.contains(path.trim_start_matches("/badge/").split('.').next().unwrap()),
                        "{message}"
                    );
                }
                Err(reply.status)
            }
            Dispatch::Refresh
            | Dispatch::Detail { .. }
            | Dispatch::Drain { .. }
            | Dispatch::Maintenance { .. }
            | Dispatch::ListDrains { .. }
            | Dispatch::ListMaintenance { .. }
            | Dispatch::Ping(_) => {
                panic!()
            }
        };
        assert_eq!(got, expected, "{path}?{query} Accept {accept:?}");
    }
}

/// Answers for FLEET after one round `codes` (east down via critical e3, west up, south degraded).
fn answer(target: Target, variant: Variant, codes: &str) -> http::Reply {
    let c = valid(FLEET);
    let state = advance(&c, None, &round(AT, codes), true).state;
    let view = shown(&c, Snapshot { state: &state, now_ms: AT + 3_000 });
    http::answer(&c, target, variant, &view, Extras::default())
}

fn json_of(reply: &http::Reply) -> Value {
    serde_json::from_str(reply.body.as_deref().unwrap()).unwrap()
}

#[test]
fn health_json_follows_the_ietf_draft() {
    let reply = answer(Target::Health, Variant::HealthJson, "uuxuuud");
    assert_eq!((reply.status, header(&reply, "content-type")), (200, Some("application/health+json")));
    assert_eq!(header(&reply, "vary"), Some("Accept"));
    let doc = json_of(&reply);
    assert_eq!(doc["status"], "warn", "degraded is warn: {doc}");
    assert_eq!(doc["checks"].as_object().unwrap().len(), 7);
    assert_eq!(
        doc["checks"]["east:e3"],
        json!([{"componentId": "e3", "componentType": "component", "observedValue": 1, "observedUnit": "ms", "status": "fail", "time": "2026-11-18T11:06:40.000Z", "output": "status_mismatch"}])
    );
    assert_eq!(doc["checks"]["south:s1"][0]["status"], "warn");
    assert_eq!(doc["checks"]["west:w1"][0]["status"], "pass");
    assert!(doc["checks"]["west:w1"][0].get("output").is_none());
    // fail answers 503, as the draft asks; pass answers 200.
    let down = answer(Target::Health, Variant::HealthJson, "xxuuuux");
    assert_eq!((down.status, json_of(&down)["status"].as_str()), (503, Some("fail")));
    let ok = answer(Target::Health, Variant::HealthJson, "uuuuuuu");
    assert_eq!((ok.status, json_of(&ok)["status"].as_str()), (200, Some("pass")));
    // Unknown (no trustworthy round) is warn with an output, never fail.
    let unknown = answer(Target::Health, Variant::HealthJson, "rrrrrrr");
    let doc = json_of(&unknown);
    assert_eq!((unknown.status, doc["status"].as_str()), (200, Some("warn")));
    assert!(doc["output"].as_str().unwrap().contains("unknown"));
}

#[test]
fn the_summary_has_no_origin_lists() {
    let full = json_of(&answer(Target::Health, Variant::Full, "uuxuuud"));
    let summary = json_of(&answer(Target::Health, Variant::Summary, "uuxuuud"));
    for region in ["east", "south", "west"] {
        assert!(full["regions"][region]["origins"].is_array());
        assert!(summary["regions"][region].get("origins").is_none(), "{summary}");
        assert_eq!(summary["regions"][region]["status"], full["regions"][region]["status"]);
    }
    assert_eq!((summary["status"].as_str(), summary["origin_count"].as_u64()), (Some("degraded"), Some(7)));
    let region = json_of(&answer(Target::HealthRegion(0), Variant::Summary, "uuxuuud"));
    assert_eq!((region["region"].as_str(), region.get("origins")), (Some("east"), None));
}

#[test]
fn verbose_readiness_reads_like_readyz() {
    let reply = answer(Target::Ready, Variant::Verbose, "uuxuuud");
    assert_eq!((reply.status, header(&reply, "content-type")), (503, Some("text/plain; charset=utf-8")));
    assert_eq!(
        reply.body.as_deref().unwrap(),
        "[-]east down: 2 of 3 origins up or degraded, 2 needed\n\
         [-]south degraded: 1 of 1 origins up or degraded, 1 needed\n\
         [+]west ok: 3 of 3 origins up or degraded, 2 needed\n\
         readiness check failed: degraded\n"
    );
    let east = answer(Target::ReadyRegion(0), Variant::Verbose, "uuxuuud");
    assert_eq!(east.status, 503);
    assert_eq!(
        east.body.as_deref().unwrap(),
        "[+]e1 ok\n[+]e2 ok\n[-]e3 down: status_mismatch\nreadiness check failed: east is down\n"
    );
    let west = answer(Target::ReadyRegion(2), Variant::Verbose, "uuxuuud");
    assert_eq!(west.status, 200);
    assert!(west.body.unwrap().ends_with("readiness check passed: west is up\n"));
}

#[test]
fn metrics_are_one_gauge_per_state() {
    let reply = answer(Target::Metrics, Variant::Full, "uuxuuud");
    assert_eq!((reply.status, header(&reply, "content-type")), (200, Some("text/plain; version=0.0.4; charset=utf-8")));
    let text = reply.body.unwrap();
    let families: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).collect();
    for family in &families {
        let name = family.split(' ').next().unwrap();
        assert!(family.ends_with(" gauge"), "{family}");
        assert!(text.contains(&format!("# HELP {name} ")), "{name} has HELP");
        assert!(text.lines().any(|l| l.starts_with(name) && !l.starts_with('#')), "{name} has samples");
    }
    assert_eq!(families.len(), 11, "{families:?}");
    let value = |series: &str| -> f64 {
        let line = text.lines().find(|l| l.starts_with(series)).unwrap_or_else(|| panic!("no {series}"));
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(value("edgecheck_status{state=\"degraded\"}"), 1.0);
    assert_eq!(value("edgecheck_status{state=\"ok\"}"), 0.0);
    assert_eq!(value("edgecheck_ready "), 0.0);
    assert_eq!(value("edgecheck_region_status{region=\"east\",state=\"down\"}"), 1.0);
    assert_eq!(value("edgecheck_region_ready{region=\"west\"}"), 1.0);
    assert_eq!(value("edgecheck_origin_status{region=\"east\",origin=\"e3\",state=\"down\"}"), 1.0);
    assert_eq!(value("edgecheck_origin_probe_latency_seconds{region=\"east\",origin=\"e3\"}"), 0.001);
    assert_eq!(value("edgecheck_round_probes{reason=\"status_mismatch\"}"), 1.0);
    assert_eq!(value("edgecheck_round_probes{reason=\"ok\"}"), 5.0);
    assert_eq!(value("edgecheck_round_duration_seconds"), 0.042);
    assert_eq!(value("edgecheck_snapshot_age_seconds"), 3.0);
    // Exactly one state is 1 for every origin and region.
    for entity in [
        "edgecheck_region_status{region=\"south\"",
        "edgecheck_origin_status{region=\"south\",origin=\"s1\"",
        "edgecheck_origin_status{region=\"west\",origin=\"w2\"",
    ] {
        let ones = text.lines().filter(|l| l.starts_with(entity) && l.ends_with(" 1")).count();
        let all = text.lines().filter(|l| l.starts_with(entity)).count();
        assert_eq!((ones, all), (1, 4), "{entity}");
    }
}

#[test]
fn badges_say_the_status_in_words() {
    let c = valid(FLEET);
    let global = json_of(&answer(Target::Badge(None, BadgeFormat::Json), Variant::Full, "uuxuuud"));
    assert_eq!(global, json!({"schemaVersion": 1, "label": "edgecheck", "message": "degraded", "color": "yellow"}));
    let e3 = edgecheck_core::config::Named::Origin(2);
    let origin = json_of(&answer(Target::Badge(Some(e3), BadgeFormat::Json), Variant::Full, "uuxuuud"));
    assert_eq!(origin, json!({"schemaVersion": 1, "label": "e3", "message": "down", "color": "red"}));
    let svg = answer(
        Target::Badge(Some(edgecheck_core::config::Named::Region(2)), BadgeFormat::Svg),
        Variant::Full,
        "uuxuuud",
    );
    assert_eq!(header(&svg, "content-type"), Some("image/svg+xml; charset=utf-8"));
    let body = svg.body.unwrap();
    assert!(body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{body}");
    assert!(body.contains("<title>west: up</title>") && body.contains("aria-label=\"west: up\""), "{body}");
    assert!(body.contains("fill=\"#4c1\"") && body.contains(">up</text>"), "{body}");
    assert!(!body.contains("href"), "self-contained: {body}");
    let _ = c;
}

#[test]
fn daily_strips_sum_hour_buckets_per_utc_day() {
    let now = 40 * DAY_MS + 5 * HOUR_MS;
    let first = first_day(now);
    assert_eq!(first, 11 * DAY_MS);
    let buckets = vec![
        ("a".to_string(), first + 2 * HOUR_MS, [3, 0, 1, 0]),
        ("a".to_string(), first + 3 * HOUR_MS, [4, 0, 0, 0]),
        ("a".to_string(), first - HOUR_MS, [9, 9, 9, 0]),
        ("a".to_string(), 40 * DAY_MS + HOUR_MS, [0, 2, 0, 0]),
        ("b".to_string(), first + 29 * DAY_MS, [1, 0, 0, 0]),
    ];
    let d = daily(&buckets, now);
    assert_eq!(d["a"].len(), DAYS);
    assert_eq!(d["a"][0], Uptime::from_counts(&[7, 0, 1, 0]));
    assert_eq!(d["a"][1], None);
    assert_eq!(d["a"][29], Uptime::from_counts(&[0, 2, 0, 0]), "today");
    assert_eq!(d["b"][29], Uptime::from_counts(&[1, 0, 0, 0]));
}

#[test]
fn the_status_page() {
    // Shown an hour after its round: believed that long only with a max_stale_s above it.
    let c = valid(&FLEET.replace("[settings]\n", "[settings]\nmax_stale_s = 7200\n"));
    let state = advance(&c, None, &round(AT, "uuxuuud"), true).state;
    let view = shown(&c, Snapshot { state: &state, now_ms: AT + 3_725_000 });
    let changes = vec![Change {
        at_ms: AT,
        kind: Kind::Origin,
        name: "e3".into(),
        from: Some("up".into()),
        to: "down".into(),
        reason: Some(edgecheck_core::classify::Reason::StatusMismatch),
    }];
    let d = daily(&[("e1".to_string(), first_day(AT) + 29 * DAY_MS, [10, 0, 0, 0])], AT);
    let extras = Extras { uptimes: None, changes: &changes, daily: Some(&d), notify: None, latency: None, slo: None };
    let reply = http::answer(&c, Target::StatusPage, Variant::Full, &view, extras);
    assert_eq!((reply.status, header(&reply, "content-type")), (200, Some("text/html; charset=utf-8")));
    assert!(header(&reply, "content-security-policy").unwrap().starts_with("default-src 'none'"));
    let html = reply.body.unwrap();
    for needle in [
        "<html lang=\"en\">",
        "<header>",
        "<main>",
        "<footer>",
        "<title>Fleet status: Degraded</title>",
        "prefers-color-scheme:dark",
        "name=\"viewport\"",
        "<span aria-hidden=\"true\">!</span> Degraded",
        "<h2 id=\"region-east\">east <span class=\"s-down\"><span aria-hidden=\"true\">✕</span> Down</span></h2>",
        "<th scope=\"row\">e3</th><td data-label=\"Status\"><span class=\"s-down\"><span aria-hidden=\"true\">✕</span> Down</span> <small>(status_mismatch)</small></td><td class=\"num\" data-label=\"Latency\">1 ms</td><td data-label=\"24 hours\"><svg class=\"lat\" role=\"img\" aria-label=\"e3, response time, last 24 hours: no data\"",
        "</svg></td><td class=\"num\" data-label=\"Since\">1 h 2 min</td><td data-label=\"Last 30 days\">",
        "<h2 id=\"vantages\">Vantages</h2>",
        "aria-label=\"e1, last 30 days: 1 up, 0 with degraded time, 0 with down time, 29 without data\"",
        "Origin e3 went up → down (status_mismatch)",
        "checked <time datetime=\"2026-11-18T11:06:40.000Z\">1 h 2 min ago</time>",
    ] {
        assert!(html.contains(needle), "missing {needle:?} in\n{html}");
    }
    assert!(!html.contains("<script") && !html.contains("example.com"), "no script, no address");
    assert_eq!(html.matches("role=\"img\"").count(), 3 + 7 + 7, "a strip per region and origin, a chart per origin");
    assert_eq!(html.matches("<svg class=\"lat\"").count(), 7, "a response-time chart per origin");
    assert_eq!(html.matches("class=\"b-").count(), (3 + 7) * DAYS);
}

/// WCAG 2 contrast ratio of two `#rrggbb` colours.
fn contrast(a: &str, b: &str) -> f64 {
    let luminance = |hex: &str| {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// Text and status words meet WCAG AA (4.5:1) on the background, in both schemes.
#[test]
fn the_page_palettes_meet_wcag_aa_contrast() {
    assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    for p in PALETTES {
        for (what, colour) in
            [("text", p.text), ("up", p.up), ("degraded", p.degraded), ("down", p.down), ("unknown", p.unknown)]
        {
            let ratio = contrast(colour, p.background);
            assert!(ratio >= 4.5, "{} {what} {colour} on {}: {ratio:.2}", p.name, p.background);
        }
    }
}

/// Two origins of one region under `[settings] degraded_after_ms = 800`: `e1`
/// takes it, `e2` has its own 1500; one round in which both answered healthy
/// in 900 ms, judged as a prober judges ([`Probe::judged`]), and a webhook
/// that covers the origins. `e1` is slow, `e2` is not.
fn slow_round() -> (Config, edgecheck_core::monitor::Advance) {
    let c = valid(
        r#"
[settings]
degraded_after_ms = 800
[regions.east]
[[origins]]
name = "e1"
region = "east"
url = "https://e1.example.com/"
[[origins]]
name = "e2"
region = "east"
url = "https://e2.example.com/"
degraded_after_ms = 1500
[[notify]]
name = "hook"
kind = "webhook"
url_secret = "HOOK_URL"
signing_secret = "HOOK_SECRET"
origins = ["*"]
"#,
    );
    let ok = Outcome::Answered { status: 200, content_type: None, headers: Vec::new(), body: b"OK".to_vec() };
    let probes = c.origins().iter().map(|o| Probe::judged(o, &ok, Some(900))).collect();
    let advanced = advance(&c, None, &Round { checked_at_ms: AT, duration_ms: 901, probes }, true);
    (c, advanced)
}

/// Every surface that shows an origin's reason shows `slow`, and where the
/// origin's detail is shown, its threshold: `/health` and `/health/{origin}`
/// (`degraded_after_ms`, and the vantage's own reason), the page and
/// `?verbose` (`slow, over 800 ms`), `/metrics` (`edgecheck_round_probes` by
/// reason), health+json's `output`, `/history` and a notification's line.
#[test]
fn a_slow_origin_shows_its_reason_and_threshold_everywhere() {
    let (c, advanced) = slow_round();
    let view = shown(&c, Snapshot { state: &advanced.state, now_ms: AT + 3_000 });
    let reply = |target, variant| http::answer(&c, target, variant, &view, Extras::default());

    let health = json_of(&reply(Target::Health, Variant::Full));
    let origins = &health["regions"]["east"]["origins"];
    let e1 = origins.as_array().unwrap().iter().find(|o| o["name"] == "e1").unwrap();
    let e2 = origins.as_array().unwrap().iter().find(|o| o["name"] == "e2").unwrap();
    assert_eq!(
        (&e1["status"], &e1["probe_status"], &e1["reason"], &e1["latency_ms"], &e1["degraded_after_ms"]),
        (&json!("degraded"), &json!("degraded"), &json!("slow"), &json!(900), &json!(800)),
        "{e1}"
    );
    assert_eq!(e1["http_status"], 200, "the answer's status is kept");
    assert_eq!(e1["vantages"]["default"]["reason"], "slow", "the vantage's own verdict");
    assert_eq!((&e2["status"], &e2["reason"], &e2["degraded_after_ms"]), (&json!("up"), &json!("ok"), &json!(1500)));
    assert_eq!(health["status"], "degraded");
    let named = json_of(&reply(Target::HealthOrigin(0), Variant::Full));
    assert_eq!((&named["reason"], &named["degraded_after_ms"]), (&json!("slow"), &json!(800)), "{named}");
    // Without a threshold the key is absent.
    let plain = valid(super::BASE);
    let state = advance(&plain, None, &round(AT, "u"), true).state;
    let plain_view = shown(&plain, Snapshot { state: &state, now_ms: AT });
    let doc = json_of(&http::answer(&plain, Target::HealthOrigin(0), Variant::Full, &plain_view, Extras::default()));
    assert!(doc.get("degraded_after_ms").is_none(), "{doc}");

    let verbose = reply(Target::ReadyRegion(0), Variant::Verbose).body.unwrap();
    assert_eq!(verbose, "[-]e1 degraded: slow, over 800 ms\n[+]e2 ok\nreadiness check failed: east is degraded\n");

    let page = reply(Target::StatusPage, Variant::Full).body.unwrap();
    assert!(page.contains("Degraded</span> <small>(slow, over 800 ms)</small>"), "{page}");

    let metrics = reply(Target::Metrics, Variant::Full).body.unwrap();
    assert!(metrics.contains("\nedgecheck_round_probes{reason=\"slow\"} 1\n"), "{metrics}");
    assert!(metrics.contains("\nedgecheck_round_probes{reason=\"ok\"} 1\n"), "{metrics}");

    let health_json = json_of(&reply(Target::Health, Variant::HealthJson));
    assert_eq!(
        (&health_json["checks"]["east:e1"][0]["status"], &health_json["checks"]["east:e1"][0]["output"]),
        (&json!("warn"), &json!("slow"))
    );

    let history = serde_json::to_value(edgecheck_core::render::history(&advanced.changes)).unwrap();
    let change = history["changes"].as_array().unwrap().iter().find(|ch| ch["name"] == "e1").unwrap();
    assert_eq!((&change["to"], &change["reason"]), (&json!("degraded"), &json!("slow")), "{history}");

    let planned = edgecheck_core::notify::plan(&c, &Default::default(), None, &advanced.state, AT, &[]);
    let lines: Vec<String> = planned
        .state
        .values()
        .flat_map(|channel| &channel.pending)
        .flat_map(|p| &p.notice.changes)
        .map(edgecheck_core::notify::deliver::line)
        .collect();
    assert!(
        lines.iter().any(|l| l.starts_with("origin e1: ") && l.ends_with("→ degraded (slow, over 800 ms)")),
        "{lines:?}"
    );
}
