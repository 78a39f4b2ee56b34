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
    assert_eq!((c.regions().len(), c.origins().len()), (3, 10));
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    // build.rs embeds the validated config as JSON; the worker reads it back.
    let embedded = Config::from_embedded_json(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(embedded, c, "the embedded config is the validated one");
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
