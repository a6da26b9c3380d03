//! [`OneShot`]: a value set once by the event loop and awaited by a handle,
//! blocking (with or without a deadline) or as a [`Future`]'s state.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::deadline::time_left;

/// A value set once (the first set stands) and read by any number of
/// waiters.
pub(crate) struct OneShot<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
}

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    waiting: bool,
}

impl<T: Clone> OneShot<T> {
    pub(crate) fn new() -> OneShot<T> {
        OneShot {
            state: Mutex::new(State { value: None, waker: None, waiting: false }),
            changed: Condvar::new(),
        }
    }

    /// Sets the value unless one is set; returns whether this one was.
    pub(crate) fn set(&self, value: T) -> bool {
        let mut state = self.lock();
        if state.value.is_some() {
            return false;
        }
        state.value = Some(value);
        let waker = state.waker.take();
        let waiting = std::mem::take(&mut state.waiting);
        drop(state);
        if waiting {
            self.changed.notify_all();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
        true
    }

    /// The value, if set.
    pub(crate) fn get(&self) -> Option<T> {
        self.lock().value.clone()
    }

    /// Waits for the value until `deadline` (for ever with `None`).
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> Option<T> {
        let mut state = self.lock();
        loop {
            if let Some(value) = &state.value {
                return Some(value.clone());
            }
            state.waiting = true;
            state = match deadline {
                None => self.changed.wait(state).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let left = time_left(Some(deadline), Duration::MAX);
                    if left.is_zero() {
                        return None;
                    }
                    self.changed.wait_timeout(state, left).unwrap_or_else(PoisonError::into_inner).0
                }
            };
        }
    }

    /// A future's poll: the value, or pending with `context`'s waker kept.
    pub(crate) fn poll(&self, context: &Context<'_>) -> Poll<T> {
        let mut state = self.lock();
        match &state.value {
            Some(value) => Poll::Ready(value.clone()),
            None => {
                state.waker = Some(context.waker().clone());
                Poll::Pending
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Clone + std::fmt::Debug> std::fmt::Debug for OneShot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneShot").field("value", &self.get()).finish()
    }
}
