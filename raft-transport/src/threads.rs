//! Starting and joining the transport's own threads.

use std::io;
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
