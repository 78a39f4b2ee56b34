//! Any answer of an origin: `classify` for a GET origin whose body is read, a
//! HEAD origin and a `format = "status_code"` origin, and `read_body` alone.
//!
//! Input: 2 bytes of status (big endian), 1 byte choosing the `Content-Type`
//! from [`CONTENT_TYPES`], then the body.

use edgecheck_core::classify::{classify, read_body, Health, Outcome, Reason};

/// `None` is an answer without `Content-Type`.
const CONTENT_TYPES: [Option<&str>; 6] = [
    None,
    Some("application/json"),
    Some("application/health+json"),
    Some("text/plain"),
    Some("application/json; charset=utf-8"),
    Some("application/vnd.spring-boot.actuator.v3+json"),
];

/// The `classify` target: any bytes (fewer than 3 are skipped).
pub fn run(data: &[u8]) {
    let [hi, lo, ct, body @ ..] = data else { return };
    let status = u16::from_be_bytes([*hi, *lo]);
    let content_type = CONTENT_TYPES[usize::from(*ct) % CONTENT_TYPES.len()];
    let _ = read_body(content_type, body);

    let config = super::fleet();
    let outcome = Outcome::Answered {
        status,
        content_type: content_type.map(String::from),
        headers: Vec::new(),
        body: body.to_vec(),
    };
    for i in [super::GET_AUTO, super::HEAD, super::STATUS_CODE] {
        let origin = &config.origins()[i];
        let verdict = classify(origin, &outcome);
        let interim = (100..200).contains(&status) && status != 101;
        if interim {
            // An interim answer is looked past to the final one behind it, when
            // its body holds one: then the final status (never another 1xx) decides.
            let judged = verdict.http_status.expect("an answer has a status");
            assert!(judged == status || !(100..200).contains(&judged) || judged == 101, "{judged} after {status}");
            continue;
        }
        assert_eq!(verdict.http_status, Some(status), "an answer keeps its status");
        if i != super::GET_AUTO {
            // HEAD and status_code origins are judged by the status code alone.
            let expected = if origin.expect_status.contains(status) {
                (Health::Up, Reason::Ok)
            } else {
                (Health::Down, Reason::StatusMismatch)
            };
            assert_eq!((verdict.health, verdict.reason), expected, "{} with status {status}", origin.name);
        }
    }
}
