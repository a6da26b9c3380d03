//! Log replication (Raft §5.3, §5.4): AppendEntries on both sides, fast
//! backtracking with the conflict term and index, and the commit rule.

use raft_log::{Index, NodeId};

use super::Raft;

/// Ticks a follower may go without hearing of a new commit index before the
/// leader tells it outside a heartbeat.
const COMMIT_NEWS_GRACE_TICKS: u32 = 2;
use crate::{AppendRequest, AppendResponse, Request, Role};

impl Raft {
    /// Sends every follower what it lacks, or a heartbeat when it lacks nothing.
    pub(super) fn broadcast_append(&mut self) {
        // By position, so a heartbeat round allocates no copy of the peer list.
        for position in 0..self.peers.len() {
            let peer = self.peers[position];
            self.send_append(peer);
        }
    }

    /// Tells the followers that have gone a whole tick without hearing of the
    /// latest commit index about it, so they apply without waiting for the
    /// next heartbeat. The tick of grace lets the next proposal's
    /// AppendEntries carry the news instead, so a steady stream of proposals
    /// costs no extra messages; when idle, this sends nothing.
    pub(super) fn broadcast_commit(&mut self) {
        let commit_index = self.commit_index;
        let mut behind = Vec::new();
        for (&peer, progress) in &mut self.progress {
            if progress.sent_commit < commit_index {
                progress.commit_lag_ticks += 1;
                if progress.commit_lag_ticks >= COMMIT_NEWS_GRACE_TICKS {
                    behind.push(peer);
                }
            }
        }
        for peer in behind {
            self.send_append(peer);
        }
    }

    /// Sends one follower the entries from its `next_index` (at most
    /// `max_entries_per_append`), or the snapshot when the log no longer holds
    /// them. `next_index` moves past what was sent, so the next heartbeat does
    /// not send it again; a rejection moves it back.
    pub(super) fn send_append(&mut self, peer: NodeId) {
        let Some(progress) = self.progress.get(&peer) else { return };
        let next = progress.next_index;
        if next <= self.log.base_index() {
            self.send_snapshot(peer);
            return;
        }
        let prev_log_index = Index(next.0 - 1);
        let Some(prev_log_term) = self.log.term(prev_log_index) else { return };
        let end = Index(
            (next.0 + self.config.max_entries_per_append as u64).min(self.log.next_index().0),
        );
        let entries = self.log.entries(next..end).map(<[_]>::to_vec).unwrap_or_default();
        if let Some(progress) = self.progress.get_mut(&peer) {
            progress.next_index = Index(next.0 + entries.len() as u64);
            progress.sent_commit = self.commit_index;
            progress.commit_lag_ticks = 0;
        }
        let request = AppendRequest {
            term: self.term,
            leader: self.id,
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit: self.commit_index,
        };
        self.send(peer, Request::Append(request));
    }

    /// AppendEntries receiver (Raft Figure 2), with the lab's XTerm/XIndex/XLen
    /// hints on rejection.
    pub(super) fn handle_append_request(&mut self, request: AppendRequest) -> AppendResponse {
        if request.term < self.term {
            return self.reject_append(None, Index(0));
        }
        self.become_follower(request.term, Some(request.leader));
        self.reset_election_timer();

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
            return self.reject_append(None, self.log.next_index());
        }
        if self.log.term(prev_log_index) != Some(prev_log_term) {
            return match self.log.conflict_at(prev_log_index) {
                Some((term, first)) => self.reject_append(Some(term), first),
                None => self.reject_append(None, self.log.next_index()),
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
                if self.log.truncate_from(first).is_err() {
                    return self.reject_append(None, self.log.next_index());
                }
                self.pending.truncate_from(first);
            }
            if self.log.append(new_entries.clone()).is_err() {
                // A malformed batch (gaps, falling terms): refuse it whole.
                return self.reject_append(None, self.log.next_index());
            }
            self.pending.append(new_entries);
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
        }
    }

    pub(super) fn reject_append(
        &self,
        conflict_term: Option<raft_log::Term>,
        conflict_index: Index,
    ) -> AppendResponse {
        AppendResponse {
            term: self.term,
            success: false,
            match_index: Index(0),
            conflict_term,
            conflict_index,
        }
    }

    /// Takes in a follower's answer to an AppendEntries sent with
    /// `prev_log_index`.
    pub(super) fn handle_append_response(
        &mut self,
        from: NodeId,
        prev_log_index: Index,
        response: AppendResponse,
    ) {
        if self.role != Role::Leader {
            return;
        }
        if response.success {
            self.on_match(from, response.match_index);
            return;
        }
        let Some(progress) = self.progress.get(&from) else { return };
        if prev_log_index < progress.match_index {
            return; // An answer to an older request, overtaken since.
        }
        let hint = match response.conflict_term {
            None => response.conflict_index,
            Some(term) => match self.log.last_index_of_term(term) {
                Some(index) => index.next(),
                None => response.conflict_index,
            },
        };
        let moved = self
            .progress
            .get_mut(&from)
            .is_some_and(|progress| progress.back_off_to(hint.min(prev_log_index)));
        if moved {
            self.send_append(from);
        }
    }

    /// A follower's log now matches the leader's through `index`: count it
    /// toward a commit, and send what it still lacks.
    pub(super) fn on_match(&mut self, from: NodeId, index: Index) {
        let last = self.log.last_index();
        let Some(progress) = self.progress.get_mut(&from) else { return };
        progress.record_match(index.min(last));
        let behind = progress.next_index <= last;
        self.maybe_commit();
        if behind {
            self.send_append(from);
        }
    }

    /// Advances the commit index to the highest index a majority holds, if
    /// that entry is from the current term (Raft §5.4.2).
    pub(super) fn maybe_commit(&mut self) {
        if self.role != Role::Leader {
            return;
        }
        let mut matches: Vec<Index> = self
            .progress
            .values()
            .map(|progress| progress.match_index)
            .chain([self.log.last_index()])
            .collect();
        matches.sort_unstable_by(|a, b| b.cmp(a));
        let candidate = matches[self.quorum() - 1];
        if candidate > self.commit_index && self.log.term(candidate) == Some(self.term) {
            self.commit_index = candidate;
        }
    }
}
