//! [`Ready`] and [`PendingUpdate`]: what the protocol core asks its driver to
//! do after one or more steps, and in which order.

use raft_log::{Entry, Index, NodeId};
use raft_persist::{HardState, Snapshot, Update};

use crate::{Applied, Request};

/// The output of the protocol core since the last [`Ready`] was taken.
///
/// The driver must carry it out in this order (Raft's "persist before you
/// speak"): first save `update` durably, then send `messages` and answer the
/// requests that were stepped, then deliver `applied` to the service.
#[derive(Debug, Default)]
pub(crate) struct Ready {
    /// The durable change to save before anything else.
    pub(crate) update: Update,
    /// Requests to send to peers.
    pub(crate) messages: Vec<(NodeId, Request)>,
    /// Committed entries and installed snapshots, in order.
    pub(crate) applied: Vec<Applied>,
}

/// What a new snapshot leaves of the log entries after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tail {
    /// They stay: the log agrees with the snapshot (the service's own
    /// snapshots, and InstallSnapshot for a prefix of the log).
    Kept,
    /// They go: the log does not reach the snapshot or contradicts it.
    Discarded,
}

/// The durable changes made since the last [`Ready`], folded into one
/// [`Update`] whose parts apply in the order the persister documents
/// (hard state, snapshot, truncation, append).
#[derive(Debug, Default)]
pub(crate) struct PendingUpdate {
    update: Update,
}

impl PendingUpdate {
    /// Records a new hard state.
    pub(crate) fn set_hard_state(&mut self, hard_state: HardState) {
        self.update.hard_state = Some(hard_state);
    }

    /// Records that the entries from `from` on are gone.
    pub(crate) fn truncate_from(&mut self, from: Index) {
        let append = &mut self.update.append;
        match append.first().map(|entry| entry.index) {
            // Only entries not yet saved are affected: drop them from the batch.
            Some(first) if from > first => append.truncate((from.0 - first.0) as usize),
            _ => {
                append.clear();
                let earliest = self.update.truncate_from.map_or(from, |t| t.min(from));
                self.update.truncate_from = Some(earliest);
            }
        }
    }

    /// Records new entries at the end of the log.
    pub(crate) fn append(&mut self, entries: impl IntoIterator<Item = Entry>) {
        self.update.append.extend(entries);
    }

    /// Records a new snapshot, and what became of the entries after it.
    pub(crate) fn snapshot(&mut self, snapshot: Snapshot, tail: Tail) {
        let index = snapshot.index;
        if tail == Tail::Discarded {
            self.truncate_from(index.next());
        }
        self.update.append.retain(|entry| entry.index > index);
        self.update.snapshot = Some(snapshot);
    }

    /// Takes the folded update, leaving nothing pending.
    pub(crate) fn take(&mut self) -> Update {
        std::mem::take(&mut self.update)
    }
}
