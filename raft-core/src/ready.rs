//! [`Ready`], [`Outgoing`] and [`PendingUpdate`]: what the protocol core asks
//! its driver to do after one or more steps, and in which order.

use raft_log::{Entry, Index, NodeId, Term};
use raft_persist::{HardState, Snapshot, Update};

use crate::{Applied, ReadOutcome, Request, RequestId, Response};

/// One message leaving the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// A request to send to peer `to`. Remember [`Sent::of`](crate::Sent::of)
    /// it, and step the outcome back as a
    /// [`Message::Response`](crate::Message::Response).
    Request {
        /// The peer.
        to: NodeId,
        /// The request.
        request: Request,
    },
    /// The answer to the request the driver stepped as `id`, from peer `to`.
    Response {
        /// The peer that asked.
        to: NodeId,
        /// The driver's name for the request.
        id: RequestId,
        /// The answer.
        response: Response,
    },
}

/// The work the core asks of its driver: everything produced since the last
/// [`Raft::ready`](crate::Raft::ready).
///
/// The driver carries it out in this order (Raft's "persist before you
/// speak", with the leader's parallel write of thesis §10.2.1):
/// 1. send [`messages`](Self::messages) at once (they depend on nothing in
///    `update`: the leader's AppendEntries and InstallSnapshot, which may go
///    out while the leader writes the same entries to its own disk);
/// 2. save [`update`](Self::update) durably, then report it with
///    [`Raft::on_persisted`](crate::Raft::on_persisted) and
///    [`persisted`](Self::persisted);
/// 3. then send [`persisted_messages`](Self::persisted_messages) (votes,
///    vote requests, every answer to a peer: they promise what `update`
///    saves);
/// 4. then hand [`committed`](Self::committed) to the service, in order.
///
/// [`reads`](Self::reads) depend on nothing in `update`: hand them to their
/// readers at any point, who wait until the service has applied through
/// their index.
///
/// A later `Ready` may be started before an earlier one's save completes, as
/// long as each one's steps 2–4 keep that order and saves complete in order.
#[derive(Debug, Default)]
pub struct Ready {
    /// Messages that may leave now.
    pub messages: Vec<Outgoing>,
    /// The durable change to save.
    pub update: Update,
    /// Messages that may leave only once `update` is durable.
    pub persisted_messages: Vec<Outgoing>,
    /// Committed entries and installed snapshots, in index order, without gaps
    /// or repeats.
    pub committed: Vec<Applied>,
    /// The outcomes of reads asked for with
    /// [`Raft::read_index`](crate::Raft::read_index).
    pub reads: Vec<ReadOutcome>,
}

impl Ready {
    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.update.is_empty()
            && self.persisted_messages.is_empty()
            && self.committed.is_empty()
            && self.reads.is_empty()
    }

    /// The last log position `update` makes durable (its last appended entry,
    /// else its snapshot), to report to
    /// [`Raft::on_persisted`](crate::Raft::on_persisted) once it is saved.
    pub fn persisted(&self) -> Option<(Index, Term)> {
        Ready::persisted_of(&self.update)
    }

    /// As [`persisted`](Self::persisted), for an update taken out of its
    /// `Ready`.
    pub fn persisted_of(update: &Update) -> Option<(Index, Term)> {
        match (update.append.last(), &update.snapshot) {
            (Some(entry), _) => Some((entry.index, entry.term)),
            (None, Some(snapshot)) => Some((snapshot.index, snapshot.term)),
            (None, None) => None,
        }
    }
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

    /// Whether nothing is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.update.is_empty()
    }

    /// Takes the folded update, leaving nothing pending.
    pub(crate) fn take(&mut self) -> Update {
        std::mem::take(&mut self.update)
    }
}
