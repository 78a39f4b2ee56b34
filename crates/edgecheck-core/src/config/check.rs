//! The checks of one value that every part of validation shares (`validate`,
//! `settings`, `origin`, `notify`, `maintenance`): names, URLs, secret names,
//! numbers in range and quorums, each problem pushed to [`Errors`] naming its
//! field. Below the other submodules of `config` that validate.

use super::raw::RawQuorum;
use super::{ConfigError, Quorum};

/// Problems found so far, each naming its field.
#[derive(Default)]
pub(super) struct Errors(pub(super) Vec<ConfigError>);

impl Errors {
    /// Problems found so far.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError { field: field.into(), message: message.into() });
    }
}

pub(super) fn opt_ranged(
    field: &str,
    value: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
    unit: &str,
    errs: &mut Errors,
) -> i64 {
    match value {
        None => default,
        Some(v) => ranged(field, v, min, max, unit, errs).unwrap_or(default),
    }
}

pub(super) fn ranged(field: &str, value: i64, min: i64, max: i64, unit: &str, errs: &mut Errors) -> Option<i64> {
    if (min..=max).contains(&value) {
        Some(value)
    } else {
        errs.push(field, format!("{value} is out of range: expected {min} to {max} ({unit})"));
        None
    }
}

/// A quorum of `total` members: `unit` says what they are and where, for the
/// error (`origins, at most the 3 in this region`).
pub(super) fn quorum(field: &str, raw: &RawQuorum, total: usize, unit: &str, errs: &mut Errors) -> Quorum {
    match raw {
        RawQuorum::Count(n) => match ranged(field, *n, 1, total as i64, unit, errs) {
            Some(n) => Quorum::AtLeast(n as usize),
            None => Quorum::AtLeast(1),
        },
        RawQuorum::Word(w) if w == "majority" => Quorum::Majority,
        RawQuorum::Word(w) if w == "all" => Quorum::All,
        RawQuorum::Word(w) => {
            errs.push(field, format!("\"{w}\" is not a quorum; use a number, \"majority\" or \"all\""));
            Quorum::AtLeast(1)
        }
    }
}

/// Names appear in paths (`/health/{name}`): 1 to 64 of `[a-z0-9-_.]`.
pub(super) fn check_name(field: &str, name: &str, errs: &mut Errors) {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 {
        errs.push(field, format!("\"{name}\" must be 1 to 64 characters long"));
    } else if let Some(c) = name.chars().find(|&c| !ok_char(c)) {
        errs.push(field, format!("\"{name}\" contains {c:?}; names use only a-z, 0-9, '-', '_' and '.'"));
    }
    if name == "global" {
        errs.push(field, "\"global\" is reserved: /badge/global.svg is the whole fleet's badge");
    }
    if !name.is_empty() && name.chars().all(|c| c == '.') {
        errs.push(
            field,
            format!(
                "\"{name}\" cannot be routed: URL parsers resolve dot segments, so /health/{name} never reaches it"
            ),
        );
    }
}

/// An absolute http(s) URL, written as it is sent: the URL as parsed, or
/// `raw` when it does not parse.
pub(super) fn check_url(field: &str, raw: &str, errs: &mut Errors) -> String {
    let url = match url::Url::parse(raw) {
        Ok(url) => url,
        Err(e) => {
            errs.push(field, format!("\"{raw}\" is not an absolute URL ({e})"));
            return raw.to_string();
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        errs.push(field, format!("scheme \"{}\" is not allowed; use http or https", url.scheme()));
    } else if !url.username().is_empty() || url.password().is_some() {
        errs.push(field, "credentials in the URL (user:pass@) are not allowed; send them as a header naming a secret");
    } else if url.host().is_none() {
        errs.push(field, format!("\"{raw}\" has no host"));
    } else if url.fragment().is_some() {
        errs.push(field, format!("\"{raw}\" has a fragment (#...), which is never sent; remove it"));
    } else if !as_sent(raw, &url) {
        // The URL standard's parser rewrites some URLs (dot segments, case,
        // default ports, spaces, tabs): what would be probed is not what the
        // file says, so the file must say it.
        errs.push(field, format!("\"{raw}\" would be probed as \"{url}\"; write the URL as it is sent"));
    }
    url.to_string()
}

/// Whether `raw` is already `url` as it will be sent: the same text, or the
/// same with the `/` that an empty path is sent as (RFC 9110, 4.2.3).
fn as_sent(raw: &str, url: &url::Url) -> bool {
    let sent = url.as_str();
    sent == raw || (url.path() == "/" && url.query().is_none() && sent.strip_suffix('/') == Some(raw))
}

/// A wrangler secret's name: a letter or `_`, then letters, digits and `_`.
pub(super) fn check_secret_name(field: &str, secret: &str, errs: &mut Errors) {
    let ok = secret.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && secret.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        errs.push(field, format!("\"{secret}\" is not a secret name; use letters, digits and '_'"));
    }
}
