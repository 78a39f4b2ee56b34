//! `/health` as `application/health+json`, the format of the IETF draft "Health
//! Check Response Format for HTTP APIs" (draft-inadarei-api-health-check):
//! `status` is `pass`, `warn` or `fail`, and `checks` holds one entry per
//! origin, keyed `"<region>:<origin>"`.
//!
//! - The global `ok` is `pass`, `degraded` is `warn`, `down` is `fail`; the
//!   draft asks for a 4xx/5xx status code with `fail`, so that answer is 503.
//! - `unknown` (no trustworthy round within `max_stale_s`) is `warn` with an
//!   `output` saying so: the checker cannot see the fleet, which is not the
//!   fleet failing, and edgecheck never reports a false "all down".
//! - Each origin's damped status maps the same way (`up` is `pass`, `unknown`
//!   is `warn`); `observedValue` is the last probe's latency in `ms`, and
//!   `output` the reason class when it is not `ok`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::aggregate::Overall;
use crate::classify::{Health, Reason};
use crate::config::Config;
use crate::view::ShownView;

use super::rfc3339;

/// The document.
#[derive(Debug, Serialize)]
pub struct HealthJson {
    /// `pass`, `warn` or `fail`.
    pub status: &'static str,
    /// The document's format version.
    pub version: &'static str,
    pub description: &'static str,
    /// Why the status is not `pass`, when there is one thing to say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Keyed `"<region>:<origin>"`, one check each.
    pub checks: BTreeMap<String, [Check; 1]>,
}

/// One origin's check.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// The origin's name.
    pub component_id: String,
    /// Always `component`.
    pub component_type: &'static str,
    /// The last probe's latency, ms; absent when no request was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_value: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_unit: Option<&'static str>,
    /// `pass`, `warn` or `fail`.
    pub status: &'static str,
    /// RFC 3339: when the round that probed it started.
    pub time: String,
    /// The reason class of the last probe, when it is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<&'static str>,
}

/// The draft's words for a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Pass,
    Warn,
    Fail,
}

impl Word {
    /// The one mapping, for the document, its checks and its HTTP status
    /// ([`http_status`]): `up` is `pass`, `degraded` and `unknown` are `warn`,
    /// `down` is `fail`.
    fn of(health: Option<Health>) -> Word {
        match health {
            Some(Health::Up) => Word::Pass,
            Some(Health::Degraded) | None => Word::Warn,
            Some(Health::Down) => Word::Fail,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Word::Pass => "pass",
            Word::Warn => "warn",
            Word::Fail => "fail",
        }
    }
}

fn word(health: Option<Health>) -> &'static str {
    Word::of(health).as_str()
}

/// The HTTP status of the view's document: 503 when its `status` is `fail`
/// (the draft asks for a 4xx or 5xx then), else 200; decided from the view,
/// never from rendered text.
pub fn http_status(view: &ShownView) -> u16 {
    match Word::of(view.status.map(Overall::health)) {
        Word::Fail => 503,
        Word::Pass | Word::Warn => 200,
    }
}

/// The health+json document of the view.
pub fn document(config: &Config, view: &ShownView) -> HealthJson {
    let time = rfc3339(view.checked_at_ms);
    let checks = config
        .origins()
        .iter()
        .enumerate()
        .map(|(i, origin)| {
            let shown = view.origin(config, i);
            let reason = shown.probe.map(|p| p.verdict.reason).filter(|r| *r != Reason::Ok);
            let check = Check {
                component_id: origin.name.clone(),
                component_type: "component",
                observed_value: shown.probe.and_then(|p| p.latency_ms),
                observed_unit: shown.probe.and_then(|p| p.latency_ms).map(|_| "ms"),
                status: word(shown.status),
                time: time.clone(),
                output: reason.map(Reason::as_str),
            };
            (format!("{}:{}", config.regions()[origin.region].name, origin.name), [check])
        })
        .collect();
    let output = match view.status {
        None => Some("unknown: no trustworthy probing round within max_stale_s; the checker may be cut off".into()),
        Some(Overall::Ok) => None,
        Some(other) => Some(format!("the fleet is {}", other.as_str())),
    };
    HealthJson {
        status: word(view.status.map(Overall::health)),
        version: "1",
        description: "edgecheck: the global view of the fleet",
        output,
        checks,
    }
}
