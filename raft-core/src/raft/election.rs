//! Leader election (Raft §5.2, §5.4.1): campaigning, voting, winning.

use raft_log::NodeId;

use super::Raft;
use crate::progress::Progress;
use crate::{Request, Role, VoteRequest, VoteResponse};

impl Raft {
    /// Starts an election in the next term, voting for itself (Raft §5.2).
    pub(super) fn campaign(&mut self) {
        self.term = self.term.next();
        self.voted_for = Some(self.id);
        self.save_hard_state();
        self.role = Role::Candidate;
        self.leader = None;
        self.votes.clear();
        self.votes.insert(self.id);
        self.reset_election_timer();
        self.counters.elections += 1;
        tracing::debug!(id = %self.id, term = %self.term, "campaigning");
        if self.votes.len() >= self.quorum() {
            self.become_leader();
            return;
        }
        let request = VoteRequest {
            term: self.term,
            candidate: self.id,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for position in 0..self.peers.len() {
            let peer = self.peers[position];
            self.send(peer, Request::Vote(request.clone()));
        }
    }

    /// RequestVote receiver (Raft Figure 2): grant at most one vote per term,
    /// and only to a candidate whose log is at least as up to date (§5.4.1).
    pub(super) fn handle_vote_request(&mut self, request: VoteRequest) -> VoteResponse {
        if request.term > self.term {
            self.become_follower(request.term, None);
        }
        let free = self.voted_for.is_none() || self.voted_for == Some(request.candidate);
        // Planted bug (test-only): a second candidate in the term gets a vote too.
        #[cfg(feature = "planted-bugs")]
        let free = free || self.config.planted_bug == Some(crate::PlantedBug::VoteTwiceInOneTerm);
        let up_to_date = (request.last_log_term, request.last_log_index)
            >= (self.log.last_term(), self.log.last_index());
        let granted = request.term == self.term && free && up_to_date;
        if granted {
            self.voted_for = Some(request.candidate);
            self.save_hard_state();
            self.reset_election_timer();
        }
        VoteResponse { term: self.term, granted }
    }

    /// Counts a vote; a majority makes this candidate the leader.
    pub(super) fn handle_vote_response(&mut self, from: NodeId, response: VoteResponse) {
        if self.role != Role::Candidate || !response.granted {
            return;
        }
        self.votes.insert(from);
        if self.votes.len() >= self.quorum() {
            self.become_leader();
        }
    }

    /// Takes the lead in the current term and asserts it at once with a round
    /// of heartbeats (probes, as every follower starts in the probe state). No
    /// no-op entry is appended (the lab's tests count exact indices).
    fn become_leader(&mut self) {
        tracing::debug!(id = %self.id, term = %self.term, "became leader");
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.votes.clear();
        let last = self.log.last_index();
        self.progress = self.peers.iter().map(|&peer| (peer, Progress::new(last))).collect();
        self.term_start_index = last;
        self.uncommitted_bytes = 0;
        self.heartbeat_elapsed = 0;
        self.broadcast_heartbeat();
        self.maybe_commit();
    }
}
