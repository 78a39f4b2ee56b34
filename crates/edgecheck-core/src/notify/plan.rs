//! What a round tells each channel: [`plan`] diffs the scopes a channel
//! covers against what it last told, holds those in a maintenance window,
//! rolls the changes up into one [`Notice`], and decides a PagerDuty
//! incident's or a Cloudflare pool's action.

use std::collections::BTreeMap;

use super::outbox::fold;
use super::{to_json, Action, BurnNotice, Notice, Notified, NotifyState, Pending, Told, NOTICE_CHANGES};
use crate::classify::{Health, Reason};
use crate::config::{Channel, ChannelKind, ConditionName, Config, Named};
use crate::maintenance::InMaintenance;
use crate::monitor::{MonitorState, Snapshot};
use crate::write::Write;

/// What [`plan`] decided: the channels' new state and the writes for the
/// round's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub state: NotifyState,
    pub writes: Vec<Write>,
}

/// The notices a round causes, from `state` (the round's new state; `prev_state`
/// the one before it, `None` on the first round) against what each channel
/// told (`prev`), with `now_ms` as their queue time, then the burn-rate
/// alerts of the round (`burns`, as [`super::burn_notices`] makes them:
/// `(channel, notice)`), each its own notice after the channel's status one.
/// Channels no longer in the config are dropped with their queues.
pub fn plan(
    config: &Config,
    prev: &NotifyState,
    prev_state: Option<&MonitorState>,
    state: &MonitorState,
    now_ms: u64,
    burns: &[(String, BurnNotice)],
) -> Planned {
    let mut out = NotifyState::new();
    let mut writes = Vec::new();
    for name in prev.keys().filter(|n| !config.channels().iter().any(|c| &c.name == *n)) {
        writes.push(Write::DropChannel(name.clone()));
    }
    for channel in config.channels() {
        let mut cs = prev.get(&channel.name).cloned().unwrap_or_default();
        let mut queued = Vec::new();
        let mut notified = None;
        if let Some((told, notice)) = plan_channel(config, channel, &cs.notified, prev_state, state, now_ms) {
            queued.extend(notice.map(|n| (told.seq, n)));
            notified = Some(told);
        }
        for (_, burn) in burns.iter().filter(|(c, _)| *c == channel.name) {
            let told = notified.get_or_insert_with(|| cs.notified.clone());
            told.seq += 1;
            let notice = Notice {
                id: format!("{}-{}-{}", channel.name, state.checked_at_ms, told.seq),
                channel: channel.name.clone(),
                round_ms: state.checked_at_ms,
                overall: state.overall.map(|t| t.status.health().as_str().to_string()),
                changes: Vec::new(),
                counts: BTreeMap::new(),
                more: 0,
                action: burn.action.clone(),
                folded: None,
                burn: Some(burn.clone()),
            };
            queued.push((told.seq, notice));
        }
        if let Some(told) = notified {
            writes.push(Write::Notified { channel: channel.name.clone(), json: to_json(&told) });
            for (seq, notice) in queued {
                let pending = Pending::queued(seq, now_ms, now_ms, notice);
                writes.push(Write::Enqueue { channel: channel.name.clone(), seq, json: to_json(&pending) });
                cs.pending.push(pending);
                writes.extend(fold(&channel.name, &mut cs));
            }
            cs.notified = told;
        }
        out.insert(channel.name.clone(), cs);
    }
    Planned { state: out, writes }
}

/// The status a drained region or origin is told as.
pub const DRAINED: &str = "drained";

/// A scope a channel covers, with its status now (`None`: not judged).
struct Scope {
    scope: &'static str,
    name: String,
    status: Option<String>,
    reason: Option<Reason>,
    /// The failed condition, with reason `assertion_failed`.
    condition: Option<ConditionName>,
    /// The slow threshold, with reason `slow`.
    degraded_after_ms: Option<u32>,
    /// A maintenance window covers it at the round: what was told stands.
    held: bool,
}

impl Scope {
    /// A scope with nothing held and no reason.
    fn of(scope: &'static str, name: String, status: Option<String>) -> Scope {
        Scope { scope, name, status, reason: None, condition: None, degraded_after_ms: None, held: false }
    }

    fn key(&self) -> String {
        if self.scope == "global" {
            "global".into()
        } else {
            format!("{}:{}", self.scope, self.name)
        }
    }
}

/// The scopes `channel` covers in `state`; each one a maintenance window
/// covers at the round's start is `held` (the global scope only by a window
/// over the whole fleet; vantages never). A region or origin the round
/// found drained (`MonitorState::drained`) is told as `drained`, a status of
/// its own; what the drain does to its region's and the global status is in
/// their tracks already (`monitor::drained_view`).
fn scopes(config: &Config, channel: &Channel, state: &MonitorState) -> Vec<Scope> {
    let mut out = Vec::new();
    let windows = InMaintenance::at(config, &state.maintenance, state.checked_at_ms);
    let health = |h: Health| h.as_str().to_string();
    let drained = |name: &str, status: Option<String>| {
        if state.drained.contains(name) {
            Some(DRAINED.to_string())
        } else {
            status
        }
    };
    if channel.covers.global {
        let status = state.overall.map(|t| health(t.status.health()));
        let held = windows.fleet().is_some();
        out.push(Scope { held, ..Scope::of("global", String::new(), status) });
    }
    for &r in &channel.covers.regions {
        let name = config.regions()[r].name.clone();
        let status = drained(&name, state.regions.get(&name).map(|t| health(t.status)));
        let held = windows.region(config, r).is_some();
        out.push(Scope { held, ..Scope::of("region", name, status) });
    }
    for &o in &channel.covers.origins {
        let name = config.origins()[o].name.clone();
        let track = state.origins.get(&name);
        let status = drained(&name, track.and_then(|t| t.health).map(health));
        let verdict = track.map(|t| t.last.verdict);
        let reason = verdict.map(|v| v.reason);
        let degraded_after_ms = config.origins()[o].degraded_after_ms.filter(|_| reason == Some(Reason::Slow));
        out.push(Scope {
            reason,
            condition: verdict.and_then(|v| v.condition),
            degraded_after_ms,
            held: windows.origin(config, o).is_some(),
            ..Scope::of("origin", name, status)
        });
    }
    if channel.events.vantage {
        for v in &config.settings().vantages {
            let status = state.vantages.get(&v.name).map(|t| t.state.as_str().to_string());
            out.push(Scope::of("vantage", v.name.clone(), status));
        }
    }
    out
}

/// One channel's new notified statuses and notice, or `None` when nothing it
/// told changed.
fn plan_channel(
    config: &Config,
    channel: &Channel,
    told: &Notified,
    prev: Option<&MonitorState>,
    state: &MonitorState,
    now_ms: u64,
) -> Option<(Notified, Option<Notice>)> {
    // Scopes judged before this round: absent from what was told means `up` for them.
    let judged: std::collections::BTreeSet<String> = prev
        .map(|p| scopes(config, channel, p).into_iter().filter(|s| s.status.is_some()).map(|s| s.key()).collect())
        .unwrap_or_default();
    let mut statuses = BTreeMap::new();
    let mut changes = Vec::new();
    for scope in scopes(config, channel, state) {
        let key = scope.key();
        let before = told.statuses.get(&key);
        let Some(now) = scope.status.clone().filter(|_| !scope.held) else {
            // Not judged, or held by a maintenance window: what was told stands.
            if let Some(b) = before {
                statuses.insert(key.clone(), b.clone());
            }
            continue;
        };
        // Only what is not `up` (`reporting`) is kept: absent means up, so the
        // row holds the scopes in trouble, not the whole fleet.
        let ok = matches!(now.as_str(), "up" | "reporting");
        if !ok {
            statuses.insert(key.clone(), now.clone());
        }
        if before == Some(&now) || (ok && before.is_none()) {
            // Unchanged; or a first `up`, where the channel starts, not news.
            continue;
        }
        let wanted = if scope.scope == "vantage" { channel.events.vantage } else { channel.events.wants(&now) };
        if wanted {
            changes.push(Told {
                scope: scope.scope.to_string(),
                name: scope.name,
                from: before.cloned().or_else(|| judged.contains(&key).then(|| "up".to_string())),
                to: now,
                reason: scope.reason.filter(|_| scope.scope == "origin"),
                condition: scope.condition,
                degraded_after_ms: scope.degraded_after_ms,
                transitions: None,
            });
        }
    }
    let action = match &channel.kind {
        ChannelKind::PagerDuty { .. } => {
            let worst = |s: &str| statuses.iter().any(|(k, v)| !k.starts_with("vantage:") && v == s);
            let severity = if channel.events.down && worst("down") {
                Some("critical")
            } else if channel.events.degraded && worst("degraded") {
                Some("warning")
            } else {
                None
            };
            let open = told.statuses.get("incident").cloned();
            match severity {
                Some(s) => statuses.insert("incident".into(), s.into()),
                None => statuses.remove("incident"),
            };
            match (severity, open) {
                (Some(s), open) if open.as_deref() != Some(s) => Some(Action::Trigger { severity: s.into() }),
                (None, Some(_)) => Some(Action::Resolve),
                _ => None,
            }
        }
        ChannelKind::CloudflarePool { follows, .. } => {
            // Readiness as `/ready/{region}` answers it, from the shown view;
            // unknown (`None`) or a self-isolated round sets nothing: fail-static.
            let view = crate::view::shown(config, Snapshot { state, now_ms });
            let (status, ready) = match follows {
                Named::Region(r) => (view.regions[*r].status, view.regions[*r].ready),
                Named::Origin(o) => {
                    let shown = view.origin(config, *o);
                    (shown.status, shown.ready)
                }
            };
            let before = told.statuses.get("pool").cloned();
            if status.is_none() || state.isolated {
                if let Some(b) = &before {
                    statuses.insert("pool".into(), b.clone());
                }
                None
            } else {
                // Absent means enabled (or never touched): only a disabled pool is kept.
                if !ready {
                    statuses.insert("pool".into(), "disabled".into());
                }
                match (before.is_some(), ready) {
                    (true, false) | (false, true) => None,
                    _ => Some(Action::Pool { enabled: ready }),
                }
            }
        }
        _ => (!changes.is_empty()).then_some(Action::Message),
    };
    if statuses == told.statuses {
        return None;
    }
    let mut notified = Notified { statuses, seq: told.seq };
    let notice = action.map(|action| {
        notified.seq += 1;
        let mut counts = BTreeMap::new();
        for c in &changes {
            *counts.entry(c.to.clone()).or_insert(0) += 1;
        }
        let more = changes.len().saturating_sub(NOTICE_CHANGES);
        changes.truncate(NOTICE_CHANGES);
        Notice {
            id: format!("{}-{}-{}", channel.name, state.checked_at_ms, notified.seq),
            channel: channel.name.clone(),
            round_ms: state.checked_at_ms,
            overall: state.overall.map(|t| t.status.health().as_str().to_string()),
            changes,
            counts,
            more,
            action,
            folded: None,
            burn: None,
        }
    });
    Some((notified, notice))
}
