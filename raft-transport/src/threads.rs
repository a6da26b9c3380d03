//! The transport's own threads: starting and joining them, and taking the
//! locks they share.

use std::io;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// Starts a named thread, reporting rather than panicking if none can be had.
pub(crate) fn spawn(
    name: String,
    body: impl FnOnce() + Send + 'static,
) -> io::Result<JoinHandle<()>> {
    thread::Builder::new().name(name).spawn(body)
}

/// Joins `handle`, unless it is the current thread (a callback or handler that
/// shut its own transport down), which is left to end on its own as soon as it
/// returns.
pub(crate) fn join_unless_current(handle: JoinHandle<()>) {
    if handle.thread().id() != thread::current().id() && handle.join().is_err() {
        tracing::error!("a transport thread panicked");
    }
}

/// Locks `mutex`, going on if a thread panicked while holding it: the state
/// behind every lock here is changed only in steps that cannot panic, and
/// user code (handlers, callbacks) never runs under one.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
