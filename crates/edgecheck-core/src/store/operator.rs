//! What an operator writes between rounds (a ping, a drain, an API
//! maintenance window): [`operator_change`], made in memory and committed at
//! once on top of what storage holds, or not at all.

use super::{monitor_json, origin_json, Memory, Store, Write, MAX_ROW_BYTES};
use crate::monitor::{MonitorState, OriginTrack};

/// The row an operator change ([`operator_change`]) writes between rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorRow<'a> {
    /// The monitor's row: a drain, an API maintenance window.
    Monitor,
    /// One origin's row: a heartbeat check's ping.
    Origin(&'a str),
}

/// Why an operator change was not made; memory and storage are then as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorError<E> {
    /// The change refused itself: its domain error (`DrainError`,
    /// `WindowError`, `PingError`), which `http` maps to an answer.
    Refused(E),
    /// Storage refused the commit, saying why.
    NotSaved(String),
}

/// What a row held before a change, to put back when it is not made.
enum Kept {
    /// The monitor's row: the state without its origins.
    Monitor(Box<MonitorState>),
    /// One origin's track, or its absence.
    Origin(String, Option<Box<OriginTrack>>),
}

fn keep(state: &mut MonitorState, row: OperatorRow<'_>) -> Kept {
    match row {
        OperatorRow::Monitor => {
            let origins = std::mem::take(&mut state.origins);
            let kept = state.clone();
            state.origins = origins;
            Kept::Monitor(Box::new(kept))
        }
        OperatorRow::Origin(name) => Kept::Origin(name.to_string(), state.origins.get(name).cloned().map(Box::new)),
    }
}

fn put_back(state: &mut MonitorState, kept: Kept) {
    match kept {
        Kept::Monitor(row) => {
            let origins = std::mem::take(&mut state.origins);
            *state = *row;
            state.origins = origins;
        }
        Kept::Origin(name, Some(track)) => {
            state.origins.insert(name, *track);
        }
        Kept::Origin(name, None) => {
            state.origins.remove(&name);
        }
    }
}

/// Commits `row` of `state`: the monitor's row, or the origin's (its drop
/// when `state` has no such origin).
fn save_row(store: &impl Store, state: &MonitorState, row: OperatorRow<'_>) -> Result<(), String> {
    match row {
        OperatorRow::Monitor => save_monitor(store, state),
        OperatorRow::Origin(name) => match state.origins.get(name) {
            Some(track) => save_origin(store, name, track),
            None => store.commit(&[Write::DropOrigin(name.to_string())]).map_err(|e| e.to_string()),
        },
    }
}

/// An operator's change between rounds (a ping, a drain, an API maintenance
/// window), made in memory and committed at once, or not at all: `change`
/// edits `row` of the state and answers `Ok` (what the caller replies with)
/// or `Err` (its refusal, the state unchanged).
///
/// The change is applied to memory's state, which the answers and the next
/// round read. The row committed is the one storage holds with the change on
/// top: memory's when it is saved; after a failed round commit, that of
/// [`Memory::committed`] (the last committed round), to which `change` is
/// applied as well, so no part of the round that was not committed becomes
/// durable. `change` must therefore depend on the state and its arguments
/// only (one `now` for both). When it refuses or the commit fails, memory is
/// put back as it was and the refusal or the reason returned.
pub fn operator_change<T, E>(
    store: &impl Store,
    memory: &mut Memory,
    row: OperatorRow<'_>,
    mut change: impl FnMut(&mut MonitorState) -> Result<T, E>,
) -> Result<T, OperatorError<E>> {
    let kept = keep(&mut memory.state, row);
    let answer = match change(&mut memory.state) {
        Ok(answer) => answer,
        Err(refused) => {
            put_back(&mut memory.state, kept);
            return Err(OperatorError::Refused(refused));
        }
    };
    let stored_kept = match memory.committed.as_deref_mut() {
        None => None,
        Some(stored) => {
            let stored_kept = keep(stored, row);
            // Refused on the stored rows though not in memory: not made at all.
            if let Err(refused) = change(stored) {
                put_back(stored, stored_kept);
                put_back(&mut memory.state, kept);
                return Err(OperatorError::Refused(refused));
            }
            Some(stored_kept)
        }
    };
    if let Err(e) = save_row(store, memory.committed.as_deref().unwrap_or(&memory.state), row) {
        if let (Some(stored), Some(stored_kept)) = (memory.committed.as_deref_mut(), stored_kept) {
            put_back(stored, stored_kept);
        }
        put_back(&mut memory.state, kept);
        return Err(OperatorError::NotSaved(e));
    }
    Ok(answer)
}

/// Commits `state`'s monitor row between rounds (a drain, a maintenance
/// window from the API): the row is written whole (such calls are rare; the
/// row is written by every round anyway). The monitor calls it through
/// [`operator_change`], which chooses the state it is given.
/// An error, saying why, when the commit failed: storage is then as before.
pub fn save_monitor(store: &impl Store, state: &MonitorState) -> Result<(), String> {
    let json = monitor_json(state)?;
    if json.len() > MAX_ROW_BYTES {
        return Err(format!("the monitor's row would be {} bytes, over {MAX_ROW_BYTES}", json.len()));
    }
    store.commit(&[Write::Monitor(json)]).map_err(|e| e.to_string())
}

/// Commits one origin's row (a heartbeat check's ping, taken between
/// rounds; through [`operator_change`]). An error, saying why, when the
/// commit failed: storage is then as before.
pub fn save_origin(store: &impl Store, name: &str, track: &OriginTrack) -> Result<(), String> {
    store.commit(&[Write::Origin { name: name.to_string(), json: origin_json(track) }]).map_err(|e| e.to_string())
}
