//! The public status page at `/`: server-rendered HTML with inline CSS, no
//! script and no external asset, light and dark schemes
//! (`prefers-color-scheme`), one column on a phone. It reloads itself with a
//! `<meta http-equiv="refresh">`, so it works with JavaScript off.
//!
//! It shows the global status in words, colour and a symbol; each region with
//! its origins (status, latency, time since the last change); a 30-day strip
//! per region and origin (one bar per UTC day: up, degraded, down, or no data,
//! each with a text alternative); and the recent changes from the history.
//! A response-time chart per origin for the last 24 hours: an inline SVG
//! with a bar per UTC hour, its 95th percentile behind its median, drawn in
//! the palette's colours (so both schemes read), each hour with a `<title>`
//! and the chart with a text alternative giving the 24-hour p50 and p95.
//! A line per vantage (reporting, isolated or
//! missing, the age of its last report, where it ran), and each origin that
//! some voting vantages see failing, below the quorum, is marked
//! "· failing from <vantages>" beside its status.
//! A heartbeat check is marked "· heartbeat, last ping <age> ago".
//! A drained region or origin says so, with its reason and until when; when
//! no region is left ready, an alert at the top says so.
//! Below 40rem (a 390 px phone) each table row reflows into a block of
//! labelled lines, so no column is hidden or cut off.
//! Status is never colour alone: every status has its word and a symbol.
//! Landmarks (`header`, `main`, `footer`), a table caption and row headers, and
//! text alternatives for every strip keep it usable with a screen reader; the
//! palettes meet WCAG AA contrast (checked by a host test over [`PALETTES`]).

use std::fmt::Write;

use crate::classify::Health;
use crate::config::Config;
use crate::drain::Drain;
use crate::latency::{Latencies, Latency, CHART_HOURS};
use crate::maintenance::Open;
use crate::monitor::{Change, Kind};
use crate::slo::{window_label, SloMemory};
use crate::time::{bucket_start, DAY_MS, HOUR_MS};
use crate::uptime::{first_day, Daily, Uptime, DAYS};
use crate::vantage::VantageState;
use crate::view::{ShownVantage, ShownView};

use super::{escape_html, health_str, overall_str, reason_words, rfc3339};

/// The page's `Content-Security-Policy`: inline styles only, nothing fetched.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Recent changes listed on the page.
pub const RECENT_CHANGES: usize = 10;

/// A colour scheme: `(background, text, up, degraded, down, unknown, no data)`,
/// CSS hex colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    pub name: &'static str,
    pub background: &'static str,
    pub text: &'static str,
    pub up: &'static str,
    pub degraded: &'static str,
    pub down: &'static str,
    pub unknown: &'static str,
    pub none: &'static str,
}

/// The light and dark schemes. Status colours are used for text on the
/// background, so each must have a contrast ratio of at least 4.5 with it.
pub const PALETTES: [Palette; 2] = [
    Palette {
        name: "light",
        background: "#ffffff",
        text: "#1f2328",
        up: "#1a7f37",
        degraded: "#8a5a00",
        down: "#c4151c",
        unknown: "#59636e",
        none: "#d1d9e0",
    },
    Palette {
        name: "dark",
        background: "#0d1117",
        text: "#e6edf3",
        up: "#3fb950",
        degraded: "#d29922",
        down: "#ff7b72",
        unknown: "#9198a1",
        none: "#3d444d",
    },
];

fn css_vars(p: &Palette) -> String {
    format!(
        "--bg:{};--fg:{};--up:{};--degraded:{};--down:{};--unknown:{};--none:{};",
        p.background, p.text, p.up, p.degraded, p.down, p.unknown, p.none
    )
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
header,main,footer{max-width:60rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.2rem;margin:1.5rem 0 .25rem}\
.overall{font-size:1.4rem;font-weight:700;margin:.25rem 0}\
.s-up{color:var(--up)}.s-degraded{color:var(--degraded)}.s-down{color:var(--down)}.s-unknown{color:var(--unknown)}.s-maintenance{color:var(--fg)}\
.meta{color:var(--unknown);margin:.25rem 0}\
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%}th[scope=row]{white-space:nowrap}caption{text-align:left;color:var(--unknown)}\
th,td{text-align:left;padding:.35rem .5rem .35rem 0;border-bottom:1px solid var(--none);vertical-align:middle}\
td.num{font-variant-numeric:tabular-nums}\
.strip{display:flex;gap:2px;height:1.5rem;align-items:stretch;min-width:9rem}\
.strip span{flex:1;border-radius:2px;min-width:3px}\
.strip .b-up{background:var(--up)}.strip .b-degraded{background:var(--degraded)}.strip .b-down{background:var(--down)}\
.strip .b-none{background:repeating-linear-gradient(45deg,var(--none) 0 3px,transparent 3px 6px)}\
.lat{display:block;width:9rem;height:1.5rem}.lat .p95{fill:var(--unknown);fill-opacity:.45}.lat .p50{fill:var(--fg)}.lat .base{fill:var(--none)}\
.legend{color:var(--unknown);font-size:.9rem}\
ol{padding-left:1.2rem}\
.vantages{padding-left:0;list-style:none}.vantages li{margin:.15rem 0}\
small{overflow-wrap:anywhere}\
@media (max-width:40rem){\
table,caption,tbody,tr,th,td{display:block;width:100%}\
thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}\
tr{border-bottom:1px solid var(--none);padding:.35rem 0}\
th,td{border:0;padding:.1rem 0}th[scope=row]{white-space:normal;overflow-wrap:anywhere;font-size:1.05rem}\
td[data-label]{display:flex;gap:.5rem;align-items:center}\
td[data-label]::before{content:attr(data-label);flex:0 0 6.5rem;color:var(--unknown)}\
td .strip{flex:1;min-width:0}td .lat{flex:1;min-width:0;max-width:12rem}}";

/// A status as a word with a symbol: never colour alone.
fn status_html(status: Option<Health>, word: &str) -> String {
    let (class, symbol) = match status {
        Some(Health::Up) => ("up", "✓"),
        Some(Health::Degraded) => ("degraded", "!"),
        Some(Health::Down) => ("down", "✕"),
        None => ("unknown", "?"),
    };
    format!(r#"<span class="s-{class}"><span aria-hidden="true">{symbol}</span> {}</span>"#, capitalized(word))
}

/// A duration for people: `42 s`, `5 min`, `3 h 12 min`, `4 d`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min", s / 60),
        3600..=172_799 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d", s / 86_400),
    }
}

fn percent(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// `degraded` → `Degraded`.
fn capitalized(word: &str) -> String {
    let mut word = word.to_string();
    if let Some(first) = word.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    word
}

/// The worst state a day saw, for its bar: any down is down, else any degraded
/// is degraded.
fn day_class(day: Option<Uptime>) -> &'static str {
    match day {
        None => "none",
        Some(u) if u.down > 0.0 => "down",
        Some(u) if u.degraded > 0.0 => "degraded",
        Some(_) => "up",
    }
}

/// The 30-day strip of `name`, with its text alternative.
/// The error budgets: per objective its scope, target, a budget bar (a
/// `<meter>`: the budget left, clamped to 0..1, with the figures as text),
/// the burn rate over 1 h and the alert pairs firing.
fn budgets(config: &Config, memory: &SloMemory) -> String {
    let mut out = String::from(
        r#"<section aria-labelledby="budgets"><h2 id="budgets">Error budgets</h2><div class="scroll"><table><caption>Objectives over their rolling windows</caption><thead><tr><th scope="col">Objective</th><th scope="col">Scope</th><th scope="col">Target</th><th scope="col">Budget left</th><th scope="col">Burn rate, 1h</th><th scope="col">Alerts firing</th></tr></thead><tbody>"#,
    );
    for s in super::slo::shown_all(config, memory) {
        let (scope, target) = super::slo::scope(config, s.slo);
        let scope = match target {
            Some(name) => format!("{scope} {}", escape_html(&name)),
            None => "the fleet".to_string(),
        };
        let hour = s.burn_rates.iter().find(|(w, _)| *w == 60 * 60_000).and_then(|(_, r)| *r);
        let hour = hour.map_or("–".to_string(), |r| format!("{r:.2}"));
        let firing: Vec<String> = s
            .alerts
            .iter()
            .filter(|a| a.firing_since_ms.is_some())
            .map(|a| {
                format!(
                    r#"<span class="s-down">{} {}/{}</span>"#,
                    a.alert.severity.as_str(),
                    window_label(a.alert.long_ms),
                    window_label(a.alert.short_ms)
                )
            })
            .collect();
        let _ = write!(
            out,
            r#"<tr><th scope="row">{name}</th><td>{scope}</td><td>{objective}% over {days} days</td><td><meter min="0" max="1" low="0.25" high="0.5" optimum="1" value="{meter:.4}">{pct:.1}%</meter> {pct:.1}% · {minutes:.1} min</td><td>{hour}</td><td>{firing}</td></tr>"#,
            name = escape_html(&s.slo.name),
            objective = s.slo.objective,
            days = s.slo.window_days,
            meter = s.budget.ratio.clamp(0.0, 1.0),
            pct = s.budget.ratio * 100.0,
            minutes = s.budget.minutes,
            firing = if firing.is_empty() { "none".to_string() } else { firing.join(", ") },
        );
    }
    out.push_str("</tbody></table></div></section>");
    out
}

fn strip(name: &str, days: Option<&Vec<Option<Uptime>>>, now_ms: u64) -> String {
    let first = first_day(now_ms);
    let mut counts = [0usize; 4];
    let mut bars = String::new();
    for d in 0..DAYS {
        let day = days.and_then(|days| days.get(d).copied().flatten());
        let class = day_class(day);
        counts[match class {
            "up" => 0,
            "degraded" => 1,
            "down" => 2,
            _ => 3,
        }] += 1;
        let date = &rfc3339(first + d as u64 * DAY_MS)[..10];
        let title = match day {
            None => format!("{date}: no data"),
            Some(u) => {
                let planned = if u.maintenance > 0.0 {
                    format!(", {} maintenance", percent(u.maintenance))
                } else {
                    String::new()
                };
                format!(
                    "{date}: {} up, {} degraded, {} down{planned}",
                    percent(u.up),
                    percent(u.degraded),
                    percent(u.down)
                )
            }
        };
        let _ = write!(bars, r#"<span class="b-{class}" title="{title}"></span>"#);
    }
    let label = format!(
        "{}, last {DAYS} days: {} up, {} with degraded time, {} with down time, {} without data",
        escape_html(name),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    format!(r#"<div class="strip" role="img" aria-label="{label}">{bars}</div>"#)
}

/// Width of one hour in the chart's viewBox; its bar leaves a unit free.
const HOUR_UNITS: usize = 5;
/// Height of the chart's viewBox.
const CHART_UNITS: u64 = 30;

/// The response-time chart of origin `name` for the [`CHART_HOURS`] hours
/// ending now: per hour with samples, a bar of its p95 and, in front, one of
/// its p50, scaled to the largest p95 of the day; `latency` `None` draws only
/// the baseline, labelled as no data.
fn latency_chart(name: &str, latency: Option<&Latency>, now_ms: u64) -> String {
    let first_hour = bucket_start(now_ms, HOUR_MS).saturating_sub((CHART_HOURS as u64 - 1) * HOUR_MS);
    let hourly = latency.map_or(&[][..], |l| &l.hourly[..]);
    let top = hourly.iter().flatten().map(|[_, p95]| *p95).max().unwrap_or(0);
    let height = |ms: u64| ms.saturating_mul(CHART_UNITS).checked_div(top).unwrap_or(0).clamp(1, CHART_UNITS);
    let width = CHART_HOURS * HOUR_UNITS;
    let mut bars = format!(r#"<rect class="base" x="0" y="{}" width="{width}" height="1"/>"#, CHART_UNITS - 1);
    for (h, hour) in hourly.iter().enumerate().take(CHART_HOURS) {
        let Some([p50, p95]) = hour else { continue };
        let x = h * HOUR_UNITS;
        let at = rfc3339(first_hour + h as u64 * HOUR_MS);
        let title = format!("{} {} UTC: p50 {p50} ms, p95 {p95} ms", &at[..10], &at[11..16]);
        for (class, ms) in [("p95", *p95), ("p50", *p50)] {
            let _ = write!(
                bars,
                r#"<rect class="{class}" x="{x}" y="{}" width="{}" height="{}"><title>{title}</title></rect>"#,
                CHART_UNITS - height(ms),
                HOUR_UNITS - 1,
                height(ms)
            );
        }
    }
    let day = latency.and_then(|l| l.windows[1]);
    let summary = day.map_or("no data".to_string(), |p| format!("p50 {} ms, p95 {} ms", p.p50_ms, p.p95_ms));
    format!(
        r#"<svg class="lat" role="img" aria-label="{}, response time, last 24 hours: {summary}" viewBox="0 0 {width} {CHART_UNITS}" preserveAspectRatio="none">{bars}</svg>"#,
        escape_html(name)
    )
}

/// One vantage's line: its state in words and a symbol, the age of its last
/// report, and the data centre it ran in when known.
fn vantage_line(v: &ShownVantage) -> String {
    let (class, symbol, note) = match v.state {
        VantageState::Reporting => ("up", "✓", ""),
        VantageState::Isolated => ("degraded", "!", " (its own path failed: it does not vote)"),
        VantageState::Missing => ("unknown", "?", " (no report in the last round: it does not vote)"),
    };
    let age = v.age_s.map_or("no report yet".to_string(), |s| format!("last report {} ago", duration(s * 1000)));
    let colo = v.colo.as_deref().map_or(String::new(), |c| format!(" · ran in {}", escape_html(c)));
    format!(
        r#"<li><strong>{}</strong> <span class="s-{class}"><span aria-hidden="true">{symbol}</span> {}</span>{note} · {age}{colo}</li>"#,
        escape_html(v.name),
        capitalized(v.state.as_str()),
    )
}

/// How long a drain has held, and until when.
fn drain_time(drain: &Drain, now: u64) -> String {
    let until = drain.until_ms.map_or("until lifted".to_string(), |u| {
        let at = rfc3339(u);
        format!(r#"until <time datetime="{at}">{} {} UTC</time>"#, &at[..10], &at[11..16])
    });
    format!("for {}, {until}", duration(now.saturating_sub(drain.since_ms)))
}

/// `<time>` of `at_ms` as `YYYY-MM-DD HH:MM UTC`.
fn utc_time(at_ms: u64) -> String {
    let at = rfc3339(at_ms);
    format!(r#"<time datetime="{at}">{} {} UTC</time>"#, &at[..10], &at[11..16])
}

/// The line saying `who` is in maintenance window `open`: planned work, shown
/// apart from outages; statuses and readiness stay what the probes see.
fn maintenance_line(who: &str, open: &Open) -> String {
    format!(
        r#"<span aria-hidden="true">🛠</span> {who} is in maintenance ({}): {} · until {}; statuses stay what the probes see, and notifications are held"#,
        escape_html(&open.id),
        escape_html(&open.reason),
        utc_time(open.until_ms)
    )
}

fn change_line(c: &Change) -> String {
    let what = match c.kind {
        Kind::Global => "The fleet".to_string(),
        Kind::Region => format!("Region {}", escape_html(&c.name)),
        Kind::Origin => format!("Origin {}", escape_html(&c.name)),
        Kind::Vantage => format!("Vantage {}", escape_html(&c.name)),
        Kind::Config => "The fleet's configuration".to_string(),
        Kind::Maintenance => {
            let at = rfc3339(c.at_ms);
            let event = if c.to == "started" { "started" } else { "ended" };
            return format!(
                r#"<li><time datetime="{at}">{} {} UTC</time>: Maintenance {} {event}</li>"#,
                &at[..10],
                &at[11..16],
                escape_html(&c.name)
            );
        }
        Kind::Drain => {
            let at = rfc3339(c.at_ms);
            let event = if c.to == "drained" { "drained by an operator" } else { "back in rotation (drain lifted)" };
            return format!(
                r#"<li><time datetime="{at}">{} {} UTC</time>: {} {event}</li>"#,
                &at[..10],
                &at[11..16],
                escape_html(&c.name)
            );
        }
    };
    let reason = c.reason.map_or(String::new(), |r| format!(" ({})", r.as_str()));
    let to = escape_html(&c.to);
    let change = match c.from.as_deref() {
        Some(from) => format!("{what} went {} → {to}{reason}", escape_html(from)),
        None => format!("{what} is {to}{reason}, its first status"),
    };
    let at = rfc3339(c.at_ms);
    format!(r#"<li><time datetime="{at}">{} {} UTC</time>: {change}</li>"#, &at[..10], &at[11..16])
}

/// The page for `view`: `daily` for the strips (`None`: shown as no data),
/// `latencies` for the response-time charts (an origin without one shows no
/// data), `changes` newest first (the first [`RECENT_CHANGES`] are listed).
pub fn status_page(
    config: &Config,
    view: &ShownView,
    daily: Option<&Daily>,
    latencies: &Latencies,
    changes: &[Change],
    slo: &SloMemory,
) -> String {
    let now = view.now_ms;
    let global = overall_str(view.status);
    let word = capitalized(global);
    let mut out = String::with_capacity(8 * 1024 + config.origins().len() * 2048);
    let refresh = config.settings().refresh_s.max(10);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="{refresh}"><meta name="color-scheme" content="light dark"><title>Fleet status: {word}</title><style>:root{{{light}}}@media (prefers-color-scheme:dark){{:root{{{dark}}}}}{STYLE}</style></head><body>"#,
        light = css_vars(&PALETTES[0]),
        dark = css_vars(&PALETTES[1]),
    );
    let ready = if view.ready { "ready" } else { "not ready" };
    let _ = write!(
        out,
        r#"<header><h1>Fleet status</h1><p class="overall">{}</p><p class="meta">{ready}; checked <time datetime="{checked}">{} ago</time>{}</p></header><main>"#,
        status_html(view.status.map(|s| s.health()), global),
        duration(now.saturating_sub(view.checked_at_ms)),
        if view.stale {
            "; stale: the last probing round could not reach the fleet, so the last known statuses are shown"
        } else {
            ""
        },
        checked = rfc3339(view.checked_at_ms),
    );
    if view.no_region_left_ready() {
        out.push_str(r#"<p class="overall s-down" role="alert">No region is left ready: every region is drained or down, so /ready answers 503 to every load balancer.</p>"#);
    }
    if let Some(open) = view.maintenance.fleet() {
        let _ = write!(out, r#"<p class="overall s-maintenance">{}</p>"#, maintenance_line("The whole fleet", open));
    }
    out.push_str(r#"<section aria-labelledby="vantages"><h2 id="vantages">Vantages</h2><ul class="vantages">"#);
    for v in &view.vantages(config) {
        out.push_str(&vantage_line(v));
    }
    out.push_str("</ul></section>");
    if !config.slos().is_empty() {
        out.push_str(&budgets(config, slo));
    }
    let daily_of = |name: &str| daily.and_then(|d| d.get(name));
    for (r, region) in config.regions().iter().enumerate() {
        let shown = &view.regions[r];
        let id = format!("region-{}", escape_html(&region.name));
        let _ = write!(
            out,
            r#"<section aria-labelledby="{id}"><h2 id="{id}">{} {}</h2><p class="meta">{} of {} origins up or degraded; {} needed{}</p>{}"#,
            escape_html(&region.name),
            status_html(shown.status, health_str(shown.status)),
            shown.up + shown.degraded,
            shown.total,
            shown.min_up,
            shown.since_ms.map_or(String::new(), |s| format!("; for {}", duration(now.saturating_sub(s)))),
            strip(&region.name, daily_of(&region.name), now),
        );
        if let Some(drain) = view.drain(&region.name) {
            let _ = write!(
                out,
                r#"<p class="s-degraded"><span aria-hidden="true">⏸</span> Drained: {} · {}; not ready for load balancers</p>"#,
                escape_html(&drain.reason),
                drain_time(drain, now),
            );
        }
        let region_window = view.maintenance.region(config, r);
        if let Some(open) = region_window.filter(|_| view.maintenance.fleet().is_none()) {
            let _ = write!(out, r#"<p class="s-maintenance">{}</p>"#, maintenance_line("This region", open));
        }
        let _ = write!(
            out,
            r#"<div class="scroll"><table><caption>Origins in {}</caption><thead><tr><th scope="col">Origin</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Last 24 hours</th><th scope="col">Since</th><th scope="col">Last {DAYS} days</th></tr></thead><tbody>"#,
            escape_html(&region.name)
        );
        for &i in &region.origins {
            let origin = view.origin(config, i);
            let name = &config.origins()[i].name;
            let mut status = status_html(origin.status, health_str(origin.status));
            if let Some(verdict) = origin.probe.map(|p| p.verdict).filter(|v| v.reason.as_str() != "ok") {
                let words = reason_words(&config.origins()[i], verdict.reason, verdict.condition);
                let _ = write!(status, " <small>({})</small>", escape_html(&words));
            }
            if let Some(drain) = view.drain(name) {
                let _ = write!(
                    status,
                    r#" <small class="s-degraded">· drained: {} · {}</small>"#,
                    escape_html(&drain.reason),
                    drain_time(drain, now)
                );
            }
            if let Some(open) = view.maintenance.origin(config, i).filter(|o| region_window != Some(*o)) {
                let _ = write!(
                    status,
                    r#" <small class="s-maintenance">· maintenance: {} · until {}</small>"#,
                    escape_html(&open.reason),
                    utc_time(open.until_ms)
                );
            }
            let failing_from = view.disagreement(config, i).failing_from;
            if !failing_from.is_empty() {
                let names: Vec<String> = failing_from.iter().map(|v| escape_html(v)).collect();
                let _ = write!(status, r#" <small class="s-degraded">· failing from {}</small>"#, names.join(", "));
            }
            if config.origins()[i].heartbeat.is_some() {
                let last = view.pings(config, i).and_then(|p| p.last_ms);
                let _ = match last {
                    Some(at) => write!(
                        status,
                        " <small>· heartbeat, last ping {} ago</small>",
                        duration(now.saturating_sub(at))
                    ),
                    None => write!(status, " <small>· heartbeat, no ping yet</small>"),
                };
            }
            let latency = origin.probe.and_then(|p| p.latency_ms).map_or("–".to_string(), |ms| format!("{ms} ms"));
            let since = origin.since_ms.map_or("–".to_string(), |s| duration(now.saturating_sub(s)));
            let _ = write!(
                out,
                r#"<tr><th scope="row">{}</th><td data-label="Status">{status}</td><td class="num" data-label="Latency">{latency}</td><td data-label="24 hours">{}</td><td class="num" data-label="Since">{since}</td><td data-label="Last {DAYS} days">{}</td></tr>"#,
                escape_html(name),
                latency_chart(name, latencies.get(name), now),
                strip(name, daily_of(name), now),
            );
        }
        out.push_str("</tbody></table></div></section>");
    }
    out.push_str(r#"<section aria-labelledby="changes"><h2 id="changes">Recent changes</h2>"#);
    if changes.is_empty() {
        out.push_str("<p>No change recorded yet.</p>");
    } else {
        out.push_str("<ol>");
        for c in changes.iter().take(RECENT_CHANGES) {
            out.push_str(&change_line(c));
        }
        out.push_str("</ol>");
    }
    let _ = write!(
        out,
        r#"</section><p class="legend">Each bar is a UTC day: green when always up, amber when degraded for a while, red when down for a while, hatched without data. Hover a bar for its figures.</p></main><footer><p class="meta">edgecheck · this page reloads every {refresh} s · <a href="/health">JSON</a> · <a href="/history">history</a> · <a href="/metrics">metrics</a></p></footer></body></html>"#
    );
    out
}
