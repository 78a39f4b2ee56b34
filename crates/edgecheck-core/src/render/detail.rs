//! `/health?view=full` (admin token only): the `/health` document and, per
//! origin, what the public view hides (see [`crate::detail`]). Never cached.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{health, HealthDoc};
use crate::config::Config;
use crate::detail::{redact_url, AssertionDetail, ProbeDetail};
use crate::notify::NotifyState;
use crate::uptime::Uptimes;
use crate::view::ShownView;

/// The full view: every field of `/health`, and `probes`, keyed by origin name.
#[derive(Debug, Serialize)]
pub struct FullDoc<'a> {
    #[serde(flatten)]
    pub health: HealthDoc<'a>,
    pub probes: BTreeMap<&'a str, ProbeDoc<'a>>,
    /// Each notify channel's delivery state, keyed by channel name.
    pub notify: BTreeMap<&'a str, ChannelDoc<'a>>,
}

/// One notify channel for operators: `{"kind","pending","delivered","dropped",
/// "last_success","last_error","last_error_at","next_attempt"}`; times RFC 3339.
/// Never a URL or a secret.
#[derive(Debug, Serialize)]
pub struct ChannelDoc<'a> {
    pub kind: &'static str,
    /// Notices queued, not yet delivered or dropped.
    pub pending: usize,
    pub delivered: u64,
    pub dropped: u64,
    pub last_success: Option<String>,
    /// What the last failed attempt got (a status, a timeout, a secret not set).
    pub last_error: Option<&'a str>,
    pub last_error_at: Option<String>,
    /// When the oldest queued notice is attempted next.
    pub next_attempt: Option<String>,
}

/// One origin's hidden detail:
/// `{"region","url","error","headers","body","body_bytes","assertion","probed"}`.
#[derive(Debug, Serialize)]
pub struct ProbeDoc<'a> {
    pub region: &'a str,
    /// The configured URL, credentials and query values redacted.
    pub url: String,
    /// The runtime's error text of the last probe; `null` when it answered.
    pub error: Option<&'a str>,
    /// The last probe's response headers, names lower case, in arrival order:
    /// `[["content-type","application/json"],..]`.
    pub headers: &'a [(String, String)],
    /// The first bytes of the last probe's body (at most 1 KiB); `null` when
    /// none was read.
    pub body: Option<&'a str>,
    /// Decoded body bytes the last probe read.
    pub body_bytes: u64,
    /// The condition that failed the last probe and the value it saw (at most
    /// 256 bytes of text); `null` when none did.
    pub assertion: Option<&'a AssertionDetail>,
    /// False before this monitor instance has probed the origin (the detail
    /// lives in memory only).
    pub probed: bool,
}

/// The full view from the shown view and the last round's details (one per
/// origin, in [`Config::origins`] order; missing ones show `probed: false`).
pub fn document<'a>(
    config: &'a Config,
    view: &ShownView,
    uptimes: &Uptimes,
    details: &'a [Option<ProbeDetail>],
    notify: &'a NotifyState,
) -> FullDoc<'a> {
    const NONE: &[(String, String)] = &[];
    let probes = config
        .origins()
        .iter()
        .enumerate()
        .map(|(i, origin)| {
            let detail = details.get(i).and_then(Option::as_ref);
            let doc = ProbeDoc {
                region: &config.regions()[origin.region].name,
                url: redact_url(&origin.url),
                error: detail.and_then(|d| d.error.as_deref()),
                headers: detail.map_or(NONE, |d| d.headers.as_slice()),
                body: detail.and_then(|d| d.body_head.as_deref()),
                body_bytes: detail.map_or(0, |d| d.body_bytes),
                assertion: detail.and_then(|d| d.assertion.as_ref()),
                probed: detail.is_some(),
            };
            (origin.name.as_str(), doc)
        })
        .collect();
    let channels = config
        .channels()
        .iter()
        .map(|channel| {
            let cs = notify.get(&channel.name);
            let stats = cs.map(|cs| &cs.stats);
            let doc = ChannelDoc {
                kind: channel.kind.as_str(),
                pending: cs.map_or(0, |cs| cs.pending.len()),
                delivered: stats.map_or(0, |s| s.delivered),
                dropped: stats.map_or(0, |s| s.dropped),
                last_success: stats.and_then(|s| s.last_success_ms).map(super::rfc3339),
                last_error: stats.and_then(|s| s.last_error.as_deref()),
                last_error_at: stats.and_then(|s| s.last_error_ms).map(super::rfc3339),
                next_attempt: cs.and_then(|cs| cs.pending.first()).map(|p| super::rfc3339(p.due_ms)),
            };
            (channel.name.as_str(), doc)
        })
        .collect();
    FullDoc { health: health(config, view, uptimes, false), probes, notify: channels }
}
