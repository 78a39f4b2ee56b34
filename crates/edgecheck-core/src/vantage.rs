//! The vantage quorum: the reports of several probers (one per vantage and
//! shard) merged into one verdict per origin, so that one broken network path
//! never drains a healthy region.
//!
//! Let q be `settings.vantage_quorum` resolved against the vantages
//! (`"majority"` of 3 is 2, `"all"` of 3 is 3). A vantage **votes** when it
//! reported and is not self-isolated (its canary failed, or every probe it made
//! failed for a network-class reason). For each origin, the merged verdict is
//! the **q-th worst** of the voting vantages' verdicts (down < degraded < up):
//! down only when at least q vantages see it down, degraded only when at least
//! q see it degraded or worse. When fewer than q vantages can vote on an
//! origin, it has no merged verdict: the monitor keeps its last status, marked
//! stale. Ties are broken by vantage order, so the result never depends on the
//! order in which reports arrive. `latency_ms` is the median over the voting
//! vantages. This is Cloudflare Load Balancing's and Route 53's idea (act on
//! what several regions' checkers agree on), as a rule a reader can check.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::aggregate::{Probe, Round};
use crate::classify::{Health, Outcome};
use crate::config::Config;
use crate::detail::ProbeDetail;

/// What the monitor asks one prober, as the JSON body of its request: probe
/// your shard from your vantage by `deadline_at_ms`, then deliver a [`Report`]
/// for `round` to the monitor. The prober accepts at once (its answer carries
/// no result) and probes in an invocation of its own (its alarm), so every
/// prober of a round probes at the same time with the whole deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProberCall {
    /// The round's identity: when it started, ms since the Unix epoch.
    pub round: u64,
    /// Index into `settings.vantages`.
    pub vantage: usize,
    /// Shard index ([`Config::shard`]).
    pub shard: usize,
    /// The refresh's deadline, ms since the Unix epoch.
    pub deadline_at_ms: u64,
}

/// How long the monitor waits for a prober's report beyond the round's
/// deadline, ms; a prober that has not reported by then is `missing`.
pub const PROBER_GRACE_MS: u64 = 2_000;

/// How long the monitor waits for a prober to accept a call, ms. A prober
/// answers at once (it probes later, in its alarm); one that has not answered
/// by then is `missing` for the round.
pub const PROBER_ACCEPT_MS: u64 = 3_000;

impl ProberCall {
    /// Reads a call's JSON body and checks it against the fleet: the vantage and
    /// the shard exist. `Err` says what is wrong, for a 400.
    pub fn from_json(config: &Config, body: &str) -> Result<ProberCall, &'static str> {
        let call: ProberCall = serde_json::from_str(body).map_err(|_| "expected a prober call as JSON")?;
        if call.vantage >= config.settings().vantages.len() {
            return Err("no such vantage in this fleet");
        }
        if config.shard(call.shard).is_empty() {
            return Err("no such shard in this fleet");
        }
        Ok(call)
    }
}

/// The Durable Object name of the prober for vantage `v` and shard `s`:
/// `<vantage>.<shard>`, e.g. `weur.3`.
pub fn prober_name(config: &Config, v: usize, s: usize) -> String {
    let vantage = config.settings().vantages.get(v).map_or("unknown", |v| v.name.as_str());
    format!("{vantage}.{s}")
}

/// What one prober hands the monitor: its shard's probes from its vantage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The digest of the fleet the prober was built with; a report of another
    /// fleet (a deploy changed the config) is never merged.
    pub fleet: String,
    /// The round it answers ([`ProberCall::round`]); a report for any other
    /// round is dropped.
    pub round: u64,
    /// Index into `settings.vantages`.
    pub vantage: usize,
    /// Shard index ([`Config::shard`]).
    pub shard: usize,
    /// Whether the prober's canary answered (`true` without a canary).
    pub canary_ok: bool,
    /// Where the prober really ran: the `colo=` line of the canary's answer
    /// when the canary is Cloudflare's trace endpoint ([`trace_colo`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colo: Option<String>,
    /// Wall time of the prober's fan-out, ms.
    pub duration_ms: u64,
    /// One per origin of the shard, in order.
    pub probes: Vec<Probe>,
    /// One per origin of the shard, for the admin token's full view.
    #[serde(default)]
    pub details: Vec<Option<ProbeDetail>>,
}

/// A vantage in one refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VantageState {
    /// Reported and votes.
    Reporting,
    /// Reported, but its canary failed or every probe failed for a
    /// network-class reason: it cannot tell the fleet from its own path, and
    /// does not vote.
    Isolated,
    /// Did not report (the prober died, hung, or answered for another fleet).
    Missing,
}

impl VantageState {
    /// Whether a vantage in this state votes on the origins it probed: only
    /// `reporting`; an isolated or missing one does not. The one home of who
    /// votes ([`merge`] and the shown disagreement both ask it).
    pub fn votes(self) -> bool {
        self == VantageState::Reporting
    }

    /// The wire name: `reporting`, `isolated` or `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            VantageState::Reporting => "reporting",
            VantageState::Isolated => "isolated",
            VantageState::Missing => "missing",
        }
    }
}

/// One refresh merged across vantages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// The digest of the fleet merged (`""` in host tests of one vantage).
    pub fleet: String,
    /// When the refresh started, ms since the Unix epoch.
    pub checked_at_ms: u64,
    /// Wall time of the whole refresh, ms.
    pub duration_ms: u64,
    /// Per origin, in [`Config::origins`] order: the merged probe, or `None`
    /// when fewer than the quorum of vantages could vote.
    pub probes: Vec<Option<Probe>>,
    /// Per origin, per vantage: what that vantage saw (`None`: no report for it).
    pub by_vantage: Vec<Vec<Option<Probe>>>,
    /// Per vantage, in `settings.vantages` order.
    pub vantages: Vec<VantageState>,
    /// Per vantage: the data centre its probers reported ([`Report::colo`]).
    pub colos: Vec<Option<String>>,
    /// Per origin: the detail of the first vantage that reported it.
    pub details: Vec<Option<ProbeDetail>>,
}

impl Merged {
    /// One vantage's round as a refresh (the monitor's own fan-out, and the
    /// host tests): the quorum is that vantage.
    pub fn single(round: &Round, canary_ok: bool) -> Merged {
        let isolated = is_isolated(canary_ok, &round.probes);
        Merged {
            fleet: String::new(),
            checked_at_ms: round.checked_at_ms,
            duration_ms: round.duration_ms,
            probes: round.probes.iter().map(|p| (!isolated).then_some(*p)).collect(),
            by_vantage: round.probes.iter().map(|p| vec![Some(*p)]).collect(),
            vantages: vec![if isolated { VantageState::Isolated } else { VantageState::Reporting }],
            colos: vec![None],
            details: vec![None; round.probes.len()],
        }
    }

    /// Whether no origin got a merged verdict: the whole refresh says more
    /// about the checker than about the fleet.
    pub fn is_self_isolated(&self) -> bool {
        self.probes.iter().all(Option::is_none)
    }
}

/// Why a report was not merged; logged by the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    pub vantage: usize,
    pub shard: usize,
    /// The round the report was for.
    pub round: u64,
    pub why: &'static str,
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "report of vantage {} shard {} for round {} dropped: {}",
            self.vantage, self.shard, self.round, self.why
        )
    }
}

impl Dropped {
    fn of(report: &Report, why: &'static str) -> Dropped {
        Dropped { vantage: report.vantage, shard: report.shard, round: report.round, why }
    }
}

/// A round in progress in the monitor: started, its calls sent, its reports
/// coming in. The monitor merges it ([`RoundInProgress::finish`]) when every
/// prober has reported ([`RoundInProgress::is_complete`]) or at `merge_by_ms`,
/// whichever comes first; a prober that has not reported by then is
/// `missing`. Reports are checked as they arrive ([`RoundInProgress::accept`]):
/// one of another round, another fleet, or a prober already heard from is
/// dropped, so none is ever counted twice, and the merge never depends on the
/// order or the time at which reports came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundInProgress {
    /// The round's identity: when it started, ms since the Unix epoch.
    pub round: u64,
    /// Every prober's deadline, ms since the Unix epoch: `round + deadline_ms`.
    pub deadline_at_ms: u64,
    /// When the monitor merges whatever came: the deadline plus
    /// [`PROBER_GRACE_MS`].
    pub merge_by_ms: u64,
    /// The reports kept, by (vantage, shard).
    reports: BTreeMap<(usize, usize), Report>,
    expected: usize,
}

impl RoundInProgress {
    /// A round of `config` starting at `now_ms`.
    pub fn start(config: &Config, now_ms: u64) -> RoundInProgress {
        let deadline_at_ms = now_ms.saturating_add(u64::from(config.settings().deadline_ms));
        RoundInProgress {
            round: now_ms,
            deadline_at_ms,
            merge_by_ms: deadline_at_ms.saturating_add(PROBER_GRACE_MS),
            reports: BTreeMap::new(),
            expected: config.settings().vantages.len() * config.shard_count(),
        }
    }

    /// The call for prober (`vantage`, `shard`).
    pub fn call(&self, vantage: usize, shard: usize) -> ProberCall {
        ProberCall { round: self.round, vantage, shard, deadline_at_ms: self.deadline_at_ms }
    }

    /// Keeps `report` if it belongs here: this round, the fleet `fleet`, a
    /// prober of this config with its shard's number of probes, and the first
    /// report of that prober. Anything else is returned, to be logged.
    pub fn accept(&mut self, config: &Config, fleet: &str, report: Report) -> Result<(), Dropped> {
        if report.round != self.round {
            return Err(Dropped::of(&report, "not for the round in progress (late, or for another round)"));
        }
        if let Some(why) = unfit(config, fleet, &report) {
            return Err(Dropped::of(&report, why));
        }
        let key = (report.vantage, report.shard);
        if self.reports.contains_key(&key) {
            return Err(Dropped::of(&report, "a second report for the same prober"));
        }
        self.reports.insert(key, report);
        Ok(())
    }

    /// Whether every prober has reported.
    pub fn is_complete(&self) -> bool {
        self.reports.len() >= self.expected
    }

    /// Reports kept so far.
    pub fn reported(&self) -> usize {
        self.reports.len()
    }

    /// The probers that have not reported, by name ([`prober_name`]).
    pub fn missing(&self, config: &Config) -> Vec<String> {
        config.probers().filter(|k| !self.reports.contains_key(k)).map(|(v, s)| prober_name(config, v, s)).collect()
    }

    /// Merges the round as it stands at `now_ms`; probers that have not
    /// reported are missing.
    pub fn finish(self, config: &Config, fleet: &str, now_ms: u64) -> Merged {
        let duration_ms = now_ms.saturating_sub(self.round);
        merge(config, fleet, self.round, duration_ms, self.reports.into_values().collect()).0
    }
}

/// Why `report` cannot be merged into `config`'s fleet `fleet`, if it cannot.
fn unfit(config: &Config, fleet: &str, report: &Report) -> Option<&'static str> {
    if report.fleet != fleet {
        Some("built for another fleet")
    } else if report.vantage >= config.settings().vantages.len() || report.shard >= config.shard_count() {
        Some("no such prober in this fleet")
    } else if report.probes.len() != config.shard(report.shard).len() {
        Some("wrong number of probes for its shard")
    } else {
        None
    }
}

/// Whether a canary probe's outcome means the canary answered: any HTTP
/// status, even with a body over `max_body_bytes`, says the prober's path to
/// the internet works; a timeout, a refused or reset connection or a request
/// that could not be sent does not, and makes the vantage `isolated`.
pub fn canary_answered(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Answered { .. } | Outcome::BodyTooLarge { .. })
}

/// The data centre in a Cloudflare trace answer (`/cdn-cgi/trace`, lines of
/// `key=value`): the value of its `colo=` line, when `url`'s path ends with
/// `/cdn-cgi/trace` and the line holds 1 to 8 ASCII letters or digits.
/// Anything else is `None`.
pub fn trace_colo(url: &str, body: &[u8]) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or("");
    if !path.ends_with("/cdn-cgi/trace") {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let colo = text.lines().find_map(|line| line.trim_end_matches('\r').strip_prefix("colo="))?;
    let fits = (1..=8).contains(&colo.len()) && colo.bytes().all(|b| b.is_ascii_alphanumeric());
    fits.then(|| colo.to_string())
}

/// Merges one refresh's reports (in any order) for the fleet whose digest is
/// `fleet`. Reports of another fleet, of a vantage or shard outside this
/// config, with the wrong number of probes, or repeating a (vantage, shard)
/// already given are dropped and returned.
pub fn merge(
    config: &Config,
    fleet: &str,
    checked_at_ms: u64,
    duration_ms: u64,
    reports: Vec<Report>,
) -> (Merged, Vec<Dropped>) {
    let vantage_count = config.settings().vantages.len();
    let mut dropped = Vec::new();
    let mut kept: BTreeMap<(usize, usize), Report> = BTreeMap::new();
    for report in reports {
        let key = (report.vantage, report.shard);
        let why = unfit(config, fleet, &report)
            .or_else(|| kept.contains_key(&key).then_some("a second report for the same prober"));
        match why {
            Some(why) => dropped.push(Dropped::of(&report, why)),
            None => {
                kept.insert(key, report);
            }
        }
    }

    let origins = config.origins().len();
    let mut by_vantage = vec![vec![None; vantage_count]; origins];
    let mut details = vec![None; origins];
    let mut vantages = vec![VantageState::Missing; vantage_count];
    let mut colos = vec![None; vantage_count];
    for (v, state) in vantages.iter_mut().enumerate() {
        let mine: Vec<&Report> = kept.range((v, 0)..(v + 1, 0)).map(|(_, r)| r).collect();
        if mine.is_empty() {
            continue;
        }
        // Shard order: the first shard that names its data centre names the vantage's.
        colos[v] = mine.iter().find_map(|r| r.colo.clone());
        let canary_ok = mine.iter().all(|r| r.canary_ok);
        let probes: Vec<Probe> = mine.iter().flat_map(|r| r.probes.iter().copied()).collect();
        *state = if is_isolated(canary_ok, &probes) { VantageState::Isolated } else { VantageState::Reporting };
        for report in mine {
            for (k, i) in config.shard(report.shard).enumerate() {
                by_vantage[i][v] = Some(report.probes[k]);
                if details[i].is_none() {
                    details[i] = report.details.get(k).cloned().flatten();
                }
            }
        }
    }

    let quorum = config.settings().vantage_quorum;
    let probes = by_vantage
        .iter()
        .map(|seen| {
            let votes: Vec<Probe> =
                seen.iter().zip(&vantages).filter(|(_, state)| state.votes()).filter_map(|(probe, _)| *probe).collect();
            quorum_verdict(&votes, quorum)
        })
        .collect();
    (
        Merged { fleet: fleet.to_string(), checked_at_ms, duration_ms, probes, by_vantage, vantages, colos, details },
        dropped,
    )
}

/// Whether a vantage is cut off and does not vote: its canary failed, or every
/// probe it made failed for a network-class reason.
fn is_isolated(canary_ok: bool, probes: &[Probe]) -> bool {
    !canary_ok || probes.iter().all(|p| p.verdict.reason.is_network_class())
}

/// The q-th worst of `votes` (in vantage order, which breaks ties), with the
/// median latency of the votes; `None` with fewer than `quorum` votes.
pub fn quorum_verdict(votes: &[Probe], quorum: usize) -> Option<Probe> {
    if quorum == 0 || votes.len() < quorum {
        return None;
    }
    let mut ranked: Vec<&Probe> = votes.iter().collect();
    ranked.sort_by_key(|p| p.verdict.health); // stable: vantage order breaks ties
    let chosen = ranked[quorum - 1].verdict;
    let mut latencies: Vec<u64> = votes.iter().filter_map(|p| p.latency_ms).collect();
    latencies.sort_unstable();
    let latency_ms = match latencies.len() {
        0 => None,
        n if n % 2 == 1 => Some(latencies[n / 2]),
        n => Some(
            latencies[n / 2 - 1] / 2 + latencies[n / 2] / 2 + (latencies[n / 2 - 1] % 2 + latencies[n / 2] % 2) / 2,
        ),
    };
    Some(Probe { verdict: chosen, latency_ms })
}

/// The vantages that see an origin worse than its merged verdict (by name), when
/// some do but the quorum did not follow them: `failing_from` in `/health`.
pub fn failing_from<'c>(config: &'c Config, merged: Option<Health>, seen: &BTreeMap<String, Probe>) -> Vec<&'c str> {
    let Some(merged) = merged else { return Vec::new() };
    config
        .settings()
        .vantages
        .iter()
        .filter(|v| seen.get(&v.name).is_some_and(|p| p.verdict.health < merged))
        .map(|v| v.name.as_str())
        .collect()
}
