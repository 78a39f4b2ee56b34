//! Badges for READMEs and dashboards: `/badge/{scope}.json` in the shields.io
//! endpoint schema (`schemaVersion`, `label`, `message`, `color`; see
//! <https://shields.io/badges/endpoint-badge>) and `/badge/{scope}.svg`, a
//! self-contained SVG in shields' flat style. The scope is `global`, a region
//! or an origin; the message is its status word, so a badge never says its
//! status by colour alone. While a maintenance window covers the scope
//! ([`crate::maintenance`]) the message is `<status> · maintenance` on blue,
//! as status pages colour planned work.

use serde::Serialize;

use crate::classify::Health;
use crate::config::{Config, Named};
use crate::view::ShownView;

use super::{escape_html, health_str, overall_str};

/// The shields.io endpoint document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint<'a> {
    /// Always 1.
    pub schema_version: u8,
    /// `edgecheck` for the global view, else the region's or origin's name.
    pub label: &'a str,
    /// The status word: `ok`/`up`, `degraded`, `down` or `unknown`, followed
    /// by ` · maintenance` while a window covers the scope.
    pub message: String,
    /// A shields colour name: `brightgreen`, `yellow`, `red`, `lightgrey`, or
    /// `blue` in maintenance.
    pub color: &'static str,
}

/// The colour of a scope in maintenance: shields' `blue`.
const MAINTENANCE_COLOR: (&str, &str) = ("blue", "#007ec6");

/// `(message, colour)` of a scope with `status`, in maintenance or not.
fn message(status: &'static str, health: Option<Health>, planned: bool) -> (String, (&'static str, &'static str)) {
    if planned {
        (format!("{status} · maintenance"), MAINTENANCE_COLOR)
    } else {
        (status.to_string(), color(health))
    }
}

/// `(label, message, (colour name, colour))` of a scope.
fn parts<'a>(
    config: &'a Config,
    view: &ShownView,
    scope: Option<Named>,
) -> (&'a str, String, (&'static str, &'static str)) {
    let (label, word, status) = match scope {
        None => ("edgecheck", overall_str(view.status), view.status.map(|s| s.health())),
        Some(Named::Region(r)) => {
            let status = view.regions[r].status;
            (config.regions()[r].name.as_str(), health_str(status), status)
        }
        Some(Named::Origin(i)) => {
            let status = view.origin(config, i).status;
            (config.origins()[i].name.as_str(), health_str(status), status)
        }
    };
    let planned = match scope {
        None => view.maintenance.fleet().is_some(),
        Some(named) => view.maintenance.of(config, named).is_some(),
    };
    let (message, color) = message(word, status, planned);
    (label, message, color)
}

fn color(status: Option<Health>) -> (&'static str, &'static str) {
    match status {
        Some(Health::Up) => ("brightgreen", "#4c1"),
        Some(Health::Degraded) => ("yellow", "#dfb317"),
        Some(Health::Down) => ("red", "#e05d44"),
        None => ("lightgrey", "#9f9f9f"),
    }
}

/// `/badge/{scope}.json`.
pub fn endpoint<'a>(config: &'a Config, view: &ShownView, scope: Option<Named>) -> Endpoint<'a> {
    let (label, message, color) = parts(config, view, scope);
    Endpoint { schema_version: 1, label, message, color: color.0 }
}

/// Approximate width in px of `text` in 11 px Verdana, as shields lays it out.
fn text_width(text: &str) -> u32 {
    text.chars().map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { 7 } else { 8 }).sum()
}

/// `/badge/{scope}.svg`: label on grey, status on its colour, with a `<title>`
/// and an `aria-label` for screen readers.
pub fn svg(config: &Config, view: &ShownView, scope: Option<Named>) -> String {
    let (label, message, (_, fill)) = parts(config, view, scope);
    let (label, message) = (escape_html(label), escape_html(&message));
    let (lw, mw) = (text_width(&label) + 10, text_width(&message) + 10);
    let w = lw + mw;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="20" role="img" aria-label="{label}: {message}"><title>{label}: {message}</title><linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient><clipPath id="r"><rect width="{w}" height="20" rx="3" fill="#fff"/></clipPath><g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/><rect x="{lw}" width="{mw}" height="20" fill="{fill}"/><rect width="{w}" height="20" fill="url(#s)"/></g><g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11"><text x="{lx}" y="14">{label}</text><text x="{mx}" y="14">{message}</text></g></svg>"##,
        lx = lw / 2,
        mx = lw + mw / 2,
    )
}
