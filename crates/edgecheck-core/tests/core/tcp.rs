//! TCP checks (`kind = "tcp"`): their keys and errors, and how what the
//! shell saw of a connection is judged.

use edgecheck_core::config::TcpCheck;

use super::*;

/// A TCP check `c` (with `extra` keys) beside an HTTP origin `a`.
fn fleet(extra: &str) -> Config {
    valid(&format!(
        "[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n\
         [[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"tcp\"\n{extra}\n"
    ))
}

#[test]
fn tcp_errors_name_their_field() {
    for (text, field, message) in super::cases::tcp() {
        let errs = config(&text).expect_err(&text);
        assert!(
            errs.iter().any(|e| e.field == field && e.message.contains(message)),
            "{text}\nexpected {field}: ...{message}..., got {errs:?}"
        );
    }
}

#[test]
fn a_tcp_check_keeps_its_target_and_bytes() {
    let c =
        fleet("target = \"Redis.Internal:6379\"\nsend = \"PING\\r\\n\"\nexpect_reply = \"+PONG\"\ntimeout_ms = 800");
    let o = &c.origins()[1];
    let check = TcpCheck {
        host: "redis.internal".into(),
        port: 6379,
        send: Some("PING\r\n".into()),
        expect_reply: Some("+PONG".into()),
        tls: false,
    };
    assert_eq!(o.tcp.as_ref(), Some(&check));
    assert_eq!((o.url.as_str(), o.timeout_ms, o.conditions.len()), ("tcp://redis.internal:6379", 800, 0));
    let v6 = fleet("target = \"[2001:db8::1]:5432\"\ntls = true\nexpect_reply = \"S\"");
    let check = v6.origins()[1].tcp.clone().unwrap();
    assert_eq!((check.host.as_str(), check.port, check.tls), ("2001:db8::1", 5432, true));
    assert_eq!(v6.origins()[1].url, "tls://[2001:db8::1]:5432");
    // The fleet document carries it to the worker unchanged; an HTTP origin has none.
    let (back, _) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!(back.origins()[1].tcp, c.origins()[1].tcp);
    assert_eq!(back.origins()[0].tcp, None);
    assert!(!c.fleet_document().contains("\"tls\":false"), "defaults stay out of the document");
}

#[test]
fn what_a_connection_did_is_judged_against_the_expected_reply() {
    use Health::{Down, Up};
    use Reason::*;
    let pong = fleet("target = \"redis.internal:6379\"\nsend = \"PING\\r\\n\"\nexpect_reply = \"+PONG\"\ntimeout_ms = 800\ndegraded_after_ms = 200");
    let bare = fleet("target = \"db.internal:5432\"");
    let replied = |reply: &str, closed: bool| Outcome::Replied { reply: reply.as_bytes().to_vec(), closed };
    // (config, outcome, latency ms, health, reason)
    let rows: Vec<(&Config, Outcome, Option<u64>, Health, Reason)> = vec![
        (&pong, replied("+PONG", false), Some(5), Up, Ok),
        (&pong, replied("+PONG", true), Some(5), Up, Ok),
        (&pong, replied("-NOAUTH Authentic", false), Some(5), Down, ReplyMismatch),
        (&pong, replied("-", true), Some(5), Down, ReplyMismatch),
        (&pong, replied("", true), Some(5), Down, ConnectionClosed),
        (&pong, replied("+PO", true), Some(5), Down, ConnectionClosed),
        (&pong, Outcome::TlsFailed, Some(5), Down, TlsError),
        (&pong, Outcome::ConnectError, Some(1), Down, ConnectError),
        (&pong, Outcome::Timeout { status: None }, Some(800), Down, Timeout),
        (&pong, Outcome::Skipped, None, Down, Skipped),
        // Slow means degraded here too: the time to the expected reply.
        (&pong, replied("+PONG", false), Some(200), Up, Ok),
        (&pong, replied("+PONG", false), Some(201), Health::Degraded, Slow),
        (&pong, replied("-ERR", false), Some(700), Down, ReplyMismatch),
        // Connecting is enough without expect_reply.
        (&bare, replied("", false), Some(3), Up, Ok),
        (&bare, Outcome::TlsFailed, Some(3), Down, TlsError),
    ];
    for (c, outcome, latency_ms, health, reason) in rows {
        let verdict = judge(&c.origins()[1], &outcome, latency_ms);
        assert_eq!(verdict, Verdict::new(health, reason, None), "{outcome:?} in {latency_ms:?} ms");
    }
}

proptest! {
    /// Whatever a peer answers, a TCP check is up exactly when the reply
    /// starts with `expect_reply`, and never panics; a reply cut short by the
    /// peer is `connection_closed`, anything else `reply_mismatch`.
    #[test]
    fn any_reply_is_judged_by_its_first_bytes(reply in proptest::collection::vec(any::<u8>(), 0..12), closed: bool) {
        let c = fleet("target = \"redis.internal:6379\"\nexpect_reply = \"+PONG\"");
        let verdict = classify(&c.origins()[1], &Outcome::Replied { reply: reply.clone(), closed });
        let expected = if reply.starts_with(b"+PONG") {
            Reason::Ok
        } else if closed && b"+PONG".starts_with(&reply) {
            Reason::ConnectionClosed
        } else {
            Reason::ReplyMismatch
        };
        prop_assert_eq!(verdict.reason, expected);
        prop_assert_eq!(verdict.health == Health::Up, expected == Reason::Ok);
        prop_assert_eq!(verdict.http_status, None);
    }
}
