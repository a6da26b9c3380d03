//! Deadlines for the driver's blocking waits, and its ticker: the one place
//! the node side reads the clock (the protocol core never does).

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

/// The event loop's clock: when the next tick is due, and how many are.
#[derive(Debug)]
pub(crate) struct Ticker {
    interval: Duration,
    next: Instant,
}

impl Ticker {
    /// A ticker whose first tick is due one `interval` from now.
    #[allow(clippy::disallowed_methods)] // the driver's clock, outside the core
    pub(crate) fn start(interval: Duration) -> Ticker {
        Ticker { interval, next: Instant::now() + interval }
    }

    /// When the next tick is due.
    pub(crate) fn next(&self) -> Instant {
        self.next
    }

    /// How many ticks are due now (0 or 1), moving the next one on. A loop
    /// that fell behind by more than a tick skips the ticks it missed rather
    /// than firing them in a burst.
    #[allow(clippy::disallowed_methods)] // the driver's clock, outside the core
    pub(crate) fn due(&mut self) -> u32 {
        let now = Instant::now();
        if now < self.next {
            return 0;
        }
        self.next += self.interval;
        if self.next <= now {
            self.next = now + self.interval;
        }
        1
    }
}
