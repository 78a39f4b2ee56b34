//! The detail view: what the public documents hide, for operators holding the
//! admin token (`GET /health?view=full` with `Authorization: Bearer <token>`).
//!
//! Per origin: its URL with credentials and query values redacted
//! ([`redact_url`]), and of its last probe the raw error text the runtime gave,
//! the response headers, the first bytes of the body and, when a condition
//! failed, the value it saw ([`ProbeDetail`], every part capped). The shell captures a [`ProbeDetail`] per probe and keeps the
//! last round's in the monitor's memory; [`crate::http::detail`] answers it,
//! never cached (`private, no-store`).

use serde::{Deserialize, Serialize};

use crate::classify::Judged;

/// Body bytes kept per probe: the first 1 KiB.
pub const BODY_HEAD_BYTES: usize = 1024;
/// Bytes of raw error text kept per probe.
pub const ERROR_BYTES: usize = 512;
/// Response headers kept per probe, in the order they came.
pub const MAX_HEADERS: usize = 32;
/// Bytes kept of one header value.
pub const HEADER_VALUE_BYTES: usize = 256;

/// What the public view hides about one probe. Built by [`ProbeDetail::new`],
/// which applies every cap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeDetail {
    /// The runtime's error text when the probe failed without a complete
    /// answer (refused, reset, aborted, a header it refused), at most
    /// [`ERROR_BYTES`].
    pub error: Option<String>,
    /// Response headers as received (names lower case), at most
    /// [`MAX_HEADERS`], each value at most [`HEADER_VALUE_BYTES`]; empty when
    /// no headers arrived.
    pub headers: Vec<(String, String)>,
    /// The first [`BODY_HEAD_BYTES`] of the decoded body, as UTF-8 (invalid
    /// sequences replaced); `None` when no body was read.
    pub body_head: Option<String>,
    /// Decoded body bytes read, at most `max_body_bytes`.
    pub body_bytes: u64,
    /// The condition that failed the probe (`assertion_failed`) and what it
    /// saw; `None` when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assertion: Option<AssertionDetail>,
}

/// A failed condition's name and the value it saw, at most
/// [`crate::assertion::SEEN_BYTES`] of text (see [`crate::assertion::Failed`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionDetail {
    /// The condition's name.
    pub condition: String,
    /// What it saw, at most [`crate::assertion::SEEN_BYTES`].
    pub seen: String,
}

impl ProbeDetail {
    /// A detail with every part capped: `error` text, the response `headers`,
    /// and the `body` read so far (`None`: no body was read).
    pub fn new(error: Option<&str>, headers: Vec<(String, String)>, body: Option<&[u8]>) -> ProbeDetail {
        ProbeDetail {
            error: error.map(|e| truncate(e, ERROR_BYTES)),
            headers: headers
                .into_iter()
                .take(MAX_HEADERS)
                .map(|(name, value)| (name.to_ascii_lowercase(), truncate(&value, HEADER_VALUE_BYTES)))
                .collect(),
            body_head: body.map(|b| String::from_utf8_lossy(&b[..b.len().min(BODY_HEAD_BYTES)]).into_owned()),
            body_bytes: body.map_or(0, |b| b.len() as u64),
            assertion: None,
        }
    }

    /// This detail with the failed condition of `judged` and what it saw
    /// (cut to [`crate::assertion::SEEN_BYTES`]), when a condition decided it.
    pub fn with_assertion(mut self, judged: &Judged) -> ProbeDetail {
        self.assertion = judged.verdict.condition.zip(judged.seen.as_deref()).map(|(name, seen)| AssertionDetail {
            condition: name.as_str().to_string(),
            seen: truncate(seen, crate::assertion::SEEN_BYTES),
        });
        self
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The placeholder for a redacted part of a URL.
pub const REDACTED: &str = "REDACTED";

/// `url` with its credentials (`user:pass@`) and every query value replaced by
/// [`REDACTED`] and its fragment dropped; query keys, scheme, host, port and
/// path kept. Written for URLs the config accepted (absolute http or https);
/// any other text comes back with the same rules applied where they fit.
pub fn redact_url(url: &str) -> String {
    let url = url.split('#').next().unwrap_or("");
    let (before_query, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let mut out = match before_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            let credentials = if authority.contains('@') { format!("{REDACTED}@") } else { String::new() };
            format!("{scheme}://{credentials}{host}{path}")
        }
        None => before_query.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) => format!("{key}={REDACTED}"),
                None => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}
