//! `/slo`, `/slo/{name}` and `/slo?format=openslo`: the error budgets
//! ([`crate::slo`]) as edgecheck's JSON documents (`docs/schema/slo.schema.json`,
//! `slo-one.schema.json`) and as OpenSLO v1 YAML.
//!
//! Every number comes from [`crate::slo::shown`]; nothing is decided here.

use serde::Serialize;
use serde_json::{json, Value};

use crate::config::slo::Bad;
use crate::config::{Config, Named, Slo};
use crate::slo::{shown, window_label, ShownSlo, SloMemory, SloState, WindowSums};
use crate::time::rfc3339;

/// `/slo`: every objective, in config order.
#[derive(Debug, Serialize)]
pub struct SlosDoc {
    /// When the round these counts are of started (RFC 3339).
    pub checked_at: String,
    pub objectives: Vec<SloDoc>,
}

/// One objective: `/slo/{name}`, and each entry of `/slo`.
#[derive(Debug, Serialize)]
pub struct SloDoc {
    pub name: String,
    /// `global`, `region` or `origin`.
    pub scope: &'static str,
    /// The region's or origin's name; absent for the fleet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Percent, as configured (99.9).
    pub objective: f64,
    pub window_days: u32,
    /// The statuses that make a slice bad: `["down"]` or `["down", "degraded"]`.
    pub bad: Vec<&'static str>,
    /// Good and bad slices (rounds) over the objective's window.
    pub slices: SlicesDoc,
    pub error_budget: BudgetDoc,
    /// The burn rate over 5m, 30m, 1h, 6h and 3d: the error ratio over the
    /// budget (1 spends it exactly over the window; 0 with no slice); `null`
    /// for a window the objective's buckets are too coarse to sum.
    pub burn_rates: serde_json::Map<String, Value>,
    pub alerts: Vec<AlertDoc>,
}

#[derive(Debug, Serialize)]
pub struct SlicesDoc {
    pub good: u64,
    pub bad: u64,
}

#[derive(Debug, Serialize)]
pub struct BudgetDoc {
    /// 1 − bad / (budget × slices): 1 untouched, 0 spent, below 0 overspent.
    pub remaining_ratio: f64,
    /// The same in minutes of the window's budget.
    pub remaining_minutes: f64,
    /// The whole budget over the window, minutes ((1 − objective) × window).
    pub total_minutes: f64,
}

#[derive(Debug, Serialize)]
pub struct AlertDoc {
    /// `page` or `ticket`.
    pub severity: &'static str,
    pub long_window: String,
    pub short_window: String,
    /// The rate both windows must be over for it to fire.
    pub burn_rate: f64,
    pub long_rate: f64,
    pub short_rate: f64,
    pub firing: bool,
    /// When it started firing (RFC 3339); absent while it does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

/// Every objective's [`ShownSlo`], in config order, from `memory` (an
/// objective not counted yet shows no slices and a whole budget).
pub fn shown_all<'c>(config: &'c Config, memory: &SloMemory) -> Vec<ShownSlo<'c>> {
    let none = (WindowSums::default(), SloState::default());
    config
        .slos()
        .iter()
        .map(|slo| {
            let (sums, state) = memory.get(&slo.name).unwrap_or(&none);
            shown(slo, sums, state)
        })
        .collect()
}

/// `/slo` for the round of `checked_at_ms`.
pub fn all(config: &Config, memory: &SloMemory, checked_at_ms: u64) -> SlosDoc {
    SlosDoc {
        checked_at: rfc3339(checked_at_ms),
        objectives: shown_all(config, memory).iter().map(|s| doc(config, s)).collect(),
    }
}

/// `/slo/{name}` for objective `i` (an index into [`Config::slos`]).
pub fn one(config: &Config, memory: &SloMemory, i: usize) -> SloDoc {
    let slo = &config.slos()[i];
    let none = (WindowSums::default(), SloState::default());
    let (sums, state) = memory.get(&slo.name).unwrap_or(&none);
    doc(config, &shown(slo, sums, state))
}

/// The scope of `slo` as shown: `("global", None)`, `("region", Some(name))`
/// or `("origin", Some(name))`.
pub fn scope(config: &Config, slo: &Slo) -> (&'static str, Option<String>) {
    match slo.scope {
        None => ("global", None),
        Some(Named::Region(r)) => ("region", Some(config.regions()[r].name.clone())),
        Some(Named::Origin(i)) => ("origin", Some(config.origins()[i].name.clone())),
    }
}

fn bad(slo: &Slo) -> Vec<&'static str> {
    match slo.bad {
        Bad::Down => vec!["down"],
        Bad::DownOrDegraded => vec!["down", "degraded"],
    }
}

fn doc(config: &Config, s: &ShownSlo) -> SloDoc {
    let (scope, target) = scope(config, s.slo);
    let total_minutes = s.slo.budget() * (s.slo.window_ms() / 60_000) as f64;
    SloDoc {
        name: s.slo.name.clone(),
        scope,
        target,
        objective: s.slo.objective,
        window_days: s.slo.window_days,
        bad: bad(s.slo),
        slices: SlicesDoc { good: s.slices.good, bad: s.slices.bad },
        error_budget: BudgetDoc { remaining_ratio: s.budget.ratio, remaining_minutes: s.budget.minutes, total_minutes },
        burn_rates: s.burn_rates.iter().map(|&(w, rate)| (window_label(w), json!(rate))).collect(),
        alerts: s
            .alerts
            .iter()
            .map(|a| AlertDoc {
                severity: a.alert.severity.as_str(),
                long_window: window_label(a.alert.long_ms),
                short_window: window_label(a.alert.short_ms),
                burn_rate: a.alert.burn_rate,
                long_rate: a.long_rate,
                short_rate: a.short_rate,
                firing: a.firing_since_ms.is_some(),
                since: a.firing_since_ms.map(rfc3339),
            })
            .collect(),
    }
}

/// The `Content-Type` of `/slo?format=openslo`: YAML (RFC 9512).
pub const OPENSLO_CONTENT_TYPE: &str = "application/yaml; charset=utf-8";

/// Every objective as OpenSLO v1 (<https://github.com/OpenSLO/OpenSLO>): per
/// objective one `SLO` (`budgetingMethod: Timeslices`, one slice per round of
/// `refresh_s`, a rolling `timeWindow`, the target as a ratio) and one
/// `AlertPolicy` per alert pair, whose `burnrate` condition has the pair's
/// rate and its long window as `lookbackWindow`; OpenSLO's condition has one
/// window, so the short window, which must agree, is the annotation
/// `edgecheck/short-window`. A YAML stream of `---`-separated documents,
/// each written as JSON, which YAML 1.2 reads as it is (a superset of JSON),
/// so no YAML library is needed in the worker.
pub fn openslo(config: &Config) -> String {
    let slice = window_label(u64::from(config.settings().refresh_s) * 1000);
    let mut out = String::new();
    for slo in config.slos() {
        let (scope, target) = scope(config, slo);
        let about = match &target {
            Some(name) => format!("{scope} {name}"),
            None => "the whole fleet".to_string(),
        };
        let policies: Vec<String> = (0..slo.alerts.len()).map(|p| policy_name(slo, p)).collect();
        let source =
            |kind: &str| json!({"metricSource": {"type": "edgecheck", "spec": {"slo": slo.name, "slices": kind}}});
        let doc = json!({
            "apiVersion": "openslo/v1",
            "kind": "SLO",
            "metadata": {"name": slo.name, "displayName": format!("{} ({about})", slo.name)},
            "spec": {
                "description": format!(
                    "Rounds of edgecheck's probes in which {about} was not {}; maintenance, drains and rounds the checker was cut off are left out",
                    bad(slo).join(" or ")
                ),
                "service": target.clone().unwrap_or_else(|| "fleet".into()),
                "indicator": {
                    "metadata": {"name": format!("{}-rounds", slo.name)},
                    "spec": {"ratioMetric": {"counter": true, "good": source("good"), "total": source("total")}}
                },
                "timeWindow": [{"duration": format!("{}d", slo.window_days), "isRolling": true}],
                "budgetingMethod": "Timeslices",
                "objectives": [{
                    "displayName": format!("{}%", slo.objective),
                    "target": slo.ratio(),
                    "timeSliceTarget": 1,
                    "timeSliceWindow": slice,
                }],
                "alertPolicies": policies,
            }
        });
        push_document(&mut out, &doc);
        for (p, alert) in slo.alerts.iter().enumerate() {
            let policy = json!({
                "apiVersion": "openslo/v1",
                "kind": "AlertPolicy",
                "metadata": {
                    "name": policies[p],
                    "annotations": {"edgecheck/short-window": window_label(alert.short_ms)},
                },
                "spec": {
                    "description": format!(
                        "Burn rate of {} over {} over {}, and over {} at once",
                        slo.name,
                        window_label(alert.long_ms),
                        alert.burn_rate,
                        window_label(alert.short_ms)
                    ),
                    "alertWhenBreaching": true,
                    "alertWhenResolved": true,
                    "alertWhenNoData": false,
                    "conditions": [{
                        "kind": "AlertCondition",
                        "metadata": {"name": format!("{}-condition", policies[p])},
                        "spec": {
                            "severity": alert.severity.as_str(),
                            "condition": {
                                "kind": "burnrate",
                                "op": "gt",
                                "threshold": alert.burn_rate,
                                "lookbackWindow": window_label(alert.long_ms),
                                "alertAfter": "0s",
                            }
                        }
                    }],
                }
            });
            push_document(&mut out, &policy);
        }
    }
    out
}

/// The `AlertPolicy` name of pair `p` of `slo`: `<slo>-<severity>-<long>-<short>`.
fn policy_name(slo: &Slo, p: usize) -> String {
    let a = &slo.alerts[p];
    format!("{}-{}-{}-{}", slo.name, a.severity.as_str(), window_label(a.long_ms), window_label(a.short_ms))
}

fn push_document(out: &mut String, doc: &Value) {
    out.push_str("---\n");
    out.push_str(&serde_json::to_string_pretty(doc).expect("a document serializes"));
    out.push('\n');
}
