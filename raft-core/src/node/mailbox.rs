//! [`Mailbox`]: a many-to-one queue whose reader takes everything waiting at
//! once, and sleeps without spinning when there is nothing.
//!
//! The node's event loop and apply side use it instead of a channel: a
//! channel's blocking receive spins before it sleeps, which on a small machine
//! takes the processor from the threads doing the work, and taking a whole
//! batch per wake-up costs one lock however many items wait.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::deadline::time_left;

/// A queue of `T` with any number of writers and one reader at a time.
pub(crate) struct Mailbox<T> {
    state: Mutex<State<T>>,
    arrived: Condvar,
}

struct State<T> {
    items: VecDeque<T>,
    /// Whether the reader sleeps, so writers wake it only then.
    waiting: bool,
    /// Set by [`Mailbox::close`]: writes are dropped and the reader wakes.
    closed: bool,
}

/// What [`Mailbox::take_all`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Items were moved into the buffer given (or the deadline came).
    Items,
    /// The mailbox is closed; the buffer got what was left.
    Closed,
}

impl<T> Mailbox<T> {
    pub(crate) fn new() -> Mailbox<T> {
        Mailbox {
            state: Mutex::new(State { items: VecDeque::new(), waiting: false, closed: false }),
            arrived: Condvar::new(),
        }
    }

    /// Queues `item`; returns false (dropping it) once the mailbox is closed.
    pub(crate) fn push(&self, item: T) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.items.push_back(item);
        self.wake(state);
        true
    }

    /// Queues every item of `items`, in order; returns false (dropping them)
    /// once the mailbox is closed.
    pub(crate) fn extend(&self, items: impl IntoIterator<Item = T>) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.items.extend(items);
        self.wake(state);
        true
    }

    /// Moves every waiting item to the end of `into`, sleeping until one
    /// comes, `deadline` passes (`None`: no deadline) or the mailbox closes.
    pub(crate) fn take_all(&self, into: &mut VecDeque<T>, deadline: Option<Instant>) -> Taken {
        let mut state = self.lock();
        loop {
            if !state.items.is_empty() {
                into.append(&mut state.items);
                return if state.closed { Taken::Closed } else { Taken::Items };
            }
            if state.closed {
                return Taken::Closed;
            }
            let left = time_left(deadline, Duration::MAX);
            if left.is_zero() {
                return Taken::Items;
            }
            state.waiting = true;
            state = if deadline.is_some() {
                self.arrived.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
            } else {
                self.arrived.wait(state).unwrap_or_else(PoisonError::into_inner)
            };
            state.waiting = false;
        }
    }

    /// Closes the mailbox: later writes are dropped, and the reader wakes.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        drop(state);
        self.arrived.notify_all();
    }

    fn wake(&self, state: MutexGuard<'_, State<T>>) {
        let waiting = state.waiting;
        drop(state);
        if waiting {
            self.arrived.notify_one();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> fmt::Debug for Mailbox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Mailbox")
            .field("items", &state.items.len())
            .field("closed", &state.closed)
            .finish()
    }
}

#[cfg(test)]
mod tests;
