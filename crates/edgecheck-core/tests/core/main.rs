//! Host tests of the pure core: config validation, classification, aggregation,
//! HTTP decisions and the monitor's state machine. Each concern is a table of
//! inputs and expected outputs. Storage, scheduling and the shown view have
//! their own files (`store.rs`, `view.rs`).

use edgecheck_core::aggregate::{aggregate, Overall, Probe, Round};
use edgecheck_core::classify::{classify, read_body, BodyHealth, Health, Outcome, Reason, Verdict};
use edgecheck_core::config::{parse_toml, Config, ConfigError, Named, Quorum};
use edgecheck_core::http::{dispatch, Dispatch, Extras, Incoming, Target, Variant};
use edgecheck_core::monitor::{advance, Kind, Snapshot};
use edgecheck_core::uptime::Uptimes;
use edgecheck_core::view::shown;
use proptest::prelude::*;

mod detail;
mod robust;
mod store;
mod surfaces;
mod vantages;
mod view;

const BASE: &str = r#"
[regions.us-east]
[[origins]]
name = "a"
region = "us-east"
url = "https://a.example.com/health"
"#;

fn config(text: &str) -> Result<Config, Vec<ConfigError>> {
    let raw = parse_toml(text).map_err(|e| vec![e])?;
    Config::from_raw(&raw)
}

fn valid(text: &str) -> Config {
    config(text).unwrap_or_else(|errs| panic!("config should be valid: {errs:?}"))
}

// ---------------------------------------------------------------------------
// Config
// ---------------------------------------------------------------------------

#[test]
fn config_defaults() {
    let c = valid(BASE);
    let s = &c.settings;
    assert_eq!((s.probe_timeout_ms, s.deadline_ms, s.max_in_flight, s.max_body_bytes), (2000, 5000, 6, 65536));
    assert!(!s.degraded_is_ready);
    assert_eq!(s.min_regions_up, 1);
    assert_eq!(c.regions[0].quorum, Quorum::AtLeast(1));
    let o = &c.origins[0];
    assert_eq!((o.timeout_ms, o.critical, o.region), (2000, false, 0));
    assert!(o.expect_status.contains(204) && !o.expect_status.contains(302));
}

#[test]
fn config_full_example_from_the_issue() {
    let c = valid(
        r#"
[settings]
probe_timeout_ms = 2000
deadline_ms = 5000
max_in_flight = 6
max_body_bytes = 65536
degraded_is_ready = true
min_regions_up = 1

[regions.us-east]
min_up = "majority"

[[origins]]
name = "api-use1-a"
region = "us-east"
url = "https://use1-a.example.com/api/health/ready"
method = "HEAD"
expect_status = ["2xx", "429", 301]
timeout_ms = 1500
critical = true
headers = { Authorization = { secret = "USE1_TOKEN" }, X-Env = "prod" }
"#,
    );
    let o = &c.origins[0];
    assert_eq!(o.timeout_ms, 1500);
    assert!(o.critical && c.settings.degraded_is_ready);
    assert!(o.expect_status.contains(429) && o.expect_status.contains(301) && o.expect_status.contains(200));
    assert!(!o.expect_status.contains(428));
    assert_eq!(c.regions[0].quorum, Quorum::Majority);
    assert_eq!(o.headers.len(), 2);
}

/// Every error path names its field.
#[test]
fn config_errors_name_their_field() {
    let origin = |extra: &str| {
        format!("[regions.us-east]\n[[origins]]\nname = \"a\"\nregion = \"us-east\"\nurl = \"https://a.example.com/\"\n{extra}\n")
    };
    let cases: Vec<(String, &str, &str)> = vec![
        (origin("url = 1").replace("url = \"https://a.example.com/\"\n", ""), "origins[0].url", "invalid type"),
        (BASE.replace("https://a.example.com/health", "ftp://a.example.com/"), "origins[0].url", "scheme \"ftp\""),
        (
            BASE.replace("https://a.example.com/health", "https://user:pw@a.example.com/"),
            "origins[0].url",
            "credentials",
        ),
        (BASE.replace("https://a.example.com/health", "not a url"), "origins[0].url", "not an absolute URL"),
        // A URL the parser would rewrite is refused, saying what would be probed.
        (
            BASE.replace("https://a.example.com/health", "https://a.example.com/v1/../health"),
            "origins[0].url",
            "would be probed as \"https://a.example.com/health\"",
        ),
        (
            BASE.replace("https://a.example.com/health", "HTTPS://A.example.com:443/health"),
            "origins[0].url",
            "would be probed as \"https://a.example.com/health\"",
        ),
        (
            BASE.replace("https://a.example.com/health", "https://a.example.com/my health"),
            "origins[0].url",
            "would be probed as \"https://a.example.com/my%20health\"",
        ),
        (BASE.replace("https://a.example.com/health", "https://a.example.com/health#x"), "origins[0].url", "fragment"),
        (BASE.replace("name = \"a\"", "name = \"API A\""), "origins[0].name", "contains"),
        (BASE.replace("region = \"us-east\"", "region = \"eu-west\""), "origins[0].region", "not declared"),
        (origin("method = \"POST\""), "origins[0].method", "GET or HEAD"),
        (origin("expect_status = [\"2xx\", \"6xx\"]"), "origins[0].expect_status[1]", "6xx"),
        (origin("expect_status = []"), "origins[0].expect_status", "at least one"),
        (origin("timeout_ms = 9000"), "origins[0].timeout_ms", "out of range"),
        (origin("timeout_ms = \"fast\""), "origins[0].timeout_ms", "invalid type"),
        (origin("format = \"xml\""), "origins[0].format", "not a format"),
        (origin("headers = { \"Bad Header\" = \"x\" }"), "origins[0].headers.Bad Header", "not a valid header name"),
        (
            origin("headers = { Authorization = { secret = \"my-token\" } }"),
            "origins[0].headers.Authorization.secret",
            "not a secret name",
        ),
        (origin("timout_ms = 100"), "origins[0].timout_ms", "unknown field `timout_ms`"),
        (format!("[settings]\nmax_in_flight = 10\n{BASE}"), "settings.max_in_flight", "6 connections"),
        (
            (0..1001).fold("[regions.r]\n".to_string(), |toml, i| {
                toml + &format!("[[origins]]\nname = \"o{i}\"\nregion = \"r\"\nurl = \"https://o{i}.example.com/\"\n")
            }),
            "origins",
            "1001 origins, more than the 1000 one prober covers in a round (its connections and subrequests); set settings.shard_size",
        ),
        (format!("[settings]\nvantages = [\"enam\", \"mars\"]\n{BASE}"), "settings.vantages[1]", "\"mars\" is not a location hint"),
        (format!("[settings]\nvantages = [\"enam\", \"enam\"]\n{BASE}"), "settings.vantages[1]", "listed twice"),
        (format!("[settings]\nvantages = []\n{BASE}"), "settings.vantages", "at least one"),
        (format!("[settings]\nvantages = [\"enam\", \"weur\"]\nvantage_quorum = 3\n{BASE}"), "settings.vantage_quorum", "at most the 2"),
        (format!("[settings]\nvantage_quorum = \"most\"\n{BASE}"), "settings.vantage_quorum", "not a quorum"),
        (format!("[settings]\nshard_size = 0\n{BASE}"), "settings.shard_size", "out of range"),
        (format!("[settings]\ndeadline_ms = 0\n{BASE}"), "settings.deadline_ms", "out of range"),
        (
            format!("[settings]\nprobe_timeout_ms = 6000\n{BASE}"),
            "settings.probe_timeout_ms",
            "at most settings.deadline_ms",
        ),
        (format!("[settings]\nmax_body_bytes = 99999999\n{BASE}"), "settings.max_body_bytes", "out of range"),
        (format!("[settings]\nmin_regions_up = 2\n{BASE}"), "settings.min_regions_up", "at most the 1 declared"),
        (BASE.replace("[regions.us-east]", "[regions.us-east]\nmin_up = 2"), "regions.us-east.min_up", "at most the 1"),
        (
            BASE.replace("[regions.us-east]", "[regions.us-east]\nmin_up = \"most\""),
            "regions.us-east.min_up",
            "not a quorum",
        ),
        (format!("{BASE}\n[regions.empty]\n"), "regions.empty", "no origin names this region"),
        (
            format!("{BASE}\n[[origins]]\nname = \"a\"\nregion = \"us-east\"\nurl = \"https://b.example.com/\"\n"),
            "origins[1].name",
            "earlier origin",
        ),
        (BASE.replace("name = \"a\"", "name = \"us-east\""), "origins[0].name", "already a region name"),
        (BASE.replace("name = \"a\"", "name = \"global\""), "origins[0].name", "reserved"),
        (BASE.replace("name = \"a\"", "name = \"..\""), "origins[0].name", "dot segments"),
        (BASE.replace("name = \"a\"", "name = \".\""), "origins[0].name", "dot segments"),
        (format!("{BASE}\n[regions.\"..\"]\n"), "regions...", "dot segments"),
        (origin("headers = { Host = \"other.example.com\" }"), "origins[0].headers.Host", "set by the runtime"),
        (origin("headers = { Content-Length = \"0\" }"), "origins[0].headers.Content-Length", "set by the runtime"),
        (origin("headers = { Connection = \"close\" }"), "origins[0].headers.Connection", "set by the runtime"),
        (
            origin("headers = { Transfer-Encoding = \"chunked\" }"),
            "origins[0].headers.Transfer-Encoding",
            "set by the runtime",
        ),
        (
            origin("headers = { CF-Connecting-IP = \"1.2.3.4\" }"),
            "origins[0].headers.CF-Connecting-IP",
            "set by the runtime",
        ),
        (
            origin("headers = { X-Token = \"a\", x-token = \"b\" }"),
            "origins[0].headers.x-token",
            "same header as \"X-Token\"",
        ),
        (origin("headers = { X-Name = \"café\" }"), "origins[0].headers.X-Name", "not visible ASCII"),
        (origin("headers = { X-Name = \" padded\" }"), "origins[0].headers.X-Name", "whitespace"),
        (origin("headers = { X-Name = \"a\\nb\" }"), "origins[0].headers.X-Name", "CR, LF or NUL"),
        ("[settings]\n".to_string(), "regions", "at least one region"),
        ("[regions.x]\n".to_string(), "origins", "at least one origin"),
        (format!("{BASE}\n[[origins]\n"), "(syntax)", "TOML parse error"),
    ];
    for (text, field, fragment) in cases {
        let errs = config(&text).expect_err(&format!("should fail with {field}:\n{text}"));
        assert!(
            errs.iter().any(|e| e.field == field && e.message.contains(fragment)),
            "expected {field} containing {fragment:?}, got {errs:?}\nfor:\n{text}"
        );
    }
}

#[test]
fn a_url_is_probed_as_written() {
    // The one rewrite allowed: an empty path is sent as "/" anyway.
    let bare = valid(&BASE.replace("https://a.example.com/health", "https://a.example.com"));
    assert_eq!(bare.origins[0].url, "https://a.example.com/");
    for url in
        ["https://a.example.com/health?x=1&y=%20", "http://127.0.0.1:9101/actuator/health", "https://[::1]:8443/h"]
    {
        assert_eq!(valid(&BASE.replace("https://a.example.com/health", url)).origins[0].url, url);
    }
}

#[test]
fn config_reports_every_error_at_once() {
    let text = BASE.replace("https://a.example.com/health", "ftp://x/").replace("name = \"a\"", "name = \"A\"");
    let errs = config(&text).unwrap_err();
    let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["origins[0].name", "origins[0].url"]);
    assert_eq!(errs[1].to_string(), "origins[0].url: scheme \"ftp\" is not allowed; use http or https");
}

#[test]
fn config_holds_250_origins_and_warns_about_waves() {
    let mut text =
        String::from("[settings]\ndeadline_ms = 3000\nprobe_timeout_ms = 1000\n[regions.r1]\n[regions.r2]\n");
    for i in 0..250 {
        text += &format!(
            "[[origins]]\nname = \"o{i}\"\nregion = \"r{}\"\nurl = \"https://o{i}.example.com/health\"\n",
            i % 2 + 1
        );
    }
    let c = valid(&text);
    assert_eq!((c.origins.len(), c.regions[0].origins.len(), c.regions[1].origins.len()), (250, 125, 125));
    let warnings = c.warnings();
    assert!(
        warnings.iter().any(|w| w.field == "settings.deadline_ms" && w.message.contains("skipped")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.field == "settings.shard_size" && w.message.contains("Free plan")),
        "{warnings:?}"
    );
    assert!(valid(BASE).warnings().is_empty());

    // The warnings are per prober: shards of 10 fit the deadline (2 waves of
    // 1,000 ms) and the Free plan (10 probes and the report), however large the fleet.
    let sharded = valid(&text.replace("[settings]\n", "[settings]\nshard_size = 10\n"));
    assert_eq!(sharded.warnings(), [], "a sharded fleet gets no warning about the whole fleet");
    // A shard with a slow origin is named.
    let slow = valid(&text.replace("[settings]\n", "[settings]\nshard_size = 20\n").replacen(
        "url = \"https://o47.example.com/health\"\n",
        "url = \"https://o47.example.com/health\"\ntimeout_ms = 3000\n",
        1,
    ));
    let deadline: Vec<String> =
        slow.warnings().into_iter().filter(|w| w.field == "settings.deadline_ms").map(|w| w.message).collect();
    assert_eq!(deadline.len(), 1, "{deadline:?}");
    assert!(
        deadline[0].starts_with("shard 2 has 20 origins") && deadline[0].contains("up to 12000 ms"),
        "{deadline:?}"
    );
}

#[test]
fn the_shipped_demo_config_is_valid() {
    let c = valid(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../edgecheck.toml")));
    assert_eq!((c.regions.len(), c.origins.len()), (3, 10));
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    // build.rs embeds the validated config as JSON; the worker reads it back.
    let embedded: Config = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(embedded, c, "the embedded config is the validated one");
}

// ---------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------

/// The rule table of `classify`, row by row: (format toml, status, content type,
/// body, expected health, expected reason).
#[test]
fn classification_by_status_and_body() {
    use Health::*;
    use Reason::*;
    let json = Some("application/json");
    let text = Some("text/plain");
    type Row = (&'static str, u16, Option<&'static str>, &'static str, Health, Reason);
    let rows: &[Row] = &[
        // Hassette
        ("", 200, json, r#"{"status":"ok","ready":true}"#, Up, Ok),
        ("", 200, json, r#"{"status":"live"}"#, Up, Ok),
        ("", 200, json, r#"{"ready":true}"#, Up, Ok),
        ("", 200, json, r#"{"status":"degraded","ready":true}"#, Degraded, BodyDegraded),
        ("", 503, json, r#"{"status":"starting","ready":false}"#, Degraded, BodyDegraded),
        ("", 200, json, r#"{"status":"ok","ready":false}"#, Degraded, BodyDegraded),
        ("", 503, json, r#"{"status":"ok","ready":true}"#, Down, StatusMismatch),
        // Hatch
        ("", 200, json, r#"{"status":"ok","vm_count":15,"route_count":23}"#, Up, Ok),
        // Smallest AI
        ("", 200, json, r#"{"status":"healthy"}"#, Up, Ok),
        (
            "",
            200,
            json,
            r#"{"status":"healthy","components":{"a":{"status":"healthy"},"b":{"status":"unhealthy"}}}"#,
            Degraded,
            BodyDegraded,
        ),
        ("", 503, json, r#"{"status":"unhealthy","reason":"model not loaded"}"#, Down, BodyDown),
        // Python /_system/check
        ("", 200, json, r#"{"code":"OK","ok":true}"#, Up, Ok),
        ("", 200, json, r#"{"code":"WARNING","error":true}"#, Degraded, BodyDegraded),
        ("", 500, json, r#"{"code":"ERROR","error":true}"#, Down, BodyDown),
        ("", 200, json, r#"{"ok":false}"#, Down, BodyDown),
        // IETF health+json
        ("", 200, Some("application/health+json"), r#"{"status":"pass"}"#, Up, Ok),
        ("", 200, Some("application/health+json"), r#"{"status":"up"}"#, Up, Ok),
        ("", 200, Some("application/health+json"), r#"{"status":"warn"}"#, Degraded, BodyDegraded),
        (
            "",
            200,
            Some("application/health+json"),
            r#"{"status":"pass","checks":{"db:responseTime":[{"status":"warn"}]}}"#,
            Degraded,
            BodyDegraded,
        ),
        ("", 503, Some("application/health+json"), r#"{"status":"fail"}"#, Down, BodyDown),
        ("", 200, Some("application/health+json"), r#"{"status":"error"}"#, Down, BodyDown),
        // Spring Boot / MicroProfile
        ("", 200, json, r#"{"status":"UP","components":{"db":{"status":"UP"}}}"#, Up, Ok),
        ("", 200, json, r#"{"status":"UP","components":{"db":{"status":"DOWN"}}}"#, Degraded, BodyDegraded),
        ("", 200, json, r#"{"status":"DOWN"}"#, Down, BodyDown),
        ("", 503, json, r#"{"status":"OUT_OF_SERVICE"}"#, Down, BodyDown),
        ("", 200, json, r#"{"status":"UNKNOWN"}"#, Up, Ok),
        ("", 503, json, r#"{"status":"UNKNOWN"}"#, Down, StatusMismatch),
        // Elasticsearch
        ("", 200, json, r#"{"cluster_name":"c","status":"green"}"#, Up, Ok),
        ("", 200, json, r#"{"cluster_name":"c","status":"yellow"}"#, Degraded, BodyDegraded),
        ("", 200, json, r#"{"cluster_name":"c","status":"red"}"#, Down, BodyDown),
        // ASP.NET Core
        ("", 200, text, "Healthy", Up, Ok),
        ("", 200, text, "Degraded", Degraded, BodyDegraded),
        ("", 503, text, "Unhealthy", Down, BodyDown),
        ("", 200, json, r#"{"status":"Healthy","entries":{"db":{"status":"Degraded"}}}"#, Degraded, BodyDegraded),
        // NestJS Terminus
        ("", 200, json, r#"{"status":"ok","info":{"db":{"status":"up"}},"error":{},"details":{}}"#, Up, Ok),
        ("", 503, json, r#"{"status":"error","info":{},"error":{"db":{"status":"down"}}}"#, Down, BodyDown),
        ("", 503, json, r#"{"status":"shutting_down"}"#, Down, BodyDown),
        // Anything else: the status code decides.
        ("", 200, text, "OK", Up, Ok),
        ("", 204, None, "", Up, Ok),
        ("", 200, json, r#"{"version":"1.2.3"}"#, Up, Ok),
        ("", 200, json, r#"[1,2]"#, Up, Ok),
        ("", 503, text, "Service Unavailable", Down, StatusMismatch),
        ("", 302, text, "", Down, StatusMismatch),
        ("expect_status = [\"2xx\", \"3xx\"]", 302, text, "", Up, Ok),
        ("expect_status = [\"429\"]", 429, json, r#"{"status":"ok"}"#, Up, Ok),
        // Invalid bodies.
        ("", 200, json, r#"{"status": "UP", "comp"#, Down, BodyInvalid),
        ("", 200, text, r#"{"status": "UP""#, Down, BodyInvalid),
        ("", 500, json, "<html>oops</html>", Down, StatusMismatch),
        // Bodies ignored: format = "status_code", and HEAD.
        ("format = \"status_code\"", 200, json, r#"{"status":"DOWN"}"#, Up, Ok),
        ("format = \"status_code\"", 503, json, r#"{"status":"degraded"}"#, Down, StatusMismatch),
        ("method = \"HEAD\"", 200, json, r#"{"status":"DOWN"}"#, Up, Ok),
    ];
    for &(extra, status, content_type, body, health, reason) in rows {
        let c = valid(&format!("{BASE}{extra}\n"));
        let outcome =
            Outcome::Answered { status, content_type: content_type.map(String::from), body: body.as_bytes().to_vec() };
        let got = classify(&c.origins[0], &outcome);
        assert_eq!(
            (got.health, got.reason, got.http_status),
            (health, reason, Some(status)),
            "{status} {content_type:?} {body:?} with {extra:?}"
        );
    }
}

#[test]
fn classification_of_failures() {
    let c = valid(BASE);
    let rows = [
        (Outcome::ConnectError, Reason::ConnectError, None),
        (Outcome::Timeout { status: None }, Reason::Timeout, None),
        (Outcome::Timeout { status: Some(200) }, Reason::Timeout, Some(200)),
        (Outcome::Skipped, Reason::Skipped, None),
        (Outcome::SecretMissing, Reason::SecretMissing, None),
        (Outcome::RequestInvalid, Reason::RequestInvalid, None),
        (Outcome::BodyTooLarge { status: 200 }, Reason::BodyTooLarge, Some(200)),
    ];
    for (outcome, reason, http_status) in rows {
        assert_eq!(
            classify(&c.origins[0], &outcome),
            Verdict { health: Health::Down, reason, http_status },
            "{outcome:?}"
        );
    }
}

/// workerd hands back an interim 1xx as the response and the final answer,
/// raw, as its body: the final answer decides.
#[test]
fn interim_answers_are_looked_past() {
    let c = valid(BASE);
    let judge = |status: u16, body: &[u8]| {
        let outcome = Outcome::Answered { status, content_type: None, body: body.to_vec() };
        let v = classify(&c.origins[0], &outcome);
        (v.health, v.reason, v.http_status)
    };
    let up = br#"{"status":"UP"}"#;
    let final_200 =
        [&b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"[..], up].concat();
    type Row = (u16, Vec<u8>, (Health, Reason, Option<u16>));
    let rows: Vec<Row> = vec![
        (103, final_200.clone(), (Health::Up, Reason::Ok, Some(200))),
        (100, [&b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"[..], &final_200].concat(), (Health::Up, Reason::Ok, Some(200))),
        (
            103,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n{\"statu\r\n8\r\ns\":\"DOWN\r\n2\r\n\"}\r\n0\r\n\r\n".to_vec(),
            (Health::Down, Reason::BodyDown, Some(200)),
        ),
        (103, b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".to_vec(), (Health::Down, Reason::StatusMismatch, Some(503))),
        (103, [&b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"[..], b"Healthy and more"].concat(), (Health::Up, Reason::Ok, Some(200))),
        // No complete final head: the 1xx is judged as it is.
        (103, b"HTTP/1.1 200 OK\r\nContent-Le".to_vec(), (Health::Down, Reason::StatusMismatch, Some(103))),
        (103, Vec::new(), (Health::Down, Reason::StatusMismatch, Some(103))),
        (103, b"garbage".to_vec(), (Health::Down, Reason::StatusMismatch, Some(103))),
        // 101 is final, and so is a status outside 1xx.
        (101, final_200.clone(), (Health::Down, Reason::StatusMismatch, Some(101))),
        (99, final_200.clone(), (Health::Down, Reason::StatusMismatch, Some(99))),
    ];
    for (status, body, expected) in rows {
        assert_eq!(judge(status, &body), expected, "{status} {:?}", String::from_utf8_lossy(&body));
    }
}

#[test]
fn body_reading_edge_cases() {
    let rows: &[(Option<&str>, &[u8], BodyHealth)] = &[
        (Some("application/json; charset=utf-8"), br#"{"status":"UP"}"#, BodyHealth::Up),
        (Some("application/json"), b"\xef\xbb\xbf{\"status\":\"UP\"}", BodyHealth::Up),
        (None, b"\xef\xbb\xbf{\"status\":\"DOWN\"}", BodyHealth::Down),
        (Some("APPLICATION/HEALTH+JSON"), br#"{"status":"Pass"}"#, BodyHealth::Up),
        (Some("application/json"), b"", BodyHealth::Unrecognised),
        (Some("application/json"), b"\xff\xfe", BodyHealth::Invalid),
        (Some("text/plain"), b"\xff\xfe", BodyHealth::Unrecognised),
        (None, b"  unhealthy \n", BodyHealth::Down),
        (None, b"down", BodyHealth::Unrecognised),
        (None, br#"{"status":{"nested":true}}"#, BodyHealth::Unrecognised),
        (None, br#"{"status":"UP","components":{"ping":"DOWN"}}"#, BodyHealth::Degraded),
        (None, br#"{"status":"UP","details":{"db":{"status":"UP"}}}"#, BodyHealth::Up),
    ];
    for &(content_type, body, expected) in rows {
        assert_eq!(read_body(content_type, body), expected, "{content_type:?} {:?}", String::from_utf8_lossy(body));
    }
}

// ---------------------------------------------------------------------------
// Aggregation
// ---------------------------------------------------------------------------

const FLEET: &str = r#"
[settings]
min_regions_up = 2
[regions.east]
min_up = 2
[regions.west]
min_up = "majority"
[regions.south]
min_up = "all"
[[origins]]
name = "e1"
region = "east"
url = "https://e1.example.com/"
[[origins]]
name = "e2"
region = "east"
url = "https://e2.example.com/"
[[origins]]
name = "e3"
region = "east"
url = "https://e3.example.com/"
critical = true
[[origins]]
name = "w1"
region = "west"
url = "https://w1.example.com/"
[[origins]]
name = "w2"
region = "west"
url = "https://w2.example.com/"
[[origins]]
name = "w3"
region = "west"
url = "https://w3.example.com/"
[[origins]]
name = "s1"
region = "south"
url = "https://s1.example.com/"
"#;

/// Per origin: `u` up (200), `d` degraded (200, body), `x` down (503), and down
/// for network-class reasons: `t` timeout, `r` refused.
fn probes(codes: &str) -> Vec<Probe> {
    codes
        .chars()
        .map(|c| {
            let (health, reason, http_status) = match c {
                'u' => (Health::Up, Reason::Ok, Some(200)),
                'd' => (Health::Degraded, Reason::BodyDegraded, Some(200)),
                'x' => (Health::Down, Reason::StatusMismatch, Some(503)),
                't' => (Health::Down, Reason::Timeout, None),
                _ => (Health::Down, Reason::ConnectError, None),
            };
            Probe { verdict: Verdict { health, reason, http_status }, latency_ms: Some(1) }
        })
        .collect()
}

fn healths(codes: &str) -> Vec<Health> {
    probes(codes).iter().map(|p| p.verdict.health).collect()
}

/// Regions are in name order: east, south, west. Origins: e1 e2 e3(critical) w1 w2 w3 s1.
#[test]
fn aggregation_quorum_critical_and_global() {
    use Health::*;
    let c = valid(FLEET);
    let rows: &[(&str, [Health; 3], Overall)] = &[
        ("uuuuuuu", [Up, Up, Up], Overall::Ok),
        ("duuuuuu", [Degraded, Up, Up], Overall::Degraded),
        ("xuuuuuu", [Degraded, Up, Up], Overall::Degraded),
        ("xxuuuuu", [Down, Up, Up], Overall::Degraded),
        ("uuxuuuu", [Down, Up, Up], Overall::Degraded),
        ("uudxxuu", [Degraded, Up, Down], Overall::Degraded),
        ("uuudxuu", [Up, Up, Degraded], Overall::Degraded),
        ("uuuxxuu", [Up, Up, Down], Overall::Degraded),
        ("uuuuuud", [Up, Degraded, Up], Overall::Degraded),
        ("uuuuuux", [Up, Down, Up], Overall::Degraded),
        ("xxuuuux", [Down, Down, Up], Overall::Down),
        ("xxxxxxx", [Down, Down, Down], Overall::Down),
        ("ddddddd", [Degraded, Degraded, Degraded], Overall::Degraded),
    ];
    for &(codes, regions, overall) in rows {
        let view = aggregate(&c, &healths(codes));
        let got: Vec<Health> = view.regions.iter().map(|r| r.health).collect();
        assert_eq!((got.as_slice(), view.overall), (&regions[..], overall), "{codes}");
        for r in &view.regions {
            assert_eq!(r.up + r.degraded + r.down, r.total);
        }
    }
}

#[test]
fn degraded_is_ready_opens_readiness_for_degraded_only() {
    let c = valid(&FLEET.replace("min_regions_up = 2", "min_regions_up = 2\ndegraded_is_ready = true"));
    // (probes, global status, whether the global view, the first region and its first origin are ready)
    for (codes, overall, ready) in [("duuuuuu", Overall::Degraded, true), ("xxuuuux", Overall::Down, false)] {
        let state = advance(&c, None, &round(1_000, codes), true).state;
        let view = shown(&c, Snapshot { state: &state, now_ms: 2_000 });
        let first = view.origin(&c, 0);
        assert_eq!((view.status, view.ready, view.regions[0].ready, first.ready), (Some(overall), ready, ready, ready));
    }
}

fn health_strategy() -> impl Strategy<Value = Health> {
    prop_oneof![Just(Health::Up), Just(Health::Degraded), Just(Health::Down)]
}

proptest! {
    /// Making any origin healthier never makes a region or the view worse.
    #[test]
    fn healthier_origin_never_worsens_the_view(
        before in prop::collection::vec(health_strategy(), 7),
        i in 0usize..7,
        better in health_strategy(),
    ) {
        let c = valid(FLEET);
        let mut after = before.clone();
        after[i] = after[i].max(better);
        let (b, a) = (aggregate(&c, &before), aggregate(&c, &after));
        prop_assert!(a.overall >= b.overall);
        for (rb, ra) in b.regions.iter().zip(&a.regions) {
            prop_assert!(ra.health >= rb.health);
        }
    }
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

fn header<'a>(reply: &'a edgecheck_core::http::Reply, name: &str) -> Option<&'a str> {
    reply.header(name)
}

#[test]
fn routing() {
    let c = valid(FLEET);
    let rows: &[(&str, &str, Result<Target, u16>)] = &[
        ("GET", "/ready", Ok(Target::Ready)),
        ("HEAD", "/ready/", Ok(Target::Ready)),
        ("GET", "/ready/west", Ok(Target::ReadyRegion(2))),
        ("GET", "/ready/w1", Err(404)),
        ("GET", "/ready/nowhere", Err(404)),
        ("GET", "/health", Ok(Target::Health)),
        ("GET", "/health/south", Ok(Target::HealthRegion(1))),
        ("GET", "/health/e3", Ok(Target::HealthOrigin(2))),
        ("GET", "/health/e3/x", Err(404)),
        ("GET", "/history", Ok(Target::History)),
        ("GET", "/history/e1", Ok(Target::HistoryOf(Named::Origin(0)))),
        ("GET", "/history/west", Ok(Target::HistoryOf(Named::Region(2)))),
        ("GET", "/history/nowhere", Err(404)),
        ("GET", "/", Ok(Target::StatusPage)),
        ("GET", "/livez", Err(404)),
        ("POST", "/ready", Err(405)),
        ("DELETE", "/health/e1", Err(405)),
        ("POST", "/nowhere", Err(404)),
        ("OPTIONS", "/health", Err(204)),
        ("GET", "/live", Err(200)),
        ("GET", "/refresh", Err(405)),
        ("HEAD", "/live", Err(200)),
        ("OPTIONS", "/refresh", Err(204)),
    ];
    for &(method, path, expected) in rows {
        let got = match dispatch(&c, Incoming::new(method, path)) {
            Dispatch::Snapshot { target, head, .. } => {
                assert_eq!(head, method == "HEAD", "{method} {path}");
                Ok(target)
            }
            Dispatch::Refresh | Dispatch::Detail { .. } => panic!("only POST /refresh refreshes"),
            Dispatch::Answer(reply) => {
                if reply.status != 204 {
                    assert_eq!(header(&reply, "content-type"), Some("application/json"), "{method} {path}");
                    assert_eq!(reply.body.is_none(), method == "HEAD", "{method} {path}: HEAD has no body");
                }
                if reply.status == 405 || reply.status == 204 {
                    let allow = if path == "/refresh" { "POST, OPTIONS" } else { "GET, HEAD, OPTIONS" };
                    assert_eq!(header(&reply, "allow"), Some(allow), "{method} {path}");
                }
                if method == "HEAD" {
                    assert!(header(&reply, "content-length").is_some_and(|n| n != "0"), "HEAD has GET's length");
                }
                assert_eq!(header(&reply, "cache-control"), Some("no-store"));
                Err(reply.status)
            }
        };
        assert_eq!(got, expected, "{method} {path}");
    }
    assert_eq!(dispatch(&c, Incoming::new("POST", "/refresh")), Dispatch::Refresh);
    let Dispatch::Answer(live) = dispatch(&c, Incoming::new("GET", "/live")) else { panic!("/live answers directly") };
    assert_eq!(live.body.as_deref(), Some(r#"{"status":"live"}"#));
    let Dispatch::Answer(missing) = dispatch(&c, Incoming::new("GET", "/nope")) else { panic!() };
    let doc: serde_json::Value = serde_json::from_str(missing.body.as_deref().unwrap()).unwrap();
    assert_eq!(doc["error"], "not_found");
}

fn round(at_ms: u64, codes: &str) -> Round {
    Round { checked_at_ms: at_ms, duration_ms: 42, probes: probes(codes) }
}

#[test]
fn answers_carry_the_view_and_never_an_address() {
    let c = valid(FLEET);
    let at = 1_795_000_000_123;
    let state = advance(&c, None, &round(at, "uuxuuud"), true).state;
    let snap = Snapshot { state: &state, now_ms: at + 4_900 };
    let json = |target| {
        let uptimes = Uptimes::new();
        let extras = Extras { uptimes: Some(&uptimes), ..Extras::default() };
        let reply = edgecheck_core::http::answer(&c, target, Variant::Full, &shown(&c, snap), extras);
        assert_eq!(header(&reply, "access-control-allow-origin"), Some("*"));
        assert_eq!(header(&reply, "cache-control"), Some("public, max-age=15"));
        assert_eq!(header(&reply, "age"), Some("4"));
        let body = reply.body.unwrap();
        assert!(!body.contains("example.com") && !body.contains("https"), "{body}");
        (reply.status, serde_json::from_str::<serde_json::Value>(&body).unwrap())
    };
    let (status, ready) = json(Target::Ready);
    assert_eq!((status, ready), (503, serde_json::json!({"status": "degraded", "ready": false})));
    let (status, west) = json(Target::ReadyRegion(2));
    assert_eq!((status, west), (200, serde_json::json!({"region": "west", "status": "up", "ready": true})));
    let (status, east) = json(Target::ReadyRegion(0));
    assert_eq!((status, &east["status"]), (503, &serde_json::json!("down")));

    let (status, health) = json(Target::Health);
    assert_eq!(status, 200);
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["checked_at"], "2026-11-18T11:06:40.123Z");
    assert_eq!(health["since"], "2026-11-18T11:06:40.123Z");
    assert_eq!((health["age_s"].as_u64(), health["stale"].as_bool()), (Some(4), Some(false)));
    assert_eq!(
        (health["duration_ms"].as_u64(), health["origin_count"].as_u64(), health["region_count"].as_u64()),
        (Some(42), Some(7), Some(3))
    );
    let east = &health["regions"]["east"];
    assert_eq!(
        (east["status"].as_str(), east["up"].as_u64(), east["total"].as_u64(), east["min_up"].as_u64()),
        (Some("down"), Some(2), Some(3), Some(2))
    );
    let no_uptime = serde_json::json!({"1h": null, "24h": null, "7d": null, "30d": null});
    assert_eq!(
        east["origins"][2],
        serde_json::json!({"name": "e3", "status": "down", "since": "2026-11-18T11:06:40.123Z", "probe_status": "down", "reason": "status_mismatch", "http_status": 503, "latency_ms": 1, "critical": true, "uptime": no_uptime,
            "stale": false, "vantages": {"default": {"status": "down", "reason": "status_mismatch", "http_status": 503, "latency_ms": 1}}})
    );
    assert_eq!(health["vantages"], serde_json::json!({"default": {"state": "reporting", "age_s": 4}}));

    let (_, origin) = json(Target::HealthOrigin(6));
    assert_eq!(
        (origin["name"].as_str(), origin["region"].as_str(), origin["status"].as_str()),
        (Some("s1"), Some("south"), Some("degraded"))
    );
    let (_, region) = json(Target::HealthRegion(1));
    assert_eq!(
        (region["region"].as_str(), region["status"].as_str(), region["origins"].as_array().map(Vec::len)),
        (Some("south"), Some("degraded"), Some(1))
    );
    let (status, history) = json(Target::History);
    assert_eq!((status, history), (200, serde_json::json!({"changes": []})));

    use edgecheck_core::http::{cache_ttl_s, freshness_headers};
    // A cached copy lives until the snapshot's next refresh (refresh_s = 15 here).
    let rows: &[(u16, u64, Option<u64>)] =
        &[(200, 0, Some(15)), (503, 4_900, Some(10)), (200, 14_999, None), (200, 20_000, None), (404, 0, None)];
    for &(status, elapsed_ms, ttl) in rows {
        assert_eq!(cache_ttl_s(status, at, 15, at + elapsed_ms), ttl, "{status} after {elapsed_ms} ms");
    }
    assert_eq!(
        freshness_headers(at, 15, at + 61_000),
        [("cache-control", "public, max-age=15".to_string()), ("age", "61".to_string())]
    );

    let unavailable = edgecheck_core::http::monitor_unavailable();
    assert_eq!((unavailable.status, header(&unavailable, "cache-control")), (503, Some("no-store")));
}

// ---------------------------------------------------------------------------
// Monitor: hysteresis, fail-static, history, uptime
// ---------------------------------------------------------------------------

const PAIR: &str = r#"
[settings]
max_stale_s = 60
[regions.r]
[[origins]]
name = "a"
region = "r"
url = "https://a.example.com/"
[[origins]]
name = "b"
region = "r"
url = "https://b.example.com/"
rise = 1
fall = 1
"#;

/// Runs rounds 15 s apart from t = 0; each string gives `a` and `b` (see [`probes`]). Returns, after each round, the damped statuses
/// of `a` and `b`, the global status shown, and whether the snapshot is stale.
fn run(config: &Config, rounds: &[&str]) -> Vec<(String, &'static str, bool)> {
    let mut state = None;
    let mut out = Vec::new();
    for (n, codes) in rounds.iter().enumerate() {
        let at = n as u64 * 15_000;
        let next = advance(config, state.as_ref(), &round(at, codes), true).state;
        let snap = Snapshot { state: &next, now_ms: at };
        let damped: String = ["a", "b"]
            .iter()
            .map(|name| match next.origins[*name].health {
                Some(Health::Up) => 'u',
                Some(Health::Degraded) => 'd',
                Some(Health::Down) => 'x',
                None => '?',
            })
            .collect();
        out.push((
            damped,
            snap.status(config, &edgecheck_core::monitor::damped_view(config, &next.origins))
                .map_or("unknown", Overall::as_str),
            snap.stale(),
        ));
        state = Some(next);
    }
    out
}

#[test]
fn hysteresis_rise_fall_and_first_probe() {
    let c = valid(PAIR); // a: rise 2, fall 3 (defaults); b: rise 1, fall 1.
    let rows: &[(&[&str], &str)] = &[
        // The first probe decides directly.
        (&["xu"], "xu"),
        (&["dx"], "dx"),
        // a needs 3 consecutive worse probes to fall; b falls at once.
        (&["uu", "xx", "xx", "xx"], "xx"),
        (&["uu", "xx", "xx"], "ux"),
        (&["uu", "xx", "xx", "uu", "xx", "xx"], "ux"),
        // Worse probes of mixed levels count together; the last decides.
        (&["uu", "dd", "xd", "xx"], "xx"),
        // a needs 2 consecutive better probes to rise.
        (&["xx", "uu"], "xu"),
        (&["xx", "uu", "uu"], "uu"),
        (&["xx", "uu", "xx", "uu"], "xu"),
        (&["xx", "du", "uu"], "uu"),
        // A flapping origin never flips a damped status with fall > 1 and rise > 1.
        (&["uu", "xu", "uu", "xu", "uu", "xu", "uu"], "uu"),
    ];
    for &(rounds, expected) in rows {
        let got = run(&c, rounds);
        assert_eq!(got.last().unwrap().0, expected, "{rounds:?}: {got:?}");
    }
}

#[test]
fn self_isolated_rounds_keep_statuses_then_turn_unknown() {
    let c = valid(PAIR); // max_stale_s = 60; rounds every 15 s.
                         // Two good rounds, then every origin refused or timing out: stale, statuses
                         // kept, then unknown.
    let got = run(&c, &["uu", "uu", "rr", "tr", "rt", "tt", "rr", "uu"]);
    let shown: Vec<(&str, &str, bool)> = got.iter().map(|(d, s, st)| (d.as_str(), *s, *st)).collect();
    assert_eq!(
        shown,
        [
            ("uu", "ok", false),
            ("uu", "ok", false),
            ("uu", "ok", true),      // 15 s stale
            ("uu", "ok", true),      // 30 s
            ("uu", "ok", true),      // 45 s
            ("uu", "ok", true),      // 60 s: not more than max_stale_s
            ("uu", "unknown", true), // 75 s
            ("uu", "ok", false),     // a good round ends it
        ]
    );
    // One origin refused while another answers is not isolation: it is data.
    assert_eq!(run(&c, &["uu", "ur"]).last().unwrap().clone(), ("ux".to_string(), "degraded", false));
    // A first round that is isolated knows nothing: unknown, not down.
    assert_eq!(run(&c, &["rr"])[0], ("??".to_string(), "unknown", true));
    // Down for a reason that is not network-class is never isolation.
    assert_eq!(run(&c, &["uu", "xx", "xx", "xx"]).last().unwrap().clone(), ("xx".to_string(), "down", false));
}

#[test]
fn a_failed_canary_isolates_the_round() {
    let c = valid(PAIR);
    let first = advance(&c, None, &round(0, "uu"), true);
    let second = advance(&c, Some(&first.state), &round(15_000, "xx"), false); // the canary failed
    assert!(second.state.isolated);
    // Only the vantage's own change is recorded: it became isolated.
    let changes: Vec<(Kind, &str, &str)> =
        second.changes.iter().map(|ch| (ch.kind, ch.name.as_str(), ch.to.as_str())).collect();
    assert_eq!(changes, [(Kind::Vantage, "default", "isolated")]);
    assert_eq!(second.state.origins["b"].health, Some(Health::Up));
    assert!(second.state.origins["b"].stale, "the kept status is marked stale");
    assert_eq!(second.state.origins["b"].last.verdict.health, Health::Down, "the raw probe is still shown");
}

#[test]
fn changes_are_recorded_for_origins_regions_and_the_view() {
    use edgecheck_core::monitor::Kind;
    let c = valid(PAIR);
    let first = advance(&c, None, &round(0, "uu"), true);
    let kinds: Vec<(Kind, &str, Option<&str>, &str)> =
        first.changes.iter().map(|c| (c.kind, c.name.as_str(), c.from.as_deref(), c.to.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (Kind::Origin, "a", None, "up"),
            (Kind::Origin, "b", None, "up"),
            (Kind::Region, "r", None, "up"),
            (Kind::Global, "", None, "ok")
        ]
    );
    let second = advance(&c, Some(&first.state), &round(15_000, "ux"), true);
    let kinds: Vec<(Kind, &str, Option<&str>, &str)> =
        second.changes.iter().map(|c| (c.kind, c.name.as_str(), c.from.as_deref(), c.to.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (Kind::Origin, "b", Some("up"), "down"),
            (Kind::Region, "r", Some("up"), "degraded"),
            (Kind::Global, "", Some("ok"), "degraded")
        ]
    );
    assert_eq!(second.changes[0].reason, Some(Reason::StatusMismatch));
    assert_eq!(second.state.origins["a"].since_ms, 0, "a did not change");
    assert_eq!(second.state.origins["b"].since_ms, 15_000);
    // An isolated round records no origin, region or global change (only the
    // vantage's own).
    let third = advance(&c, Some(&second.state), &round(30_000, "tr"), true);
    assert!(third.changes.iter().all(|ch| ch.kind == Kind::Vantage) && third.state.isolated);
    assert!(edgecheck_core::uptime::rollup_adds(&c, &third).is_empty());
    let adds = edgecheck_core::uptime::rollup_adds(&c, &second);
    let rows: Vec<(&str, u64, u64, [u32; 3])> =
        adds.iter().map(|a| (a.name.as_str(), a.width_ms, a.bucket_ms, [a.up, a.degraded, a.down])).collect();
    assert_eq!(
        rows,
        [
            ("a", 60_000, 0, [1, 0, 0]),
            ("a", 3_600_000, 0, [1, 0, 0]),
            ("b", 60_000, 0, [0, 0, 1]),
            ("b", 3_600_000, 0, [0, 0, 1]),
            ("r", 60_000, 0, [0, 1, 0]),
            ("r", 3_600_000, 0, [0, 1, 0]),
        ]
    );
}

#[test]
fn uptime_windows_and_arithmetic() {
    use edgecheck_core::uptime::{bucket_start, Uptime, Window, HOUR_MS, MINUTE_MS};
    let now = 1_795_000_000_123; // 2026-11-18T11:06:40.123Z
    let rows: &[(Window, u64, u64)] = &[
        // (window, bucket width, first bucket inside the window)
        (Window::H1, MINUTE_MS, 1_794_996_420_000),  // 10:07:00
        (Window::H24, MINUTE_MS, 1_794_913_620_000), // the day before, 11:07:00
        (Window::D7, HOUR_MS, 1_794_398_400_000),    // 7 days before, 12:00:00
        (Window::D30, HOUR_MS, 1_792_411_200_000),
    ];
    for &(window, width, first) in rows {
        assert_eq!((window.bucket_ms(), window.first_bucket(now)), (width, first), "{}", window.label());
        assert_eq!(first % width, 0);
        assert!(first > now - window.length_ms() && first <= now - window.length_ms() + width);
    }
    assert_eq!(bucket_start(now, MINUTE_MS), 1_795_000_000_000 - 40_000);
    assert_eq!(Uptime::from_counts(0, 0, 0), None);
    assert_eq!(Uptime::from_counts(1998, 1, 1), Some(Uptime { up: 0.999, degraded: 0.0005, down: 0.0005 }));
    assert_eq!(Uptime::from_counts(1, 1, 1), Some(Uptime { up: 0.333333, degraded: 0.333333, down: 0.333333 }));
    // Counts read back from storage can be anything: no sum overflows.
    let huge = Uptime::from_counts(u64::MAX, u64::MAX, 0).unwrap();
    assert_eq!((huge.up, huge.degraded, huge.down), (0.5, 0.5, 0.0));
    let buckets = vec![("a".to_string(), bucket_start(now, HOUR_MS), [u64::MAX, 0, 0]); 2];
    let daily = edgecheck_core::uptime::daily(&buckets, now);
    assert_eq!(daily["a"].last().copied().flatten().map(|u| u.up), Some(1.0), "saturated, not wrapped");
}

/// A fleet of `n` origins in shards of 500 from 3 vantages.
fn fleet_of(n: usize) -> String {
    let mut toml = "[settings]\nshard_size = 500\nvantages = [\"enam\", \"weur\", \"apac\"]\n[regions.r]\n".to_string();
    for i in 0..n {
        toml += &format!("[[origins]]\nname = \"o{i}\"\nregion = \"r\"\nurl = \"https://o{i}.example.com/health\"\n");
    }
    toml
}

#[test]
fn the_fleet_limit_is_held() {
    use edgecheck_core::config::MAX_FLEET;
    let at_limit = valid(&fleet_of(MAX_FLEET));
    assert_eq!((at_limit.origins.len(), at_limit.shard_count()), (MAX_FLEET, MAX_FLEET / 500));
    let errs = config(&fleet_of(MAX_FLEET + 1)).expect_err("one origin past the limit is refused");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "origins");
    assert!(errs[0].message.contains("10001 origins, more than the 10000"), "{}", errs[0].message);
}

#[test]
fn the_probe_budget_cuts_timeouts_to_the_deadline_and_skips_past_it() {
    use edgecheck_core::schedule::{probe_budget, Budget};
    let rows: &[(u32, u64, u64, Budget)] = &[
        // (timeout ms, deadline at, now, budget)
        (2_000, 10_000, 1_000, Budget::Send { timeout_ms: 2_000 }),
        (2_000, 10_000, 9_000, Budget::Send { timeout_ms: 1_000 }),
        (2_000, 10_000, 9_999, Budget::Send { timeout_ms: 1 }),
        (2_000, 10_000, 10_000, Budget::Skip),
        (2_000, 10_000, 12_000, Budget::Skip),
        (u32::MAX, u64::MAX, 0, Budget::Send { timeout_ms: u64::from(u32::MAX) }),
    ];
    for &(timeout, deadline, now, want) in rows {
        assert_eq!(probe_budget(timeout, deadline, now), want, "timeout {timeout}, deadline {deadline}, now {now}");
    }
}

#[test]
fn a_canary_answers_with_any_status_and_nothing_else() {
    use edgecheck_core::vantage::canary_answered;
    let answered = |status| Outcome::Answered { status, content_type: None, body: Vec::new() };
    let rows: &[(Outcome, bool)] = &[
        (answered(200), true),
        (answered(503), true),
        (answered(404), true),
        (Outcome::BodyTooLarge { status: 200 }, true),
        (Outcome::Timeout { status: Some(200) }, false),
        (Outcome::Timeout { status: None }, false),
        (Outcome::ConnectError, false),
        (Outcome::Skipped, false),
        (Outcome::SecretMissing, false),
        (Outcome::RequestInvalid, false),
    ];
    for (outcome, want) in rows {
        assert_eq!(canary_answered(outcome), *want, "{outcome:?}");
    }
}

proptest! {
    /// The order in which probe results arrive does not change the outcome.
    #[test]
    fn arrival_order_does_not_change_the_outcome(codes in "[udx]{7}", seed in any::<u64>()) {
        let c = valid(FLEET);
        let probes = probes(&codes);
        let mut arrivals: Vec<(usize, Probe)> = probes.iter().copied().enumerate().collect();
        let sorted = Round::from_arrivals(0, 1, 7, arrivals.clone());
        // A deterministic shuffle from the seed.
        let mut x = seed | 1;
        for i in (1..arrivals.len()).rev() {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            arrivals.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let shuffled = Round::from_arrivals(0, 1, 7, arrivals);
        prop_assert_eq!(&shuffled, &sorted);
        prop_assert_eq!(advance(&c, None, &shuffled, true), advance(&c, None, &sorted, true));
    }

    /// A single bad probe never flips an up origin when fall > 1.
    #[test]
    fn a_single_bad_probe_never_flips_an_up_origin(fall in 2u32..=10, history in "[ud]{1,12}", bad in "[dx]") {
        let c = valid(&PAIR.replace("fall = 1", &format!("fall = {fall}")));
        let mut state = advance(&c, None, &round(0, "uu"), true).state;
        // Any history of good and degraded-then-recovered probes, ending up.
        for (n, h) in history.chars().chain("uuuuuuuuuu".chars()).enumerate() {
            let codes: String = [h, h].iter().collect();
            state = advance(&c, Some(&state), &round(n as u64 * 15_000, &codes), true).state;
        }
        prop_assert_eq!(state.origins["b"].health, Some(Health::Up));
        let next = advance(&c, Some(&state), &round(1_000_000, &format!("u{bad}")), true);
        prop_assert_eq!(next.state.origins["b"].health, Some(Health::Up));
        prop_assert!(next.changes.is_empty());
    }
}

#[test]
fn the_admin_refresh_needs_the_token() {
    use edgecheck_core::http::authorize;
    let rows: &[(Option<&str>, Option<&str>, Option<u16>)] = &[
        (Some("Bearer s3cret"), Some("s3cret"), None),
        (Some("bearer s3cret"), Some("s3cret"), None),
        (Some("BEARER  s3cret"), Some("s3cret"), None),
        (Some("Bearerx s3cret"), Some("s3cret"), Some(401)),
        (Some("Basic s3cret"), Some("s3cret"), Some(401)),
        (Some("Bearer s3cre"), Some("s3cret"), Some(401)),
        (Some("Bearer s3cret!"), Some("s3cret"), Some(401)),
        (Some("s3cret"), Some("s3cret"), Some(401)),
        (None, Some("s3cret"), Some(401)),
        (Some("Bearer "), Some(""), Some(403)),
        (Some("Bearer x"), None, Some(403)),
    ];
    for &(given, token, expected) in rows {
        assert_eq!(authorize(given, token).err().map(|r| r.status), expected, "{given:?} against {token:?}");
    }
}
