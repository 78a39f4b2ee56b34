//! DNS checks: the query on the wire (against RFC 8484's own example), answers
//! of every supported type built by an independent encoder (`hickory-proto`)
//! and read by `dns::parse`, name compression and CNAME chains, malformed
//! answers (cut at every byte, pointer loops, counts past the data, TC), the
//! classification of every answer as a table, the config of a check and its
//! errors, and a property: no bytes make the parser panic.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use edgecheck_core::classify::assess;
use edgecheck_core::config::{DnsCheck, Format, HeaderValue, Method, Origin};
use edgecheck_core::dns::{self, Data, Malformed, Problem, RecordType};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT};
use hickory_proto::rr::{DNSClass, Name, RData, Record};

use super::*;

/// A DNS check `c` of `record` for `query` expecting `expect` (TOML array
/// items), beside a probed origin `a`; rise and fall 1.
fn fleet(query: &str, record: &str, expect: &str) -> String {
    format!(
        "[settings]\nrise = 1\nfall = 1\n[regions.r]\n[[origins]]\nname = \"a\"\nregion = \"r\"\nurl = \"https://a.example.com/\"\n\
         [[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"dns\"\nquery = \"{query}\"\nrecord = \"{record}\"\n\
         resolver = \"https://dns.example.net/dns-query\"\nexpect = [{expect}]\ndegraded_after_ms = 300\n"
    )
}

/// The DNS check of [`fleet`].
fn check(query: &str, record: &str, expect: &str) -> Origin {
    valid(&fleet(query, record, expect)).origins()[1].clone()
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

/// A response to the query for `qname` and `qtype`, ID 0, with `rcode` and
/// `answers`, encoded by hickory-proto (which compresses names).
fn response(qname: &str, qtype: hickory_proto::rr::RecordType, rcode: ResponseCode, answers: Vec<Record>) -> Vec<u8> {
    let mut message = Message::new(0, MessageType::Response, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.metadata.recursion_available = true;
    message.metadata.response_code = rcode;
    message.add_query(Query::query(name(qname), qtype));
    message.add_answers(answers);
    message.to_vec().unwrap()
}

fn record(owner: &str, data: RData) -> Record {
    Record::from_rdata(name(owner), 300, data)
}

fn a(owner: &str, ip: &str) -> Record {
    record(owner, RData::A(A(Ipv4Addr::from_str(ip).unwrap())))
}

fn cname(owner: &str, target: &str) -> Record {
    record(owner, RData::CNAME(CNAME(name(target))))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_query_is_rfc_1035_wire_format_as_rfc_8484_sends_it() {
    // Checked by hand against RFC 1035 §4.1: ID 0000; flags 0100 (RD);
    // QDCOUNT 1, the other counts 0; QNAME 7 "example" 3 "com" 0; QTYPE 1
    // (A); QCLASS 1 (IN).
    let q = dns::query("Example.COM.", RecordType::A);
    assert_eq!(hex(&q), "000001000001000000000000076578616d706c6503636f6d0000010001");
    // RFC 8484 §4.1.1's own example: www.example.com A, ID 0, base64url
    // without padding.
    assert_eq!(
        dns::doh_url("https://dnsserver.example.net/dns-query", "www.example.com", RecordType::A),
        "https://dnsserver.example.net/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB"
    );
    // A resolver URL with a query of its own gets `&dns=`.
    let url = dns::doh_url("https://dns.example.net/q?ct=1", "example.com", RecordType::Mx);
    assert!(url.starts_with("https://dns.example.net/q?ct=1&dns="), "{url}");
    // An independent decoder reads the same question for every type.
    for rtype in RecordType::ALL {
        let message = Message::from_vec(&dns::query("mail.example.org", rtype)).unwrap();
        assert_eq!((message.metadata.id, message.metadata.recursion_desired), (0, true));
        assert_eq!(message.metadata.message_type, MessageType::Query);
        assert_eq!(message.queries.len(), 1);
        let query = &message.queries[0];
        assert_eq!(query.name(), &name("mail.example.org."));
        assert_eq!(query.query_type().to_string(), rtype.as_str());
        assert_eq!(query.query_class(), DNSClass::IN);
        assert!(message.answers.is_empty() && message.additionals.is_empty() && message.edns.is_none());
    }
}

#[test]
fn answers_of_every_type_are_read() {
    use hickory_proto::rr::RecordType as T;
    let soa = SOA::new(name("ns1.example.com."), name("hostmaster.example.com."), 2026120701, 7200, 3600, 1209600, 300);
    // (type asked, answers, the values read)
    let rows: Vec<(RecordType, T, Vec<Record>, Vec<&str>)> = vec![
        (
            RecordType::A,
            T::A,
            vec![a("example.com.", "192.0.2.10"), a("example.com.", "192.0.2.11")],
            vec!["192.0.2.10", "192.0.2.11"],
        ),
        (
            RecordType::Aaaa,
            T::AAAA,
            vec![record("example.com.", RData::AAAA(AAAA(Ipv6Addr::from_str("2001:db8:0:0::1").unwrap())))],
            vec!["2001:db8::1"],
        ),
        (RecordType::Cname, T::CNAME, vec![cname("example.com.", "Target.Example.NET.")], vec!["target.example.net"]),
        (
            RecordType::Mx,
            T::MX,
            vec![
                record("example.com.", RData::MX(MX::new(10, name("mx1.example.com.")))),
                record("example.com.", RData::MX(MX::new(20, name("mx2.example.com.")))),
            ],
            vec!["mx1.example.com", "mx2.example.com"],
        ),
        (
            RecordType::Txt,
            T::TXT,
            vec![
                record("example.com.", RData::TXT(TXT::new(vec!["v=spf1 ".into(), "-all".into()]))),
                record("example.com.", RData::TXT(TXT::new(vec!["verification=abc123".into()]))),
            ],
            vec!["v=spf1 -all", "verification=abc123"],
        ),
        (
            RecordType::Ns,
            T::NS,
            vec![
                record("example.com.", RData::NS(NS(name("ns1.example.com.")))),
                record("example.com.", RData::NS(NS(name("ns2.example.com.")))),
            ],
            vec!["ns1.example.com", "ns2.example.com"],
        ),
        (RecordType::Soa, T::SOA, vec![record("example.com.", RData::SOA(soa))], vec!["ns1.example.com"]),
    ];
    for (rtype, t, answers, values) in rows {
        let bytes = response("example.com.", t, ResponseCode::NoError, answers);
        let message = dns::parse(&bytes).unwrap_or_else(|e| panic!("{rtype:?}: {e:?}"));
        assert_eq!((message.id, message.response, message.rcode, message.truncated), (0, true, 0, false));
        assert_eq!(message.questions.len(), 1);
        assert_eq!((message.questions[0].name.as_str(), message.questions[0].rtype), ("example.com", rtype.code()));
        let seen: Vec<String> =
            dns::answers(&message, "example.com", rtype).into_iter().filter_map(Data::value).collect();
        assert_eq!(seen, values, "{rtype:?}");
        let expect: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        assert_eq!(dns::judge(&bytes, "example.com", rtype, &expect), Ok(seen), "{rtype:?}");
    }
    // The MX preference and the SOA's RNAME are read too.
    let bytes = response(
        "example.com.",
        T::MX,
        ResponseCode::NoError,
        vec![record("example.com.", RData::MX(MX::new(10, name("mx1.example.com."))))],
    );
    assert_eq!(dns::parse(&bytes).unwrap().answers[0].data, Data::Mx(10, "mx1.example.com".into()));
}

#[test]
fn compressed_names_and_cname_chains_are_followed() {
    use hickory_proto::rr::RecordType as T;
    // www → cdn → edge, then edge's A: an A query answered through a chain.
    let answers = vec![
        cname("www.example.com.", "cdn.example.com."),
        cname("cdn.example.com.", "edge.example.com."),
        a("edge.example.com.", "192.0.2.10"),
    ];
    let bytes = response("www.example.com.", T::A, ResponseCode::NoError, answers);
    assert!(bytes.windows(2).any(|w| w[0] & 0xc0 == 0xc0), "hickory compresses names: {}", hex(&bytes));
    let message = dns::parse(&bytes).unwrap();
    assert_eq!(message.answers[1].name, "cdn.example.com", "a compressed owner name");
    assert_eq!(message.answers[1].data, Data::Name("edge.example.com".into()), "compressed data");
    assert_eq!(
        dns::judge(&bytes, "www.example.com", RecordType::A, &["192.0.2.10".into()]),
        Ok(vec!["192.0.2.10".into()])
    );
    // The same chain asked as CNAME: www's own CNAME only.
    let bytes = response(
        "www.example.com.",
        T::CNAME,
        ResponseCode::NoError,
        vec![cname("www.example.com.", "cdn.example.com.")],
    );
    assert_eq!(dns::judge(&bytes, "www.example.com.", RecordType::Cname, &[]), Ok(vec!["cdn.example.com".into()]));
    // An A record of a name outside the chain is not an answer.
    let bytes = response("www.example.com.", T::A, ResponseCode::NoError, vec![a("other.example.com.", "192.0.2.10")]);
    assert_eq!(dns::judge(&bytes, "www.example.com", RecordType::A, &[]), Err(Problem::Empty));
    // A chain that ends without the type asked for, and a CNAME loop, are empty.
    let bytes =
        response("www.example.com.", T::A, ResponseCode::NoError, vec![cname("www.example.com.", "cdn.example.com.")]);
    assert_eq!(dns::judge(&bytes, "www.example.com", RecordType::A, &[]), Err(Problem::Empty));
    let looped = vec![cname("www.example.com.", "cdn.example.com."), cname("cdn.example.com.", "www.example.com.")];
    let bytes = response("www.example.com.", T::A, ResponseCode::NoError, looped);
    assert_eq!(dns::judge(&bytes, "www.example.com", RecordType::A, &[]), Err(Problem::Empty));
}

/// A message by hand: a header with `counts` (QD, AN, NS, AR) and flags
/// 0x8180 (a response, RD, RA, NOERROR), then `rest`.
fn by_hand(counts: [u16; 4], rest: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x81, 0x80];
    for count in counts {
        out.extend_from_slice(&count.to_be_bytes());
    }
    out.extend_from_slice(rest);
    out
}

#[test]
fn malformed_answers_are_refused_and_never_panic() {
    use hickory_proto::rr::RecordType as T;
    let good = response(
        "www.example.com.",
        T::A,
        ResponseCode::NoError,
        vec![cname("www.example.com.", "cdn.example.com."), a("cdn.example.com.", "192.0.2.10")],
    );
    assert!(dns::parse(&good).is_ok());
    // Cut at every byte: each prefix is refused.
    for cut in 0..good.len() {
        assert!(dns::parse(&good[..cut]).is_err(), "cut at {cut} of {}", good.len());
        let judged = dns::judge(&good[..cut], "www.example.com", RecordType::A, &[]);
        assert!(matches!(judged, Err(Problem::Invalid(_))), "cut at {cut}: {judged:?}");
    }
    // A byte more after the last record.
    let mut longer = good.clone();
    longer.push(0);
    assert_eq!(dns::parse(&longer), Err(Malformed("bytes after the last record")));

    // The question: root name, type A, class IN (offsets 12 to 16).
    let root_question = [0, 0, 1, 0, 1];
    // A pointer to itself, and one pointing forwards.
    let self_pointer = by_hand([1, 0, 0, 0], &[0xc0, 12, 0, 1, 0, 1]);
    assert_eq!(dns::parse(&self_pointer), Err(Malformed("a compression pointer that does not point backwards")));
    let forward = by_hand([1, 0, 0, 0], &[0xc0, 14, 0, 0, 1, 0, 1]);
    assert!(dns::parse(&forward).is_err());
    // Two pointers pointing at each other: the second points backwards to
    // the first, which points forwards to the second.
    let mut pair = root_question.to_vec();
    // An answer of an unknown type (99) whose data holds the two pointers at 28 and 30.
    pair.extend_from_slice(&[0, 0, 99, 0, 1, 0, 0, 0, 0, 0, 4, 0xc0, 30, 0xc0, 28]);
    // A second answer owned by the name at 30.
    pair.extend_from_slice(&[0xc0, 30, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1]);
    assert!(dns::parse(&by_hand([1, 2, 0, 0], &pair)).is_err());
    // A chain of backward pointers: fine up to MAX_JUMPS, refused past it.
    let chain = |jumps: usize| {
        let mut rest = root_question.to_vec();
        // An unknown record whose data is pointers, each to the one before
        // it, the first to the question's root name at 12.
        let data_at = 17 + 11;
        rest.extend_from_slice(&[0, 0, 99, 0, 1, 0, 0, 0, 0]);
        rest.extend_from_slice(&((2 * jumps) as u16).to_be_bytes());
        for i in 0..jumps {
            let target = if i == 0 { 12 } else { data_at + 2 * (i - 1) };
            rest.extend_from_slice(&[0xc0, target as u8]);
        }
        // An A record owned by the last pointer: `jumps` + 1 pointers in its name.
        let last = data_at + 2 * (jumps - 1);
        rest.extend_from_slice(&[0xc0, last as u8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 1]);
        by_hand([1, 2, 0, 0], &rest)
    };
    assert!(dns::parse(&chain(dns::MAX_JUMPS - 1)).is_ok());
    assert_eq!(dns::parse(&chain(dns::MAX_JUMPS)), Err(Malformed("too many compression pointers in one name")));
    // Counts larger than the data, up to 65,535 each, refused at once.
    assert!(dns::parse(&by_hand([1, 65535, 65535, 65535], &root_question)).is_err());
    assert!(dns::parse(&by_hand([2, 0, 0, 0], &root_question)).is_err());
    // A record whose data length runs past the end, an A record of 5 bytes,
    // a reserved label type, a label past the end, a name over 255 bytes.
    let a_record = |len: u8, data: &[u8]| {
        let mut rest = root_question.to_vec();
        rest.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, len]);
        rest.extend_from_slice(data);
        by_hand([1, 1, 0, 0], &rest)
    };
    assert!(dns::parse(&a_record(4, &[192, 0, 2, 1])).is_ok());
    assert!(dns::parse(&a_record(9, &[192, 0, 2, 1])).is_err());
    assert_eq!(dns::parse(&a_record(5, &[192, 0, 2, 1, 0])), Err(Malformed("an A record's data is not 4 bytes")));
    assert_eq!(dns::parse(&by_hand([1, 0, 0, 0], &[0x40, 0, 1, 0, 1])), Err(Malformed("a reserved label type")));
    assert!(dns::parse(&by_hand([1, 0, 0, 0], &[9, b'a', 0, 1, 0, 1])).is_err());
    let mut long = Vec::new();
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(dns::parse(&by_hand([1, 0, 0, 0], &long)), Err(Malformed("a name longer than 255 bytes")));
    // A CNAME whose name runs past its data; a TXT string past its data.
    let mut rest = root_question.to_vec();
    rest.extend_from_slice(&[0, 0, 5, 0, 1, 0, 0, 0, 0, 0, 2, 1, b'a', 0]);
    assert_eq!(dns::parse(&by_hand([1, 1, 0, 0], &rest)), Err(Malformed("a name runs past its record's data")));
    let mut rest = root_question.to_vec();
    rest.extend_from_slice(&[0, 0, 16, 0, 1, 0, 0, 0, 0, 0, 3, 5, b'a', b'b']);
    assert_eq!(dns::parse(&by_hand([1, 1, 0, 0], &rest)), Err(Malformed("a TXT string runs past its record's data")));

    // Whole messages that do not answer what was asked.
    let truncated = {
        let mut m = Message::new(0, MessageType::Response, OpCode::Query);
        m.metadata.truncation = true;
        m.add_query(Query::query(name("example.com."), T::A));
        m.to_vec().unwrap()
    };
    assert_eq!(dns::judge(&truncated, "example.com", RecordType::A, &[]), Err(Problem::Invalid("truncated (TC set)")));
    let query_back = dns::query("example.com", RecordType::A);
    assert_eq!(dns::judge(&query_back, "example.com", RecordType::A, &[]), Err(Problem::Invalid("not a response")));
    let other_id = {
        let mut m = Message::new(4242, MessageType::Response, OpCode::Query);
        m.add_query(Query::query(name("example.com."), T::A));
        m.add_answer(a("example.com.", "192.0.2.10"));
        m.to_vec().unwrap()
    };
    assert!(matches!(dns::judge(&other_id, "example.com", RecordType::A, &[]), Err(Problem::Invalid(_))));
    for (qname, qtype) in [("example.org.", T::A), ("example.com.", T::AAAA)] {
        let other = response(qname, qtype, ResponseCode::NoError, vec![a("example.com.", "192.0.2.10")]);
        assert_eq!(
            dns::judge(&other, "example.com", RecordType::A, &[]),
            Err(Problem::Invalid("not the question asked"))
        );
    }
    // An error answer may leave the question out; a NOERROR one may not.
    let bare = |rcode: ResponseCode| Message::error_msg(0, OpCode::Query, rcode).to_vec().unwrap();
    assert_eq!(dns::judge(&bare(ResponseCode::Refused), "example.com", RecordType::A, &[]), Err(Problem::Error(5)));
    assert!(matches!(
        dns::judge(&bare(ResponseCode::NoError), "example.com", RecordType::A, &[]),
        Err(Problem::Invalid(_))
    ));
}

/// An answered probe with `status` and `body`.
fn answered(status: u16, body: Vec<u8>) -> Outcome {
    Outcome::Answered { status, content_type: Some(dns::MEDIA_TYPE.into()), headers: Vec::new(), body }
}

#[test]
fn dns_answers_are_classified_by_the_table() {
    use hickory_proto::rr::RecordType as T;
    use Health::*;
    use Reason::*;
    let c = check("www.example.com", "A", "\"192.0.2.10\"");
    let reply = |rcode, answers| response("www.example.com.", T::A, rcode, answers);
    let good =
        reply(ResponseCode::NoError, vec![a("www.example.com.", "192.0.2.10"), a("www.example.com.", "192.0.2.11")]);
    let rows: Vec<(&str, Outcome, Option<u64>, Health, Reason)> = vec![
        ("the expected value among others", answered(200, good.clone()), Some(20), Up, Ok),
        (
            "through a CNAME",
            answered(
                200,
                reply(
                    ResponseCode::NoError,
                    vec![cname("www.example.com.", "edge.example.net."), a("edge.example.net.", "192.0.2.10")],
                ),
            ),
            None,
            Up,
            Ok,
        ),
        ("any 2xx", answered(203, good.clone()), None, Up, Ok),
        ("slower than degraded_after_ms", answered(200, good.clone()), Some(301), Degraded, Slow),
        ("NXDOMAIN", answered(200, reply(ResponseCode::NXDomain, vec![])), None, Down, DnsNxdomain),
        ("SERVFAIL", answered(200, reply(ResponseCode::ServFail, vec![])), None, Down, DnsServfail),
        ("REFUSED", answered(200, reply(ResponseCode::Refused, vec![])), None, Down, DnsError),
        ("FORMERR", answered(200, reply(ResponseCode::FormErr, vec![])), None, Down, DnsError),
        ("NOERROR without an answer", answered(200, reply(ResponseCode::NoError, vec![])), None, Down, DnsEmpty),
        (
            "another address",
            answered(200, reply(ResponseCode::NoError, vec![a("www.example.com.", "192.0.2.99")])),
            None,
            Down,
            DnsMismatch,
        ),
        (
            "a slow mismatch stays a mismatch",
            answered(200, reply(ResponseCode::NoError, vec![a("www.example.com.", "192.0.2.99")])),
            Some(900),
            Down,
            DnsMismatch,
        ),
        ("not DNS", answered(200, br#"{"Status":0,"Answer":[]}"#.to_vec()), None, Down, DnsInvalid),
        ("an empty body", answered(200, Vec::new()), None, Down, DnsInvalid),
        ("cut short", answered(200, good[..good.len() - 3].to_vec()), None, Down, DnsInvalid),
        ("a 400 from the resolver", answered(400, good.clone()), None, Down, StatusMismatch),
        ("a 503 from the resolver", answered(503, Vec::new()), None, Down, StatusMismatch),
        ("a body past max_body_bytes", Outcome::BodyTooLarge { status: 200 }, None, Down, BodyTooLarge),
        ("a timeout", Outcome::Timeout { status: Some(200) }, None, Down, Timeout),
        ("refused", Outcome::ConnectError, None, Down, ConnectError),
    ];
    for (what, outcome, latency, health, reason) in rows {
        let verdict = assess(&c, &outcome, latency).verdict;
        assert_eq!((verdict.health, verdict.reason), (health, reason), "{what}");
        assert_eq!(verdict.condition, None, "{what}");
    }
    // Without `expect`, any answer of the type is up; a TXT, AAAA or MX check
    // compares its own kind of value.
    let any = check("www.example.com", "a", "");
    assert_eq!(
        classify(&any, &answered(200, reply(ResponseCode::NoError, vec![a("www.example.com.", "192.0.2.99")]))).reason,
        Ok
    );
    let txt = check("example.com", "TXT", "\"v=spf1 -all\"");
    let spf = response(
        "example.com.",
        T::TXT,
        ResponseCode::NoError,
        vec![record("example.com.", RData::TXT(TXT::new(vec!["v=spf1 ".into(), "-all".into()])))],
    );
    assert_eq!(classify(&txt, &answered(200, spf)).reason, Ok);
    let aaaa = check("example.com", "AAAA", "\"2001:DB8:0:0:0:0:0:1\"");
    let v6 = response(
        "example.com.",
        T::AAAA,
        ResponseCode::NoError,
        vec![record("example.com.", RData::AAAA(AAAA(Ipv6Addr::from_str("2001:db8::1").unwrap())))],
    );
    assert_eq!(classify(&aaaa, &answered(200, v6)).reason, Ok);
    let mx = check("example.com", "MX", "\"MX1.example.com.\"");
    let mail = response(
        "example.com.",
        T::MX,
        ResponseCode::NoError,
        vec![record("example.com.", RData::MX(MX::new(5, name("mx2.example.com."))))],
    );
    assert_eq!(classify(&mx, &answered(200, mail)).reason, DnsMismatch);
}

#[test]
fn a_dns_check_is_probed_through_its_resolver() {
    let c = valid(&fleet("WWW.Example.com.", "aaaa", "\"2001:db8::0:1\""));
    let origin = &c.origins()[1];
    assert_eq!(
        origin.dns,
        Some(DnsCheck {
            query: "www.example.com".into(),
            record: RecordType::Aaaa,
            resolver: "https://dns.example.net/dns-query".into(),
            expect: vec!["2001:db8::1".into()],
        })
    );
    let expected_url = dns::doh_url("https://dns.example.net/dns-query", "www.example.com", RecordType::Aaaa);
    assert_eq!(origin.url, expected_url);
    assert_eq!((origin.method, origin.format), (Method::Get, Format::StatusCode));
    assert_eq!(origin.headers, vec![("accept".to_string(), HeaderValue::Plain("application/dns-message".into()))]);
    assert!(
        origin.expect_status.contains(200) && origin.expect_status.contains(299) && !origin.expect_status.contains(400)
    );
    assert_eq!((origin.rise, origin.fall, origin.degraded_after_ms), (1, 1, Some(300)));
    assert_eq!((c.probed(), c.shard(0)), (2, 0..2), "a DNS check is probed, in a shard");
    // The default resolver, and the fleet document read back unchanged.
    let toml = "[regions.r]\n[[origins]]\nname = \"c\"\nregion = \"r\"\nkind = \"dns\"\nquery = \"example.com\"\nrecord = \"NS\"\n";
    let c = valid(toml);
    let check = c.origins()[0].dns.as_ref().unwrap();
    assert_eq!((check.resolver.as_str(), check.expect.len()), ("https://cloudflare-dns.com/dns-query", 0));
    assert!(c.origins()[0].url.starts_with("https://cloudflare-dns.com/dns-query?dns="));
    let (back, _) = Config::from_fleet_document(&c.fleet_document()).unwrap();
    assert_eq!(back, c);
    // A fleet without DNS checks writes the document it wrote before.
    let plain = valid(BASE).fleet_document();
    assert!(!plain.contains("\"dns\""), "{plain}");
}

#[test]
fn dns_checks_are_validated_naming_the_field() {
    for (text, field, message) in super::cases::dns() {
        let errs = config(&text).expect_err(&text);
        assert!(
            errs.iter().any(|e| e.field == field && e.message.contains(message)),
            "{text}\nexpected {field}: ...{message}..., got {errs:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No bytes make the parser or the judgement panic.
    #[test]
    fn any_bytes_parse_or_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = dns::parse(&bytes);
        let _ = dns::judge(&bytes, "example.com", RecordType::A, &["192.0.2.1".into()]);
    }

    /// A good answer with bytes changed anywhere is read or refused, never a panic.
    #[test]
    fn a_damaged_answer_is_read_or_refused(changes in proptest::collection::vec((any::<u16>(), any::<u8>()), 1..8)) {
        use hickory_proto::rr::RecordType as T;
        let mut bytes = response(
            "www.example.com.",
            T::MX,
            ResponseCode::NoError,
            vec![
                cname("www.example.com.", "mail.example.com."),
                record("mail.example.com.", RData::MX(MX::new(10, name("mx.example.com.")))),
                record("mail.example.com.", RData::TXT(TXT::new(vec!["hello".into()]))),
            ],
        );
        for (at, byte) in changes {
            let at = usize::from(at) % bytes.len();
            bytes[at] = byte;
        }
        let _ = dns::judge(&bytes, "www.example.com", RecordType::Mx, &["mx.example.com".into()]);
    }
}
