//! `/metrics`: the view in the Prometheus text exposition format, version 0.0.4,
//! every family with `# HELP` and `# TYPE`.
//!
//! Statuses follow kube-state-metrics (`kube_pod_status_phase{phase=..}`): one
//! gauge per entity with a `state` label, 1 for the current state and 0 for
//! every other, all states always present. Prometheus users select with
//! `edgecheck_origin_status{state="down"} == 1`, count with
//! `sum by (state) (..)`, and an alert never goes silent because a series
//! vanished; an enum encoded as numbers (0, 1, 2) would need magic values and
//! could not be summed by state.
//!
//! | family | labels | value |
//! |---|---|---|
//! | `edgecheck_status` | `state` (`ok`, `degraded`, `down`, `unknown`) | 1 or 0 |
//! | `edgecheck_ready` | | 1 when `/ready` answers 200 |
//! | `edgecheck_stale` | | 1 while the last round was self-isolated |
//! | `edgecheck_region_status` | `region`, `state` (`up`, `degraded`, `down`, `unknown`) | 1 or 0 |
//! | `edgecheck_region_ready` | `region` | 1 when `/ready/{region}` answers 200 |
//! | `edgecheck_drained` | `scope` (`region`, `origin`), `name` | 1 per active drain; the family is absent without one |
//! | `edgecheck_maintenance` | `scope` (`global`, `region`, `origin`), `name`, `id` | 1 per scope an open maintenance window names (the fleet's is `global`); the family is absent while none is open |
//! | `edgecheck_origin_status` | `region`, `origin`, `state` | 1 or 0 (damped by rise/fall) |
//! | `edgecheck_origin_probe_latency_seconds` | `region`, `origin` | the last probe's latency; absent when none was sent |
//! | `edgecheck_origin_latency_p50_seconds`, `edgecheck_origin_latency_p95_seconds` | `region`, `origin`, `window` (`1h`, `24h`, `7d`) | probe latency median and 95th percentile from the latency history (gauges: a `quantile` label belongs to summaries); absent for a window without samples, the families absent without any |
//! | `edgecheck_round_probes` | `reason` | probes of the last round with that reason class |
//! | `edgecheck_round_duration_seconds` | | wall time of the last round |
//! | `edgecheck_round_timestamp_seconds` | | Unix time the last round started |
//! | `edgecheck_snapshot_age_seconds` | | seconds since the last round started |
//! | `edgecheck_notify_pending` | `channel` | notifications queued, as of the round's publication |
//! | `edgecheck_notify_delivered_total` | `channel` | counter: notifications accepted by the receiver |
//! | `edgecheck_notify_dropped_total` | `channel` | counter: notifications given up on |
//!
//! | `edgecheck_slo_objective_ratio` | `slo` | the objective as a ratio (99.9 % is 0.999) |
//! | `edgecheck_slo_error_budget_remaining_ratio` | `slo` | the error budget left over the objective's window: 1 untouched, 0 spent, below 0 overspent |
//! | `edgecheck_slo_burn_rate` | `slo`, `window` (`5m`, `30m`, `1h`, `6h`, `3d`) | the error ratio over the window divided by the budget (1 − objective); absent for a window the objective's buckets cannot sum |
//! | `edgecheck_slo_alert_firing` | `slo`, `severity`, `long_window`, `short_window` | 1 while the alert pair fires, else 0 |
//!
//! The `edgecheck_notify_*` families appear only when `[[notify]]` channels
//! are configured, the `edgecheck_slo_*` ones only when `[[slo]]` objectives are.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::classify::Reason;
use crate::config::Config;
use crate::latency::{Latencies, Percentiles, WINDOWS};
use crate::notify::ChannelSummary;
use crate::slo::{window_label, SloMemory};
use crate::view::ShownView;

use super::{health_str, overall_str};

/// The `Content-Type` of the exposition format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const HEALTH_STATES: [&str; 4] = ["up", "degraded", "down", "unknown"];
const GLOBAL_STATES: [&str; 4] = ["ok", "degraded", "down", "unknown"];

/// Escapes a label value: backslash, double quote and line feed.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

fn flag(value: bool) -> u8 {
    u8::from(value)
}

/// The exposition of the view, of the notify channels' counts (`notify`,
/// by channel name; a channel without counts shows zeros) and of the latency
/// history (`latency`, by origin name) and of the error budgets (`slo`).
pub fn exposition(
    config: &Config,
    view: &ShownView,
    notify: &BTreeMap<String, ChannelSummary>,
    latency: &Latencies,
    slo: &SloMemory,
) -> String {
    let mut out = String::with_capacity(256 + config.origins().len() * 400);
    family(&mut out, "edgecheck_status", "The global view of the fleet: 1 for its state, 0 for the others.");
    let global = overall_str(view.status);
    for state in GLOBAL_STATES {
        let _ = writeln!(out, "edgecheck_status{{state=\"{state}\"}} {}", flag(state == global));
    }
    family(&mut out, "edgecheck_ready", "Whether /ready answers 200 (1) or 503 (0).");
    let _ = writeln!(out, "edgecheck_ready {}", flag(view.ready));
    family(&mut out, "edgecheck_stale", "Whether the statuses are the last known, kept through self-isolated rounds.");
    let _ = writeln!(out, "edgecheck_stale {}", flag(view.stale));

    family(&mut out, "edgecheck_region_status", "Each region's status: 1 for its state, 0 for the others.");
    for (region, shown) in config.regions().iter().zip(&view.regions) {
        let current = health_str(shown.status);
        for state in HEALTH_STATES {
            let _ = writeln!(
                out,
                "edgecheck_region_status{{region=\"{}\",state=\"{state}\"}} {}",
                label(&region.name),
                flag(state == current)
            );
        }
    }
    family(&mut out, "edgecheck_region_ready", "Whether /ready/{region} answers 200 (1) or 503 (0).");
    for (region, shown) in config.regions().iter().zip(&view.regions) {
        let _ = writeln!(out, "edgecheck_region_ready{{region=\"{}\"}} {}", label(&region.name), flag(shown.ready));
    }
    let drained: Vec<(&str, &str)> = config
        .regions()
        .iter()
        .zip(&view.regions)
        .filter(|(_, shown)| shown.drained)
        .map(|(region, _)| ("region", region.name.as_str()))
        .chain(config.origins().iter().filter(|o| view.drain(&o.name).is_some()).map(|o| ("origin", o.name.as_str())))
        .collect();
    if !drained.is_empty() {
        family(
            &mut out,
            "edgecheck_drained",
            "1 for each region or origin an active manual drain holds out of rotation.",
        );
        for (scope, name) in drained {
            let _ = writeln!(out, "edgecheck_drained{{scope=\"{scope}\",name=\"{}\"}} 1", label(name));
        }
    }

    if !view.maintenance.is_empty() {
        family(
            &mut out,
            "edgecheck_maintenance",
            "1 for each scope an open maintenance window names: statuses and readiness stay what the probes saw.",
        );
        for (scope, name, open) in view.maintenance.named() {
            let _ = writeln!(
                out,
                "edgecheck_maintenance{{scope=\"{scope}\",name=\"{}\",id=\"{}\"}} 1",
                label(name),
                label(&open.id)
            );
        }
    }

    let origins: Vec<_> = (0..config.origins().len()).map(|i| view.origin(config, i)).collect();
    family(
        &mut out,
        "edgecheck_origin_status",
        "Each origin's status, damped by rise/fall: 1 for its state, 0 for the others.",
    );
    for (origin, shown) in config.origins().iter().zip(&origins) {
        let current = health_str(shown.status);
        let (region, name) = (label(&config.regions()[origin.region].name), label(&origin.name));
        for state in HEALTH_STATES {
            let _ = writeln!(
                out,
                "edgecheck_origin_status{{region=\"{region}\",origin=\"{name}\",state=\"{state}\"}} {}",
                flag(state == current)
            );
        }
    }
    family(
        &mut out,
        "edgecheck_origin_probe_latency_seconds",
        "The last probe's latency, from sending the request to the end of the body or the timeout.",
    );
    for (origin, shown) in config.origins().iter().zip(&origins) {
        if let Some(ms) = shown.probe.and_then(|p| p.latency_ms) {
            let (region, name) = (label(&config.regions()[origin.region].name), label(&origin.name));
            let _ = writeln!(
                out,
                "edgecheck_origin_probe_latency_seconds{{region=\"{region}\",origin=\"{name}\"}} {:.3}",
                ms as f64 / 1000.0
            );
        }
    }

    for (quantile, family_name, pick) in [
        ("median", "edgecheck_origin_latency_p50_seconds", (|p: &Percentiles| p.p50_ms) as fn(&Percentiles) -> u64),
        ("95th percentile", "edgecheck_origin_latency_p95_seconds", |p: &Percentiles| p.p95_ms),
    ] {
        let mut series = String::new();
        for origin in config.origins() {
            let Some(history) = latency.get(&origin.name) else { continue };
            let (region, name) = (label(&config.regions()[origin.region].name), label(&origin.name));
            for (window, p) in WINDOWS.iter().zip(&history.windows) {
                let Some(p) = p else { continue };
                let _ = writeln!(
                    series,
                    "{family_name}{{region=\"{region}\",origin=\"{name}\",window=\"{}\"}} {:.3}",
                    window.label(),
                    pick(p) as f64 / 1000.0
                );
            }
        }
        if !series.is_empty() {
            let help =
                format!("The {quantile} of probe latency per window, estimated from the latency history's histogram.");
            family(&mut out, family_name, &help);
            out.push_str(&series);
        }
    }

    family(&mut out, "edgecheck_round_probes", "Probes of the last round by reason class.");
    for reason in Reason::ALL {
        let count = origins.iter().filter(|o| o.probe.map(|p| p.verdict.reason) == Some(reason)).count();
        let _ = writeln!(out, "edgecheck_round_probes{{reason=\"{}\"}} {count}", reason.as_str());
    }
    family(&mut out, "edgecheck_round_duration_seconds", "Wall time of the last probing round.");
    let _ = writeln!(out, "edgecheck_round_duration_seconds {:.3}", view.duration_ms as f64 / 1000.0);
    family(&mut out, "edgecheck_round_timestamp_seconds", "Unix time at which the last probing round started.");
    let _ = writeln!(out, "edgecheck_round_timestamp_seconds {:.3}", view.checked_at_ms as f64 / 1000.0);
    family(&mut out, "edgecheck_snapshot_age_seconds", "Seconds since the last probing round started.");
    let _ = writeln!(out, "edgecheck_snapshot_age_seconds {}", view.age_s);
    if !config.channels().is_empty() {
        notify_families(&mut out, config, notify);
    }
    if !config.slos().is_empty() {
        slo_families(&mut out, config, slo);
    }
    out
}

fn slo_families(out: &mut String, config: &Config, memory: &SloMemory) {
    let shown = super::slo::shown_all(config, memory);
    family(out, "edgecheck_slo_objective_ratio", "Each objective as a ratio (99.9 % is 0.999).");
    for s in &shown {
        let _ = writeln!(out, "edgecheck_slo_objective_ratio{{slo=\"{}\"}} {}", label(&s.slo.name), s.slo.ratio());
    }
    family(
        out,
        "edgecheck_slo_error_budget_remaining_ratio",
        "The error budget left over the objective's window: 1 untouched, 0 spent, below 0 overspent.",
    );
    for s in &shown {
        let _ = writeln!(
            out,
            "edgecheck_slo_error_budget_remaining_ratio{{slo=\"{}\"}} {}",
            label(&s.slo.name),
            s.budget.ratio
        );
    }
    family(
        out,
        "edgecheck_slo_burn_rate",
        "The error ratio over the window divided by the error budget (1 - objective).",
    );
    for s in &shown {
        for (window_ms, rate) in s.burn_rates.iter().filter_map(|(w, r)| r.map(|r| (w, r))) {
            let _ = writeln!(
                out,
                "edgecheck_slo_burn_rate{{slo=\"{}\",window=\"{}\"}} {rate}",
                label(&s.slo.name),
                window_label(*window_ms)
            );
        }
    }
    family(out, "edgecheck_slo_alert_firing", "1 while a multiwindow burn-rate alert pair fires, else 0.");
    for s in &shown {
        for a in &s.alerts {
            let _ = writeln!(
                out,
                "edgecheck_slo_alert_firing{{slo=\"{}\",severity=\"{}\",long_window=\"{}\",short_window=\"{}\"}} {}",
                label(&s.slo.name),
                a.alert.severity.as_str(),
                window_label(a.alert.long_ms),
                window_label(a.alert.short_ms),
                flag(a.firing_since_ms.is_some())
            );
        }
    }
}

fn notify_families(out: &mut String, config: &Config, notify: &BTreeMap<String, ChannelSummary>) {
    let summary = |name: &str| notify.get(name).copied().unwrap_or_default();
    family(out, "edgecheck_notify_pending", "Notifications queued for a channel, not yet delivered or dropped.");
    for channel in config.channels() {
        let _ = writeln!(
            out,
            "edgecheck_notify_pending{{channel=\"{}\"}} {}",
            label(&channel.name),
            summary(&channel.name).pending
        );
    }
    for (name, help, count) in [
        (
            "edgecheck_notify_delivered_total",
            "Notifications a channel's receiver accepted.",
            (|s: ChannelSummary| s.delivered) as fn(ChannelSummary) -> u64,
        ),
        (
            "edgecheck_notify_dropped_total",
            "Notifications given up on: refused for good, or older than the channel's max_age_s.",
            |s: ChannelSummary| s.dropped,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for channel in config.channels() {
            let _ = writeln!(out, "{name}{{channel=\"{}\"}} {}", label(&channel.name), count(summary(&channel.name)));
        }
    }
}
