//! Readable readiness, in the style of Kubernetes' `/readyz?verbose`: one line
//! per region (`/ready?verbose`) or per origin (`/ready/{region}?verbose`),
//! `[+]` when it is ready and `[-]` when not (`; drained` when a drain holds
//! it out), then a last line saying whether the whole check passed. Served as `text/plain` with the same status code as
//! the JSON answer (200 or 503).
//!
//! ```text
//! [+]api-use1-a ok
//! [-]search-euw1-a down: connect_error
//! [-]search-euw1-b degraded: slow, over 800 ms
//! readiness check failed: eu-west is degraded
//! ```

use std::fmt::Write;

use crate::classify::Health;
use crate::config::Config;
use crate::view::ShownView;

use super::{health_str, overall_str, reason_words};

/// `/ready?verbose`: a line per region, then the global verdict.
pub fn ready(config: &Config, view: &ShownView) -> String {
    let mut out = String::new();
    for (region, shown) in config.regions().iter().zip(&view.regions) {
        let sign = if shown.ready { '+' } else { '-' };
        let status = match shown.status {
            Some(Health::Up) => "ok".to_string(),
            status => health_str(status).to_string(),
        };
        let _ = writeln!(
            out,
            "[{sign}]{} {status}: {} of {} origins up or degraded, {} needed{}",
            region.name,
            shown.up + shown.degraded,
            shown.total,
            shown.min_up,
            if shown.drained { "; drained" } else { "" }
        );
    }
    let verdict = overall_str(view.status);
    if view.ready {
        let _ = writeln!(out, "readiness check passed: {verdict}");
    } else {
        let _ = writeln!(out, "readiness check failed: {verdict}");
    }
    out
}

/// `/ready/{region}?verbose`: a line per origin of region `r`, then the region's verdict.
pub fn region_ready(config: &Config, view: &ShownView, r: usize) -> String {
    let mut out = String::new();
    for &i in &config.regions()[r].origins {
        let origin = view.origin(config, i);
        let sign = if origin.ready { '+' } else { '-' };
        let reason = reason_words(&config.origins()[i], origin.reason, origin.condition);
        let name = &config.origins()[i].name;
        let drained = if origin.drained { "; drained" } else { "" };
        let _ = match origin.status {
            Some(Health::Up) => writeln!(out, "[{sign}]{name} ok{drained}"),
            status => writeln!(out, "[{sign}]{name} {}: {reason}{drained}", health_str(status)),
        };
    }
    let shown = &view.regions[r];
    let verdict = health_str(shown.status);
    let name = &config.regions()[r].name;
    if shown.ready {
        let _ = writeln!(out, "readiness check passed: {name} is {verdict}");
    } else if shown.drained {
        let _ = writeln!(out, "readiness check failed: {name} is {verdict} but drained");
    } else {
        let _ = writeln!(out, "readiness check failed: {name} is {verdict}");
    }
    out
}
