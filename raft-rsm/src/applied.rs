//! [`AppliedIndex`]: how far the applier has applied, for reads to wait on,
//! blocking or as a future.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use raft_core::Index;

/// The last index applied to the state machine (command, no-op or snapshot),
/// and the reads waiting for it to reach theirs.
#[derive(Debug, Default)]
pub(crate) struct AppliedIndex {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    index: Index,
    /// Set when the `Rsm` shuts down: no wait lasts past it.
    stopped: bool,
    /// The futures waiting, woken at every change.
    wakers: Vec<Waker>,
}

/// How a wait ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reached {
    /// The applier applied through the index.
    Yes,
    /// The `Rsm` shut down first.
    Stopped,
    /// The deadline passed first.
    TimedOut,
}

impl AppliedIndex {
    /// The applier has applied everything through `index`.
    pub(crate) fn advance(&self, index: Index) {
        let mut state = self.lock();
        if index > state.index {
            state.index = index;
            self.wake(state);
        }
    }

    /// The `Rsm` shuts down: every wait ends.
    pub(crate) fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        self.wake(state);
    }

    /// Waits until the applier has applied through `index`, or `deadline`.
    pub(crate) fn wait(&self, index: Index, deadline: Option<Instant>) -> Reached {
        let mut state = self.lock();
        loop {
            if state.index >= index {
                return Reached::Yes;
            }
            if state.stopped {
                return Reached::Stopped;
            }
            let left =
                deadline.map_or(Duration::MAX, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Reached::TimedOut;
            }
            state =
                self.changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// A future's poll of the same wait, with no deadline of its own.
    pub(crate) fn poll(&self, index: Index, context: &Context<'_>) -> Poll<Reached> {
        let mut state = self.lock();
        if state.index >= index {
            return Poll::Ready(Reached::Yes);
        }
        if state.stopped {
            return Poll::Ready(Reached::Stopped);
        }
        if !state.wakers.iter().any(|waker| waker.will_wake(context.waker())) {
            state.wakers.push(context.waker().clone());
        }
        Poll::Pending
    }

    fn wake(&self, mut state: MutexGuard<'_, State>) {
        let wakers = std::mem::take(&mut state.wakers);
        drop(state);
        self.changed.notify_all();
        for waker in wakers {
            waker.wake();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
