//! The monitor protocol: what the worker and the probers send the `Monitor`
//! ([`MonitorCall`], reports at [`REPORT_PATH`]) and the short answers of the
//! Durable Objects.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::vantage::{Dropped, Report};

use super::Reply;

/// How long the worker waits for the monitor beyond the round it may have to
/// run (`deadline_ms`), ms; then it answers a JSON 503 ([`monitor_unavailable`]).
pub const MONITOR_GRACE_MS: u64 = 5_000;

/// What the worker asks the `Monitor` Durable Object, as the JSON body of its
/// request: the route already resolved, never a path to route again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorCall {
    /// The round's published snapshot ([`crate::publish::Published`]), answered
    /// by [`snapshot`] (the monitor runs a round first only when
    /// [`crate::schedule::round_due`] says so).
    Snapshot,
    /// An authorized `POST /refresh`: run a round now, answer [`refreshed`].
    Refresh,
    /// The cron trigger: arm the alarm if none is set; answers [`alarm_armed`].
    EnsureAlarm,
    /// An authorized `/health?view=full`: answers [`detail`].
    Detail,
    /// An authorized drain request, validated ([`drain_call`]): set (`Some`)
    /// or lift (`None`) the drain of region or origin `name`; answers
    /// [`drained`].
    Drain { name: String, drain: Option<crate::drain::Drain> },
    /// An authorized ping of heartbeat check `name` ([`ping_call`]); answers
    /// [`pinged`] or [`ping_refused`] (a 429), at once.
    Ping { name: String, kind: crate::heartbeat::PingKind },
    /// An authorized `POST /admin/maintenance`, validated
    /// ([`maintenance_call`]): keep `window`; answers [`maintenance_window`].
    StartMaintenance { window: crate::maintenance::Window },
    /// An authorized `DELETE /admin/maintenance/{id}`: end API window `id`;
    /// answers [`maintenance_window`] or a JSON 404.
    EndMaintenance { id: String },
    /// An authorized `GET /admin/maintenance`: answers [`maintenance_list`],
    /// from memory.
    ListMaintenance,
    /// An authorized `GET /admin/drain`: answers [`drain_list`], from memory.
    ListDrains,
}

impl MonitorCall {
    /// The request body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a MonitorCall serializes")
    }

    /// Reads a request body; anything else than a call is a JSON 400 (the
    /// caller is not ours).
    pub fn from_json(body: &str) -> Result<MonitorCall, Reply> {
        match serde_json::from_str::<MonitorCall>(body) {
            Ok(call) => Ok(call),
            Err(_) => Err(Reply::error(400, "bad_monitor_call", "expected a monitor call as JSON".into())),
        }
    }
}

/// The path under which a prober delivers its [`Report`] to the monitor.
pub const REPORT_PATH: &str = "/report";

/// What one request to the `Monitor` Durable Object carries: a worker's
/// [`MonitorCall`], or a prober's [`Report`] (at [`REPORT_PATH`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToMonitor {
    Call(MonitorCall),
    Report(Report),
}

impl ToMonitor {
    /// Reads a request to the monitor by its path and JSON body; anything else
    /// is a JSON 400 (a report is checked against the round when it is kept).
    pub fn from_request(path: &str, body: &str) -> Result<ToMonitor, Reply> {
        if path == REPORT_PATH {
            return serde_json::from_str::<Report>(body)
                .map(ToMonitor::Report)
                .map_err(|_| Reply::error(400, "bad_report", "expected a prober report as JSON".into()));
        }
        MonitorCall::from_json(body).map(ToMonitor::Call)
    }
}

/// The monitor's answer to a [`Report`] it kept for the round in progress: 202.
pub fn report_kept() -> Reply {
    Reply::json(202, &serde_json::json!({"report": "kept"}))
}

/// The monitor's answer to a [`Report`] it dropped (late, twice, another
/// fleet's): 409, saying why.
pub fn report_dropped(dropped: &Dropped) -> Reply {
    Reply::error(409, "report_dropped", dropped.to_string())
}

/// A prober's answer to a [`crate::vantage::ProberCall`] it accepted: 202; the report follows
/// in a call of its own.
pub fn prober_accepted() -> Reply {
    Reply::json(202, &serde_json::json!({"call": "accepted"}))
}

/// A prober's answer to a call that does not fit its fleet: 400, saying why.
pub fn prober_refused(why: &str) -> Reply {
    Reply::error(400, "bad_prober_call", why.to_string())
}

/// Whether a prober's or the monitor's answer means it took the call: a 2xx.
pub fn accepted(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The monitor's answer to [`MonitorCall::Snapshot`]: 200, the document's
/// JSON (`json`), `no-store` (the worker keeps it, [`snapshot_copy`] caches it).
pub fn snapshot(json: String) -> Reply {
    Reply::with_body(200, "application/json", Some(json))
}

/// The monitor's answer to [`MonitorCall::EnsureAlarm`]: 204.
pub fn alarm_armed() -> Reply {
    Reply::no_content()
}

/// How long the worker waits for the monitor, ms: the round a call may have to
/// run first (`deadline_ms`) and [`MONITOR_GRACE_MS`].
pub fn monitor_wait_ms(config: &Config) -> u64 {
    u64::from(config.settings().deadline_ms) + MONITOR_GRACE_MS
}
