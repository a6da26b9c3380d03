//! [`Progress`]: what a leader knows of one follower's log (Raft §5.3).

use raft_log::Index;

/// A leader's view of one follower.
///
/// Invariant: `match_index < next_index`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Progress {
    /// The next index to send. Advanced optimistically when entries go out,
    /// so heartbeats do not resend what is in flight; moved back on rejection.
    pub(crate) next_index: Index,
    /// The highest index known to be replicated on the follower.
    pub(crate) match_index: Index,
    /// Ticks left before a snapshot in flight may be sent again; 0 when none is
    /// in flight.
    pub(crate) snapshot_backoff: u32,
    /// The commit index the last AppendEntries to this follower carried.
    pub(crate) sent_commit: Index,
    /// Ticks the follower has gone without hearing of the latest commit.
    pub(crate) commit_lag_ticks: u32,
}

impl Progress {
    /// The progress a new leader starts with (Raft Figure 2: nextIndex is the
    /// leader's last index + 1, matchIndex is 0).
    pub(crate) fn new(last_index: Index) -> Progress {
        Progress {
            next_index: last_index.next(),
            match_index: Index(0),
            snapshot_backoff: 0,
            sent_commit: Index(0),
            commit_lag_ticks: 0,
        }
    }

    /// Records that the follower's log matches through `index`.
    pub(crate) fn record_match(&mut self, index: Index) {
        if index > self.match_index {
            self.match_index = index;
        }
        if self.next_index <= self.match_index {
            self.next_index = self.match_index.next();
        }
    }

    /// Moves `next_index` back to `hint`, never below what is known to match
    /// and never forward. Returns whether it moved.
    pub(crate) fn back_off_to(&mut self, hint: Index) -> bool {
        let target = hint.max(self.match_index.next());
        let moved = target < self.next_index;
        if moved {
            self.next_index = target;
        }
        moved
    }
}
