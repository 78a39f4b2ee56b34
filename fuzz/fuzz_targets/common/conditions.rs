//! Any conditions over any answer: the text before the first NUL byte is
//! appended to one origin's `[[origins]]` table (so `[[origins.conditions]]`
//! tables land on it) and validated, for a GET whose body is read and for
//! `format = "status_code"`; the rest is the answer: 2 bytes of status (big
//! endian), 1 byte choosing the headers from [`HEADERS`], then the body.
//!
//! Validation never panics and names fields; a valid fleet survives the
//! fleet document (queries and patterns are parsed again); judging never
//! panics, and a verdict is never better than the rule table's alone, names
//! a condition exactly when its reason is `assertion_failed` (then with that
//! condition's `fails`), and keeps what it saw within `SEEN_BYTES`.

use edgecheck_core::assertion::{self, Answer, Body, SEEN_BYTES};
use edgecheck_core::classify::{assess, Health, Outcome, Reason};
use edgecheck_core::config::condition::Fails;
use edgecheck_core::config::{parse_toml, Config};

const ORIGIN: &str = "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/health\"\n";

/// The response headers an input may choose.
const HEADERS: [&[(&str, &str)]; 4] = [
    &[],
    &[("content-type", "application/json")],
    &[("X-Version", "v2.1"), ("x-queue", "3"), ("content-type", "application/health+json")],
    &[("via", "a"), ("Via", "b"), ("content-type", "text/plain; charset=utf-8"), ("x-queue", "many")],
];

/// The `conditions` target: any bytes (conditions that are not UTF-8 are skipped).
pub fn run(data: &[u8]) {
    let (text, answer) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else { return };
    let (status, headers, body) = match answer {
        [hi, lo, h, body @ ..] => (u16::from_be_bytes([*hi, *lo]), HEADERS[usize::from(*h) % HEADERS.len()], body),
        _ => (200, HEADERS[1], answer),
    };
    let headers: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let content_type = headers.iter().find(|(n, _)| n == "content-type").map(|(_, v)| v.clone());
    let outcome = Outcome::Answered { status, content_type, headers: headers.clone(), body: body.to_vec() };

    for format in ["", "format = \"status_code\"\n"] {
        let Some(config) = validated(&format!("{ORIGIN}{format}{text}")) else { continue };
        let origin = &config.origins()[0];
        let judged = assess(origin, &outcome, None);
        let mut bare = origin.clone();
        bare.conditions.clear();
        let table = assess(&bare, &outcome, None).verdict;
        let v = judged.verdict;
        assert!(v.health <= table.health, "conditions never make a verdict better: {v:?} against {table:?}");
        assert_eq!(v.http_status, table.http_status, "the same answer");
        match v.condition {
            Some(name) => {
                assert_eq!(v.reason, Reason::AssertionFailed, "{v:?}");
                let condition = origin.conditions.iter().find(|c| c.name == name).expect("names a condition");
                let health = if condition.fails == Fails::Down { Health::Down } else { Health::Degraded };
                assert_eq!(v.health, health, "the condition's fails");
                assert!(v.health < table.health, "only a worse verdict is the condition's");
                let seen = judged.seen.as_deref().expect("what it saw is kept");
                assert!(seen.len() <= SEEN_BYTES, "{} bytes seen", seen.len());
            }
            None => {
                assert_eq!(v, table, "no failed condition: the table's verdict");
                assert_eq!(judged.seen, None);
            }
        }
        // The conditions on the raw answer (no interim answer looked past).
        let body = Body::new(body);
        let failed = assertion::judge(&origin.conditions, &Answer { status, headers: &headers, body: &body });
        if let Some(failed) = failed {
            assert!(failed.seen.len() <= SEEN_BYTES);
        }
    }
}

/// The fleet of `text`, when it is valid; its errors are read, and a valid
/// one goes through the fleet document and back unchanged.
fn validated(text: &str) -> Option<Config> {
    let raw = parse_toml(text).map_err(|e| e.to_string()).ok()?;
    match Config::from_raw(&raw) {
        Ok(config) => {
            let (back, _) = Config::from_fleet_document(&config.fleet_document()).expect("a fleet document loads");
            assert_eq!(back, config, "conditions survive the fleet document");
            Some(config)
        }
        Err(errs) => {
            assert!(!errs.is_empty(), "an invalid config names at least one problem");
            for e in &errs {
                assert!(!e.field.is_empty(), "every problem names a field: {e}");
            }
            None
        }
    }
}
