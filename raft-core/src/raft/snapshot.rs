//! Log compaction (Raft §7): the service's snapshots, and InstallSnapshot on
//! both sides.

use raft_log::{Index, NodeId};
use raft_persist::Snapshot;

use super::Raft;
use crate::progress::ProgressState;
use crate::ready::Tail;
use crate::{Applied, RaftError, Request, Role, SnapshotRequest, SnapshotResponse};

impl Raft {
    /// The service holds everything through `index` in `data`: discard the log
    /// up to there (Raft §7). A snapshot at or before the current one is
    /// ignored.
    ///
    /// # Errors
    /// [`RaftError::SnapshotPastApplied`] if `index` has not been handed out
    /// through [`Ready::committed`](crate::Ready::committed) yet.
    pub fn snapshot(&mut self, index: Index, data: Vec<u8>) -> Result<(), RaftError> {
        if index <= self.snapshot.index {
            return Ok(());
        }
        let past = RaftError::SnapshotPastApplied { index, applied: self.applied_index };
        if index > self.applied_index {
            return Err(past);
        }
        let Some(term) = self.log.term(index) else { return Err(past) };
        self.log.compact_through(index).map_err(RaftError::InconsistentState)?;
        self.snapshot = Snapshot { index, term, data };
        self.pending.snapshot(self.snapshot.clone(), Tail::Kept);
        Ok(())
    }

    /// Sends the whole snapshot to a follower whose next entry is compacted,
    /// and waits for its answer or failure before anything but heartbeats
    /// goes to it again.
    pub(super) fn send_snapshot(&mut self, peer: NodeId) {
        let index = self.snapshot.index;
        let Some(progress) = self.progress.get_mut(&peer) else { return };
        if progress.state == ProgressState::Snapshot {
            return;
        }
        progress.become_snapshot(index);
        self.counters.snapshots_sent += 1;
        let request = SnapshotRequest {
            term: self.term,
            leader: self.id,
            last_included_index: index,
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
        let covered = index <= self.commit_index;
        // Planted bug (test-only): only the node's own snapshot is checked, so
        // one at or below the commit index is installed and handed over.
        #[cfg(feature = "planted-bugs")]
        let covered =
            if self.config.planted_bug == Some(crate::PlantedBug::SnapshotBelowCommitIndex) {
                index <= self.snapshot.index
            } else {
                covered
            };
        if covered || term > request.term {
            // The log already holds (or a snapshot already covers) all of it;
            // or the snapshot claims a term its sender has not reached.
            return SnapshotResponse { term: self.term };
        }
        // Keep the entries that follow the snapshot if the log agrees with it
        // there; otherwise the whole log goes. Memory and disk are told the
        // same: the tail is kept in both only if the compaction succeeded.
        let kept = self.log.term(index) == Some(term) && self.log.compact_through(index).is_ok();
        let tail = if kept {
            Tail::Kept
        } else {
            self.log.reset(index, term);
            self.persisted_index = self.persisted_index.min(index);
            Tail::Discarded
        };
        self.snapshot = Snapshot { index, term, data: request.data };
        self.pending.snapshot(self.snapshot.clone(), tail);
        #[cfg(not(feature = "planted-bugs"))]
        debug_assert!(index > self.applied_index, "a snapshot must move the service forward");
        // Planted bug (test-only): the assertion lets the backward snapshot through.
        #[cfg(feature = "planted-bugs")]
        debug_assert!(
            index > self.applied_index
                || self.config.planted_bug == Some(crate::PlantedBug::SnapshotBelowCommitIndex),
            "a snapshot must move the service forward"
        );
        self.commit_index = index;
        self.applied_index = index;
        self.committed.push(Applied::Snapshot { index, term, data: self.snapshot.data.clone() });
        SnapshotResponse { term: self.term }
    }

    /// A follower now holds the snapshot through `last_included_index`.
    pub(super) fn handle_snapshot_response(&mut self, from: NodeId, last_included_index: Index) {
        if self.role != Role::Leader {
            return;
        }
        let Some(progress) = self.progress.get_mut(&from) else { return };
        progress.record_match(last_included_index);
        if progress.state == ProgressState::Snapshot {
            progress.become_replicate();
        }
        self.to_replicate.insert(from);
        self.maybe_commit();
    }
}
