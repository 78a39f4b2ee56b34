//! The `Prober` Durable Object: one per (vantage, shard), named
//! `<vantage>.<shard>` and placed with the vantage's location hint, so each
//! has its own network path, its own 6 connections and its own subrequest
//! budget.
//!
//! A round reaches it in two invocations, so that every prober of a round
//! probes at the same time and none waits on another:
//!
//! 1. the monitor's [`ProberCall`] (a request): checked against the fleet,
//!    stored, the alarm armed for now, answered 202 at once;
//! 2. the alarm: runs the fan-out ([`probe::round`]) over the shard by the
//!    call's deadline, then delivers the [`Report`] to the monitor in a call of
//!    its own ([`http::REPORT_PATH`]). That invocation holds at most
//!    `max_in_flight` probes open, and its report only after them.
//!
//! It keeps only the call it is about to run. Public traffic never reaches it.
//!
//! Fault injection for the end-to-end tests, compiled in only with the cargo
//! feature `fault-injection` (the e2e builds enable it; a production build has
//! no such code): a vantage named in the variable
//! `EDGECHECK_FAULT_SILENT_VANTAGES` (comma-separated) probes but never
//! reports, as a prober that died or hangs would.

use std::time::Duration;

use edgecheck_core::http;
use edgecheck_core::vantage::{trace_colo, ProberCall, Report};
use worker::{console_error, durable_object, DurableObject, Env, Request, Response, Result, State};

use crate::probe;
use crate::runtime::{self, call_monitor_at, config, fleet_digest, respond};

/// The fault-injection variable (see the module docs).
#[cfg(feature = "fault-injection")]
const SILENT_VANTAGES: &str = "EDGECHECK_FAULT_SILENT_VANTAGES";

/// The storage key of the call the alarm runs.
const CALL_KEY: &str = "call";

#[durable_object]
pub struct Prober {
    state: State,
    env: Env,
}

impl DurableObject for Prober {
    fn new(state: State, env: Env) -> Self {
        Prober { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        if let Err(reply) = runtime::fleet() {
            return respond(reply);
        }
        let body = req.text().await.unwrap_or_default();
        let call = match ProberCall::from_json(config(), &body) {
            Ok(call) => call,
            Err(why) => return respond(http::prober_refused(why)),
        };
        let storage = self.state.storage();
        // An alarm of its own: the probing runs in an invocation of its own.
        let stored = match storage.put(CALL_KEY, &call).await {
            Ok(()) => storage.set_alarm(Duration::from_millis(0)).await,
            Err(e) => Err(e),
        };
        match stored {
            Ok(()) => respond(http::prober_accepted()),
            Err(e) => {
                // The monitor sees a refusal and logs it; this prober is `missing`.
                console_error!("edgecheck: prober: storing round {}'s call failed: {e}", call.round);
                respond(http::internal_error())
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        if runtime::fleet().is_err() {
            return Response::empty();
        }
        let storage = self.state.storage();
        let Some(call) = storage.get::<ProberCall>(CALL_KEY).await? else {
            return Response::empty();
        };
        storage.delete(CALL_KEY).await?;
        let config = config();
        let vantage = &config.settings().vantages[call.vantage];
        let shard = &config.origins()[config.shard(call.shard)];
        let probed = probe::round(config, &self.env, &vantage.name, shard, call.deadline_at_ms).await;
        let report = Report {
            fleet: fleet_digest().to_string(),
            round: call.round,
            vantage: call.vantage,
            shard: call.shard,
            canary_ok: probed.canary_ok,
            colo: config.settings().canary.as_deref().and_then(|url| trace_colo(url, &probed.canary_body)),
            duration_ms: probed.round.duration_ms,
            probes: probed.round.probes,
            details: probed.details,
        };
        if self.silent(&vantage.name) {
            return Response::empty();
        }
        let body = serde_json::to_string(&report).map_err(|e| worker::Error::RustError(e.to_string()))?;
        match call_monitor_at(&self.env, http::REPORT_PATH, body).await {
            Ok(reply) if http::accepted(reply.status) => {}
            Ok(reply) => console_error!(
                "edgecheck: prober {}.{}: the monitor did not keep its report for round {}: {}",
                vantage.name,
                call.shard,
                call.round,
                reply.body.unwrap_or_default()
            ),
            Err(e) => {
                console_error!("edgecheck: prober {}.{}: delivering its report failed: {e}", vantage.name, call.shard)
            }
        }
        Response::empty()
    }
}

impl Prober {
    /// Whether fault injection silences `vantage`.
    #[cfg(feature = "fault-injection")]
    fn silent(&self, vantage: &str) -> bool {
        self.env.var(SILENT_VANTAGES).is_ok_and(|v| v.to_string().split(',').any(|s| s.trim() == vantage))
    }

    /// Without the `fault-injection` feature no vantage is ever silenced.
    #[cfg(not(feature = "fault-injection"))]
    fn silent(&self, _vantage: &str) -> bool {
        false
    }
}
