//! What a round writes: [`round_writes`] (the monitor's row, the origin rows
//! that moved, changes, rollups, the prune, the notices) and [`record`], which
//! commits them at once and says what to serve from next.

use std::collections::BTreeSet;

use super::read::{slo_sums, windows_or_log};
use super::{empty_state, monitor_json, origin_json, Memory, Problem, SloMemory, Store, Write};
use crate::config::Config;
use crate::monitor::Advance;
use crate::notify::{burn_notices, BurnNotice};
use crate::schedule::Retention;
use crate::uptime::rollup_adds;

/// The writes of one round, given what storage held before it (`prev`): the
/// monitor's row, the rows of origins that moved ([`OriginTrack::same_but_latency`](crate::monitor::OriginTrack::same_but_latency)
/// says which; all of them when `prev` was not saved), drops of origins that
/// left, the round's changes (with those not saved before), its rollups and
/// the prune.
pub fn round_writes(config: &Config, prev: Option<&Memory>, advance: &Advance) -> Result<Vec<Write>, String> {
    let state = &advance.state;
    let mut writes = vec![Write::Monitor(monitor_json(state)?)];
    let before = prev.filter(|m| m.saved).map(|m| &m.state.origins);
    for (name, track) in &state.origins {
        if before.and_then(|b| b.get(name)).is_none_or(|old| !old.same_but_latency(track)) {
            writes.push(Write::Origin { name: name.clone(), json: origin_json(track) });
        }
    }
    if let Some(prev) = prev {
        // Those stored (`committed`, after a failed commit) or served before, and gone now.
        let stored = prev.committed.iter().flat_map(|c| c.origins.keys());
        let gone: BTreeSet<&String> =
            prev.state.origins.keys().chain(stored).filter(|n| !state.origins.contains_key(*n)).collect();
        writes.extend(gone.into_iter().map(|name| Write::DropOrigin(name.clone())));
    }
    let unsaved = prev.map(|m| m.unsaved.as_slice()).unwrap_or_default();
    for change in unsaved.iter().chain(&advance.changes) {
        let json = serde_json::to_string(change).map_err(|e| e.to_string())?;
        writes.push(Write::Change { at_ms: change.at_ms, name: change.name.clone(), json });
    }
    writes.extend(rollup_adds(config, advance).into_iter().map(Write::Rollup));
    writes.push(Write::Prune(Retention::at(config.settings(), state.checked_at_ms)));
    Ok(writes)
}

/// Records one round: commits its writes ([`round_writes`]) atomically and
/// returns what to serve from next. A failed commit is a problem, not an
/// error: the storage keeps the previous state whole, the new state is served
/// from memory (with the uptimes of `prev` when they cannot be read), and the
/// next round writes it in full with the changes not saved. Until then,
/// [`Memory::committed`] keeps the state storage holds (that of the last
/// committed round; nothing when no round was), for the operator changes
/// made between rounds to be written on top of.
pub fn record(store: &impl Store, config: &Config, prev: Option<Memory>, advance: Advance) -> (Memory, Vec<Problem>) {
    let mut problems = Vec::new();
    let told = prev.as_ref().map(|m| m.notify.clone()).unwrap_or_default();
    let (slo_writes, slo, burns) = slo_round(store, config, prev.as_ref(), &advance, &mut problems);
    let planned = crate::notify::plan(
        config,
        &told,
        prev.as_ref().map(|m| &m.state),
        &advance.state,
        advance.state.checked_at_ms,
        &burns,
    );
    let commit = round_writes(config, prev.as_ref(), &advance).and_then(|mut writes| {
        writes.extend(slo_writes);
        writes.extend(planned.writes);
        store.commit(&writes).map_err(|e| e.to_string())
    });
    // A failed commit told nothing: the next round plans again from what was told.
    let notify = if commit.is_ok() { planned.state } else { told };
    // Nor counted anything: the windows are what storage holds, the pairs as they were.
    let slo = if commit.is_ok() { slo } else { prev.as_ref().map(|m| m.slo.clone()).unwrap_or_default() };
    let (saved, unsaved) = match commit {
        Ok(()) => (true, Vec::new()),
        Err(e) => {
            problems
                .push(Problem(format!("storage write failed; the previous state is kept, serving from memory: {e}")));
            let mut unsaved = prev.as_ref().map(|m| m.unsaved.clone()).unwrap_or_default();
            unsaved.extend(advance.changes.iter().cloned());
            (false, unsaved)
        }
    };
    // Moved, never copied: `prev`'s state is dropped here unless it is what storage holds.
    let (fallback, stored) = match prev {
        Some(m) => (Some((m.uptimes, m.latency)), m.committed.unwrap_or_else(|| Box::new(m.state))),
        None => (None, Box::new(empty_state())),
    };
    let committed = (!saved).then_some(stored);
    let at = advance.state.checked_at_ms;
    let (uptimes, latency) = windows_or_log(store, at, &mut problems, fallback);
    (Memory { state: advance.state, uptimes, latency, saved, unsaved, committed, notify, slo }, problems)
}

/// The objectives' part of a round ([`crate::slo`]): each objective's
/// slice counted on top of its windows as storage sums them now
/// ([`slo_sums`], read before the round's commit), its pairs judged, and
/// the writes: the slices' rows, the state of an objective whose pairs
/// changed, and drops of objectives stored but no longer configured; and
/// the burn-rate notices of the pairs that started or stopped firing
/// ([`crate::notify::burn_notices`]), for the outbox in the same commit.
/// Storage that cannot be read counts the slices and judges no pair this
/// round (a problem logged); the objectives keep what `prev` held.
fn slo_round(
    store: &impl Store,
    config: &Config,
    prev: Option<&Memory>,
    advance: &Advance,
    problems: &mut Vec<Problem>,
) -> (Vec<Write>, SloMemory, Vec<(String, BurnNotice)>) {
    let state = &advance.state;
    let at = state.checked_at_ms;
    let slices = crate::slo::slices(config, state);
    let kept = prev.map(|m| m.slo.clone()).unwrap_or_default();
    let read = match slo_sums(store, config, at) {
        Ok(read) => read,
        Err(e) => {
            problems.push(Problem(format!("reading the objectives' counts failed; no alert judged this round: {e}")));
            let rows = config.slos().iter().zip(slices).flat_map(|(slo, slice)| crate::slo::adds(slo, slice, at));
            return (rows.map(Write::Slo).collect(), kept, Vec::new());
        }
    };
    let mut writes = Vec::new();
    let mut memory = SloMemory::new();
    let mut burns = Vec::new();
    for name in read.keys().chain(kept.keys()).filter(|n| !config.slos().iter().any(|s| &s.name == *n)) {
        if !writes.contains(&Write::DropSlo(name.clone())) {
            writes.push(Write::DropSlo(name.clone()));
        }
    }
    for (slo, slice) in config.slos().iter().zip(slices) {
        let sums = read.get(&slo.name).cloned().unwrap_or_default();
        let before = kept.get(&slo.name).map(|(_, s)| s.clone()).unwrap_or_default();
        let round = crate::slo::round(slo, slice, sums, &before, at);
        writes.extend(round.adds.into_iter().map(Write::Slo));
        if !round.changes.is_empty() {
            burns.extend(burn_notices(config, slo, &round.changes, round.sums.budget(slo), at));
        }
        if round.state != before {
            let json = serde_json::to_string(&round.state).expect("an SloState serializes");
            writes.push(Write::SloState { slo: slo.name.clone(), json });
        }
        memory.insert(slo.name.clone(), (round.sums, round.state));
    }
    (writes, memory, burns)
}
