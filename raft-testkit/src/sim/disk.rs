//! [`Disk`]: one node's saves in progress. Each takes virtual time; they
//! complete in the order they were asked for, and a crash loses them all.

use std::collections::VecDeque;

use raft_core::{Applied, Outgoing};
use raft_persist::Update;
use rand::Rng;
use rand::rngs::SmallRng;

use crate::sim::profile::DiskSpeed;

/// The part of a `Ready` that waits for its save: the update, then what may
/// happen only once it is durable, in that order.
#[derive(Debug)]
pub(crate) struct Save {
    /// When the save completes, in virtual µs.
    pub(crate) done_at: u64,
    pub(crate) update: Update,
    pub(crate) persisted_messages: Vec<Outgoing>,
    pub(crate) committed: Vec<Applied>,
}

/// The saves of one node still in progress, oldest first.
///
/// Invariant: `done_at` never decreases along `queue`, and is at most
/// `last_done`.
#[derive(Debug, Default)]
pub(crate) struct Disk {
    pub(crate) queue: VecDeque<Save>,
    last_done: u64,
}

impl Disk {
    /// Queues a save asked for at `now`, and returns when it completes: after
    /// its own latency (none for an empty update, which only keeps its place
    /// in line) and never before the saves ahead of it.
    pub(crate) fn queue(
        &mut self,
        now: u64,
        speed: &DiskSpeed,
        rng: &mut SmallRng,
        update: Update,
        persisted_messages: Vec<Outgoing>,
        committed: Vec<Applied>,
    ) -> u64 {
        let latency = if update.is_empty() {
            0
        } else {
            let mut latency = rng.gen_range(speed.latency.0..=speed.latency.1);
            if speed.spike > 0.0 && rng.gen_bool(speed.spike) {
                latency += rng.gen_range(0..=speed.spike_max);
            }
            latency
        };
        let done_at = (now + latency).max(self.last_done);
        self.last_done = done_at;
        self.queue.push_back(Save { done_at, update, persisted_messages, committed });
        done_at
    }

    /// Loses every save in progress, as a crash does; returns how many.
    pub(crate) fn lose_all(&mut self) -> usize {
        let lost = self.queue.len();
        self.queue.clear();
        lost
    }
}
