//! `[[maintenance]]`: validation of the declared windows into
//! [`super::window::Window`]s. What a window does is decided by
//! [`crate::maintenance`].

use std::collections::BTreeSet;

use super::check::Errors;
use super::raw::{RawMaintenance, RawWeekly};
use super::window::{
    check_id, check_reason, Schedule, Scope, Window, MAX_DECLARED_WINDOWS, MAX_SCOPE_NAMES, MAX_WEEKLY_MINUTES,
    WEEKDAYS,
};
use super::{Origin, Region};
use crate::time::parse_time;

/// Validates every `[[maintenance]]` window against the fleet; each problem
/// names its field (`maintenance[0].weekly.start`).
pub(super) fn windows(
    raw: &[RawMaintenance],
    regions: &[Region],
    origins: &[Origin],
    errs: &mut Errors,
) -> Vec<Window> {
    if raw.len() > MAX_DECLARED_WINDOWS {
        errs.push("maintenance", format!("{} windows; at most {MAX_DECLARED_WINDOWS} are allowed", raw.len()));
    }
    let mut seen = BTreeSet::new();
    raw.iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let path = format!("maintenance[{i}]");
            if let Err(why) = check_id(&m.id) {
                errs.push(format!("{path}.id"), why);
            } else if !seen.insert(m.id.as_str()) {
                errs.push(format!("{path}.id"), format!("\"{}\" is already a window's id", m.id));
            }
            window(&path, m, regions, origins, errs)
        })
        .collect()
}

fn window(path: &str, m: &RawMaintenance, regions: &[Region], origins: &[Origin], errs: &mut Errors) -> Option<Window> {
    let field = |key: &str| format!("{path}.{key}");
    let before = errs.len();
    if let Err(why) = check_reason(&m.reason) {
        errs.push(field("reason"), why);
    }
    let scope =
        Scope { regions: m.regions.clone().unwrap_or_default(), origins: m.origins.clone().unwrap_or_default() };
    if m.regions.as_ref().is_some_and(Vec::is_empty) || m.origins.as_ref().is_some_and(Vec::is_empty) {
        errs.push(
            field(if m.regions.as_ref().is_some_and(Vec::is_empty) { "regions" } else { "origins" }),
            "an empty list covers nothing; leave out both regions and origins to cover the whole fleet",
        );
    }
    if scope.regions.len() + scope.origins.len() > MAX_SCOPE_NAMES {
        errs.push(field("regions"), format!("at most {MAX_SCOPE_NAMES} regions and origins in all"));
    }
    for (j, name) in scope.regions.iter().enumerate() {
        if !regions.iter().any(|r| &r.name == name) {
            errs.push(format!("{path}.regions[{j}]"), format!("no region named \"{name}\""));
        }
    }
    for (j, name) in scope.origins.iter().enumerate() {
        if !origins.iter().any(|o| &o.name == name) {
            errs.push(format!("{path}.origins[{j}]"), format!("no origin named \"{name}\""));
        }
    }
    let schedule = match (&m.start, &m.end, &m.weekly) {
        (Some(start), Some(end), None) => once(path, start, end, errs),
        (None, None, Some(weekly)) => weekly_schedule(&field("weekly"), weekly, errs),
        (None, None, None) => {
            errs.push(path, "say when: start and end (RFC 3339, UTC), or weekly = { days, start, minutes }");
            None
        }
        (_, _, Some(_)) => {
            errs.push(field("weekly"), "a window is either one-off (start and end) or weekly, not both");
            None
        }
        (None, _, None) => {
            errs.push(field("start"), "required with end: when the window opens, RFC 3339 in UTC");
            None
        }
        (Some(_), None, None) => {
            errs.push(field("end"), "required with start: when the window closes, RFC 3339 in UTC");
            None
        }
    };
    let schedule = schedule?;
    (errs.len() == before).then(|| Window { id: m.id.clone(), reason: m.reason.trim().to_string(), scope, schedule })
}

fn once(path: &str, start: &str, end: &str, errs: &mut Errors) -> Option<Schedule> {
    let start_ms = parse_time(start).map_err(|why| errs.push(format!("{path}.start"), why)).ok();
    let end_ms = parse_time(end).map_err(|why| errs.push(format!("{path}.end"), why)).ok();
    let (start_ms, end_ms) = (start_ms?, end_ms?);
    if end_ms <= start_ms {
        errs.push(format!("{path}.end"), format!("\"{end}\" is not after start \"{start}\""));
        return None;
    }
    Some(Schedule::Once { start_ms, end_ms })
}

fn weekly_schedule(path: &str, w: &RawWeekly, errs: &mut Errors) -> Option<Schedule> {
    let before = errs.len();
    let mut days = 0u8;
    if w.days.is_empty() {
        errs.push(format!("{path}.days"), "name at least one day: mon, tue, wed, thu, fri, sat or sun");
    }
    for (j, day) in w.days.iter().enumerate() {
        match WEEKDAYS.iter().position(|d| d == day) {
            Some(k) if days & (1 << k) != 0 => {
                errs.push(format!("{path}.days[{j}]"), format!("\"{day}\" is named twice"))
            }
            Some(k) => days |= 1 << k,
            None => errs.push(
                format!("{path}.days[{j}]"),
                format!("\"{day}\" is not a day: mon, tue, wed, thu, fri, sat or sun"),
            ),
        }
    }
    let start_min = match w.start.split_once(':') {
        Some((h, m)) if h.len() == 2 && m.len() == 2 => match (h.parse::<u32>(), m.parse::<u32>()) {
            (Ok(h), Ok(m)) if h < 24 && m < 60 => Some(h * 60 + m),
            _ => None,
        },
        _ => None,
    };
    if start_min.is_none() {
        errs.push(
            format!("{path}.start"),
            format!("\"{}\" is not a time of day: HH:MM in UTC, 00:00 to 23:59", w.start),
        );
    }
    if !(1..=i64::from(MAX_WEEKLY_MINUTES)).contains(&w.minutes) {
        errs.push(
            format!("{path}.minutes"),
            format!("{} is out of range: expected 1 to {MAX_WEEKLY_MINUTES} (minutes)", w.minutes),
        );
    }
    (errs.len() == before).then(|| Schedule::Weekly {
        days,
        start_min: start_min.unwrap_or(0),
        minutes: w.minutes as u32,
    })
}
