//! Config: defaults, the full example, every error naming its field, URLs as sent, waves, the fleet limit.

use super::*;

#[test]
fn config_defaults() {
    let c = valid(BASE);
    let s = c.settings();
    assert_eq!((s.probe_timeout_ms, s.deadline_ms, s.max_in_flight, s.max_body_bytes), (2000, 5000, 6, 65536));
    assert!(!s.degraded_is_ready);
    assert_eq!(s.min_regions_up, 1);
    assert_eq!(c.regions()[0].min_up, 1);
    let o = &c.origins()[0];
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
    let o = &c.origins()[0];
    assert_eq!(o.timeout_ms, 1500);
    assert!(o.critical && c.settings().degraded_is_ready);
    assert!(o.expect_status.contains(429) && o.expect_status.contains(301) && o.expect_status.contains(200));
    assert!(!o.expect_status.contains(428));
    assert_eq!(c.regions()[0].min_up, 1, "a majority of 1");
    assert_eq!(o.headers.len(), 2);
}

/// Every error path names its field.
#[test]
fn config_errors_name_their_field() {
    for (text, field, fragment) in super::cases::general() {
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
    assert_eq!(bare.origins()[0].url, "https://a.example.com/");
    for url in
        ["https://a.example.com/health?x=1&y=%20", "http://127.0.0.1:9101/actuator/health", "https://[::1]:8443/h"]
    {
        assert_eq!(valid(&BASE.replace("https://a.example.com/health", url)).origins()[0].url, url);
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
    assert_eq!((c.origins().len(), c.regions()[0].origins.len(), c.regions()[1].origins.len()), (250, 125, 125));
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
    // At refresh_s = 120 its 25 probers stay under the Free plan's Durable Object requests.
    let sharded = valid(&text.replace("[settings]\n", "[settings]\nshard_size = 10\nrefresh_s = 120\n"));
    assert_eq!(sharded.warnings(), [], "a sharded fleet gets no warning about the whole fleet");
    // Every 15 s, 25 probers make (3 × 25 + 1) × 5,760 = 437,760 requests a day.
    let busy = valid(&text.replace("[settings]\n", "[settings]\nshard_size = 10\n"));
    let requests: Vec<String> =
        busy.warnings().into_iter().filter(|w| w.field == "settings.refresh_s").map(|w| w.message).collect();
    assert!(
        requests.len() == 1
            && requests[0].contains("25 probers every 15 s make about 437760 Durable Object requests a day"),
        "{requests:?}"
    );
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
    assert_eq!((c.regions().len(), c.origins().len()), (3, 10));
    // Its one warning is true: three vantages every 5 s (so the demo reacts
    // quickly) are more Durable Object requests than the Free plan's a day.
    let fields: Vec<String> = c.warnings().into_iter().map(|w| w.field).collect();
    assert_eq!(fields, ["settings.refresh_s"], "{:?}", c.warnings());
    // `edgecheck check --out` writes the validated config as a fleet document; the worker reads it back.
    let (document, digest) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!(document, c, "the fleet document holds the validated config");
    assert_eq!(digest.len(), 64);
}

#[test]
fn a_fleet_document_changed_after_the_check_is_refused() {
    let c = valid(BASE);
    let text = c.fleet_document();
    let (header, json) = text.split_once('\n').unwrap();
    assert!(header.starts_with(FLEET_DOCUMENT_HEADER), "{header}");
    let (_, digest) = Config::from_fleet_document(&text).unwrap();
    assert_eq!(header, format!("{FLEET_DOCUMENT_HEADER}{digest}"));
    // Another fleet has another digest.
    let other = valid(&BASE.replace("a.example.com", "b.example.com")).fleet_document();
    assert_ne!(Config::from_fleet_document(&other).unwrap().1, digest);
    // One byte of the JSON changed: refused, naming both digests.
    let edited = format!("{header}\n{}", json.replace("a.example.com", "evil.example.com"));
    let err = Config::from_fleet_document(&edited).unwrap_err();
    assert!(matches!(err, FleetDocumentError::DigestMismatch { .. }), "{err:?}");
    assert!(err.to_string().contains("changed after it was checked"), "{err}");
    // No header, an empty text, a header alone, JSON that is not a config.
    for bad in ["", "\n", json, &format!("{header}\n"), "edgecheck-fleet/1 sha256=00\n{}"] {
        assert!(Config::from_fleet_document(bad).is_err(), "{bad:?}");
    }
    let not_a_config = format!("{FLEET_DOCUMENT_HEADER}{}\n[]", sha256_hex_of("[]"));
    assert!(matches!(Config::from_fleet_document(&not_a_config), Err(FleetDocumentError::NotAConfig(_))));
}

/// SHA-256 of `text` in hex, by the reference implementation's test vectors' tool: sha2.
fn sha256_hex_of(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
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
    assert_eq!((at_limit.origins().len(), at_limit.shard_count()), (MAX_FLEET, MAX_FLEET / 500));
    let errs = config(&fleet_of(MAX_FLEET + 1)).expect_err("one origin past the limit is refused");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].field, "origins");
    assert!(errs[0].message.contains("10001 origins, more than the 10000"), "{}", errs[0].message);
}

/// `degraded_after_ms`: the origin's own, else its region's, else the
/// settings', larger or smaller; none for a heartbeat check or without any.
/// A fleet without the key writes no trace of it in its fleet document (its
/// digest is what it was), and one with it reads back the same.
#[test]
fn slow_thresholds_resolve_most_specific_first() {
    let c = valid(LEVELS);
    let thresholds: Vec<(&str, Option<u32>)> =
        c.origins().iter().map(|o| (o.name.as_str(), o.degraded_after_ms)).collect();
    assert_eq!(
        thresholds,
        [
            ("own", Some(100)),
            ("roomy", Some(500)),
            ("regional", Some(300)),
            ("settled", Some(1000)),
            ("wide", Some(1500)),
            ("head", Some(1000)),
            ("job", None),
        ]
    );
    assert_eq!(c.settings().degraded_after_ms, Some(1000));
    let regions: Vec<Option<u32>> = c.regions().iter().map(|r| r.degraded_after_ms).collect();
    assert_eq!(regions, [Some(300), None]);
    // An origin's own threshold may stand where the inherited one could never
    // fire: only the one it takes is checked against its timeout.
    let own_wins = valid(&format!("[settings]\ndegraded_after_ms = 2500\n{BASE}degraded_after_ms = 1999\n"));
    assert_eq!(own_wins.origins()[0].degraded_after_ms, Some(1999));
    assert_eq!(valid(BASE).origins()[0].degraded_after_ms, None);
    assert!(!valid(BASE).fleet_document().contains("degraded_after_ms"));
    let (read, _) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!(read, c, "the thresholds survive the fleet document");
}
