//! The round's published snapshot, and every public answer rendered from it
//! where it is served.
//!
//! After each round the monitor publishes one document ([`Published`]): the
//! state of the round, the uptime windows, the 30-day strips and the newest
//! changes. The worker holds it in its isolate and renders every public answer
//! from it with the time of the request ([`answer`]): `unknown`, readiness,
//! every age field and `Age` are decided then, never when a copy was made. The
//! Cache API holds the document, never a rendered answer.
//!
//! When an isolate asks for a newer one is decided here too ([`next_ask_ms`]):
//! once the next round should have been merged, and, when it was not yet, once
//! more at the latest time it can be merged; after that once per `refresh_s`.
//! Until then the held document goes on being served with its true age.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::http::{self, Extras, Reply, Target, Variant};
use crate::latency::Latencies;
use crate::monitor::{age_s, Change, MonitorState, Snapshot};
use crate::notify::ChannelSummary;
use crate::slo::SloMemory;
use crate::uptime::{Daily, Uptimes};
use crate::vantage::PROBER_GRACE_MS;
use crate::view;

/// One round's published snapshot: what every public answer is rendered from.
/// Serialized as JSON (`serde`), the body of the monitor's answer to
/// [`http::MonitorCall::Snapshot`] and of the Cache API's copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    /// The digest of the fleet it was made for; a document of another fleet is refused.
    pub fleet: String,
    /// The monitor's state after the round (`state.checked_at_ms` identifies the round).
    pub state: MonitorState,
    /// Uptime windows by origin or region name.
    pub uptimes: Uptimes,
    /// The status page's 30-day strips by origin or region name.
    pub daily: Daily,
    /// Recorded changes, newest first, at most [`crate::store::HISTORY_LIMIT`]
    /// of the whole fleet: `/history/{name}` shows the ones of that name.
    pub changes: Vec<Change>,
    /// Each origin's latency history ([`crate::latency`]), by name; origins
    /// without samples in 7 days are absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub latency: Latencies,
    /// Each notify channel's counts when the round was published.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub notify: BTreeMap<String, ChannelSummary>,
    /// Each objective's windows and the alert pairs firing after the round.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slo: SloMemory,
}

impl Published {
    /// The document as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a published snapshot serializes")
    }

    /// Reads a document (from the monitor or the Cache API). An error, saying
    /// why, for anything else than a document of the fleet `fleet` (its digest).
    pub fn from_json(fleet: &str, body: &str) -> Result<Published, String> {
        let doc: Published = serde_json::from_str(body).map_err(|e| format!("not a published snapshot: {e}"))?;
        if doc.fleet != fleet {
            return Err(format!("a snapshot of another fleet ({:.12}, this one is {fleet:.12})", doc.fleet));
        }
        Ok(doc)
    }

    /// When its round started, ms since the Unix epoch.
    pub fn checked_at_ms(&self) -> u64 {
        self.state.checked_at_ms
    }
}

/// The public answer for `target` in `variant` from `doc`, at `now_ms` (ms
/// since the Unix epoch): the view is computed now ([`view::shown`]), so
/// `unknown`, readiness and every age are those of this moment.
pub fn answer(config: &Config, doc: &Published, target: Target, variant: Variant, now_ms: u64) -> Reply {
    let view = view::shown(config, Snapshot { state: &doc.state, now_ms });
    let changes: Vec<Change> = match target.history_name(config) {
        None => Vec::new(),
        Some(None) => doc.changes.clone(),
        Some(Some(name)) => doc.changes.iter().filter(|c| c.name == name).cloned().collect(),
    };
    let daily = target.is_status_page().then_some(&doc.daily);
    http::answer(
        config,
        target,
        variant,
        &view,
        Extras {
            uptimes: Some(&doc.uptimes),
            changes: &changes,
            daily,
            notify: Some(&doc.notify),
            latency: Some(&doc.latency),
            slo: Some(&doc.slo),
        },
    )
}

/// What makes two answers from one document the same bytes: the target, the
/// variant and the age in whole seconds. An isolate may serve a rendered
/// answer again while its key is the same; every age in it is then true to
/// the second, and `unknown` starts at most a second late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderKey {
    pub checked_at_ms: u64,
    pub target: Target,
    pub variant: Variant,
    pub age_s: u64,
}

impl RenderKey {
    /// The key of `target` in `variant` from `doc` at `now_ms`.
    pub fn new(doc: &Published, target: Target, variant: Variant, now_ms: u64) -> RenderKey {
        RenderKey { checked_at_ms: doc.checked_at_ms(), target, variant, age_s: age_s(doc.checked_at_ms(), now_ms) }
    }
}

/// How long after a round's expected end an isolate asks for it, ms: room for
/// a round that runs a little longer than the last one.
pub const ASK_MARGIN_MS: u64 = 1_000;

/// When an isolate holding the document of the round that started at
/// `checked_at_ms` and took `duration_ms` next asks for a newer one (ms since
/// the Unix epoch), after `fruitless` asks that found none:
///
/// - 0: when the next round should be merged, `refresh_s` after this one
///   started plus its duration and [`ASK_MARGIN_MS`];
/// - 1: when the next round must be merged if it started on time
///   (`deadline_ms` + the prober grace);
/// - more: `refresh_s` after `now_ms` (the monitor is late or unreachable; the
///   held document is served with its growing age, and goes `unknown` by the
///   rule of [`Snapshot::status`]).
///
/// So an isolate asks once per refresh while rounds keep their pace, never
/// more than twice.
pub fn next_ask_ms(config: &Config, checked_at_ms: u64, duration_ms: u64, fruitless: u32, now_ms: u64) -> u64 {
    let refresh_ms = u64::from(config.settings().refresh_s) * 1000;
    let next_round = checked_at_ms.saturating_add(refresh_ms);
    match fruitless {
        0 => next_round.saturating_add(duration_ms).saturating_add(ASK_MARGIN_MS),
        1 => next_round
            .saturating_add(u64::from(config.settings().deadline_ms) + PROBER_GRACE_MS)
            .saturating_add(ASK_MARGIN_MS)
            .max(now_ms.saturating_add(ASK_MARGIN_MS)),
        _ => now_ms.saturating_add(refresh_ms),
    }
}

/// How many seconds the Cache API may keep a document of the round that
/// started at `checked_at_ms` and took `duration_ms`, put at `now_ms`: until
/// isolates first ask for the next one ([`next_ask_ms`]), at least 1 s and at
/// most `refresh_s` (a round dated in the future cannot pin a copy).
pub fn cache_ttl_s(config: &Config, checked_at_ms: u64, duration_ms: u64, now_ms: u64) -> u64 {
    let until = next_ask_ms(config, checked_at_ms, duration_ms, 0, now_ms);
    (until.saturating_sub(now_ms) / 1000).clamp(1, u64::from(config.settings().refresh_s))
}
