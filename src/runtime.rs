//! What the entry points, the `Monitor` and the `Prober` share of the
//! runtime: the one timeout helper.

use std::future::Future;
use std::time::Duration;

use futures::future::{select, Either};
use futures::pin_mut;
use worker::Delay;

/// Runs `work` for at most `ms` milliseconds: its output, or `None` when the
/// timer fired first. Whichever loses the race is dropped at once (a fetch's
/// future dropped here stops waiting for its answer; [`crate::probe`] also
/// aborts its connection).
pub(crate) async fn within<F: Future>(ms: u64, work: F) -> Option<F::Output> {
    let timer = Delay::from(Duration::from_millis(ms));
    pin_mut!(work, timer);
    match select(work, timer).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}
