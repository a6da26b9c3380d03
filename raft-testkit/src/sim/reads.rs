//! [`Reads`]: the client's linearizable reads (ReadIndex, thesis §6.4) in
//! flight, and the check that each read index covers everything the client
//! knew had been written before the read began.

use std::collections::BTreeMap;

use raft_core::{Index, ReadError, ReadId, ReadOutcome};

use crate::sim::Violation;

/// A read asked for and not yet answered: where it was asked, and the floor
/// its index must reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PendingRead {
    /// The node asked, and its incarnation.
    pub(crate) node: usize,
    pub(crate) incarnation: u32,
    /// When it was asked, in virtual µs.
    pub(crate) asked_at: u64,
    /// Whether the node asked did not lead then (its core forwards the read
    /// to the leader).
    pub(crate) on_follower: bool,
    /// The highest index acknowledged to the client when the read began.
    pub(crate) acknowledged: Index,
    /// The highest index of a client's command that the state of any read
    /// served before this one began held.
    pub(crate) observed: Index,
}

/// A read with its index, waiting for its node's service to apply through
/// it.
#[derive(Clone, Copy, Debug)]
struct Indexed {
    id: ReadId,
    read: PendingRead,
    index: Index,
}

/// A read served: its node's service had applied through its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Served {
    pub(crate) id: ReadId,
    pub(crate) read: PendingRead,
    pub(crate) index: Index,
    /// What the service had applied when it served the read (the state read).
    pub(crate) applied: Index,
}

/// The reads of one run.
///
/// A read is checked when its index comes back: the index must be at least
/// every index acknowledged to the client before the read began (the
/// checker's acknowledged writes), and at least every client command that a
/// read served before it began saw, since a later read must not see less
/// than an earlier one (both are linearizability: the read's state, applied
/// through its index, reflects every write that completed before it). The
/// read is then served once its node's service has applied through the
/// index, in the same incarnation (a crash loses it: the client hears
/// nothing).
#[derive(Debug)]
pub(crate) struct Reads {
    next_id: u64,
    /// By read: the reads asked and not yet answered.
    in_flight: BTreeMap<ReadId, PendingRead>,
    /// By node: the reads with an index, waiting for the service.
    indexed: Vec<Vec<Indexed>>,
    /// The highest index of a client command any served read's state held.
    observed: Index,
}

impl Reads {
    pub(crate) fn new(nodes: usize) -> Reads {
        Reads {
            next_id: 0,
            in_flight: BTreeMap::new(),
            indexed: vec![Vec::new(); nodes],
            observed: Index(0),
        }
    }

    /// A read begins on `node`'s incarnation at `now`, after the writes
    /// acknowledged through `acknowledged`: its name for the core.
    pub(crate) fn begin(
        &mut self,
        now: u64,
        (node, incarnation): (usize, u32),
        on_follower: bool,
        acknowledged: Index,
    ) -> ReadId {
        self.next_id += 1;
        let id = ReadId(self.next_id);
        let read = PendingRead {
            node,
            incarnation,
            asked_at: now,
            on_follower,
            acknowledged,
            observed: self.observed,
        };
        self.in_flight.insert(id, read);
        id
    }

    /// The highest index of a client's command that the state of a read
    /// served so far held: every read that begins now must see it.
    pub(crate) fn observed(&self) -> Index {
        self.observed
    }

    /// The reads in flight asked less than `timeout` µs before `now`: the
    /// ones the client still waits for (it gives up on the others, which are
    /// still checked if they come back).
    pub(crate) fn waiting(&self, now: u64, timeout: u64) -> usize {
        self.in_flight.values().filter(|read| read.asked_at + timeout > now).count()
    }

    /// `node`'s incarnation answered a read. Returns the read and its result
    /// (an index, or why there is none), once the index is checked against
    /// the read's floor.
    ///
    /// # Errors
    /// [`Violation::StaleRead`] if the index is below the floor;
    /// [`Violation::DriverContract`] if the node was never asked this read.
    pub(crate) fn answered(
        &mut self,
        (node, incarnation): (usize, u32),
        outcome: ReadOutcome,
    ) -> Result<(PendingRead, Result<Index, ReadError>), Violation> {
        let ReadOutcome { id, result } = outcome;
        let read = match self.in_flight.get(&id) {
            Some(read) if read.node == node && read.incarnation == incarnation => *read,
            _ => {
                return Err(Violation::DriverContract {
                    node,
                    what: format!("it answered read {}, which it was never asked", id.0),
                });
            }
        };
        self.in_flight.remove(&id);
        if let Ok(index) = result {
            if index < read.acknowledged {
                let (floor, why) = (read.acknowledged, "was acknowledged");
                return Err(Violation::StaleRead { node, index, floor, why });
            }
            if index < read.observed {
                let (floor, why) = (read.observed, "was seen by a read served earlier");
                return Err(Violation::StaleRead { node, index, floor, why });
            }
            self.indexed[node].push(Indexed { id, read, index });
        }
        Ok((read, result))
    }

    /// `node`'s incarnation has applied through `applied`: the reads waiting
    /// there with an index at most that are served, from that state.
    /// `last_command` gives the highest index of a client's command through
    /// an index, which later reads must then see.
    pub(crate) fn serve(
        &mut self,
        (node, incarnation): (usize, u32),
        applied: Index,
        last_command: impl Fn(Index) -> Index,
    ) -> Vec<Served> {
        let waiting = &mut self.indexed[node];
        if waiting.is_empty() {
            return Vec::new();
        }
        let mut served = Vec::new();
        waiting.retain(|indexed| {
            if indexed.read.incarnation != incarnation {
                return false;
            }
            if indexed.index > applied {
                return true;
            }
            served.push(Served {
                id: indexed.id,
                read: indexed.read,
                index: indexed.index,
                applied,
            });
            false
        });
        if !served.is_empty() {
            self.observed = self.observed.max(last_command(applied));
        }
        served
    }

    /// `node` crashed: its reads, answered or not, are lost.
    pub(crate) fn crashed(&mut self, node: usize) {
        self.in_flight.retain(|_, read| read.node != node);
        self.indexed[node].clear();
    }
}

#[cfg(test)]
mod tests;
