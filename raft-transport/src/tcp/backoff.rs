//! [`Backoff`]: when a link may try to connect again after failing to.

use std::time::{Duration, Instant};

/// Exponential backoff between connection attempts to one peer: after a failed
/// attempt the link waits `first`, then twice as long after each further
/// failure, up to `most`. A call that comes while the link waits fails at once
/// instead of attempting.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    first: Duration,
    most: Duration,
    /// The wait after the next failure. Invariant: `first <= next <= most`
    /// (given `first <= most`).
    next: Duration,
    /// No attempt before this instant; `None` after a success.
    retry_at: Option<Instant>,
}

impl Backoff {
    pub(crate) fn new(first: Duration, most: Duration) -> Backoff {
        Backoff { first, most, next: first, retry_at: None }
    }

    /// Whether an attempt may be made at `now`.
    pub(crate) fn may_try(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|retry_at| now >= retry_at)
    }

    /// Records a failed attempt at `now`.
    pub(crate) fn failed(&mut self, now: Instant) {
        self.retry_at = Some(now + self.next);
        self.next = (self.next * 2).min(self.most);
    }

    /// Records a success, or a reason to try at once (a new address).
    pub(crate) fn reset(&mut self) {
        self.next = self.first;
        self.retry_at = None;
    }
}

#[cfg(test)]
mod tests;
