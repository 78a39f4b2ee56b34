//! The `Prober` Durable Object: one per (vantage, shard), named
//! `<vantage>.<shard>` and placed with the vantage's location hint, so each
//! has its own network path, its own 6 connections and its own subrequest
//! budget. Asked by the monitor ([`ProberCall`]), it runs the fan-out
//! ([`probe::round`]) over its shard and answers a [`Report`]. It keeps no
//! state and has no alarm: the monitor asks every prober once per refresh.
//!
//! Fault injection for the end-to-end tests: a vantage named in the variable
//! `EDGECHECK_FAULT_SILENT_VANTAGES` (comma-separated) never answers, as a
//! prober that died or hangs would. Unset in production.

use std::time::Duration;

use edgecheck_core::vantage::{ProberCall, Report};
use worker::{durable_object, Delay, DurableObject, Env, Request, Response, Result, State};

use crate::{config, now_ms, probe, FLEET_DIGEST};

/// The fault-injection variable (see the module docs).
const SILENT_VANTAGES: &str = "EDGECHECK_FAULT_SILENT_VANTAGES";

#[durable_object]
pub struct Prober {
    env: Env,
}

impl DurableObject for Prober {
    fn new(_state: State, env: Env) -> Self {
        Prober { env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let config = config();
        let body = req.text().await.unwrap_or_default();
        let Ok(call) = serde_json::from_str::<ProberCall>(&body) else {
            return Response::error("expected a prober call as JSON", 400);
        };
        let (Some(vantage), shard) = (config.settings.vantages.get(call.vantage), config.shard(call.shard)) else {
            return Response::error("no such vantage in this fleet", 400);
        };
        if shard.is_empty() {
            return Response::error("no such shard in this fleet", 400);
        }
        if self.silent(&vantage.name) {
            let ms = call.deadline_at_ms.saturating_sub(now_ms()) + 60_000;
            Delay::from(Duration::from_millis(ms)).await;
        }
        let probed = probe::round(config, &self.env, &vantage.name, &config.origins[shard], call.deadline_at_ms).await;
        Response::from_json(&Report {
            fleet: FLEET_DIGEST.to_string(),
            vantage: call.vantage,
            shard: call.shard,
            canary_ok: probed.canary_ok,
            duration_ms: probed.round.duration_ms,
            probes: probed.round.probes,
            details: probed.details,
        })
    }
}

impl Prober {
    /// Whether fault injection silences `vantage`.
    fn silent(&self, vantage: &str) -> bool {
        self.env.var(SILENT_VANTAGES).is_ok_and(|v| v.to_string().split(',').any(|s| s.trim() == vantage))
    }
}
