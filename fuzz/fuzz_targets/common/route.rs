//! Any request: `dispatch` on the fleet, then what the worker does with the
//! result (the cache key, the monitor call, the answer for GET or HEAD);
//! `authorize` of the input as an `Authorization` header; and the input as the
//! body of a monitor call, as the Durable Object reads it.
//!
//! Input: method, path, query and `Accept`, separated by 0x00 bytes, each
//! read as UTF-8 lossily; without a third 0x00 there is no `Accept`. For
//! `/admin/maintenance`, the `Accept` part is the request's body.

use edgecheck_core::http::{self, authorize, dispatch, Dispatch, Extras, Incoming, MonitorCall, Target, Variant};
use edgecheck_core::maintenance;
use edgecheck_core::monitor::{take_ping, Snapshot};
use edgecheck_core::view::shown;

/// The `route` target: any bytes.
pub fn run(data: &[u8]) {
    let mut parts = data.splitn(4, |&b| b == 0).map(String::from_utf8_lossy);
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let accept = parts.next();

    let config = super::fleet();
    let state = super::fleet_state();
    let now_ms = state.checked_at_ms + 3_000;
    let view = shown(config, Snapshot { state, now_ms });

    let req = Incoming { method: &method, path: &path, query: &query, accept: accept.as_deref() };
    match dispatch(config, req) {
        Dispatch::Answer(reply) => {
            assert!(
                matches!(reply.status, 200 | 204 | 400 | 404 | 405),
                "{method} {path}?{query} answered {}",
                reply.status
            );
        }
        Dispatch::Snapshot { target, variant, head } => {
            assert_eq!(head, &*method == "HEAD");
            // Every spelling of a route shares the canonical path's answer.
            let canonical = target.path(config);
            match dispatch(config, Incoming::new("GET", &canonical)) {
                Dispatch::Snapshot { target: again, .. } => assert_eq!(again, target, "GET {canonical}"),
                other => panic!("the canonical path {canonical} of {target:?} routes to {other:?}"),
            }
            // The worker asks the monitor for the snapshot only, and renders the route itself.
            let call = MonitorCall::Snapshot;
            assert_eq!(MonitorCall::from_json(&call.to_json()), Ok(call));
            let reply = http::answer(config, target, variant, &view, Extras::default());
            let served = http::served(reply, http::Source::Memory, head);
            assert!(!head || served.body.is_none(), "HEAD {path} has a body");
        }
        Dispatch::Refresh => {
            assert_eq!(&*method, "POST");
        }
        // A ping: only POST, only a heartbeat check; the monitor takes it or
        // answers 429, and its call reads back.
        Dispatch::Ping(route) => {
            assert_eq!(&*method, "POST");
            assert!(config.origins()[route.check].heartbeat.is_some(), "{path} pings a probed origin");
            let call = http::ping_call(config, &route);
            assert_eq!(MonitorCall::from_json(&call.to_json()), Ok(call.clone()));
            let MonitorCall::Ping { name, kind } = call else { panic!("{call:?}") };
            let mut state = state.clone();
            match take_ping(config, &mut state, &name, kind, now_ms) {
                Ok(_) => assert_eq!(http::pinged(&name, kind, now_ms).status, 200),
                Err(refused) => assert_eq!(http::ping_refused(refused).status, 429),
            }
            let _ = http::authorize_ping(None, route.path_token.as_deref(), "JOB_TOKEN", Some("token"));
        }
        // A maintenance request, the fourth part as its body: a window to
        // keep or end, or a clean 4xx naming the field; a window kept reads
        // back and is kept or refused with a 409.
        Dispatch::Maintenance { end } => {
            assert_eq!(&*method, if end.is_some() { "DELETE" } else { "POST" });
            let body = accept.as_deref().unwrap_or_default();
            match http::maintenance_call(config, end.as_deref(), body, now_ms) {
                Ok(call) => {
                    assert_eq!(MonitorCall::from_json(&call.to_json()), Ok(call.clone()));
                    let mut state = state.clone();
                    if let MonitorCall::StartMaintenance { window } = call {
                        let id = window.id.clone();
                        match maintenance::start(&mut state.maintenance, window, now_ms) {
                            Ok(()) => assert!(state.maintenance.iter().any(|w| w.id == id)),
                            Err(refused) => assert_eq!(http::window_refused(refused).status, 409),
                        }
                        let view = shown(config, Snapshot { state: &state, now_ms });
                        let _ = http::answer(config, Target::Health, Variant::default(), &view, Extras::default());
                    }
                }
                Err(reply) => assert!(matches!(reply.status, 400 | 404 | 409 | 413), "{}", reply.status),
            }
        }
        // Admin routes the worker authorizes before it asks the monitor.
        #[allow(unreachable_patterns)]
        _ => {}
    }

    // The whole input as an `Authorization` header, against a token and
    // against no token (the admin route is closed then).
    let header = String::from_utf8_lossy(data);
    if authorize(Some(&header), Some("token")).is_ok() {
        assert!(header.len() > "token".len(), "{header:?} is authorized");
    }
    assert_eq!(authorize(Some(&header), None).map_err(|r| r.status), Err(403));

    // The whole input as a monitor call.
    super::monitor_call(&header);

    // The whole input as a prober's report to the monitor, and as a call to a
    // prober: a clean answer or a clean refusal, never a panic.
    if let Ok(edgecheck_core::http::ToMonitor::Report(report)) =
        edgecheck_core::http::ToMonitor::from_request(http::REPORT_PATH, &header)
    {
        let mut round = edgecheck_core::vantage::RoundInProgress::start(config, now_ms);
        let _ = round.accept(config, super::FLEET_DIGEST, report);
        let _ = round.finish(config, super::FLEET_DIGEST, now_ms);
    }
    if let Ok(call) = edgecheck_core::vantage::ProberCall::from_json(config, &header) {
        assert!(call.vantage < config.settings().vantages.len() && !config.shard(call.shard).is_empty());
    }
}
