//! What a burn-rate alert tells: [`burn_notices`] turns the alert pairs of
//! one objective that start or stop firing in a round ([`crate::slo::alerts`])
//! into one [`BurnNotice`] per change for each channel the objective names:
//! the objective, the pair, both rates, the budget left and the severity,
//! with the action the channel's kind takes. PagerDuty triggers with
//! `critical` for a page and `warning` for a ticket and resolves when the
//! pair stops firing, under one dedup key per objective and pair
//! ([`burn_dedup_key`]), apart from the channel's status incident; the
//! other kinds get a message.
//!
//! Planned only: no round queues these yet. Writing them into the round's
//! commit (the outbox), delivering them and their wire shapes are the rest
//! of issue 29.

use serde::{Deserialize, Serialize};

use super::Action;
use crate::config::{ChannelKind, Config, Named, Severity, Slo};
use crate::slo::{window_label, AlertChange, Budget, Transition};

/// One burn-rate alert that started or stopped firing, as one channel is told it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BurnNotice {
    /// The objective's name.
    pub slo: String,
    /// What it judges: `global`, `region` or `origin`.
    pub scope: String,
    /// The region's or origin's name; `""` for the fleet.
    pub name: String,
    /// The objective, percent.
    pub objective: f64,
    pub severity: Severity,
    /// The pair's windows as written back (`1h`, `5m`, `3d`).
    pub long_window: String,
    pub short_window: String,
    /// The pair's rate, and the burn rates over its long and its short window.
    pub burn_rate: f64,
    pub long_rate: f64,
    pub short_rate: f64,
    /// The budget left over the objective's window: ratio and minutes.
    pub budget_ratio: f64,
    pub budget_minutes: f64,
    pub transition: Transition,
    /// The round that found it (its start), ms.
    pub round_ms: u64,
    /// What delivering it does: a message, or PagerDuty's trigger or resolve.
    pub action: Action,
    /// PagerDuty's dedup key: [`burn_dedup_key`].
    pub dedup_key: String,
}

// Every rate and budget in it is finite (an objective is strictly under
// 100 %, so its budget is over 0), never NaN: equality is total.
impl Eq for BurnNotice {}

/// PagerDuty's dedup key of one objective's pair: one incident per
/// objective and pair (`edgecheck-slo-<name>-<severity>-<long>-<short>`, as `edgecheck-slo-api-page-1h-5m`,
/// under PagerDuty's 255 characters), apart from the channel's status
/// incident; a page and a ticket of the same objective are two incidents,
/// and a resolve closes its own trigger's.
pub fn burn_dedup_key(slo: &Slo, pair: usize) -> String {
    let alert = &slo.alerts[pair];
    format!(
        "edgecheck-slo-{}-{}-{}-{}",
        slo.name,
        alert.severity.as_str(),
        window(alert.long_ms),
        window(alert.short_ms)
    )
}

/// A window as a duration is written: `1h`, `5m`, `3d` ([`window_label`]).
fn window(ms: u64) -> String {
    window_label(ms)
}

/// The notices `changes` (of `slo`'s alert pairs, in the round of
/// `round_ms`, with `budget` left) tell, as `(channel name, notice)`:
/// channel by channel in the order `slo.channels` names them, each change
/// in pair order.
pub fn burn_notices(
    config: &Config,
    slo: &Slo,
    changes: &[AlertChange],
    budget: Budget,
    round_ms: u64,
) -> Vec<(String, BurnNotice)> {
    let (scope, name) = match slo.scope {
        None => ("global", String::new()),
        Some(Named::Region(r)) => ("region", config.regions()[r].name.clone()),
        Some(Named::Origin(i)) => ("origin", config.origins()[i].name.clone()),
    };
    let mut out = Vec::new();
    for channel in slo.channels.iter().map(|&c| &config.channels()[c]) {
        for change in changes {
            let alert = &slo.alerts[change.pair];
            let action = match (&channel.kind, change.transition) {
                (ChannelKind::PagerDuty { .. }, Transition::Firing) => Action::Trigger {
                    severity: match alert.severity {
                        Severity::Page => "critical",
                        Severity::Ticket => "warning",
                    }
                    .into(),
                },
                (ChannelKind::PagerDuty { .. }, Transition::Resolved) => Action::Resolve,
                _ => Action::Message,
            };
            let notice = BurnNotice {
                slo: slo.name.clone(),
                scope: scope.into(),
                name: name.clone(),
                objective: slo.objective,
                severity: alert.severity,
                long_window: window(alert.long_ms),
                short_window: window(alert.short_ms),
                burn_rate: alert.burn_rate,
                long_rate: change.long_rate,
                short_rate: change.short_rate,
                budget_ratio: budget.ratio,
                budget_minutes: budget.minutes,
                transition: change.transition,
                round_ms,
                action,
                dedup_key: burn_dedup_key(slo, change.pair),
            };
            out.push((channel.name.clone(), notice));
        }
    }
    out
}
