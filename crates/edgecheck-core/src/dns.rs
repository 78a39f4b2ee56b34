//! DNS checks over DNS over HTTPS (RFC 8484): the query a check sends, the
//! answer read back, and what the answer says about the check.
//!
//! A DNS check (`kind = "dns"`) is probed as any origin: config builds its
//! request once ([`doh_url`]: a `GET` with the query as `?dns=`, base64url
//! without padding, RFC 8484 §4.1), the shell fetches it, and `classify`
//! reads a complete 2xx answer with [`parse`] and [`judge`]. Hand-written on
//! purpose: checking answers is the probe's job, and a DNS library would cost
//! the wasm bundle far more than this module does.
//!
//! [`parse`] reads the RFC 1035 §4 wire format and never panics: every length
//! is checked against the bytes, the section counts are bounded by the bytes
//! before anything is allocated, a name is at most 255 bytes (§2.3.4) and its
//! compression pointers (§4.1.4) point strictly backwards, at most
//! [`MAX_JUMPS`] of them per name, so reading a message is linear in its
//! size. Below `config`, which builds the query, and `classify`, which judges
//! the answer.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine;
use serde::{Deserialize, Serialize};

/// The default resolver of a DNS check: Cloudflare's public DoH endpoint.
pub const DEFAULT_RESOLVER: &str = "https://cloudflare-dns.com/dns-query";

/// The media type of a DNS message over HTTPS (RFC 8484 §6).
pub const MEDIA_TYPE: &str = "application/dns-message";

/// Compression pointers followed in one name at most.
pub const MAX_JUMPS: usize = 64;

/// The longest name on the wire, in bytes, length octets included (RFC 1035 §2.3.4).
const MAX_WIRE_NAME: usize = 255;

/// The longest name in text (without a trailing dot): 253 characters.
pub const MAX_NAME_CHARS: usize = 253;

/// CNAME records followed from the question's name at most.
const MAX_CHAIN: usize = 16;

/// QCLASS IN (RFC 1035 §3.2.4).
const CLASS_IN: u16 = 1;

/// The record types a DNS check can ask for (RFC 1035 §3.2.2, RFC 3596 for AAAA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RecordType {
    A,
    Aaaa,
    Cname,
    Mx,
    Txt,
    Ns,
    Soa,
}

impl RecordType {
    /// Every supported type, in the order the docs list them.
    pub const ALL: [RecordType; 7] = [
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Cname,
        RecordType::Mx,
        RecordType::Txt,
        RecordType::Ns,
        RecordType::Soa,
    ];

    /// The TYPE code on the wire.
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
        }
    }

    /// The mnemonic: `A`, `AAAA`, `CNAME`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Ns => "NS",
            RecordType::Soa => "SOA",
        }
    }

    /// The type named `text`, in any case; `None` for any other.
    pub fn parse(text: &str) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(text))
    }

    /// The type of the wire `code`, when it is a supported one.
    fn of_code(code: u16) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// Whether a value of this type is a domain name (CNAME and NS targets,
    /// an MX exchange, an SOA's primary name server).
    pub fn holds_a_name(self) -> bool {
        matches!(self, RecordType::Cname | RecordType::Ns | RecordType::Mx | RecordType::Soa)
    }
}

/// Why `name` is not a name a DNS check can ask about, or `None` when it is:
/// labels of 1 to 63 letters, digits, `-` or `_`, separated by dots, at most
/// [`MAX_NAME_CHARS`] characters in all; one trailing dot is allowed.
pub fn name_problem(name: &str) -> Option<String> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.is_empty() {
        return Some(format!("\"{name}\" is not a domain name: it needs at least one label"));
    }
    if bare.len() > MAX_NAME_CHARS {
        return Some(format!(
            "\"{name}\" is {} characters long; a domain name has at most {MAX_NAME_CHARS}",
            bare.len()
        ));
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return Some(format!("\"{name}\" has an empty label (two dots in a row, or a leading dot)"));
        }
        if label.len() > 63 {
            return Some(format!("\"{name}\" has a label of {} characters; a label has at most 63", label.len()));
        }
        if let Some(c) = label.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))) {
            return Some(format!("\"{name}\" contains {c:?}; a label holds letters, digits, '-' and '_'"));
        }
    }
    None
}

/// `name` in the form answers are compared in: ASCII lower case, without the
/// trailing dot.
pub fn normal_name(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The query message for `name` (a name [`name_problem`] accepts) and `rtype`
/// (RFC 1035 §4.1): ID 0, as RFC 8484 §4.1 asks for cache friendliness; RD
/// set; one question of class IN; no other section and no EDNS.
pub fn query(name: &str, rtype: RecordType) -> Vec<u8> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    let mut out = Vec::with_capacity(12 + bare.len() + 6);
    // Header (§4.1.1): ID, flags (RD), QDCOUNT 1, ANCOUNT, NSCOUNT, ARCOUNT 0.
    out.extend_from_slice(&[0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    // Question (§4.1.2): QNAME as labels, QTYPE, QCLASS.
    for label in bare.split('.').filter(|l| !l.is_empty()) {
        let label = &label.as_bytes()[..label.len().min(63)];
        out.push(label.len() as u8);
        out.extend(label.iter().map(u8::to_ascii_lowercase));
    }
    out.push(0);
    out.extend_from_slice(&rtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// The URL a check's probe fetches: `resolver` with the query as the `dns`
/// parameter, base64url without padding (RFC 8484 §4.1, §6): `?dns=`, or
/// `&dns=` when the resolver's URL has a query already.
pub fn doh_url(resolver: &str, name: &str, rtype: RecordType) -> String {
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(query(name, rtype));
    let joiner = if resolver.contains('?') { '&' } else { '?' };
    format!("{resolver}{joiner}dns={encoded}")
}

/// A DNS message as read by [`parse`]: its header and every record, the
/// data decoded for the supported types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The ID (§4.1.1).
    pub id: u16,
    /// QR: a response (`true`) or a query.
    pub response: bool,
    /// OPCODE, 0 for a standard query.
    pub opcode: u8,
    /// TC: the message was truncated.
    pub truncated: bool,
    /// RCODE, the 4 bits of the header: 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...
    pub rcode: u8,
    /// The question section: names in [`normal_name`] form, TYPE, CLASS.
    pub questions: Vec<Question>,
    /// The answer section, in order.
    pub answers: Vec<Record>,
}

/// One question (§4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub name: String,
    pub rtype: u16,
    pub class: u16,
}

/// One resource record of the answer section (§4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name, in [`normal_name`] form (the root is `""`).
    pub name: String,
    pub rtype: u16,
    pub class: u16,
    /// The data, decoded when the type is a supported one.
    pub data: Data,
}

/// A record's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Data {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    /// CNAME or NS: the target name.
    Name(String),
    /// MX: the preference and the exchange name.
    Mx(u16, String),
    /// TXT: the character-strings (§3.3.14), as bytes.
    Txt(Vec<Vec<u8>>),
    /// SOA: MNAME (the primary name server) and RNAME; the numbers are read
    /// and not kept.
    Soa(String, String),
    /// Any other type: not decoded.
    Other,
}

impl Data {
    /// The value an `expect` entry is compared with: an address as
    /// [`std::net`] writes it, a name in [`normal_name`] form (MX: the
    /// exchange; SOA: MNAME), a TXT record's strings concatenated (invalid
    /// UTF-8 replaced). `None` for undecoded data.
    pub fn value(&self) -> Option<String> {
        match self {
            Data::A(ip) => Some(ip.to_string()),
            Data::Aaaa(ip) => Some(ip.to_string()),
            Data::Name(name) | Data::Mx(_, name) | Data::Soa(name, _) => Some(name.clone()),
            Data::Txt(strings) => Some(String::from_utf8_lossy(&strings.concat()).into_owned()),
            Data::Other => None,
        }
    }
}

/// Why bytes are not a DNS message: where the reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

/// Reads a DNS message (RFC 1035 §4.1): the header, the questions, the
/// answers with their data decoded, and the authority and additional
/// sections, read for their structure and dropped. Every byte must belong to
/// the message: bytes past its last record are [`Malformed`], as is any
/// length or count past the end, a reserved label type, a name longer than
/// 255 bytes, and a compression pointer that does not point strictly
/// backwards or is the [`MAX_JUMPS`]-plus-first of its name. Never panics;
/// linear in the size of `bytes`.
pub fn parse(bytes: &[u8]) -> Result<Message, Malformed> {
    let mut r = Reader { bytes, at: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    // The smallest question is 5 bytes (the root name, TYPE, CLASS) and the
    // smallest record 11: counts beyond what the bytes can hold are refused
    // before anything is allocated.
    let least =
        5 * usize::from(counts[0]) + 11 * (usize::from(counts[1]) + usize::from(counts[2]) + usize::from(counts[3]));
    if least > bytes.len() - r.at {
        return Err(Malformed("the section counts need more bytes than the message has"));
    }
    let mut questions = Vec::with_capacity(usize::from(counts[0]));
    for _ in 0..counts[0] {
        let name = r.name()?;
        questions.push(Question { name, rtype: r.u16()?, class: r.u16()? });
    }
    let mut answers = Vec::with_capacity(usize::from(counts[1]));
    for _ in 0..counts[1] {
        answers.push(r.record(true)?);
    }
    for _ in 0..u32::from(counts[2]) + u32::from(counts[3]) {
        r.record(false)?;
    }
    if r.at != bytes.len() {
        return Err(Malformed("bytes after the last record"));
    }
    Ok(Message {
        id,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        truncated: flags & 0x0200 != 0,
        rcode: (flags & 0x000f) as u8,
        questions,
        answers,
    })
}

/// A cursor over a message; every read checks its length.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.at.checked_add(n).filter(|&end| end <= self.bytes.len()).ok_or(Malformed("truncated"))?;
        let bytes: &'a [u8] = self.bytes;
        let out = &bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u16(&mut self) -> Result<u16, Malformed> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A name at the cursor (§3.1, §4.1.4), which moves past it (past its
    /// first pointer, if any).
    fn name(&mut self) -> Result<String, Malformed> {
        let (name, end) = read_name(self.bytes, self.at)?;
        self.at = end;
        Ok(name)
    }

    /// A resource record (§4.1.3); its data decoded when `decode` is set.
    fn record(&mut self, decode: bool) -> Result<Record, Malformed> {
        let name = self.name()?;
        let rtype = self.u16()?;
        let class = self.u16()?;
        let _ttl = self.take(4)?;
        let length = usize::from(self.u16()?);
        let start = self.at;
        let rdata = self.take(length)?;
        let data = if decode { decode_data(self.bytes, start, rdata, rtype)? } else { Data::Other };
        Ok(Record { name, rtype, class, data })
    }
}

/// The name at `start` of `message` in [`normal_name`] form, and the offset
/// just past it where it is written (past its first pointer).
fn read_name(message: &[u8], start: usize) -> Result<(String, usize), Malformed> {
    let mut name = String::new();
    let mut at = start;
    let mut end = None;
    let mut wire_len = 0usize;
    let mut jumps = 0;
    loop {
        let len = *message.get(at).ok_or(Malformed("truncated in a name"))?;
        match len & 0xc0 {
            0x00 => {
                wire_len += usize::from(len) + 1;
                if wire_len > MAX_WIRE_NAME {
                    return Err(Malformed("a name longer than 255 bytes"));
                }
                if len == 0 {
                    return Ok((name, end.unwrap_or(at + 1)));
                }
                let label = message.get(at + 1..at + 1 + usize::from(len)).ok_or(Malformed("truncated in a label"))?;
                if !name.is_empty() {
                    name.push('.');
                }
                for &b in label {
                    match b.to_ascii_lowercase() {
                        c @ (b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_') => name.push(char::from(c)),
                        // RFC 4343 §2.1: any other byte as \DDD.
                        other => {
                            let _ = write!(name, "\\{other:03}");
                        }
                    }
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let low = *message.get(at + 1).ok_or(Malformed("truncated in a pointer"))?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                if target >= at {
                    return Err(Malformed("a compression pointer that does not point backwards"));
                }
                jumps += 1;
                if jumps > MAX_JUMPS {
                    return Err(Malformed("too many compression pointers in one name"));
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            _ => return Err(Malformed("a reserved label type")),
        }
    }
}

/// The data of a record of type `rtype`, `rdata` at `start` of `message`
/// (names in it may point into the rest of the message). The whole data must
/// be read: a length that does not match the type's layout is malformed.
fn decode_data(message: &[u8], start: usize, rdata: &[u8], rtype: u16) -> Result<Data, Malformed> {
    let name_at = |at: usize| -> Result<(String, usize), Malformed> {
        // A name inside the data must end inside the data.
        let (name, end) = read_name(message, at)?;
        if end > start + rdata.len() {
            return Err(Malformed("a name runs past its record's data"));
        }
        Ok((name, end))
    };
    let whole = |end: usize, data: Data| {
        if end == start + rdata.len() {
            Ok(data)
        } else {
            Err(Malformed("a record's data length does not match its type"))
        }
    };
    let Some(rtype) = RecordType::of_code(rtype) else { return Ok(Data::Other) };
    match rtype {
        RecordType::A => match <[u8; 4]>::try_from(rdata) {
            Ok(octets) => Ok(Data::A(Ipv4Addr::from(octets))),
            Err(_) => Err(Malformed("an A record's data is not 4 bytes")),
        },
        RecordType::Aaaa => match <[u8; 16]>::try_from(rdata) {
            Ok(octets) => Ok(Data::Aaaa(Ipv6Addr::from(octets))),
            Err(_) => Err(Malformed("an AAAA record's data is not 16 bytes")),
        },
        RecordType::Cname | RecordType::Ns => {
            let (name, end) = name_at(start)?;
            whole(end, Data::Name(name))
        }
        RecordType::Mx => {
            let [hi, lo, ..] = *rdata else { return Err(Malformed("an MX record without its preference")) };
            let (name, end) = name_at(start + 2)?;
            whole(end, Data::Mx(u16::from_be_bytes([hi, lo]), name))
        }
        RecordType::Soa => {
            let (mname, at) = name_at(start)?;
            let (rname, at) = name_at(at)?;
            // SERIAL, REFRESH, RETRY, EXPIRE, MINIMUM: five 32-bit numbers.
            whole(at + 20, Data::Soa(mname, rname))
        }
        RecordType::Txt => {
            let mut strings = Vec::new();
            let mut rest = rdata;
            while let [len, tail @ ..] = rest {
                let len = usize::from(*len);
                if tail.len() < len {
                    return Err(Malformed("a TXT string runs past its record's data"));
                }
                strings.push(tail[..len].to_vec());
                rest = &tail[len..];
            }
            if strings.is_empty() {
                return Err(Malformed("a TXT record without a string"));
            }
            Ok(Data::Txt(strings))
        }
    }
}

/// What a DNS answer says about a check, when it is not healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not a DNS message, truncated (TC), not a response, or not the answer
    /// to the question asked (another ID, opcode, name, type or class).
    Invalid(&'static str),
    /// RCODE 3, NXDOMAIN: the name does not exist.
    NxDomain,
    /// RCODE 2, SERVFAIL: the resolver could not answer.
    ServFail,
    /// Any other RCODE that is not NOERROR (REFUSED, FORMERR, ...).
    Error(u8),
    /// NOERROR with no record of the asked type for the name (CNAMEs
    /// followed).
    Empty,
    /// An `expect` value that is not among the answers.
    Mismatch(String),
}

/// The answers of the asked type for `name`: records of `rtype` owned by
/// `name` or by a name it is an alias of through the CNAME records of the
/// answer section (followed [`MAX_CHAIN`] deep at most); for a CNAME
/// question, only `name`'s own CNAME records.
pub fn answers<'m>(message: &'m Message, name: &str, rtype: RecordType) -> Vec<&'m Data> {
    let mut owners = vec![normal_name(name)];
    if rtype != RecordType::Cname {
        while owners.len() <= MAX_CHAIN {
            let last = owners.last().expect("at least the question's name");
            let next = message.answers.iter().find_map(|r| match &r.data {
                Data::Name(target) if r.rtype == RecordType::Cname.code() && r.name == *last => Some(target),
                _ => None,
            });
            match next {
                Some(target) if !owners.contains(target) => owners.push(target.clone()),
                _ => break,
            }
        }
    }
    message
        .answers
        .iter()
        .filter(|r| r.rtype == rtype.code() && r.class == CLASS_IN && owners.contains(&r.name))
        .map(|r| &r.data)
        .collect()
}

/// Judges the body of a 2xx DoH answer to the query for `name` and `rtype`
/// ([`query`]), with `expect` the values that must be among the answers (in
/// the form of [`Data::value`]). `Ok` holds the answers' values; `Err` the
/// first problem, in this order: invalid, NXDOMAIN, SERVFAIL, another RCODE,
/// empty, an expected value missing.
pub fn judge(body: &[u8], name: &str, rtype: RecordType, expect: &[String]) -> Result<Vec<String>, Problem> {
    let message = parse(body).map_err(|Malformed(why)| Problem::Invalid(why))?;
    if !message.response {
        return Err(Problem::Invalid("not a response"));
    }
    if message.id != 0 || message.opcode != 0 {
        return Err(Problem::Invalid("another ID or opcode than the query's"));
    }
    if message.truncated {
        return Err(Problem::Invalid("truncated (TC set)"));
    }
    let asked = normal_name(name);
    let question_ok = |q: &Question| q.name == asked && q.rtype == rtype.code() && q.class == CLASS_IN;
    match message.questions.as_slice() {
        [q] if question_ok(q) => {}
        // An error answer may leave the question out (RFC 1035 §4.1.1 asks
        // nothing more of it); a NOERROR answer must say what it answers.
        [] if message.rcode != 0 => {}
        _ => return Err(Problem::Invalid("not the question asked")),
    }
    match message.rcode {
        0 => {}
        3 => return Err(Problem::NxDomain),
        2 => return Err(Problem::ServFail),
        other => return Err(Problem::Error(other)),
    }
    let values: Vec<String> = answers(&message, name, rtype).into_iter().filter_map(Data::value).collect();
    if values.is_empty() {
        return Err(Problem::Empty);
    }
    if let Some(missing) = expect.iter().find(|e| !values.contains(e)) {
        return Err(Problem::Mismatch(missing.clone()));
    }
    Ok(values)
}

/// An `expect` value of a check of `rtype` in the form [`Data::value`] gives
/// answers, or why it cannot be one: an IPv4 address for A, an IPv6 address
/// for AAAA, a domain name for CNAME, NS, MX and SOA, any text for TXT.
pub fn expected_value(rtype: RecordType, text: &str) -> Result<String, String> {
    match rtype {
        RecordType::A => text
            .parse::<Ipv4Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("\"{text}\" is not an IPv4 address, which an A record holds")),
        RecordType::Aaaa => text
            .parse::<Ipv6Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("\"{text}\" is not an IPv6 address, which an AAAA record holds")),
        RecordType::Txt => Ok(text.to_string()),
        RecordType::Cname | RecordType::Ns | RecordType::Mx | RecordType::Soa => match name_problem(text) {
            None => Ok(normal_name(text)),
            Some(problem) => Err(format!("{problem} ({} values are domain names)", rtype.as_str())),
        },
    }
}
