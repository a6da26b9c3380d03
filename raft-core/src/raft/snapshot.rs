//! Log compaction (Raft §7): the service's snapshots, and InstallSnapshot on
//! both sides.

use raft_log::{Index, NodeId};
use raft_persist::Snapshot;

use super::Raft;
use crate::ready::Tail;
use crate::{Applied, NodeError, Request, Role, SnapshotRequest, SnapshotResponse};

impl Raft {
    /// The service holds everything through `index` in `data`: discard the log
    /// up to there. A snapshot at or before the current one is ignored.
    pub(crate) fn snapshot(&mut self, index: Index, data: Vec<u8>) -> Result<(), NodeError> {
        if index <= self.snapshot.index {
            return Ok(());
        }
        if index > self.applied_index {
            return Err(NodeError::SnapshotPastApplied { index, applied: self.applied_index });
        }
        let Some(term) = self.log.term(index) else {
            return Err(NodeError::SnapshotPastApplied { index, applied: self.applied_index });
        };
        self.log.compact_through(index).map_err(NodeError::InconsistentState)?;
        self.snapshot = Snapshot { index, term, data };
        self.pending.snapshot(self.snapshot.clone(), Tail::Kept);
        Ok(())
    }

    /// Sends the whole snapshot to a follower whose next entry is compacted,
    /// unless one is still in flight.
    pub(super) fn send_snapshot(&mut self, peer: NodeId) {
        let backoff = self.config.election_ticks_min;
        let Some(progress) = self.progress.get_mut(&peer) else { return };
        if progress.snapshot_backoff > 0 {
            return;
        }
        progress.snapshot_backoff = backoff;
        let request = SnapshotRequest {
            term: self.term,
            leader: self.id,
            last_included_index: self.snapshot.index,
            last_included_term: self.snapshot.term,
            data: self.snapshot.data.clone(),
        };
        self.send(peer, Request::Snapshot(request));
    }

    /// InstallSnapshot receiver (Raft Figure 13), the whole snapshot at once.
    pub(super) fn handle_snapshot_request(&mut self, request: SnapshotRequest) -> SnapshotResponse {
        if request.term < self.term {
            return SnapshotResponse { term: self.term };
        }
        self.become_follower(request.term, Some(request.leader));
        self.reset_election_timer();
        let index = request.last_included_index;
        let term = request.last_included_term;
        if index <= self.commit_index {
            // The log already holds (or a snapshot already covers) all of it.
            return SnapshotResponse { term: self.term };
        }
        // Keep the entries that follow the snapshot if the log agrees with it
        // there; otherwise the whole log goes.
        let keep_tail = self.log.term(index) == Some(term);
        if keep_tail {
            if self.log.compact_through(index).is_err() {
                self.log.reset(index, term);
            }
        } else {
            self.log.reset(index, term);
        }
        self.snapshot = Snapshot { index, term, data: request.data };
        let tail = if keep_tail { Tail::Kept } else { Tail::Discarded };
        self.pending.snapshot(self.snapshot.clone(), tail);
        debug_assert!(index > self.applied_index, "a snapshot must move the service forward");
        self.commit_index = index;
        self.applied_index = index;
        self.applied.push(Applied::Snapshot { index, term, data: self.snapshot.data.clone() });
        SnapshotResponse { term: self.term }
    }

    /// A follower now holds the snapshot through `last_included_index`.
    pub(super) fn handle_snapshot_response(&mut self, from: NodeId, last_included_index: Index) {
        if self.role != Role::Leader {
            return;
        }
        if let Some(progress) = self.progress.get_mut(&from) {
            progress.snapshot_backoff = 0;
        }
        self.on_match(from, last_included_index);
    }
}
