//! The follower's side of log replication (Raft Figure 2's AppendEntries
//! receiver), with the lab's XTerm/XIndex/XLen hints and a whole-batch check
//! before anything touches the log.

use raft_log::{EntryKind, Index, Term};

use super::Raft;
use crate::{AppendRequest, AppendResponse};

/// Why an AppendEntries batch was refused unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BadBatch {
    /// An entry's index does not follow the one before it (or
    /// `prev_log_index` for the first).
    NotContiguous { expected: Index, found: Index },
    /// An entry's term is below the one before it (or `prev_log_term`).
    DecreasingTerm { index: Index },
    /// An entry's term (or `prev_log_term`) is past the request's term.
    TermFromTheFuture { index: Index },
    /// An entry of a kind this version refuses (membership changes).
    ReservedKind { index: Index },
}

/// Checks a batch whole: indices contiguous after `prev_log_index`, terms
/// never decreasing from `prev_log_term`, none past the leader's term, and
/// no configuration entry (reserved for membership changes). A leader that
/// keeps the Log Matching property never sends anything else.
pub(crate) fn check_batch(request: &AppendRequest) -> Result<(), BadBatch> {
    if request.prev_log_term > request.term {
        return Err(BadBatch::TermFromTheFuture { index: request.prev_log_index });
    }
    let (mut index, mut term) = (request.prev_log_index, request.prev_log_term);
    for entry in &request.entries {
        let expected = index.next();
        if entry.index != expected {
            return Err(BadBatch::NotContiguous { expected, found: entry.index });
        }
        if entry.term < term {
            return Err(BadBatch::DecreasingTerm { index: entry.index });
        }
        if entry.term > request.term {
            return Err(BadBatch::TermFromTheFuture { index: entry.index });
        }
        if entry.kind == EntryKind::Configuration {
            return Err(BadBatch::ReservedKind { index: entry.index });
        }
        (index, term) = (entry.index, entry.term);
    }
    Ok(())
}

impl Raft {
    /// AppendEntries receiver (Raft Figure 2).
    pub(super) fn handle_append_request(&mut self, request: AppendRequest) -> AppendResponse {
        let round = request.read_round;
        if request.term < self.term {
            return self.reject_append(None, Index(0), round);
        }
        self.become_follower(request.term, Some(request.leader));
        self.reset_election_timer();
        if let Err(problem) = check_batch(&request) {
            tracing::warn!(id = %self.id, leader = %request.leader, ?problem, "refused a malformed AppendEntries batch");
            return self.reject_append(None, self.log.next_index(), round);
        }

        let AppendRequest { mut prev_log_index, mut prev_log_term, mut entries, .. } = request;
        let base = self.log.base_index();
        if prev_log_index < base {
            // The snapshot covers the start of the batch; those entries are
            // committed, so they match the leader's.
            let covered = (base.0 - prev_log_index.0).min(entries.len() as u64) as usize;
            entries.drain(..covered);
            prev_log_index = base;
            prev_log_term = self.log.base_term();
        }
        if prev_log_index > self.log.last_index() {
            return self.reject_append(None, self.log.next_index(), round);
        }
        if self.log.term(prev_log_index) != Some(prev_log_term) {
            return match self.log.conflict_at(prev_log_index) {
                Some((term, first)) => self.reject_append(Some(term), first, round),
                None => self.reject_append(None, self.log.next_index(), round),
            };
        }

        let match_index = Index(prev_log_index.0 + entries.len() as u64);
        if let Some(position) =
            entries.iter().position(|entry| self.log.term(entry.index) != Some(entry.term))
        {
            let new_entries = entries.split_off(position);
            let first = new_entries[0].index;
            if first <= self.log.last_index() {
                // Raft §5.3: a conflicting entry and all that follow it go.
                // Never a committed one: a leader holds every committed entry.
                if first <= self.commit_index || self.log.truncate_from(first).is_err() {
                    tracing::warn!(id = %self.id, %first, "refused to truncate committed entries");
                    return self.reject_append(None, self.log.next_index(), round);
                }
                self.pending.truncate_from(first);
                self.persisted_index = self.persisted_index.min(Index(first.0 - 1));
            }
            if self.log.append(new_entries.clone()).is_err() {
                // Unreachable after check_batch; refused whole all the same.
                return self.reject_append(None, self.log.next_index(), round);
            }
            self.pending.append(new_entries);
        }
        // Planted bug (test-only): the matching, uncommitted entries that
        // follow a stale batch are dropped (Raft §5.3 drops only conflicts).
        #[cfg(feature = "planted-bugs")]
        if self.config.planted_bug == Some(crate::PlantedBug::TruncateMatchingEntries)
            && match_index > prev_log_index
            && match_index >= self.commit_index
            && match_index < self.log.last_index()
            && self.log.truncate_from(match_index.next()).is_ok()
        {
            self.pending.truncate_from(match_index.next());
            self.persisted_index = self.persisted_index.min(match_index);
        }
        if request.leader_commit > self.commit_index {
            self.commit_index = request.leader_commit.min(match_index).max(self.commit_index);
        }
        AppendResponse {
            term: self.term,
            success: true,
            match_index,
            conflict_term: None,
            conflict_index: Index(0),
            read_round: round,
        }
    }

    /// A refusal of an AppendEntries of read round `read_round`, with the
    /// backtracking hints.
    pub(super) fn reject_append(
        &self,
        conflict_term: Option<Term>,
        conflict_index: Index,
        read_round: u64,
    ) -> AppendResponse {
        AppendResponse {
            term: self.term,
            success: false,
            match_index: Index(0),
            conflict_term,
            conflict_index,
            read_round,
        }
    }
}

#[cfg(test)]
mod tests;
