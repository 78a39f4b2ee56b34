//! Assertions: an origin's conditions ([`crate::config::condition`]) judged
//! on one answer, the bytes already read (at most `max_body_bytes`).
//!
//! What each operator holds on (README, "Conditions"):
//!
//! - A subject that is not there fails every operator but `exists`: a header
//!   not sent, a query that selects nothing, a body that is not JSON (a
//!   document nested deeper than `serde_json`'s 128 levels is not JSON
//!   either).
//! - A `json` query holds when every node it selects holds; one that selects
//!   more than [`MAX_NODES`] fails without comparing (`count(...)` counts
//!   any number).
//! - Values of other types than the condition's never hold (`!=` excepted:
//!   a string is not equal to a number).
//!
//! Every judgement is linear in the body: one JSON parse shared by every
//! condition and the health formats ([`Body`]), queries bounded by the
//! config, `regex-lite` (no backtracking), the substring search of `str`.

use std::sync::OnceLock;

use serde_json::Value;

use crate::config::condition::{Cmp, Condition, Expected, Fails, QueryKind, Subject, Test};

/// Nodes a `json` condition compares at most; a query that selects more
/// fails.
pub const MAX_NODES: usize = 1_000;

/// Bytes of the value seen kept for the full view at most.
pub const SEEN_BYTES: usize = 256;

/// A body as read, and as JSON once someone asks (parsed once per answer).
#[derive(Debug)]
pub struct Body<'a> {
    bytes: &'a [u8],
    json: OnceLock<Result<Value, String>>,
}

impl<'a> Body<'a> {
    /// The body `bytes`, as read (decoded, at most `max_body_bytes`); not parsed yet.
    pub fn new(bytes: &'a [u8]) -> Body<'a> {
        Body { bytes, json: OnceLock::new() }
    }

    /// The bytes as read.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The text without a leading byte order mark (RFC 8259 lets a parser
    /// ignore one), or `None` when it is not UTF-8.
    pub fn text(&self) -> Option<&'a str> {
        let bytes = self.bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(self.bytes);
        std::str::from_utf8(bytes).ok()
    }

    /// The body parsed as one JSON text (surrounding whitespace ignored), or
    /// why it is not one: not UTF-8, or `serde_json`'s error (a syntax error,
    /// nesting past its recursion limit of 128).
    pub fn json(&self) -> Result<&Value, &str> {
        self.json
            .get_or_init(|| match self.text() {
                Some(text) => serde_json::from_str(text.trim()).map_err(|e| e.to_string()),
                None => Err("not UTF-8".to_string()),
            })
            .as_ref()
            .map_err(String::as_str)
    }
}

/// One answer as the conditions read it: the final status code, the response
/// headers (any case), and the body.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// The final status code.
    pub status: u16,
    /// `(name, value)` as received, names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a Body<'a>,
}

/// A condition that does not hold, and what it saw: at most [`SEEN_BYTES`]
/// of text (a status code, a header's value, the body's first bytes, the
/// JSON of the nodes selected), or why nothing could be compared (`no
/// x-foo header`, `nothing selected`, `not JSON: ...`). The value seen is
/// body content: only the admin token's full view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed<'c> {
    /// The condition, as configured.
    pub condition: &'c Condition,
    /// What it saw, at most [`SEEN_BYTES`] (cut with `…`).
    pub seen: String,
}

/// The condition that decides `answer`: the first in `conditions`' order of
/// those that do not hold and fail `down`, else the first that fails
/// `degraded`; `None` when every condition holds.
pub fn judge<'c>(conditions: &'c [Condition], answer: &Answer) -> Option<Failed<'c>> {
    let mut degraded = None;
    for condition in conditions {
        if let Err(seen) = holds(condition, answer) {
            let failed = Failed { condition, seen: truncate(&seen, SEEN_BYTES) };
            match condition.fails {
                Fails::Down => return Some(failed),
                Fails::Degraded => {
                    degraded.get_or_insert(failed);
                }
            }
        }
    }
    degraded
}

/// `Ok` when `condition` holds on `answer`, else what it saw.
fn holds(condition: &Condition, answer: &Answer) -> Result<(), String> {
    let test = &condition.test;
    match &condition.subject {
        Subject::Status => {
            let seen = answer.status.to_string();
            number_holds(test, f64::from(answer.status)).then_some(()).ok_or(seen)
        }
        Subject::Header(name) => {
            let values: Vec<&str> =
                answer.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect();
            if values.is_empty() {
                return Err(format!("no {name} header"));
            }
            let value = values.join(", ");
            text_holds(test, &value).then_some(()).ok_or(value)
        }
        Subject::Body => {
            let text = String::from_utf8_lossy(answer.body.bytes());
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            text_holds(test, text).then_some(()).ok_or_else(|| truncate(text, SEEN_BYTES))
        }
        Subject::Json(query) => {
            let doc = answer.body.json().map_err(|e| format!("not JSON: {e}"))?;
            let nodes = query.path().query(doc);
            match query.kind() {
                QueryKind::Count => {
                    let n = nodes.len();
                    number_holds(test, n as f64).then_some(()).ok_or_else(|| format!("count {n}"))
                }
                QueryKind::Length => {
                    let n = nodes.len();
                    let [node] = nodes.all()[..] else {
                        return Err(format!("{n} nodes selected; length() takes one"));
                    };
                    let length = match node {
                        Value::String(s) => s.chars().count(),
                        Value::Array(a) => a.len(),
                        Value::Object(o) => o.len(),
                        other => return Err(format!("no length: {}", json_text(&[other]))),
                    };
                    number_holds(test, length as f64).then_some(()).ok_or_else(|| format!("length {length}"))
                }
                QueryKind::Nodes => {
                    let nodes = nodes.all();
                    match (nodes.len(), test) {
                        (0, _) => Err("nothing selected".to_string()),
                        (_, Test::Exists) => Ok(()),
                        (n, _) if n > MAX_NODES => {
                            Err(format!("{n} nodes selected, more than the {MAX_NODES} a condition compares"))
                        }
                        _ => nodes
                            .iter()
                            .all(|node| node_holds(test, node))
                            .then_some(())
                            .ok_or_else(|| json_text(&nodes)),
                    }
                }
            }
        }
    }
}

/// A number seen (a status code, a length, a count) against the test.
fn number_holds(test: &Test, seen: f64) -> bool {
    match test {
        Test::Compare(cmp, Expected::Number(n)) => compare(*cmp, seen, *n),
        _ => false,
    }
}

/// A text seen (a header's value, the body) against the test: `==` and `!=`
/// compare the whole text, its surrounding whitespace ignored; a number
/// value compares the text read as a number (likewise).
fn text_holds(test: &Test, seen: &str) -> bool {
    match test {
        Test::Exists => true,
        Test::Compare(Cmp::Eq, Expected::Text(t)) => seen.trim() == t,
        Test::Compare(Cmp::Ne, Expected::Text(t)) => seen.trim() != t,
        Test::Compare(_, Expected::Text(_)) => false,
        Test::Compare(cmp, Expected::Number(n)) => seen.trim().parse::<f64>().is_ok_and(|v| compare(*cmp, v, *n)),
        Test::Compare(_, Expected::Bool(_)) => false,
        Test::Contains(Expected::Text(t)) => seen.contains(t.as_str()),
        Test::Contains(_) => false,
        Test::Matches(pattern) => pattern.is_match(seen),
    }
}

/// One JSON node against the test.
fn node_holds(test: &Test, node: &Value) -> bool {
    match test {
        Test::Exists => true,
        Test::Compare(Cmp::Eq, v) => equal(node, v),
        Test::Compare(Cmp::Ne, v) => !equal(node, v),
        Test::Compare(cmp, Expected::Number(n)) => node.as_f64().is_some_and(|v| compare(*cmp, v, *n)),
        Test::Compare(..) => false,
        Test::Contains(v) => match (node, v) {
            (Value::String(s), Expected::Text(t)) => s.contains(t.as_str()),
            (Value::Array(items), v) => items.iter().any(|item| equal(item, v)),
            _ => false,
        },
        Test::Matches(pattern) => node.as_str().is_some_and(|s| pattern.is_match(s)),
    }
}

/// Whether a JSON value equals the condition's (numbers as 64-bit floats).
fn equal(node: &Value, v: &Expected) -> bool {
    match (node, v) {
        (Value::String(s), Expected::Text(t)) => s == t,
        (Value::Number(_), Expected::Number(n)) => node.as_f64() == Some(*n),
        (Value::Bool(b), Expected::Bool(e)) => b == e,
        _ => false,
    }
}

fn compare(cmp: Cmp, seen: f64, expected: f64) -> bool {
    seen.partial_cmp(&expected).is_some_and(|o| cmp.holds(o))
}

/// The JSON of `nodes` (one: the node; several: an array of them), written
/// no further than [`SEEN_BYTES`] (a larger node is not serialized whole).
fn json_text(nodes: &[&Value]) -> String {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let room = (SEEN_BYTES + 4).saturating_sub(self.0.len());
            if room == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            let n = buf.len().min(room);
            self.0.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    let _ = match nodes {
        [one] => serde_json::to_writer(&mut out, one),
        many => serde_json::to_writer(&mut out, many),
    };
    truncate(&String::from_utf8_lossy(&out.0), SEEN_BYTES)
}

/// At most `max` bytes of `text`, cut at a character boundary, ending in `…`
/// when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}
