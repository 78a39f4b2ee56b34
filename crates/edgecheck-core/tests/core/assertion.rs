//! Conditions (`[[origins.conditions]]`, `assertion.rs`): every config error
//! they can make names its field; a table of conditions over answers (every
//! operator, missing paths, wrong types, `down` against `degraded`, how they
//! combine with a known health format); hostile answers (deep nesting, huge
//! node lists, a regex on a megabyte) classified, never a panic; and what
//! `/health`, the status page and the full view show of a failed one.

use edgecheck_core::assertion::{self, Answer, Body, MAX_NODES, SEEN_BYTES};
use edgecheck_core::classify::{assess, judge, Judged};
use edgecheck_core::config::condition::{Fails, Query, QueryKind};
use edgecheck_core::config::MAX_BODY_BYTES_LIMIT;
use edgecheck_core::detail::ProbeDetail;
use edgecheck_core::http;
use edgecheck_core::render;
use serde_json::Value;

use super::*;

/// Every condition error names its field (`origins[2].conditions[0].json`).
#[test]
fn condition_errors_name_their_field() {
    let rows = super::cases::conditions();
    assert!(rows.len() >= 50, "{} rows", rows.len());
    for (text, field, fragment) in rows {
        let errs = config(&text).expect_err(&format!("should fail with {field}:\n{text}"));
        assert!(
            errs.iter().any(|e| e.field == field && e.message.contains(fragment)),
            "expected {field} containing {fragment:?}, got {errs:?}\nfor:\n{text}"
        );
    }
}

/// Origin `a` (a GET, `format = "auto"`) with `origin` (its own keys, TOML
/// lines) and `conditions` (TOML lines of `[[origins.conditions]]` tables).
fn fleet_with(origin: &str, conditions: &str) -> Config {
    valid(&format!("{BASE}{origin}\n{conditions}"))
}

/// A condition's table: `name`, its subject and test lines, and `fails`.
fn cond(name: &str, lines: &str) -> String {
    format!("[[origins.conditions]]\nname = \"{name}\"\n{lines}\n")
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Outcome {
    let headers: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let content_type = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());
    Outcome::Answered { status, content_type, headers, body: body.as_bytes().to_vec() }
}

fn judged(c: &Config, outcome: &Outcome) -> Judged {
    assess(&c.origins()[0], outcome, None)
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// One condition (or several) over one answer: the health, reason and
/// condition named. `fails` defaults to `down`.
#[test]
fn conditions_over_answers() {
    type Row = (&'static str, String, Outcome, (Health, Reason, Option<&'static str>));
    let up = (Health::Up, Reason::Ok, None);
    let down = |name| (Health::Down, Reason::AssertionFailed, Some(name));
    let degraded = |name| (Health::Degraded, Reason::AssertionFailed, Some(name));
    let json = |body: &str| answer(200, &[JSON], body);
    let db_up = cond("db", "json = \"$.db\"\nop = \"==\"\nvalue = \"up\"");
    let checks = r#"{"checks":[{"name":"db","status":"up"},{"name":"queue","status":"down"}]}"#;
    let rows: Vec<Row> = vec![
        // The status code, with every comparison.
        ("status ==", cond("s", "status = true\nop = \"==\"\nvalue = 200"), answer(200, &[], ""), up),
        ("status == fails", cond("s", "status = true\nop = \"==\"\nvalue = 200"), answer(204, &[], ""), down("s")),
        ("status !=", cond("s", "status = true\nop = \"!=\"\nvalue = 204"), answer(204, &[], ""), down("s")),
        ("status <", cond("s", "status = true\nop = \"<\"\nvalue = 204"), answer(203, &[], ""), up),
        ("status < fails", cond("s", "status = true\nop = \"<\"\nvalue = 204"), answer(204, &[], ""), down("s")),
        ("status <=", cond("s", "status = true\nop = \"<=\"\nvalue = 204"), answer(204, &[], ""), up),
        ("status >", cond("s", "status = true\nop = \">\"\nvalue = 200"), answer(200, &[], ""), down("s")),
        ("status >=", cond("s", "status = true\nop = \">=\"\nvalue = 200"), answer(200, &[], ""), up),
        // A header: exists, equality, numbers, contains, matches; any case.
        (
            "header exists",
            cond("h", "header = \"x-cache\"\nop = \"exists\""),
            answer(200, &[("X-Cache", "HIT")], ""),
            up,
        ),
        ("header missing", cond("h", "header = \"x-cache\"\nop = \"exists\""), answer(200, &[], ""), down("h")),
        (
            "header ==",
            cond("h", "header = \"X-Env\"\nop = \"==\"\nvalue = \"prod\""),
            answer(200, &[("x-env", "prod")], ""),
            up,
        ),
        (
            "header == case",
            cond("h", "header = \"x-env\"\nop = \"==\"\nvalue = \"prod\""),
            answer(200, &[("x-env", "Prod")], ""),
            down("h"),
        ),
        (
            "header == absent",
            cond("h", "header = \"x-env\"\nop = \"!=\"\nvalue = \"staging\""),
            answer(200, &[], ""),
            down("h"),
        ),
        (
            "header !=",
            cond("h", "header = \"x-env\"\nop = \"!=\"\nvalue = \"staging\""),
            answer(200, &[("x-env", "prod")], ""),
            up,
        ),
        (
            "header < number",
            cond("h", "header = \"x-queue\"\nop = \"<\"\nvalue = 10"),
            answer(200, &[("x-queue", " 3 ")], ""),
            up,
        ),
        (
            "header < fails",
            cond("h", "header = \"x-queue\"\nop = \"<\"\nvalue = 10"),
            answer(200, &[("x-queue", "30")], ""),
            down("h"),
        ),
        (
            "header not a number",
            cond("h", "header = \"x-queue\"\nop = \"<\"\nvalue = 10"),
            answer(200, &[("x-queue", "few")], ""),
            down("h"),
        ),
        (
            "header == number",
            cond("h", "header = \"x-queue\"\nop = \"==\"\nvalue = 3"),
            answer(200, &[("x-queue", "3.0")], ""),
            up,
        ),
        (
            "header contains",
            cond("h", "header = \"server\"\nop = \"contains\"\nvalue = \"nginx\""),
            answer(200, &[("server", "nginx/1.27")], ""),
            up,
        ),
        (
            "header matches",
            cond("h", "header = \"x-version\"\nop = \"matches\"\nvalue = '^v2\\.\\d+$'"),
            answer(200, &[("x-version", "v2.14")], ""),
            up,
        ),
        (
            "header matches fails",
            cond("h", "header = \"x-version\"\nop = \"matches\"\nvalue = '^v2\\.\\d+$'"),
            answer(200, &[("x-version", "v3.0")], ""),
            down("h"),
        ),
        (
            "headers joined",
            cond("h", "header = \"via\"\nop = \"==\"\nvalue = \"a, b\""),
            answer(200, &[("via", "a"), ("Via", "b")], ""),
            up,
        ),
        // The body's text.
        (
            "body contains",
            cond("b", "body = true\nop = \"contains\"\nvalue = \"OK\""),
            answer(200, &[], "all OK here"),
            up,
        ),
        (
            "body contains fails",
            cond("b", "body = true\nop = \"contains\"\nvalue = \"OK\""),
            answer(200, &[], "all ok here"),
            down("b"),
        ),
        (
            "body matches",
            cond("b", "body = true\nop = \"matches\"\nvalue = '(?m)^db: up$'"),
            answer(200, &[], "cache: up\ndb: up\n"),
            up,
        ),
        ("body ==", cond("b", "body = true\nop = \"==\"\nvalue = \"pong\""), answer(200, &[], "\u{feff}pong\r\n"), up),
        (
            "body !=",
            cond("b", "body = true\nop = \"!=\"\nvalue = \"maintenance\""),
            answer(200, &[], "maintenance"),
            down("b"),
        ),
        (
            "body not UTF-8",
            cond("b", "body = true\nop = \"contains\"\nvalue = \"up\""),
            Outcome::Answered { status: 200, content_type: None, headers: Vec::new(), body: b"\xffup\xfe".to_vec() },
            up,
        ),
        // JSON values: the issue's `200 {"db":"down"}`, and every operator.
        ("json ==", db_up.clone(), json(r#"{"db":"up"}"#), up),
        ("json == fails", db_up.clone(), json(r#"{"db":"down"}"#), down("db")),
        ("json missing path", db_up.clone(), json(r#"{"cache":"up"}"#), down("db")),
        ("json wrong type", db_up.clone(), json(r#"{"db":1}"#), down("db")),
        ("json not JSON", db_up.clone(), answer(200, &[], "db: up"), down("db")),
        ("json not an object", db_up.clone(), json(r#"["up"]"#), down("db")),
        ("json !=", cond("j", "json = \"$.db\"\nop = \"!=\"\nvalue = \"down\""), json(r#"{"db":1}"#), up),
        (
            "json != fails",
            cond("j", "json = \"$.db\"\nop = \"!=\"\nvalue = \"down\""),
            json(r#"{"db":"down"}"#),
            down("j"),
        ),
        ("json != missing", cond("j", "json = \"$.db\"\nop = \"!=\"\nvalue = \"down\""), json("{}"), down("j")),
        ("json number ==", cond("j", "json = \"$.v\"\nop = \"==\"\nvalue = 1"), json(r#"{"v":1.0}"#), up),
        ("json <", cond("j", "json = \"$.lag\"\nop = \"<\"\nvalue = 5"), json(r#"{"lag":4.5}"#), up),
        ("json <=", cond("j", "json = \"$.lag\"\nop = \"<=\"\nvalue = 5"), json(r#"{"lag":5}"#), up),
        ("json >", cond("j", "json = \"$.lag\"\nop = \">\"\nvalue = 5"), json(r#"{"lag":5}"#), down("j")),
        ("json >=", cond("j", "json = \"$.free\"\nop = \">=\"\nvalue = 0.1"), json(r#"{"free":0.25}"#), up),
        (
            "json number as text",
            cond("j", "json = \"$.lag\"\nop = \"<\"\nvalue = 5"),
            json(r#"{"lag":"4"}"#),
            down("j"),
        ),
        ("json bool", cond("j", "json = \"$.ready\"\nop = \"==\"\nvalue = true"), json(r#"{"ready":true}"#), up),
        (
            "json bool fails",
            cond("j", "json = \"$.ready\"\nop = \"==\"\nvalue = true"),
            json(r#"{"ready":"true"}"#),
            down("j"),
        ),
        (
            "json contains text",
            cond("j", "json = \"$.name\"\nop = \"contains\"\nvalue = \"prod\""),
            json(r#"{"name":"eu-prod-1"}"#),
            up,
        ),
        (
            "json contains element",
            cond("j", "json = \"$.roles\"\nop = \"contains\"\nvalue = \"primary\""),
            json(r#"{"roles":["replica","primary"]}"#),
            up,
        ),
        (
            "json contains number",
            cond("j", "json = \"$.ids\"\nop = \"contains\"\nvalue = 3"),
            json(r#"{"ids":[1,2,4]}"#),
            down("j"),
        ),
        (
            "json contains object",
            cond("j", "json = \"$.db\"\nop = \"contains\"\nvalue = \"up\""),
            json(r#"{"db":{"up":true}}"#),
            down("j"),
        ),
        (
            "json matches",
            cond("j", "json = \"$.version\"\nop = \"matches\"\nvalue = '^2\\.'"),
            json(r#"{"version":"2.14.1"}"#),
            up,
        ),
        (
            "json matches a number",
            cond("j", "json = \"$.version\"\nop = \"matches\"\nvalue = '^2'"),
            json(r#"{"version":2}"#),
            down("j"),
        ),
        ("json exists", cond("j", "json = \"$.db\"\nop = \"exists\""), json(r#"{"db":null}"#), up),
        ("json exists fails", cond("j", "json = \"$.db\"\nop = \"exists\""), json(r#"{"cache":null}"#), down("j")),
        // A filter, every node selected, length() and count().
        (
            "json filter",
            cond("j", "json = \"$.checks[?@.name == 'db'].status\"\nop = \"==\"\nvalue = \"up\""),
            json(checks),
            up,
        ),
        (
            "json filter fails",
            cond("j", "json = \"$.checks[?@.name == 'queue'].status\"\nop = \"==\"\nvalue = \"up\""),
            json(checks),
            down("j"),
        ),
        (
            "json every node",
            cond("j", "json = \"$.checks[*].status\"\nop = \"==\"\nvalue = \"up\""),
            json(checks),
            down("j"),
        ),
        ("json descendant", cond("j", "json = \"$..[?@.status == 'down'].name\"\nop = \"exists\""), json(checks), up),
        ("json length", cond("j", "json = \"length($.checks)\"\nop = \">=\"\nvalue = 2"), json(checks), up),
        (
            "json length fails",
            cond("j", "json = \"length($.checks)\"\nop = \">=\"\nvalue = 3"),
            json(checks),
            down("j"),
        ),
        (
            "json length of text",
            cond("j", "json = \"length($.id)\"\nop = \"==\"\nvalue = 3"),
            json(r#"{"id":"ééé"}"#),
            up,
        ),
        (
            "json length of a number",
            cond("j", "json = \"length($.id)\"\nop = \"==\"\nvalue = 1"),
            json(r#"{"id":7}"#),
            down("j"),
        ),
        (
            "json length of nothing",
            cond("j", "json = \"length($.nodes)\"\nop = \"==\"\nvalue = 0"),
            json("{}"),
            down("j"),
        ),
        (
            "json length of two",
            cond("j", "json = \"length($.checks[*])\"\nop = \">\"\nvalue = 0"),
            json(checks),
            down("j"),
        ),
        (
            "json count",
            cond("j", "json = \"count($.checks[?@.status != 'up'])\"\nop = \"==\"\nvalue = 0"),
            json(checks),
            down("j"),
        ),
        ("json count of nothing", cond("j", "json = \"count($.nodes[*])\"\nop = \"==\"\nvalue = 0"), json("{}"), up),
        // Down against degraded: the first of the worst is named.
        (
            "degraded then down",
            cond("slow", "json = \"$.lag\"\nop = \"<\"\nvalue = 5\nfails = \"degraded\"") + &db_up,
            json(r#"{"lag":9,"db":"down"}"#),
            down("db"),
        ),
        (
            "two degraded",
            cond("slow", "json = \"$.lag\"\nop = \"<\"\nvalue = 5\nfails = \"degraded\"")
                + &cond("old", "json = \"$.version\"\nop = \"matches\"\nvalue = \"^2\"\nfails = \"degraded\""),
            json(r#"{"lag":9,"version":"1.0"}"#),
            degraded("slow"),
        ),
        (
            "degraded, down holds",
            cond("slow", "json = \"$.lag\"\nop = \"<\"\nvalue = 5\nfails = \"degraded\"") + &db_up,
            json(r#"{"lag":9,"db":"up"}"#),
            degraded("slow"),
        ),
        (
            "explicit down",
            cond("x", "status = true\nop = \"==\"\nvalue = 200\nfails = \"down\""),
            answer(201, &[], ""),
            down("x"),
        ),
    ];
    let c_of = |conditions: &str| fleet_with("", conditions);
    for (what, conditions, outcome, (health, reason, condition)) in rows {
        let c = c_of(&conditions);
        let Judged { verdict, seen } = judged(&c, &outcome);
        assert_eq!(
            (verdict.health, verdict.reason, verdict.condition.map(|n| n.as_str().to_string())),
            (health, reason, condition.map(String::from)),
            "{what}: {seen:?}"
        );
        assert_eq!(seen.is_some(), condition.is_some(), "{what}: what a failed condition saw is kept");
        if let Outcome::Answered { status, .. } = outcome {
            assert_eq!(verdict.http_status, Some(status), "{what}");
        }
    }
}

/// The value a failed condition saw, for the full view, capped.
#[test]
fn a_failed_condition_keeps_what_it_saw() {
    let seen = |lines: &str, outcome: Outcome| judged(&fleet_with("", &cond("c", lines)), &outcome).seen.unwrap();
    let json = |body: &str| answer(200, &[JSON], body);
    assert_eq!(seen("status = true\nop = \"==\"\nvalue = 200", answer(204, &[], "")), "204");
    assert_eq!(seen("header = \"x-env\"\nop = \"==\"\nvalue = \"prod\"", answer(200, &[], "")), "no x-env header");
    assert_eq!(seen("header = \"x-env\"\nop = \"==\"\nvalue = \"prod\"", answer(200, &[("X-Env", "dev")], "")), "dev");
    assert_eq!(seen("body = true\nop = \"contains\"\nvalue = \"up\"", answer(200, &[], "down")), "down");
    assert_eq!(seen("json = \"$.db\"\nop = \"==\"\nvalue = \"up\"", json(r#"{"db":"down"}"#)), r#""down""#);
    assert_eq!(seen("json = \"$.a[*]\"\nop = \"==\"\nvalue = 1", json(r#"{"a":[1,2]}"#)), "[1,2]");
    assert_eq!(seen("json = \"$.db\"\nop = \"==\"\nvalue = \"up\"", json("{}")), "nothing selected");
    assert_eq!(seen("json = \"length($.a)\"\nop = \"==\"\nvalue = 1", json(r#"{"a":[1,2]}"#)), "length 2");
    assert_eq!(seen("json = \"count($.a[*])\"\nop = \"==\"\nvalue = 1", json(r#"{"a":[1,2]}"#)), "count 2");
    assert!(
        seen("json = \"$.db\"\nop = \"exists\"", answer(200, &[], "<html>")).starts_with("not JSON: expected value")
    );
    let big = format!(r#"{{"db":"{}"}}"#, "é".repeat(10_000));
    let cut = seen("json = \"$.db\"\nop = \"==\"\nvalue = \"up\"", json(&big));
    assert!(cut.len() <= SEEN_BYTES && cut.starts_with("\"éé") && cut.ends_with('…'), "{cut}");
    let body = "x".repeat(100_000);
    let cut = seen("body = true\nop = \"contains\"\nvalue = \"up\"", answer(200, &[], &body));
    assert!(cut.len() <= SEEN_BYTES && cut.ends_with('…'), "{cut}");
}

/// A known health format and a condition: the worse of the two verdicts; on
/// equal health the table's reason stands.
#[test]
fn conditions_combine_with_health_formats_as_the_worse_verdict() {
    let db = cond("db", "json = \"$.components.db.status\"\nop = \"==\"\nvalue = \"UP\"");
    let soft = cond("db", "json = \"$.components.db.status\"\nop = \"==\"\nvalue = \"UP\"\nfails = \"degraded\"");
    let spring = |top: &str, db: &str| {
        answer(200, &[JSON], &format!(r#"{{"status":"{top}","components":{{"db":{{"status":"{db}"}}}}}}"#))
    };
    let rows = [
        // The format says up, the condition holds.
        ("", db.clone(), spring("UP", "UP"), (Health::Up, Reason::Ok, None)),
        // A part not up makes the format degraded; the condition says down: worse.
        ("", db.clone(), spring("UP", "DOWN"), (Health::Down, Reason::AssertionFailed, Some("db"))),
        // The format says down; the condition's degraded is not worse.
        ("", soft.clone(), spring("DOWN", "DOWN"), (Health::Down, Reason::BodyDown, None)),
        // Both degraded: the format's reason stands.
        ("", soft.clone(), spring("UP", "OUT_OF_SERVICE"), (Health::Degraded, Reason::BodyDegraded, None)),
        // A status outside expect_status is down already.
        ("", db.clone(), answer(503, &[JSON], "{}"), (Health::Down, Reason::StatusMismatch, None)),
        // A degraded condition under a 503: status_mismatch.
        ("", soft.clone(), answer(503, &[JSON], "{}"), (Health::Down, Reason::StatusMismatch, None)),
        // Invalid JSON: body_invalid (down) whatever the condition.
        ("", db.clone(), answer(200, &[JSON], "{\"status\":"), (Health::Down, Reason::BodyInvalid, None)),
        // format = "status_code" ignores the format, not the conditions.
        (
            "format = \"status_code\"",
            db.clone(),
            spring("UP", "DOWN"),
            (Health::Down, Reason::AssertionFailed, Some("db")),
        ),
        (
            "format = \"status_code\"",
            soft.clone(),
            spring("DOWN", "DOWN"),
            (Health::Degraded, Reason::AssertionFailed, Some("db")),
        ),
        // A HEAD probe: the status and headers.
        (
            "method = \"HEAD\"",
            cond("etag", "header = \"etag\"\nop = \"exists\""),
            answer(200, &[], ""),
            (Health::Down, Reason::AssertionFailed, Some("etag")),
        ),
    ];
    for (origin, conditions, outcome, (health, reason, condition)) in rows {
        let c = fleet_with(origin, &conditions);
        let v = judged(&c, &outcome).verdict;
        assert_eq!(
            (v.health, v.reason, v.condition.map(|n| n.as_str().to_string())),
            (health, reason, condition.map(String::from)),
            "{origin} {conditions} {outcome:?}"
        );
    }
}

/// Behind an interim answer the final one's status, headers and body are judged.
#[test]
fn conditions_read_the_final_answer_behind_an_interim_one() {
    let c = fleet_with(
        "",
        &(cond("v", "header = \"x-version\"\nop = \"==\"\nvalue = \"2\"")
            + &cond("db", "json = \"$.db\"\nop = \"==\"\nvalue = \"up\"")),
    );
    let interim = |version: &str, db: &str| {
        let body = format!(r#"{{"db":"{db}"}}"#);
        let head = format!(
            "HTTP/1.1 200 OK\r\nX-Version: {version}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        Outcome::Answered {
            status: 103,
            content_type: None,
            headers: vec![("link".into(), "</a>; rel=preload".into())],
            body: (head + &body).into_bytes(),
        }
    };
    let v = judged(&c, &interim("2", "up")).verdict;
    assert_eq!((v.health, v.reason, v.http_status), (Health::Up, Reason::Ok, Some(200)));
    let v = judged(&c, &interim("1", "up")).verdict;
    assert_eq!((v.reason, v.condition.map(|n| n.to_string())), (Reason::AssertionFailed, Some("v".into())));
    let v = judged(&c, &interim("2", "down")).verdict;
    assert_eq!((v.reason, v.condition.map(|n| n.to_string())), (Reason::AssertionFailed, Some("db".into())));
}

/// The body of the largest answer read: `settings.max_body_bytes` at its limit.
fn megabyte(unit: &str, open: &str, close: &str) -> String {
    let room = MAX_BODY_BYTES_LIMIT - open.len() - close.len();
    let mut body = String::with_capacity(MAX_BODY_BYTES_LIMIT);
    body.push_str(open);
    body.push_str(unit.repeat(room / unit.len()).trim_end_matches(','));
    body.push_str(close);
    assert!(body.len() <= MAX_BODY_BYTES_LIMIT);
    body
}

/// Hostile answers are classified outcomes, never a panic or unbounded work:
/// 10,000 nested arrays, queries over the most nodes a body can hold, a
/// regular expression over a megabyte.
#[test]
fn hostile_answers_are_classified() {
    let c = |conditions: &str| fleet_with("", conditions);
    let one = |lines: &str| c(&cond("c", lines));

    // 10,000 nested arrays: past serde_json's recursion limit, not JSON.
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = answer(200, &[JSON], &nested);
    let status_code = |lines: &str| fleet_with("format = \"status_code\"", &cond("c", lines));
    let j = judged(&status_code("json = \"$[0]\"\nop = \"exists\""), &deep);
    assert_eq!((j.verdict.health, j.verdict.reason), (Health::Down, Reason::AssertionFailed));
    assert!(j.seen.as_deref().unwrap().starts_with("not JSON: recursion limit exceeded"), "{:?}", j.seen);
    let j = judged(&status_code("json = \"count($..*)\"\nop = \">\"\nvalue = 0\nfails = \"degraded\""), &deep);
    assert_eq!((j.verdict.health, j.verdict.reason), (Health::Degraded, Reason::AssertionFailed));
    let j = judged(&one("json = \"count($..*)\"\nop = \">\"\nvalue = 0\nfails = \"degraded\""), &deep);
    assert_eq!((j.verdict.health, j.verdict.reason), (Health::Down, Reason::BodyInvalid), "the format's down is worse");
    let j = judged(&status_code("body = true\nop = \"matches\"\nvalue = '^\\[+\\]+$'"), &deep);
    assert_eq!(j.verdict.reason, Reason::Ok, "the text is still text");

    // The most nodes a megabyte holds: half a million numbers.
    let wide = megabyte("0,", "[", "]");
    let nodes = (wide.len() - 1) / 2;
    assert!(nodes > 500_000, "{nodes}");
    let wide = answer(200, &[JSON], &wide);
    let j = judged(&one("json = \"$[*]\"\nop = \"==\"\nvalue = 0"), &wide);
    assert_eq!((j.verdict.health, j.verdict.reason), (Health::Down, Reason::AssertionFailed));
    assert_eq!(j.seen.unwrap(), format!("{nodes} nodes selected, more than the {MAX_NODES} a condition compares"));
    for lines in [
        format!("json = \"count($[*])\"\nop = \"==\"\nvalue = {nodes}"),
        format!("json = \"count($..*)\"\nop = \"==\"\nvalue = {nodes}"),
        format!("json = \"length($)\"\nop = \"==\"\nvalue = {nodes}"),
        "json = \"$[?@ == 0]\"\nop = \"exists\"".to_string(),
        "json = \"$..[?@ != 0]\"\nop = \"exists\"".to_string(),
        "json = \"$[-1:]\"\nop = \"==\"\nvalue = 0".to_string(),
        "json = \"$[0:9007199254740991:1000]\"\nop = \"==\"\nvalue = 0".to_string(),
    ] {
        let j = judged(&one(&lines), &wide);
        let held = !lines.contains("!= 0");
        assert_eq!(j.verdict.reason == Reason::Ok, held, "{lines}: {:?}", j.seen);
    }

    // The deepest document serde_json reads, its innermost array as wide as
    // the rest of the megabyte: a descendant query visits each node once
    // per level above it, at most 128 times.
    let depth = 127;
    let deep_wide = answer(200, &[JSON], &megabyte("0,", &"[".repeat(depth), &"]".repeat(depth)));
    let j = judged(&one("json = \"count($..*)\"\nop = \">\"\nvalue = 500000"), &deep_wide);
    assert_eq!(j.verdict.reason, Reason::Ok, "{:?}", j.seen);
    let j = judged(&one("json = \"$..[?@ == 1]\"\nop = \"exists\""), &deep_wide);
    assert_eq!((j.verdict.reason, j.seen.as_deref()), (Reason::AssertionFailed, Some("nothing selected")));

    // A regular expression over a megabyte: linear, whatever the pattern
    // (a backtracking engine takes exponential time on these).
    let text = answer(200, &[], &"a".repeat(MAX_BODY_BYTES_LIMIT));
    for pattern in ["(a|aa)*b", "(a*)*b", "^(a+)+$", "(?:a?){12}a{12}b", "a.*a.*a.*b", "(\\w|a)+@"] {
        let j = judged(&one(&format!("body = true\nop = \"matches\"\nvalue = '{pattern}'")), &text);
        let matches = pattern == "^(a+)+$";
        assert_eq!(j.verdict.reason == Reason::Ok, matches, "{pattern}");
    }
    let strings = answer(200, &[JSON], &megabyte(r#""aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","#, "[", "]"));
    let j = judged(&one("json = \"$[?@ == 'b']\"\nop = \"exists\""), &strings);
    assert_eq!(j.verdict.reason, Reason::AssertionFailed);
    let j =
        judged(&one("body = true\nop = \"contains\"\nvalue = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab'"), &strings);
    assert_eq!(j.verdict.reason, Reason::AssertionFailed);
}

/// One parse per answer: the body is parsed lazily, once, whoever reads it.
#[test]
fn a_body_is_parsed_once_and_only_when_read() {
    let body = Body::new(b"\xef\xbb\xbf {\"db\":\"up\"} \n");
    assert_eq!(body.text().map(str::trim), Some(r#"{"db":"up"}"#), "a byte order mark is not text");
    let first: *const Value = body.json().unwrap();
    assert!(std::ptr::eq(first, body.json().unwrap()), "parsed once");
    assert_eq!(Body::new(b"\xff").json(), Err("not UTF-8"));
    let c = fleet_with("", &cond("db", "json = \"$.db\"\nop = \"==\"\nvalue = \"up\""));
    let answer = Answer { status: 200, headers: &[], body: &body };
    assert_eq!(assertion::judge(&c.origins()[0].conditions, &answer), None);
}

/// The validated conditions: kinds of queries, names, and the fleet document
/// round trip (queries and patterns are parsed again when the worker reads it).
#[test]
fn conditions_survive_the_fleet_document() {
    let c = fleet_with(
        "",
        &(cond("db", "json = \"$.checks[?@.name == 'db'].status\"\nop = \"==\"\nvalue = \"up\"")
            + &cond("nodes", "json = \" length( $.nodes ) \"\nop = \">=\"\nvalue = 3\nfails = \"degraded\"")
            + &cond("count", "json = \"count($.nodes[*])\"\nop = \"<\"\nvalue = 100")
            + &cond("version", "header = \"X-Version\"\nop = \"matches\"\nvalue = '^v2\\.'")
            + &cond("ok", "body = true\nop = \"contains\"\nvalue = \"ok\"")
            + &cond("status", "status = true\nop = \"<\"\nvalue = 500")),
    );
    let conditions = &c.origins()[0].conditions;
    assert_eq!(conditions.len(), 6);
    assert_eq!(conditions[1].fails, Fails::Degraded);
    assert_eq!(conditions[0].fails, Fails::Down, "down by default");
    let kinds: Vec<Option<QueryKind>> = conditions
        .iter()
        .map(|c| match &c.subject {
            edgecheck_core::config::condition::Subject::Json(q) => Some(q.kind()),
            _ => None,
        })
        .collect();
    assert_eq!(kinds[..3], [Some(QueryKind::Nodes), Some(QueryKind::Length), Some(QueryKind::Count)]);
    let (back, _) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!(back, c);
    assert!(c.fleet_document().contains(r#""json":"$.checks[?@.name == 'db'].status""#), "the query as written");
    // A document whose query no longer parses is not a config.
    let doc = c.fleet_document();
    let json = doc.split_once('\n').unwrap().1.replace("count($.nodes[*])", "count($.nodes[*]");
    let tampered = format!("{FLEET_DOCUMENT_HEADER}{}\n{json}", sha256(&json));
    let Err(FleetDocumentError::NotAConfig(e)) = Config::from_fleet_document(&tampered) else { panic!("refused") };
    assert!(e.contains("JSONPath"), "{e}");
    // Queries inside strings are not read for the bounds.
    assert!(Query::parse("$[?@.name == '..,$..']").is_ok());
    assert!(Query::parse("$[?@.name == \"a\\\"..\"]..x").is_ok());
}

fn sha256(text: &str) -> String {
    use std::fmt::Write;
    // The digest the fleet document carries; computed here as the check does.
    let digest = <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes());
    digest.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// `/health` names the failed condition where the reason is (the origin and
/// each vantage), the status page too; neither shows what it saw. The full
/// view shows the value seen, capped.
#[test]
fn health_names_the_condition_and_only_the_full_view_shows_what_it_saw() {
    let c = fleet_with("rise = 1\nfall = 1", &cond("db", "json = \"$.db\"\nop = \"==\"\nvalue = \"up\""));
    let outcome = answer(200, &[JSON], r#"{"db":"s3cr3t-down"}"#);
    let judged = judged(&c, &outcome);
    let probe = Probe { verdict: judged.verdict, latency_ms: Some(12) };
    let state = advance(&c, None, &Round { checked_at_ms: 1_000, duration_ms: 20, probes: vec![probe] }, true).state;
    let view = shown(&c, Snapshot { state: &state, now_ms: 2_000 });
    let origin = view.origin(&c, 0);
    assert_eq!((origin.status, origin.reason), (Some(Health::Down), Reason::AssertionFailed));
    assert_eq!(origin.condition.map(|n| n.to_string()), Some("db".into()));

    let health = serde_json::to_value(render::health(&c, &view, &Uptimes::new(), false)).unwrap();
    let a = &health["regions"]["us-east"]["origins"][0];
    assert_eq!((a["reason"].as_str(), a["condition"].as_str()), (Some("assertion_failed"), Some("db")), "{a}");
    assert_eq!(a["vantages"]["default"]["condition"], "db", "{a}");
    for variant in [Variant::Full, Variant::Summary, Variant::HealthJson, Variant::Verbose] {
        for target in [Target::Health, Target::HealthOrigin(0), Target::Metrics, Target::StatusPage] {
            let extras = Extras { uptimes: None, changes: &[], daily: None, notify: None, latency: None, slo: None };
            let reply = http::answer(&c, target, variant, &view, extras);
            let body = reply.body.unwrap_or_default();
            assert!(!body.contains("s3cr3t"), "{target:?} {variant:?} shows what the condition saw");
            if target == Target::StatusPage && variant == Variant::Full {
                assert!(body.contains("(assertion_failed: db)"), "{body}");
            }
        }
    }
    // An answer that holds names nothing.
    let up = judge(&c.origins()[0], &answer(200, &[JSON], r#"{"db":"up"}"#), None);
    let round =
        Round { checked_at_ms: 16_000, duration_ms: 20, probes: vec![Probe { verdict: up, latency_ms: Some(9) }] };
    let state = advance(&c, Some(&state), &round, true).state;
    let up_view = shown(&c, Snapshot { state: &state, now_ms: 17_000 });
    let health = serde_json::to_value(render::health(&c, &up_view, &Uptimes::new(), false)).unwrap();
    let a = &health["regions"]["us-east"]["origins"][0];
    assert_eq!(a["reason"], "ok");
    assert!(a.get("condition").is_none() && a["vantages"]["default"].get("condition").is_none(), "{a}");

    // The full view: the value seen, with the condition's name.
    let detail = ProbeDetail::new(None, Vec::new(), Some(br#"{"db":"s3cr3t-down"}"#)).with_assertion(&judged);
    let reply = http::detail(&c, &view, &Uptimes::new(), &[Some(detail)], &Default::default());
    let doc: Value = serde_json::from_str(reply.body.as_deref().unwrap()).unwrap();
    assert_eq!(doc["probes"]["a"]["assertion"], serde_json::json!({"condition": "db", "seen": "\"s3cr3t-down\""}));
    let none = ProbeDetail::new(None, Vec::new(), Some(b"{}")).with_assertion(&assess(
        &c.origins()[0],
        &Outcome::Skipped,
        None,
    ));
    assert_eq!(none.assertion, None);
}

/// A verdict naming a condition goes through the report, the merge and the
/// stored row as JSON, and an old row without the field reads back.
#[test]
fn a_verdict_keeps_its_condition_through_json() {
    let c = fleet_with("", &cond("db", "json = \"$.db\"\nop = \"==\"\nvalue = \"up\""));
    let v = judged(&c, &answer(200, &[JSON], r#"{"db":"down"}"#)).verdict;
    let text = serde_json::to_string(&v).unwrap();
    assert_eq!(text, r#"{"health":"down","reason":"assertion_failed","http_status":200,"condition":"db"}"#);
    assert_eq!(serde_json::from_str::<Verdict>(&text).unwrap(), v);
    let old: Verdict = serde_json::from_str(r#"{"health":"up","reason":"ok","http_status":200}"#).unwrap();
    assert_eq!(old.condition, None);
    assert!(serde_json::from_str::<Verdict>(
        r#"{"health":"down","reason":"assertion_failed","http_status":200,"condition":"Not A Name"}"#
    )
    .is_err());
}
