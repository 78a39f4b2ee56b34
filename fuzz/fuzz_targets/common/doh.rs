//! Any DoH answer (RFC 8484's `application/dns-message` body) to the DNS
//! checks of [`CHECKS`]: the first byte chooses the check, the rest is the
//! body of a `200` answer.
//!
//! `dns::parse` never panics and reads the same bytes the same way twice;
//! `dns::judge` accepts only a message that parses, and then gives at least
//! one value and every expected one; the check's verdict is `up` exactly when
//! `judge` accepts, and otherwise `down` with one of the `dns_*` reasons.

use std::sync::OnceLock;

use edgecheck_core::classify::{classify, Health, Outcome, Reason};
use edgecheck_core::config::{parse_toml, Config};
use edgecheck_core::dns;

/// One DNS check of each record type, the A and MX ones expecting values.
pub const CHECKS: &str = r#"
[regions.r]
[[origins]]
name = "a"
region = "r"
kind = "dns"
query = "www.example.com"
record = "A"
resolver = "http://127.0.0.1:9120/dns-query"
expect = ["192.0.2.10"]
[[origins]]
name = "aaaa"
region = "r"
kind = "dns"
query = "www.example.com"
record = "AAAA"
[[origins]]
name = "cname"
region = "r"
kind = "dns"
query = "www.example.com"
record = "CNAME"
[[origins]]
name = "mx"
region = "r"
kind = "dns"
query = "example.com"
record = "MX"
expect = ["mx1.example.com"]
[[origins]]
name = "txt"
region = "r"
kind = "dns"
query = "example.com"
record = "TXT"
[[origins]]
name = "ns"
region = "r"
kind = "dns"
query = "example.com"
record = "NS"
[[origins]]
name = "soa"
region = "r"
kind = "dns"
query = "example.com"
record = "SOA"
"#;

/// [`CHECKS`], parsed and validated once.
pub fn checks() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let raw = parse_toml(CHECKS).expect("CHECKS parses");
        Config::from_raw(&raw).expect("CHECKS is valid")
    })
}

/// The `doh` target: any bytes (none is skipped).
pub fn run(data: &[u8]) {
    let [choice, body @ ..] = data else { return };
    let _ = dns::parse(data);
    let parsed = dns::parse(body);
    assert_eq!(parsed, dns::parse(body), "the same bytes read the same way");

    let config = checks();
    let origin = &config.origins()[usize::from(*choice) % config.origins().len()];
    let check = origin.dns.as_ref().expect("every origin of CHECKS is a DNS check");
    let judged = dns::judge(body, &check.query, check.record, &check.expect);
    if let Ok(values) = &judged {
        assert!(parsed.is_ok(), "only a message is judged good");
        assert!(!values.is_empty(), "a good answer has a value");
        assert!(check.expect.iter().all(|e| values.contains(e)), "{values:?} against {:?}", check.expect);
    }
    let outcome = Outcome::Answered {
        status: 200,
        content_type: Some(dns::MEDIA_TYPE.to_string()),
        headers: Vec::new(),
        body: body.to_vec(),
    };
    let verdict = classify(origin, &outcome);
    assert_eq!(verdict.http_status, Some(200));
    match judged {
        Ok(_) => assert_eq!((verdict.health, verdict.reason), (Health::Up, Reason::Ok)),
        Err(_) => {
            assert_eq!(verdict.health, Health::Down, "{verdict:?}");
            assert!(verdict.reason.as_str().starts_with("dns_"), "{verdict:?}");
        }
    }
}
