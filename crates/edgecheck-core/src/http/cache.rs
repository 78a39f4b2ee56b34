//! The Cache API in front of the monitor: which answers are copied, for how
//! long, and how a copy is served ([`from_cache`]).

use crate::config::Config;
use crate::monitor::age_s;

use super::{set_freshness, Reply, CHECKED_AT_HEADER};

/// Says whether a snapshot answer came from the Cache API (`hit`) or the monitor (`miss`).
pub const CACHE_STATUS_HEADER: &str = "x-edgecheck-cache";

/// Cache keys are URLs under this origin, which no request can name.
pub const CACHE_ORIGIN: &str = "https://edgecheck.cache.invalid";

/// Carries a cached copy's real status when it is stored as 200 (the Cache API
/// keeps no 503), so that not-ready answers are cached like ready ones.
pub const STORED_STATUS_HEADER: &str = "x-edgecheck-status";

/// How many seconds a snapshot answer may stay in the Cache API: until its
/// snapshot's next refresh, and never more than `refresh_s` whatever the
/// snapshot says (a round dated in the future cannot pin a copy). `None` (do
/// not cache) for answers other than 200 and 503, or already due.
pub fn cache_ttl_s(status: u16, checked_at_ms: u64, refresh_s: u32, now_ms: u64) -> Option<u64> {
    let next_refresh_ms = checked_at_ms.saturating_add(u64::from(refresh_s) * 1000);
    let ttl = (next_refresh_ms.saturating_sub(now_ms) / 1000).min(u64::from(refresh_s));
    (matches!(status, 200 | 503) && ttl > 0).then_some(ttl)
}

/// The identity of a deployment in its cache keys: the worker's monitor (a
/// Durable Object id, unique to the worker and its namespace) and the digest of
/// the embedded fleet (so a changed fleet never serves the old one's answers).
pub fn deployment(monitor_id: &str, fleet_digest: &str) -> String {
    let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).take(64).collect::<String>();
    format!("{}.{}", clean(monitor_id), clean(fleet_digest))
}

/// The round start a snapshot answer carries ([`CHECKED_AT_HEADER`]), ms since the Unix epoch.
pub(super) fn checked_at(reply: &Reply) -> Option<u64> {
    reply.header(CHECKED_AT_HEADER).and_then(|v| v.parse().ok())
}

/// The copy of the monitor's `answer` to put in the Cache API at `now_ms`, or
/// `None` when it must not be cached ([`cache_ttl_s`]). The copy lives until the
/// snapshot's next refresh (`Cache-Control: public, max-age=<seconds left>`)
/// and carries no `Age`: [`from_cache`] computes it when the copy is served.
/// An answer marked `private` (the admin token's full view) is never copied,
/// whatever else it carries.
pub fn cache_copy(config: &Config, answer: &Reply, now_ms: u64) -> Option<Reply> {
    if answer.header("cache-control").is_some_and(|v| v.split(',').any(|d| d.trim() == "private")) {
        return None;
    }
    let at = checked_at(answer)?;
    let ttl_s = cache_ttl_s(answer.status, at, config.settings.refresh_s, now_ms)?;
    let mut copy = answer.clone();
    copy.remove("age");
    copy.set("cache-control", format!("public, max-age={ttl_s}"));
    if copy.status != 200 {
        copy.set(STORED_STATUS_HEADER, copy.status.to_string());
        copy.status = 200;
    }
    Some(copy)
}

/// A cached copy served at `now_ms`: its real status, the public
/// `Cache-Control`, an `Age` counted from its round (and the same `age_s` in a
/// `/health` body), `x-edgecheck-cache: hit`, no body for HEAD.
pub fn from_cache(config: &Config, mut copy: Reply, now_ms: u64, head: bool) -> Reply {
    if let Some(status) = copy.header(STORED_STATUS_HEADER).and_then(|s| s.parse().ok()) {
        copy.status = status;
        copy.remove(STORED_STATUS_HEADER);
    }
    let at = checked_at(&copy).unwrap_or(0);
    let age = age_s(at, now_ms);
    set_freshness(&mut copy, config.settings.refresh_s, age);
    if let Some(body) = copy.body.as_mut() {
        set_age_s(body, age);
    }
    copy.set(CACHE_STATUS_HEADER, "hit".into());
    copy.for_head(head)
}

/// Rewrites the first `"age_s":<n>` of a JSON body (the top-level one of a
/// `/health` document, which is written before any nested object) to `age`.
pub(super) fn set_age_s(body: &mut String, age: u64) {
    const KEY: &str = "\"age_s\":";
    let Some(start) = body.find(KEY).map(|i| i + KEY.len()) else { return };
    let end = body[start..].find(|c: char| !c.is_ascii_digit()).map_or(body.len(), |n| start + n);
    body.replace_range(start..end, &age.to_string());
}

/// The monitor's answer served as it is: `x-edgecheck-cache: miss`, no body for HEAD.
pub fn from_monitor(mut answer: Reply, head: bool) -> Reply {
    answer.set(CACHE_STATUS_HEADER, "miss".into());
    answer.for_head(head)
}
