//! Deadlines for the driver's blocking waits: the one place the node side
//! reads the clock (the protocol core never does).

use std::time::{Duration, Instant};

/// When a wait of `timeout` from now ends; `None` if it never does (the
/// timeout is too long to represent).
#[allow(clippy::disallowed_methods)] // a blocking wait in real time, outside the core
pub(crate) fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// The time left until `deadline`: zero once it has passed, all of `forever`
/// for a wait with no deadline.
#[allow(clippy::disallowed_methods)] // a blocking wait in real time, outside the core
pub(crate) fn time_left(deadline: Option<Instant>, forever: Duration) -> Duration {
    match deadline {
        Some(deadline) => deadline.saturating_duration_since(Instant::now()),
        None => forever,
    }
}
