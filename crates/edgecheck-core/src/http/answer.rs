//! The answers of snapshot routes, `POST /refresh` and the full view, from the
//! shown view, with their freshness headers.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::detail::ProbeDetail;
use crate::latency::Latencies;
use crate::monitor::{age_s, Change};
use crate::notify::{ChannelSummary, NotifyState};
use crate::render;
use crate::slo::SloMemory;
use crate::uptime::{Daily, Uptimes};
use crate::view::ShownView;

use super::{BadgeFormat, Reply, Target, Variant, CHECKED_AT_HEADER};

/// What the monitor adds to the view for some answers.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// Uptime windows, for `/health` documents and the status page.
    pub uptimes: Option<&'a Uptimes>,
    /// Recorded changes, newest first: for `/history` (already filtered by
    /// name) and the status page's recent changes.
    pub changes: &'a [Change],
    /// 30-day strips, for the status page.
    pub daily: Option<&'a Daily>,
    /// Each notify channel's counts, for `/metrics`.
    pub notify: Option<&'a BTreeMap<String, ChannelSummary>>,
    /// Latency histories, for `/health/{origin}`, `/metrics` and the status page.
    pub latency: Option<&'a Latencies>,
    /// The objectives' windows and alerts, for `/slo`, `/metrics` and the status page.
    pub slo: Option<&'a SloMemory>,
}

/// The monitor's answer for `target` in `variant` from the view it shows.
pub fn answer(config: &Config, target: Target, variant: Variant, view: &ShownView, extras: Extras) -> Reply {
    let empty = Uptimes::new();
    let uptimes = extras.uptimes.unwrap_or(&empty);
    let no_latency = Latencies::new();
    let latency = extras.latency.unwrap_or(&no_latency);
    let no_slo = SloMemory::new();
    let slo = extras.slo.unwrap_or(&no_slo);
    let ready_status = |ready| if ready { 200 } else { 503 };
    let mut reply = match (target, variant) {
        (Target::Ready, Variant::Verbose) => {
            Reply::text(ready_status(view.ready), render::verbose::ready(config, view))
        }
        (Target::ReadyRegion(r), Variant::Verbose) => {
            Reply::text(ready_status(view.regions[r].ready), render::verbose::region_ready(config, view, r))
        }
        (Target::Ready, _) => Reply::json(ready_status(view.ready), &render::ready(view)),
        (Target::ReadyRegion(r), _) => {
            Reply::json(ready_status(view.regions[r].ready), &render::region_ready(config, view, r))
        }
        (Target::Health, Variant::HealthJson) => {
            let doc = render::health_json::document(config, view);
            let mut reply = Reply::json(render::health_json::http_status(view), &doc);
            reply.set("content-type", "application/health+json".into());
            reply
        }
        (Target::Health, variant) => {
            Reply::json(200, &render::health(config, view, uptimes, variant == Variant::Summary))
        }
        (Target::HealthRegion(r), variant) => {
            Reply::json(200, &render::named_region(config, view, r, uptimes, variant == Variant::Summary))
        }
        (Target::HealthOrigin(i), _) => {
            Reply::json(200, &render::named_origin(config, view, i, uptimes, latency.get(&config.origins()[i].name)))
        }
        (Target::History | Target::HistoryOf(_), _) => Reply::json(200, &render::history(extras.changes)),
        (Target::StatusPage, _) => {
            let page = render::page::status_page(config, view, extras.daily, latency, extras.changes, slo);
            let mut reply = Reply::with_body(200, "text/html; charset=utf-8", Some(page));
            reply.set("content-security-policy", render::page::CONTENT_SECURITY_POLICY.into());
            reply
        }
        (Target::Metrics, _) => {
            let empty = BTreeMap::new();
            let text = render::metrics::exposition(config, view, extras.notify.unwrap_or(&empty), latency, slo);
            Reply::with_body(200, render::metrics::CONTENT_TYPE, Some(text))
        }
        (Target::Badge(scope, BadgeFormat::Json), _) => Reply::json(200, &render::badge::endpoint(config, view, scope)),
        (Target::Slo, Variant::OpenSlo) => {
            Reply::with_body(200, render::slo::OPENSLO_CONTENT_TYPE, Some(render::slo::openslo(config)))
        }
        (Target::Slo, _) => Reply::json(200, &render::slo::all(config, slo, view.checked_at_ms)),
        (Target::SloOf(i), _) => Reply::json(200, &render::slo::one(config, slo, i)),
        (Target::Badge(scope, BadgeFormat::Svg), _) => {
            Reply::with_body(200, "image/svg+xml; charset=utf-8", Some(render::badge::svg(config, view, scope)))
        }
    };
    if target == Target::Health {
        reply.set("vary", "Accept".into());
    }
    set_freshness(&mut reply, config.settings().refresh_s, view.age_s);
    reply.set(CHECKED_AT_HEADER, view.checked_at_ms.to_string());
    reply
}

/// The answer to an authorized `POST /refresh`: the `/health` document of the
/// round just run, never cached.
pub fn refreshed(config: &Config, view: &ShownView, uptimes: &Uptimes) -> Reply {
    Reply::json(200, &render::health(config, view, uptimes, false))
}

/// The answer to an authorized `/health?view=full`: the full view
/// ([`render::detail`]) from the shown view, the last round's details and the
/// notify channels' state, `Cache-Control: private, no-store`.
pub fn detail(
    config: &Config,
    view: &ShownView,
    uptimes: &Uptimes,
    details: &[Option<ProbeDetail>],
    notify: &NotifyState,
) -> Reply {
    let mut reply = Reply::json(200, &render::detail::document(config, view, uptimes, details, notify));
    reply.set("cache-control", "private, no-store".into());
    reply
}

/// The caching headers of a snapshot answer made by the round that started at
/// `checked_at_ms` (ms since the Unix epoch): `Cache-Control` for its whole
/// life (`refresh_s`) and its `Age` now, so clients see how old it is.
pub fn freshness_headers(checked_at_ms: u64, refresh_s: u32, now_ms: u64) -> [(&'static str, String); 2] {
    [("cache-control", format!("public, max-age={refresh_s}")), ("age", age_s(checked_at_ms, now_ms).to_string())]
}

fn set_freshness(reply: &mut Reply, refresh_s: u32, age_s: u64) {
    reply.set("cache-control", format!("public, max-age={refresh_s}"));
    reply.set("age", age_s.to_string());
}
