//! What a condition is: a named assertion on a probed origin's answer
//! (`[[origins.conditions]]`), the Gatus conditions and Google Cloud's
//! JSONPath matchers written as TOML. One [`Subject`] (the status code, a
//! response header, the body's text, or JSON values selected by an RFC 9535
//! JSONPath query), one [`Test`] (an operator and its value), and the health
//! it [`Fails`] to. Also the checks of one condition as written, each naming
//! its field; [`crate::assertion`] judges conditions on an answer.
//!
//! Every part is bounded at build time so that judging one stays linear in
//! the body read (at most `max_body_bytes`): a query is at most
//! [`MAX_QUERY_BYTES`] with at most one descendant segment (`..`), one
//! selector per segment and no absolute query (`$`) inside a filter, so no
//! node is selected twice and no filter reads the whole document again; a
//! regular expression is at most [`MAX_PATTERN_BYTES`] and
//! [`REGEX_SIZE_LIMIT`] compiled, run by `regex-lite` (no backtracking:
//! linear in the text).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json_path::JsonPath;

use super::check::Errors;
use super::raw::{RawCondition, RawValue};
use super::Method;

/// Conditions one origin may declare at most.
pub const MAX_CONDITIONS: usize = 16;
/// Bytes of a condition's name at most (`[a-z0-9-_.]`): it is kept inline
/// in every verdict ([`ConditionName`]).
pub const MAX_CONDITION_NAME_BYTES: usize = 32;
/// Bytes of a `json` query at most, `length(...)` or `count(...)` included.
pub const MAX_QUERY_BYTES: usize = 256;
/// Bytes of a `matches` pattern at most, as written.
pub const MAX_PATTERN_BYTES: usize = 256;
/// Bytes of a compiled `matches` pattern at most (`regex-lite`'s size
/// limit). A search costs about the compiled size times the text's length:
/// a pattern at this limit takes about 1 s of native CPU per MiB of text
/// (`[a-z]{99}b` on a megabyte of `a`, measured), a usual one 20 to 100 ms;
/// 16 times less at the default `max_body_bytes` of 64 KiB.
pub const REGEX_SIZE_LIMIT: usize = 4 * 1024;
/// Nesting of groups and repetitions in a pattern at most.
pub const REGEX_NEST_LIMIT: u32 = 16;
/// Bytes of a text `value` at most.
pub const MAX_VALUE_BYTES: usize = 1024;

/// The operators, as written in `op`.
pub const OPERATORS: [&str; 9] = ["==", "!=", "<", "<=", ">", ">=", "contains", "matches", "exists"];

/// A condition's name: 1 to [`MAX_CONDITION_NAME_BYTES`] of `[a-z0-9-_.]`,
/// unique within its origin. Kept inline (it is `Copy`), so a verdict that
/// names the condition it failed on stays a small plain value; serialized as
/// a string.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConditionName {
    len: u8,
    bytes: [u8; MAX_CONDITION_NAME_BYTES],
}

impl ConditionName {
    /// `name` when it is a valid condition name.
    pub fn new(name: &str) -> Option<ConditionName> {
        let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.');
        if name.is_empty() || name.len() > MAX_CONDITION_NAME_BYTES || !name.bytes().all(ok_char) {
            return None;
        }
        let mut bytes = [0; MAX_CONDITION_NAME_BYTES];
        bytes[..name.len()].copy_from_slice(name.as_bytes());
        Some(ConditionName { len: name.len() as u8, bytes })
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        // ASCII by construction.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Debug for ConditionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ConditionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ConditionName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ConditionName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        ConditionName::new(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a condition name")))
    }
}

/// One validated condition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    /// Named in `/health` when it fails the probe.
    pub name: ConditionName,
    /// What it reads of the answer.
    pub subject: Subject,
    /// The operator and the value it compares with.
    pub test: Test,
    /// The health of the probe when it does not hold.
    pub fails: Fails,
}

/// What a condition reads of the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// The final status code (`status = true`).
    Status,
    /// A response header (`header = "x-foo"`), its name in lower case; the
    /// values of several headers of that name are joined with `", "`.
    Header(String),
    /// The body's text (`body = true`), decoded as UTF-8 with invalid
    /// sequences replaced.
    Body,
    /// The body as JSON (`json = "$.path"`).
    Json(Query),
}

/// An operator and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// `==`, `!=`, `<`, `<=`, `>`, `>=` with the value.
    Compare(Cmp, Expected),
    /// `contains`: a text contains the value, or a JSON array holds an
    /// element equal to it.
    Contains(Expected),
    /// `matches`: a regular expression finds a match anywhere in the text
    /// (anchor it with `^` and `$`).
    Matches(Pattern),
    /// `exists`: the header is present, or the query selects a node.
    Exists,
}

/// A comparison operator, serialized as written (`"<="`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Cmp {
    /// Whether `ordering` (of the value seen against the expected one) holds.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Cmp::Eq => ordering == Equal,
            Cmp::Ne => ordering != Equal,
            Cmp::Lt => ordering == Less,
            Cmp::Le => ordering != Greater,
            Cmp::Gt => ordering == Greater,
            Cmp::Ge => ordering != Less,
        }
    }

    /// Whether it orders (`<`, `<=`, `>`, `>=`) rather than tells equality.
    pub fn orders(self) -> bool {
        !matches!(self, Cmp::Eq | Cmp::Ne)
    }

    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// A condition's `value`. Numbers are compared as 64-bit floats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// A string, at most [`MAX_VALUE_BYTES`].
    Text(String),
    /// A finite number (a TOML integer or float).
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
}

/// The health of a probe whose condition does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fails {
    /// `fails = "down"`, the default.
    Down,
    /// `fails = "degraded"`.
    Degraded,
}

/// What a `json` query reduces its nodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    /// `$.path`: every node selected is compared.
    Nodes,
    /// `length($.path)`: the query selects one node; its length (a string's
    /// characters, an array's elements, an object's members) is compared.
    Length,
    /// `count($.path)`: the number of nodes selected is compared.
    Count,
}

/// A `json` subject: an RFC 9535 JSONPath query, as written, parsed, and
/// within the bounds of this module's docs. Serialized as the text.
#[derive(Debug, Clone)]
pub struct Query {
    text: String,
    kind: QueryKind,
    path: JsonPath,
}

impl Query {
    /// Parses `text`: a query, `length(query)` or `count(query)`. The error
    /// says what is wrong.
    pub fn parse(text: &str) -> Result<Query, String> {
        if text.len() > MAX_QUERY_BYTES {
            return Err(format!("{} bytes; a query is at most {MAX_QUERY_BYTES}", text.len()));
        }
        let inner =
            |f: &str| text.trim().strip_prefix(f).and_then(|t| t.trim_start().strip_prefix('('))?.strip_suffix(')');
        let (kind, query) = match (inner("length"), inner("count")) {
            (Some(q), _) => (QueryKind::Length, q.trim()),
            (_, Some(q)) => (QueryKind::Count, q.trim()),
            _ => (QueryKind::Nodes, text),
        };
        let path = JsonPath::parse(query).map_err(|e| format!("{query:?} is not an RFC 9535 JSONPath query: {e}"))?;
        bounded(query)?;
        Ok(Query { text: text.to_string(), kind, path })
    }

    /// The query as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether its nodes, their `length(...)` or their `count(...)` is compared.
    pub fn kind(&self) -> QueryKind {
        self.kind
    }

    /// The JSONPath query (inside `length(...)` or `count(...)`).
    pub fn path(&self) -> &JsonPath {
        &self.path
    }
}

/// Whether a query that parsed keeps the bounds of this module's docs: at
/// most one descendant segment, one selector per segment, `$` only first.
/// Read outside string literals (`'...'`, `"..."`, with `\` escapes).
fn bounded(query: &str) -> Result<(), String> {
    let bytes = query.as_bytes();
    let (mut descendants, mut i, mut quote) = (0, 0, None);
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'.' if bytes.get(i + 1) == Some(&b'.') => {
                    descendants += 1;
                    i += 1;
                }
                b',' => {
                    return Err(format!(
                        "{query:?} has a segment of several selectors (a ','); a condition's query takes one selector per segment, so that no node is selected twice: write one condition per selector"
                    ))
                }
                b'$' if i > 0 => {
                    return Err(format!(
                        "{query:?} reads the whole document again inside a filter ('$'); a condition's filter reads the current node ('@') only"
                    ))
                }
                _ => {}
            },
        }
        i += 1;
    }
    if descendants > 1 {
        return Err(format!(
            "{query:?} has {descendants} descendant segments ('..'); a condition's query has one at most, so that its work stays linear in the body"
        ));
    }
    Ok(())
}

impl PartialEq for Query {
    fn eq(&self, other: &Query) -> bool {
        self.text == other.text
    }
}

impl Serialize for Query {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Query::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A `matches` pattern: a regular expression (`regex-lite` syntax, that of
/// the `regex` crate without Unicode classes), as written and compiled within
/// [`MAX_PATTERN_BYTES`], [`REGEX_SIZE_LIMIT`] and [`REGEX_NEST_LIMIT`].
/// Serialized as the text.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    regex: regex_lite::Regex,
}

impl Pattern {
    /// Compiles `text`. The error says what is wrong.
    pub fn compile(text: &str) -> Result<Pattern, String> {
        if text.len() > MAX_PATTERN_BYTES {
            return Err(format!("{} bytes; a pattern is at most {MAX_PATTERN_BYTES}", text.len()));
        }
        let regex = regex_lite::RegexBuilder::new(text)
            .size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .map_err(|e| format!("{text:?} is not a regular expression within the limits ({e})"))?;
        Ok(Pattern { text: text.to_string(), regex })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether it matches anywhere in `text`, in time linear in `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.text == other.text
    }
}

impl Serialize for Pattern {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Pattern::compile(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// An origin's `conditions`, each problem naming its field
/// (`origins[2].conditions[0].json`); `path` is the origin's (`origins[2]`).
/// A HEAD probe reads no body, so it takes no `body` or `json` condition.
pub(super) fn conditions(path: &str, raw: &[RawCondition], method: Method, errs: &mut Errors) -> Vec<Condition> {
    if raw.len() > MAX_CONDITIONS {
        errs.push(
            format!("{path}.conditions"),
            format!("{} conditions; an origin has {MAX_CONDITIONS} at most", raw.len()),
        );
    }
    let mut out: Vec<Condition> = Vec::with_capacity(raw.len());
    for (j, c) in raw.iter().enumerate() {
        let at = format!("{path}.conditions[{j}]");
        let before = errs.len();
        let name = ConditionName::new(&c.name);
        if name.is_none() {
            errs.push(
                format!("{at}.name"),
                format!(
                    "\"{}\" must be 1 to {MAX_CONDITION_NAME_BYTES} characters of a-z, 0-9, '-', '_' and '.'",
                    c.name
                ),
            );
        } else if raw[..j].iter().any(|other| other.name == c.name) {
            errs.push(format!("{at}.name"), format!("\"{}\" is already a condition of this origin", c.name));
        }
        let subject = subject(&at, c, method, errs);
        let test = subject.as_ref().and_then(|s| test(&at, s, c, errs));
        let fails = match c.fails.as_deref() {
            None | Some("down") => Fails::Down,
            Some("degraded") => Fails::Degraded,
            Some(other) => {
                errs.push(format!("{at}.fails"), format!("\"{other}\" is not a health; use \"down\" or \"degraded\""));
                Fails::Down
            }
        };
        if let (Some(name), Some(subject), Some(test), true) = (name, subject, test, errs.len() == before) {
            out.push(Condition { name, subject, test, fails });
        }
    }
    out
}

/// The one subject of a condition as written.
fn subject(at: &str, c: &RawCondition, method: Method, errs: &mut Errors) -> Option<Subject> {
    let mut set: Vec<(&'static str, Option<Subject>)> = Vec::new();
    let flag =
        |key: &'static str, value: Option<bool>, subject: Subject, set: &mut Vec<_>, errs: &mut Errors| match value {
            Some(true) => set.push((key, Some(subject))),
            Some(false) => {
                errs.push(format!("{at}.{key}"), format!("set {key} = true to judge it, or remove the key"));
                set.push((key, None));
            }
            None => {}
        };
    flag("status", c.status, Subject::Status, &mut set, errs);
    flag("body", c.body, Subject::Body, &mut set, errs);
    if let Some(name) = &c.header {
        let is_tchar = |ch: char| ch.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(ch);
        if name.is_empty() || !name.chars().all(is_tchar) {
            errs.push(format!("{at}.header"), format!("\"{name}\" is not a valid header name"));
            set.push(("header", None));
        } else {
            set.push(("header", Some(Subject::Header(name.to_ascii_lowercase()))));
        }
    }
    if let Some(text) = &c.json {
        match Query::parse(text) {
            Ok(q) => set.push(("json", Some(Subject::Json(q)))),
            Err(e) => {
                errs.push(format!("{at}.json"), e);
                set.push(("json", None));
            }
        }
    }
    match set.as_slice() {
        [] => {
            errs.push(
                at,
                "names no subject: set one of status = true, header = \"<name>\", body = true or json = \"<JSONPath>\"",
            );
            None
        }
        [(key, subject)] => {
            if method == Method::Head && matches!(subject, Some(Subject::Body | Subject::Json(_))) {
                errs.push(
                    format!("{at}.{key}"),
                    "a HEAD probe reads no body: judge the status or a header, or probe with GET",
                );
                return None;
            }
            subject.clone()
        }
        [(first, _), (second, _), ..] => {
            errs.push(
                format!("{at}.{second}"),
                format!(
                    "a condition judges one subject and this one already judges {first}: write a condition for each"
                ),
            );
            None
        }
    }
}

/// The operator and value of a condition on `subject`: the pairs of
/// README's operator table, each other pair refused naming `op` or `value`.
fn test(at: &str, subject: &Subject, c: &RawCondition, errs: &mut Errors) -> Option<Test> {
    let op_field = format!("{at}.op");
    let value_field = format!("{at}.value");
    let Some(op) = c.op.as_deref() else {
        errs.push(op_field, format!("missing: one of {}", OPERATORS.join(", ")));
        return None;
    };
    let what = match subject {
        Subject::Status => "the status code",
        Subject::Header(_) => "a header",
        Subject::Body => "the body",
        Subject::Json(q) if q.kind() == QueryKind::Length => "length(...)",
        Subject::Json(q) if q.kind() == QueryKind::Count => "count(...)",
        Subject::Json(_) => "a JSON value",
    };
    let number_only =
        matches!(subject, Subject::Status) || matches!(subject, Subject::Json(q) if q.kind() != QueryKind::Nodes);
    let refuse = |errs: &mut Errors, why: &str| {
        errs.push(at.to_string() + ".op", format!("\"{op}\" does not apply to {what}: {why}"));
        None
    };
    let value = match &c.value {
        None => None,
        Some(RawValue::Bool(b)) => Some(Expected::Bool(*b)),
        Some(RawValue::Integer(n)) => Some(Expected::Number(*n as f64)),
        Some(RawValue::Float(f)) if f.is_finite() => Some(Expected::Number(*f)),
        Some(RawValue::Float(f)) => {
            errs.push(value_field, format!("{f} is not a finite number"));
            return None;
        }
        Some(RawValue::Text(t)) if t.len() > MAX_VALUE_BYTES => {
            errs.push(value_field, format!("{} bytes; a value is at most {MAX_VALUE_BYTES}", t.len()));
            return None;
        }
        Some(RawValue::Text(t)) => Some(Expected::Text(t.clone())),
    };
    let kind = |v: &Expected| match v {
        Expected::Text(_) => "a string",
        Expected::Number(_) => "a number",
        Expected::Bool(_) => "a boolean",
    };
    let cmp = match op {
        "==" => Some(Cmp::Eq),
        "!=" => Some(Cmp::Ne),
        "<" => Some(Cmp::Lt),
        "<=" => Some(Cmp::Le),
        ">" => Some(Cmp::Gt),
        ">=" => Some(Cmp::Ge),
        _ => None,
    };
    if let Some(cmp) = cmp {
        let Some(value) = value else {
            errs.push(value_field, format!("missing: \"{op}\" compares {what} with a value"));
            return None;
        };
        let (field, message) = match (&value, subject) {
            (Expected::Number(n), Subject::Status) if n.fract() != 0.0 || !(100.0..=599.0).contains(n) => {
                (value_field, format!("{n} is not a status code (an integer, 100 to 599)"))
            }
            (Expected::Number(_), Subject::Status | Subject::Header(_) | Subject::Json(_)) => {
                return Some(Test::Compare(cmp, value));
            }
            (Expected::Text(_), Subject::Header(_) | Subject::Body) | (_, Subject::Json(_))
                if !number_only && !cmp.orders() =>
            {
                return Some(Test::Compare(cmp, value));
            }
            (_, Subject::Body) if cmp.orders() => {
                (op_field, format!("\"{op}\" orders numbers and the body is text: use ==, !=, contains or matches"))
            }
            _ if cmp.orders() => {
                (value_field, format!("\"{op}\" orders numbers: compare {what} with a number, not {}", kind(&value)))
            }
            _ if number_only => {
                (value_field, format!("{what} is a number: compare it with a number, not {}", kind(&value)))
            }
            (_, Subject::Body) => {
                (value_field, format!("the body is text: compare it with a string, not {}", kind(&value)))
            }
            _ => (value_field, format!("{what} is compared with a string or a number, not {}", kind(&value))),
        };
        errs.push(field, message);
        return None;
    }
    match op {
        "contains" | "matches" if number_only => refuse(errs, "it is a number; compare it with ==, !=, <, <=, > or >="),
        "contains" => match value {
            Some(Expected::Text(t)) => Some(Test::Contains(Expected::Text(t))),
            Some(v @ (Expected::Number(_) | Expected::Bool(_))) if matches!(subject, Subject::Json(_)) => {
                Some(Test::Contains(v))
            }
            Some(v) => {
                errs.push(value_field, format!("contains looks for a string in {what}, not {}", kind(&v)));
                None
            }
            None => {
                errs.push(value_field, "missing: contains looks for this value");
                None
            }
        },
        "matches" => match value {
            Some(Expected::Text(t)) => match Pattern::compile(&t) {
                Ok(p) => Some(Test::Matches(p)),
                Err(e) => {
                    errs.push(value_field, e);
                    None
                }
            },
            Some(v) => {
                errs.push(value_field, format!("matches takes a regular expression as a string, not {}", kind(&v)));
                None
            }
            None => {
                errs.push(value_field, "missing: matches takes a regular expression");
                None
            }
        },
        "exists" => match subject {
            Subject::Status | Subject::Body => refuse(errs, "it is always there"),
            _ if number_only => refuse(errs, "it is always a number"),
            _ if value.is_some() => {
                errs.push(value_field, "exists takes no value: remove it");
                None
            }
            _ => Some(Test::Exists),
        },
        other => {
            errs.push(op_field, format!("\"{other}\" is not an operator; use one of {}", OPERATORS.join(", ")));
            None
        }
    }
}
