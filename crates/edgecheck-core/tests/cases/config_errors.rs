//! Every config error the validation names, as rows of (the TOML text, the
//! field it must name, a fragment of its message; for `maintenance`, the
//! field's prefix and no fragment). One table for the core's host tests
//! (tests/core: `config`, `heartbeat`, `dns`, `maintenance`, `notify`, `slo`) and for the
//! `edgecheck check` command's (crates/edgecheck-cli/tests/check.rs), which
//! include this file.

#![allow(dead_code)]

/// One origin in `us-east`.
pub const BASE: &str = r#"
[regions.us-east]
[[origins]]
name = "a"
region = "us-east"
url = "https://a.example.com/health"
"#;

/// Three origins in two regions, rise and fall 1.
pub const SMALL: &str = r#"
[settings]
rise = 1
fall = 1
[regions.east]
[regions.west]
[[origins]]
name = "e1"
region = "east"
url = "https://e1.example.com/"
[[origins]]
name = "w1"
region = "west"
url = "https://w1.example.com/"
[[origins]]
name = "w2"
region = "west"
url = "https://w2.example.com/"
"#;

/// `n` origins in two regions (`r0`, `r1`), rise 1 and fall 1, and `channels`.
pub fn fleet(n: usize, channels: &str) -> String {
    let mut toml = String::from("[settings]\nrise = 1\nfall = 1\n[regions.r0]\n[regions.r1]\n");
    for i in 0..n {
        toml +=
            &format!("[[origins]]\nname = \"o{i:03}\"\nregion = \"r{}\"\nurl = \"https://o{i}.example.com/\"\n", i % 2);
    }
    toml + channels
}

/// Settings, regions, origins, their URLs, headers and names.
pub fn general() -> Vec<Row> {
    let origin = |extra: &str| {
        format!("[regions.us-east]\n[[origins]]\nname = \"a\"\nregion = \"us-east\"\nurl = \"https://a.example.com/\"\n{extra}\n")
    };
    vec![
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
        // degraded_after_ms at every level: a positive number of ms, below the
        // timeout of every origin that takes it (it could never fire otherwise).
        (format!("[settings]\ndegraded_after_ms = 0\n{BASE}"), "settings.degraded_after_ms", "0 is out of range"),
        (
            format!("[settings]\ndegraded_after_ms = 5000\n{BASE}"),
            "settings.degraded_after_ms",
            "expected 1 to 4999 (ms, below the timeout_ms of the origins that take it",
        ),
        (format!("[settings]\ndegraded_after_ms = \"1s\"\n{BASE}"), "settings.degraded_after_ms", "invalid type"),
        (
            format!("[settings]\ndegraded_after_ms = 2000\n{BASE}"),
            "settings.degraded_after_ms",
            "2000 ms is not below the timeout of origin \"a\" (timeout_ms 2000), which takes it: an answer slower than its timeout is a timeout, so this threshold could never fire there",
        ),
        (
            BASE.replace("[regions.us-east]", "[regions.us-east]\ndegraded_after_ms = -5"),
            "regions.us-east.degraded_after_ms",
            "-5 is out of range",
        ),
        (
            origin("timeout_ms = 1000").replace("[regions.us-east]", "[regions.us-east]\ndegraded_after_ms = 1500"),
            "regions.us-east.degraded_after_ms",
            "1500 ms is not below the timeout of origin \"a\" (timeout_ms 1000), which takes it",
        ),
        (
            (0..3).fold("[settings]\ndegraded_after_ms = 900\nprobe_timeout_ms = 900\n[regions.r]\n".to_string(), |toml, i| {
                toml + &format!("[[origins]]\nname = \"o{i}\"\nregion = \"r\"\nurl = \"https://o{i}.example.com/\"\n")
            }),
            "settings.degraded_after_ms",
            "900 ms is not below the timeout of origin \"o0\" (timeout_ms 900) and 2 more that take it: an answer slower than its timeout is a timeout",
        ),
        (origin("degraded_after_ms = 0"), "origins[0].degraded_after_ms", "0 is out of range"),
        (
            origin("timeout_ms = 1000\ndegraded_after_ms = 1000"),
            "origins[0].degraded_after_ms",
            "expected 1 to 999 (ms, below this origin's timeout_ms of 1000 ms: an answer slower than its timeout is a timeout, so a threshold at or above it could never fire)",
        ),
        (origin("degraded_after_ms = 2500"), "origins[0].degraded_after_ms", "below this origin's timeout_ms of 2000 ms"),
        (origin("degraded_after_ms = 1.5"), "origins[0].degraded_after_ms", "invalid type"),
        ("[settings]\n".to_string(), "regions", "at least one region"),
        ("[regions.x]\n".to_string(), "origins", "at least one origin"),
        (format!("{BASE}\n[[origins]\n"), "(syntax)", "TOML parse error"),
    ]
}

/// One row: the TOML text, the field, a fragment of the message.
pub type Row = (String, &'static str, &'static str);

/// Heartbeat checks.
pub fn heartbeat() -> Vec<Row> {
    let hb = "kind = \"heartbeat\"\nperiod_s = 60\ngrace_s = 30\ntoken_secret = \"C_TOKEN\"";
    let check = |extra: &str| {
        format!(
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n[[origins]]\nname = \"c\"\nregion = \"r\"\n{extra}\n"
        )
    };
    vec![
        (check("kind = \"heartbeat\"\ngrace_s = 30\ntoken_secret = \"T\""), "origins[1].period_s", "missing"),
        (check("kind = \"heartbeat\"\nperiod_s = 60\ntoken_secret = \"T\""), "origins[1].grace_s", "missing"),
        (check("kind = \"heartbeat\"\nperiod_s = 60\ngrace_s = 0"), "origins[1].token_secret", "missing"),
        (check(&format!("{hb}\nurl = \"https://c.example.com/\"")), "origins[1].url", "a heartbeat check is not probed"),
        (check(&format!("{hb}\ntimeout_ms = 100")), "origins[1].timeout_ms", "a heartbeat check is not probed"),
        (check(&format!("{hb}\nformat = \"status_code\"")), "origins[1].format", "a heartbeat check is not probed"),
        (check(&format!("{hb}\ndegraded_after_ms = 500")), "origins[1].degraded_after_ms", "a heartbeat check is not probed"),
        (
            check("kind = \"heartbeat\"\nperiod_s = 0\ngrace_s = 0\ntoken_secret = \"T\""),
            "origins[1].period_s",
            "0 is out of range",
        ),
        (
            check("kind = \"heartbeat\"\nperiod_s = 2678401\ngrace_s = 0\ntoken_secret = \"T\""),
            "origins[1].period_s",
            "2678401 is out of range",
        ),
        (
            check("kind = \"heartbeat\"\nperiod_s = 1\ngrace_s = -1\ntoken_secret = \"T\""),
            "origins[1].grace_s",
            "-1 is out of range",
        ),
        (
            check("kind = \"heartbeat\"\nperiod_s = 1\ngrace_s = 1\ntoken_secret = \"not a name\""),
            "origins[1].token_secret",
            "\"not a name\" is not a secret name",
        ),
        (check("kind = \"cron\"\nurl = \"https://c.example.com/\""), "origins[1].kind", "\"cron\" is not a kind"),
        (check("url = \"https://c.example.com/\"\nperiod_s = 60"), "origins[1].period_s", "only a heartbeat check"),
        (check("url = \"https://c.example.com/\"\ntoken_secret = \"T\""), "origins[1].token_secret", "only a heartbeat"),
        (check(""), "origins[1].url", "missing: a probed origin needs"),
        (
            "[regions.r]\n[[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"heartbeat\"\nperiod_s = 1\ngrace_s = 1\ntoken_secret = \"T\"\n".into(),
            "origins",
            "every origin is a heartbeat check",
        ),
    ]
}

/// DNS checks: the second origin, `c`, is a DNS check (`kind = "dns"`)
/// beside a probed origin `a`; `check(extra)` adds `extra` to it.
pub fn dns() -> Vec<Row> {
    let check = |extra: &str| {
        format!(
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n[[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"dns\"\n{extra}\n"
        )
    };
    let a = |extra: &str| check(&format!("query = \"example.com\"\nrecord = \"A\"\n{extra}"));
    let http = |extra: &str| {
        format!("[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n{extra}\n")
    };
    let long_label = format!("{}.com", "a".repeat(64));
    let long_name = format!("{}.com", vec!["a".repeat(60); 5].join("."));
    let rows: Vec<(String, &'static str, &'static str)> = vec![
        // The record type: supported ones only, each named in the message.
        (
            check("query = \"example.com\"\nrecord = \"SRV\""),
            "origins[1].record",
            "\"SRV\" is not a supported record type; use one of A, AAAA, CNAME, MX, TXT, NS, SOA",
        ),
        (check("query = \"example.com\"\nrecord = \"PTR\""), "origins[1].record", "is not a supported record type"),
        (check("query = \"example.com\"\nrecord = \"\""), "origins[1].record", "is not a supported record type"),
        (check("query = \"example.com\""), "origins[1].record", "missing: a DNS check needs a record type"),
        (check("query = \"example.com\"\nrecord = 1"), "origins[1].record", "invalid type"),
        // The name.
        (check("record = \"A\""), "origins[1].query", "missing: a DNS check needs the name"),
        (check("query = \"\"\nrecord = \"A\""), "origins[1].query", "at least one label"),
        (check("query = \".\"\nrecord = \"A\""), "origins[1].query", "at least one label"),
        (check("query = \"a..example.com\"\nrecord = \"A\""), "origins[1].query", "an empty label"),
        (check("query = \"exa mple.com\"\nrecord = \"A\""), "origins[1].query", "contains ' '"),
        (check("query = \"https://example.com/\"\nrecord = \"A\""), "origins[1].query", "contains ':'"),
        (check(&format!("query = \"{long_label}\"\nrecord = \"A\"")), "origins[1].query", "a label of 64 characters"),
        (
            check(&format!("query = \"{long_name}\"\nrecord = \"A\"")),
            "origins[1].query",
            "a domain name has at most 253",
        ),
        // The resolver: an http(s) URL, as any probed URL.
        (a("resolver = \"ftp://dns.example.com/\""), "origins[1].resolver", "scheme \"ftp\""),
        (a("resolver = \"dns.example.com\""), "origins[1].resolver", "not an absolute URL"),
        (a("resolver = \"https://u:p@dns.example.com/dns-query\""), "origins[1].resolver", "credentials"),
        (a("resolver = \"https://dns.example.com/dns-query#x\""), "origins[1].resolver", "fragment"),
        // Expected values: of the record's type.
        (
            a("expect = [\"192.0.2.1\", \"192.0.2.300\"]"),
            "origins[1].expect[1]",
            "\"192.0.2.300\" is not an IPv4 address",
        ),
        (a("expect = [\"2001:db8::1\"]"), "origins[1].expect[0]", "is not an IPv4 address"),
        (
            check("query = \"example.com\"\nrecord = \"AAAA\"\nexpect = [\"192.0.2.1\"]"),
            "origins[1].expect[0]",
            "is not an IPv6 address",
        ),
        (
            check("query = \"example.com\"\nrecord = \"CNAME\"\nexpect = [\"not a name\"]"),
            "origins[1].expect[0]",
            "CNAME values are domain names",
        ),
        (
            check("query = \"example.com\"\nrecord = \"MX\"\nexpect = [\"10 mail.example.com\"]"),
            "origins[1].expect[0]",
            "MX values are domain names",
        ),
        (a("expect = \"192.0.2.1\""), "origins[1].expect", "invalid type"),
        (
            a(&format!("expect = [{}]", vec!["\"192.0.2.1\""; 17].join(", "))),
            "origins[1].expect",
            "17 values; a DNS check expects 16 at most",
        ),
        (
            check(&format!("query = \"example.com\"\nrecord = \"TXT\"\nexpect = [\"{}\"]", "v".repeat(1025))),
            "origins[1].expect[0]",
            "1025 bytes",
        ),
        // A probe's own keys are checked as for any probe.
        (a("timeout_ms = 0"), "origins[1].timeout_ms", "0 is out of range"),
        (a("fall = 11"), "origins[1].fall", "11 is out of range"),
        (a("timeout_ms = 500\ndegraded_after_ms = 500"), "origins[1].degraded_after_ms", "500 is out of range"),
        // The request is the check's own: none of an HTTP probe's keys.
        (a("url = \"https://c.example.com/\""), "origins[1].url", "a DNS check builds its own request"),
        (a("method = \"HEAD\""), "origins[1].method", "a DNS check builds its own request"),
        (a("expect_status = [200]"), "origins[1].expect_status", "a DNS check builds its own request"),
        (a("headers = { X-Probe = \"1\" }"), "origins[1].headers", "a DNS check builds its own request"),
        (a("format = \"status_code\""), "origins[1].format", "a DNS check builds its own request"),
        (
            a("[[origins.conditions]]\nname = \"db\"\nstatus = true\nop = \"==\"\nvalue = 200"),
            "origins[1].conditions",
            "a DNS check builds its own request",
        ),
        (a("period_s = 60"), "origins[1].period_s", "only a heartbeat check"),
        (a("token_secret = \"T\""), "origins[1].token_secret", "only a heartbeat check"),
        // A DNS check's keys on another kind of origin.
        (http("query = \"example.com\""), "origins[0].query", "only a DNS check has this key"),
        (http("record = \"A\""), "origins[0].record", "only a DNS check has this key"),
        (http("resolver = \"https://dns.example.com/dns-query\""), "origins[0].resolver", "only a DNS check"),
        (http("expect = [\"192.0.2.1\"]"), "origins[0].expect", "only a DNS check has this key"),
        (
            check("query = \"example.com\"\nrecord = \"A\"")
                .replace("kind = \"dns\"", "kind = \"heartbeat\"\nperiod_s = 60\ngrace_s = 30\ntoken_secret = \"T\""),
            "origins[1].query",
            "only a DNS check has this key",
        ),
        (
            check("query = \"example.com\"\nrecord = \"A\"").replace("\"dns\"", "\"dnss\""),
            "origins[1].kind",
            "expected \"http\", \"tcp\", \"dns\" or \"heartbeat\"",
        ),
    ];
    rows
}

/// `[[maintenance]]` windows: (text, the field's prefix, "").
pub fn maintenance() -> Vec<Row> {
    let window = |body: &str| format!("{SMALL}\n[[maintenance]]\n{body}\n");
    let rows: Vec<(String, &'static str)> = vec![
        (
            window(
                r#"reason = "x"
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z""#,
            ),
            "maintenance[0]",
        ),
        (
            window(
                r#"id = "Upgrade!"
reason = "x"
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z""#,
            ),
            "maintenance[0].id",
        ),
        (
            window(
                r#"id = "u"
reason = " "
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z""#,
            ),
            "maintenance[0].reason",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
regions = ["north"]
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z""#,
            ),
            "maintenance[0].regions[0]",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
origins = ["w1", "w9"]
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z""#,
            ),
            "maintenance[0].origins[1]",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
regions = []
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z""#,
            ),
            "maintenance[0].regions",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
start = "2026-12-06T23:00:00Z"
end = "2026-12-06T22:00:00Z""#,
            ),
            "maintenance[0].end",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
start = "2026-12-06T22:00:00+01:00"
end = "2026-12-06T23:00:00Z""#,
            ),
            "maintenance[0].start",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
start = "2026-12-06T22:00:00Z""#,
            ),
            "maintenance[0].end",
        ),
        (
            window(
                r#"id = "u"
reason = "x""#,
            ),
            "maintenance[0]",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
start = "2026-12-06T22:00:00Z"
end = "2026-12-06T23:00:00Z"
weekly = { days = ["sun"], start = "02:00", minutes = 60 }"#,
            ),
            "maintenance[0].weekly",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
weekly = { days = ["sunday"], start = "02:00", minutes = 60 }"#,
            ),
            "maintenance[0].weekly.days[0]",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
weekly = { days = ["sun", "sun"], start = "02:00", minutes = 60 }"#,
            ),
            "maintenance[0].weekly.days[1]",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
weekly = { days = [], start = "02:00", minutes = 60 }"#,
            ),
            "maintenance[0].weekly.days",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
weekly = { days = ["sun"], start = "24:00", minutes = 60 }"#,
            ),
            "maintenance[0].weekly.start",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
weekly = { days = ["sun"], start = "2:00", minutes = 60 }"#,
            ),
            "maintenance[0].weekly.start",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
weekly = { days = ["sun"], start = "02:00", minutes = 1441 }"#,
            ),
            "maintenance[0].weekly.minutes",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
weekly = { days = ["sun"], start = "02:00", minutes = 0 }"#,
            ),
            "maintenance[0].weekly.minutes",
        ),
        (
            window(
                r#"id = "u"
reason = "x"
during = "night"
weekly = { days = ["sun"], start = "02:00", minutes = 60 }"#,
            ),
            "maintenance[0]",
        ),
    ];
    rows.into_iter().map(|(text, field)| (text, field, "")).collect()
}

/// `[[notify]]` channels.
pub fn notify() -> Vec<Row> {
    let rows: &[(&str, &'static str, &'static str)] = &[
        ("[[notify]]\nname = \"n\"\nkind = \"sms\"\n", "notify[0].kind", "unknown kind \"sms\""),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\n", "notify[0].url_secret", "needs url_secret"),
        ("[[notify]]\nname = \"n\"\nkind = \"webhook\"\nurl_secret = \"U\"\n", "notify[0].signing_secret", "needs signing_secret"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\norigins = [\"nope\"]\n", "notify[0].origins[0]", "names no origin"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\nregions = [\"o000\"]\n", "notify[0].regions[0]", "names no region"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\nevents = []\n", "notify[0].events", "empty list"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\nevents = [\"late\"]\n", "notify[0].events[0]", "unknown event"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"bad-name\"\n", "notify[0].url_secret", "not a secret name"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\nrouting_key_secret = \"K\"\n", "notify[0].routing_key_secret", "does not apply"),
        ("[[notify]]\nname = \"n\"\nkind = \"pagerduty\"\nrouting_key_secret = \"K\"\nevents = [\"vantage\"]\n", "notify[0].events[0]", "does not apply to PagerDuty"),
        ("[[notify]]\nname = \"n\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"T\"\naccount_id = \"x\"\npool_id = \"0123456789abcdef0123456789abcdef\"\nfollows = \"r0\"\n", "notify[0].account_id", "not a Cloudflare identifier"),
        ("[[notify]]\nname = \"n\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"T\"\naccount_id = \"0123456789abcdef0123456789abcdef\"\npool_id = \"0123456789abcdef0123456789abcdef\"\nfollows = \"mars\"\n", "notify[0].follows", "names no region or origin"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\nglobal = false\n", "notify[0].global", "covers nothing"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\n[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\n", "notify[1].name", "already a channel"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\ntimeout_ms = 0\n", "notify[0].timeout_ms", "out of range"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\nretry_max_s = 0\n", "notify[0].retry_max_s", "out of range"),
        ("[[notify]]\nname = \"n\"\nkind = \"slack\"\nurl_secret = \"U\"\nretry_max_s = 3601\n", "notify[0].retry_max_s", "out of range"),
        ("[[notify]]\nname = \"n\"\nkind = \"pagerduty\"\nrouting_key_secret = \"K\"\nbase_url = \"ftp://x\"\n", "notify[0].base_url", "scheme"),
    ];
    rows.iter().map(|(channel, field, message)| (fleet(2, channel), *field, *message)).collect()
}

/// `[[origins.conditions]]`: each row's conditions (TOML lines, one
/// `[[origins.conditions]]` table after another) on the third of three
/// origins, `c`, a GET; `[head]` conditions go on `h`, a HEAD origin, the
/// fourth.
pub fn conditions() -> Vec<Row> {
    let fleet = |conditions: &str| {
        let origins = ["a", "b", "c"].iter().fold(String::from("[regions.r]\n"), |toml, name| {
            toml + &format!("[[origins]]\nname = \"{name}\"\nregion = \"r\"\nurl = \"https://{name}.example.com/\"\n")
        });
        match conditions.strip_prefix("[head]\n") {
            Some(conditions) => format!(
                "{origins}[[origins]]\nname = \"h\"\nregion = \"r\"\nurl = \"https://h.example.com/\"\nmethod = \"HEAD\"\n{conditions}"
            ),
            None => format!("{origins}{conditions}"),
        }
    };
    let one = |lines: &str| fleet(&format!("[[origins.conditions]]\nname = \"db\"\n{lines}\n"));
    let long = |n: usize| "a".repeat(n);
    let rows: Vec<(String, &'static str, &'static str)> = vec![
        // A query that does not parse, or reaches past the bounds on its work.
        (one("json = \"$.[\"\nop = \"exists\""), "origins[2].conditions[0].json", "not an RFC 9535 JSONPath query"),
        (one("json = \"status\"\nop = \"exists\""), "origins[2].conditions[0].json", "not an RFC 9535 JSONPath query"),
        (one("json = \"$.a..b..c\"\nop = \"exists\""), "origins[2].conditions[0].json", "2 descendant segments"),
        (one("json = \"$..[?@..x]\"\nop = \"exists\""), "origins[2].conditions[0].json", "2 descendant segments"),
        (one("json = \"$['a','b']\"\nop = \"exists\""), "origins[2].conditions[0].json", "several selectors"),
        (one("json = \"$[*,*]\"\nop = \"exists\""), "origins[2].conditions[0].json", "several selectors"),
        (one("json = \"$[?@.a == $.b]\"\nop = \"exists\""), "origins[2].conditions[0].json", "reads the whole document again"),
        (
            one(&format!("json = \"$.{}\"\nop = \"exists\"", long(300))),
            "origins[2].conditions[0].json",
            "a query is at most 256",
        ),
        // `match()` and `search()` would compile a regex per node: not offered (use op = "matches").
        (one("json = \"$[?match(@.a, 'x')]\"\nop = \"exists\""), "origins[2].conditions[0].json", "not an RFC 9535 JSONPath query"),
        (one("json = \"length($.a\"\nop = \"==\"\nvalue = 1"), "origins[2].conditions[0].json", "not an RFC 9535 JSONPath query"),
        // A regular expression that does not compile, or is over its limits.
        (one("body = true\nop = \"matches\"\nvalue = \"(unclosed\""), "origins[2].conditions[0].value", "not a regular expression"),
        (one("body = true\nop = \"matches\"\nvalue = \"a{1000}{1000}\""), "origins[2].conditions[0].value", "within the limits"),
        (one("body = true\nop = \"matches\"\nvalue = \"[a-z]{100}b\""), "origins[2].conditions[0].value", "within the limits"),
        (
            one(&format!("body = true\nop = \"matches\"\nvalue = \"{}\"", long(257))),
            "origins[2].conditions[0].value",
            "a pattern is at most 256",
        ),
        (one("header = \"server\"\nop = \"matches\"\nvalue = 5"), "origins[2].conditions[0].value", "as a string, not a number"),
        // An operator that is none, or does not apply to the subject.
        (one("status = true\nop = \"=~\"\nvalue = 200"), "origins[2].conditions[0].op", "not an operator"),
        (one("status = true\nvalue = 200"), "origins[2].conditions[0].op", "missing"),
        (one("status = true\nop = \"exists\""), "origins[2].conditions[0].op", "always there"),
        (one("body = true\nop = \"exists\""), "origins[2].conditions[0].op", "always there"),
        (one("status = true\nop = \"contains\"\nvalue = \"20\""), "origins[2].conditions[0].op", "it is a number"),
        (one("json = \"count($.a[*])\"\nop = \"matches\"\nvalue = \"1\""), "origins[2].conditions[0].op", "it is a number"),
        (one("json = \"length($.a)\"\nop = \"exists\""), "origins[2].conditions[0].op", "always a number"),
        (one("body = true\nop = \"<\"\nvalue = \"b\""), "origins[2].conditions[0].op", "the body is text"),
        // A comparison of types that do not go together.
        (one("status = true\nop = \"<\"\nvalue = \"500\""), "origins[2].conditions[0].value", "orders numbers: compare the status code with a number, not a string"),
        (one("status = true\nop = \"==\"\nvalue = \"200\""), "origins[2].conditions[0].value", "the status code is a number"),
        (one("status = true\nop = \"==\"\nvalue = 700"), "origins[2].conditions[0].value", "700 is not a status code"),
        (one("status = true\nop = \"==\"\nvalue = 200.5"), "origins[2].conditions[0].value", "200.5 is not a status code"),
        (one("status = true\nop = \"==\"\nvalue = true"), "origins[2].conditions[0].value", "not a boolean"),
        (one("header = \"x-queue\"\nop = \">=\"\nvalue = \"10\""), "origins[2].conditions[0].value", "orders numbers"),
        (one("header = \"x-ready\"\nop = \"==\"\nvalue = true"), "origins[2].conditions[0].value", "a string or a number, not a boolean"),
        (one("body = true\nop = \"==\"\nvalue = 1"), "origins[2].conditions[0].value", "the body is text"),
        (one("body = true\nop = \"contains\"\nvalue = false"), "origins[2].conditions[0].value", "not a boolean"),
        (one("json = \"$.version\"\nop = \">\"\nvalue = \"2.0\""), "origins[2].conditions[0].value", "a JSON value with a number, not a string"),
        (one("json = \"$.up\"\nop = \"<\"\nvalue = true"), "origins[2].conditions[0].value", "not a boolean"),
        (one("json = \"count($.nodes[*])\"\nop = \"==\"\nvalue = \"3\""), "origins[2].conditions[0].value", "count(...) is a number"),
        (one("json = \"length($.nodes)\"\nop = \"!=\"\nvalue = false"), "origins[2].conditions[0].value", "length(...) is a number"),
        (one("json = \"$.db\"\nop = \"==\""), "origins[2].conditions[0].value", "missing"),
        (one("json = \"$.db\"\nop = \"exists\"\nvalue = \"up\""), "origins[2].conditions[0].value", "exists takes no value"),
        (one("json = \"$.db\"\nop = \"==\"\nvalue = nan"), "origins[2].conditions[0].value", "not a finite number"),
        (one(&format!("body = true\nop = \"contains\"\nvalue = \"{}\"", long(1025))), "origins[2].conditions[0].value", "a value is at most 1024"),
        (one("json = \"$.db\"\nop = \"==\"\nvalue = [\"up\"]"), "origins[2].conditions[0].value", "did not match any variant"),
        // The subject: one, well named, and read by the probe.
        (one("op = \"exists\""), "origins[2].conditions[0]", "names no subject"),
        (one("status = true\njson = \"$.a\"\nop = \"exists\""), "origins[2].conditions[0].json", "already judges status"),
        (one("status = false\nop = \"==\"\nvalue = 200"), "origins[2].conditions[0].status", "set status = true"),
        (one("header = \"x foo\"\nop = \"exists\""), "origins[2].conditions[0].header", "not a valid header name"),
        (one("path = \"$.a\"\nop = \"exists\""), "origins[2].conditions[0].path", "unknown field `path`"),
        (
            fleet("[head]\n[[origins.conditions]]\nname = \"db\"\njson = \"$.db\"\nop = \"exists\"\n"),
            "origins[3].conditions[0].json",
            "a HEAD probe reads no body",
        ),
        (
            fleet("[head]\n[[origins.conditions]]\nname = \"db\"\nbody = true\nop = \"contains\"\nvalue = \"ok\"\n"),
            "origins[3].conditions[0].body",
            "a HEAD probe reads no body",
        ),
        // Its name and what it fails to.
        (one("status = true\nop = \"<\"\nvalue = 500\nfails = \"broken\""), "origins[2].conditions[0].fails", "not a health"),
        (
            fleet("[[origins.conditions]]\nname = \"DB\"\nstatus = true\nop = \"<\"\nvalue = 500\n"),
            "origins[2].conditions[0].name",
            "1 to 32 characters",
        ),
        (
            fleet(&format!("[[origins.conditions]]\nname = \"{}\"\nstatus = true\nop = \"<\"\nvalue = 500\n", long(33))),
            "origins[2].conditions[0].name",
            "1 to 32 characters",
        ),
        (
            fleet(&"[[origins.conditions]]\nname = \"db\"\nstatus = true\nop = \"<\"\nvalue = 500\n".repeat(2)),
            "origins[2].conditions[1].name",
            "already a condition of this origin",
        ),
        (
            fleet(&(0..17).fold(String::new(), |toml, i| {
                toml + &format!("[[origins.conditions]]\nname = \"c{i}\"\nstatus = true\nop = \"<\"\nvalue = 500\n")
            })),
            "origins[2].conditions",
            "17 conditions; an origin has 16 at most",
        ),
        (
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n[[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"heartbeat\"\nperiod_s = 60\ngrace_s = 30\ntoken_secret = \"C_TOKEN\"\n[[origins.conditions]]\nname = \"db\"\nstatus = true\nop = \"==\"\nvalue = 200\n".to_string(),
            "origins[1].conditions",
            "a heartbeat check is not probed",
        ),
    ];
    rows
}

/// TCP checks (`kind = "tcp"`).
pub fn tcp() -> Vec<Row> {
    let check = |extra: &str| {
        format!(
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n[[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"tcp\"\n{extra}\n"
        )
    };
    let redis = "target = \"redis.internal:6379\"";
    let long = "x".repeat(513);
    vec![
        (check(""), "origins[1].target", "missing: a TCP check needs"),
        (check("target = \"redis.internal\""), "origins[1].target", "has no port"),
        (check("target = \"redis.internal:\""), "origins[1].target", "is not a port"),
        (check("target = \"redis.internal:0\""), "origins[1].target", "\"0\" is not a port"),
        (check("target = \"redis.internal:65536\""), "origins[1].target", "\"65536\" is not a port"),
        (check("target = \"mail.internal:25\""), "origins[1].target", "port 25 (SMTP) is refused"),
        (check("target = \"tcp://redis.internal:6379\""), "origins[1].target", "write no scheme and no path"),
        (check("target = \"redis.internal:6379/0\""), "origins[1].target", "write no scheme and no path"),
        (check("target = \"2001:db8::1:6379\""), "origins[1].target", "write an IPv6 address in brackets"),
        (check("target = \"[not-v6]:6379\""), "origins[1].target", "is not \"[IPv6 address]:port\""),
        (check("target = \"redis internal:6379\""), "origins[1].target", "is not a host name or an IP address"),
        (check(&format!("{redis}\nsend = \"\"")), "origins[1].send", "0 bytes; write 1 to 512"),
        (check(&format!("{redis}\nexpect_reply = \"{long}\"")), "origins[1].expect_reply", "513 bytes"),
        (check(&format!("{redis}\nurl = \"https://c.example.com/\"")), "origins[1].url", "a TCP check sends no HTTP"),
        (check(&format!("{redis}\nmethod = \"HEAD\"")), "origins[1].method", "a TCP check sends no HTTP"),
        (check(&format!("{redis}\nexpect_status = [200]")), "origins[1].expect_status", "a TCP check sends no HTTP"),
        (check(&format!("{redis}\nformat = \"auto\"")), "origins[1].format", "a TCP check sends no HTTP"),
        (check(&format!("{redis}\nheaders = {{ X = \"y\" }}")), "origins[1].headers", "a TCP check sends no HTTP"),
        (
            check(&format!("{redis}\n[[origins.conditions]]\nname = \"x\"\nstatus = true\nop = \"==\"\nvalue = 200")),
            "origins[1].conditions",
            "a TCP check sends no HTTP",
        ),
        (check(&format!("{redis}\ntls = \"yes\"")), "origins[1].tls", ""),
        (check(&format!("{redis}\ntls = true")), "origins[1].tls", "a TLS check needs expect_reply"),
        (check(&format!("{redis}\ndegraded_after_ms = 5000")), "origins[1].degraded_after_ms", "below this origin's timeout_ms"),
        (check(&format!("{redis}\nperiod_s = 60")), "origins[1].period_s", "only a heartbeat check"),
        (
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\ntarget = \"x:1\"\n".into(),
            "origins[0].target",
            "only a TCP check has this key",
        ),
        (
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\nexpect_reply = \"+OK\"\n".into(),
            "origins[0].expect_reply",
            "only a TCP check has this key",
        ),
        (
            "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n[[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"heartbeat\"\nperiod_s = 60\ngrace_s = 0\ntoken_secret = \"T\"\ntarget = \"x:1\"\n".into(),
            "origins[1].target",
            "a heartbeat check is not probed",
        ),
    ]
}

/// `[[slo]]` objectives, on two origins (`o000` in `r0`, `o001` in `r1`)
/// with a webhook channel `hook` and a Cloudflare pool `pool`.
pub fn slo() -> Vec<Row> {
    let channels = "[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl_secret = \"U\"\nsigning_secret = \"S\"\n\
                    [[notify]]\nname = \"pool\"\nkind = \"cloudflare_pool\"\napi_token_secret = \"T\"\n\
                    account_id = \"0123456789abcdef0123456789abcdef\"\npool_id = \"0123456789abcdef0123456789abcdef\"\nfollows = \"r0\"\n";
    let slo = |body: &str| fleet(2, &format!("{channels}[[slo]]\nname = \"s\"\n{body}\n"));
    let pair = |long: &str, short: &str, rate: &str| {
        format!("objective = 99.9\n[[slo.alerts]]\nseverity = \"page\"\nlong_window = \"{long}\"\nshort_window = \"{short}\"\nburn_rate = {rate}")
    };
    vec![
        (
            slo("objective = 100"),
            "slo[0].objective",
            "100 is out of range: expected a percent strictly between 0 and 100",
        ),
        (slo("objective = 0"), "slo[0].objective", "0 is out of range"),
        (slo("objective = -99.9"), "slo[0].objective", "-99.9 is out of range"),
        (slo("objective = nan"), "slo[0].objective", "NaN is out of range"),
        (slo("objective = \"99.9\""), "slo[0].objective", "invalid type"),
        (slo("objective = 99.9\nwindow_days = 0"), "slo[0].window_days", "0 is out of range: expected 1 to 90 (days)"),
        (slo("objective = 99.9\nwindow_days = 91"), "slo[0].window_days", "91 is out of range"),
        (slo("objective = 99.9\nwindow_days = 2"), "slo[0].window_days", "shorter than the default ticket pair's 3 d"),
        (slo("objective = 99.9\norigin = \"nope\""), "slo[0].origin", "\"nope\" names no origin"),
        (slo("objective = 99.9\nregion = \"nope\""), "slo[0].region", "\"nope\" names no region"),
        (slo("objective = 99.9\nregion = \"o000\""), "slo[0].region", "\"o000\" names no region"),
        (slo("objective = 99.9\norigin = \"o000\"\nregion = \"r0\""), "slo[0].region", "judges one scope"),
        (slo("objective = 99.9\nchannels = [\"nope\"]"), "slo[0].channels[0]", "names no [[notify]] channel"),
        (slo("objective = 99.9\nchannels = [\"hook\", \"hook\"]"), "slo[0].channels[1]", "listed twice"),
        (slo("objective = 99.9\nchannels = [\"pool\"]"), "slo[0].channels[0]", "is a cloudflare_pool channel"),
        (slo("objective = 99.9\nbad = [\"degraded\"]"), "slo[0].bad", "name down"),
        (slo("objective = 99.9\nbad = []"), "slo[0].bad", "name down"),
        (slo("objective = 99.9\nbad = [\"slow\"]"), "slo[0].bad[0]", "\"slow\" is not a status that counts"),
        (slo("objective = 99.9\nbad = [\"down\", \"down\"]"), "slo[0].bad[1]", "listed twice"),
        (slo("objective = 99.9\n[[slo]]\nname = \"s\"\nobjective = 99"), "slo[1].name", "already an objective's name"),
        (fleet(2, "[[slo]]\nname = \"Budget\"\nobjective = 99.9\n"), "slo[0].name", "contains 'B'"),
        (slo("objective = 99.9\nwindow = 30"), "slo[0].window", "unknown field `window`"),
        (
            slo(&pair("1h", "1h", "14.4")),
            "slo[0].alerts[0].short_window",
            "\"1h\" is not shorter than long_window \"1h\"",
        ),
        (slo(&pair("1h", "2h", "14.4")), "slo[0].alerts[0].short_window", "is not shorter"),
        (slo(&pair("1h", "5m", "0")), "slo[0].alerts[0].burn_rate", "0 is out of range: expected a rate over 0"),
        (slo(&pair("1h", "5m", "-1")), "slo[0].alerts[0].burn_rate", "-1 is out of range"),
        (slo(&pair("1h", "5m", "inf")), "slo[0].alerts[0].burn_rate", "inf is out of range"),
        (slo(&pair("soon", "5m", "1")), "slo[0].alerts[0].long_window", "\"soon\" is not a duration"),
        (
            slo(&pair("1h", "10s", "1")),
            "slo[0].alerts[0].short_window",
            "fewer than 2 rounds of settings.refresh_s = 15",
        ),
        (slo(&pair("31d", "1h", "1")), "slo[0].alerts[0].long_window", "longer than the objective's window of 30 days"),
        (slo(&pair("4h", "30s", "1")), "slo[0].alerts[0].long_window", "would need 2400 of them, more than 1440"),
        (slo(&pair("1h", "5m", "1").replace("\"page\"", "\"sms\"")), "slo[0].alerts[0].severity", "not a severity"),
        (slo("objective = 99.9\nalerts = []"), "slo[0].alerts", "an empty list"),
        (
            slo("objective = 99.9").replace("[settings]\n", "[settings]\nrefresh_s = 200\n"),
            "slo[0].alerts",
            "the default pairs' 5 min window holds fewer than 2 rounds of settings.refresh_s = 200",
        ),
    ]
}

/// Every row of every table, with its table's name.
pub fn all() -> Vec<(&'static str, String, &'static str, &'static str)> {
    type Table = fn() -> Vec<Row>;
    let tables: [(&str, Table); 8] = [
        ("general", general),
        ("heartbeat", heartbeat),
        ("dns", dns),
        ("maintenance", maintenance),
        ("notify", notify),
        ("conditions", conditions),
        ("tcp", tcp),
        ("slo", slo),
    ];
    tables.into_iter().flat_map(|(name, table)| table().into_iter().map(move |(t, f, m)| (name, t, f, m))).collect()
}
