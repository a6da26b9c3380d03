//! [`EventQueue`]: the simulation's agenda, a priority queue of events by
//! virtual time, ties broken by the order they were scheduled in.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use raft_core::{Request, Response};

/// A message on its way.
#[derive(Clone, Debug)]
pub(crate) enum Packet {
    Request(Request),
    Answer(Response),
}

/// Something due to happen.
#[derive(Debug)]
pub(crate) enum Event {
    /// `node`'s clock ticks `count` times, if its clock is still of
    /// `generation`.
    Tick { node: usize, generation: u32, count: u32 },
    /// A copy of a message of call `call` reaches `to`.
    Arrive { from: usize, to: usize, call: u64, packet: Packet },
    /// `node`'s oldest save completes, if the node is still of `incarnation`.
    SaveDone { node: usize, incarnation: u32 },
    /// The client's next proposal.
    Client,
    /// The client's next read.
    Read,
    /// The fault at this position of the schedule strikes.
    Fault(usize),
    /// The fault phase ends.
    FaultsEnd,
    /// A look at whether the healed cluster has converged.
    LivenessCheck,
}

/// The events to come. Two events at one time come in the order they were
/// scheduled, so a run never depends on the heap's internal order. The heap
/// holds only times and slot numbers; the events wait in a slab, so sifting
/// moves 24 bytes, not a message.
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slots: Vec<Option<Event>>,
    free: Vec<u32>,
    next_sequence: u64,
}

impl EventQueue {
    pub(crate) fn schedule(&mut self, at: u64, event: Event) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                (self.slots.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((at, sequence, slot)));
    }

    /// When the next event is due.
    pub(crate) fn next_time(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Takes the next event and its time.
    pub(crate) fn pop(&mut self) -> Option<(u64, Event)> {
        let Reverse((at, _, slot)) = self.heap.pop()?;
        self.free.push(slot);
        self.slots[slot as usize].take().map(|event| (at, event))
    }
}
