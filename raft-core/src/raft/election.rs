//! Leader election (Raft §5.2, §5.4.1) with PreVote (thesis §9.6):
//! campaigning, voting, winning.

use raft_log::NodeId;

use super::{Raft, charged_bytes};
use crate::progress::Progress;
use crate::{Request, Role, VoteRequest, VoteResponse};

impl Raft {
    /// The election timer ran out: a PreVote round if
    /// [`Config::pre_vote`](crate::Config::pre_vote) is on, else an election.
    pub(super) fn start_election(&mut self) {
        if self.config.pre_vote {
            self.pre_campaign();
        } else {
            self.campaign(false);
        }
    }

    /// Asks every peer whether it would vote for this node in the next term,
    /// without moving to it (thesis §9.6). A majority of yes starts the real
    /// election; anything less leaves the term where it was.
    fn pre_campaign(&mut self) {
        self.role = Role::PreCandidate;
        self.leader = None;
        self.votes.clear();
        self.votes.insert(self.id);
        self.reset_election_timer();
        self.counters.pre_votes += 1;
        tracing::debug!(id = %self.id, term = %self.term, "asking for pre-votes");
        if self.votes.len() >= self.quorum() {
            self.campaign(false);
            return;
        }
        let request = self.vote_request(self.term.next(), false);
        for position in 0..self.peers.len() {
            let peer = self.peers[position];
            self.send(peer, Request::PreVote(request.clone()));
        }
    }

    /// Starts an election in the next term, voting for itself (Raft §5.2).
    /// `transfer`: the leader handed this node the lead (TimeoutNow), so
    /// voters set leader stickiness aside.
    pub(super) fn campaign(&mut self, transfer: bool) {
        self.term = self.term.next();
        self.voted_for = Some(self.id);
        self.save_hard_state();
        self.role = Role::Candidate;
        self.leader = None;
        self.votes.clear();
        self.votes.insert(self.id);
        self.reset_election_timer();
        self.counters.elections += 1;
        tracing::debug!(id = %self.id, term = %self.term, transfer, "campaigning");
        if self.votes.len() >= self.quorum() {
            self.become_leader();
            return;
        }
        let request = self.vote_request(self.term, transfer);
        for position in 0..self.peers.len() {
            let peer = self.peers[position];
            self.send(peer, Request::Vote(request.clone()));
        }
    }

    /// This node's RequestVote (or PreVote) for `term`.
    fn vote_request(&self, term: raft_log::Term, transfer: bool) -> VoteRequest {
        VoteRequest {
            term,
            candidate: self.id,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            transfer,
        }
    }

    /// Whether the candidate's log is at least as up to date as this node's
    /// (Raft §5.4.1).
    fn is_up_to_date(&self, request: &VoteRequest) -> bool {
        (request.last_log_term, request.last_log_index)
            >= (self.log.last_term(), self.log.last_index())
    }

    /// RequestVote receiver (Raft Figure 2): grant at most one vote per term,
    /// and only to a candidate whose log is at least as up to date (§5.4.1).
    /// Under leader stickiness the request is refused unread, its term not
    /// taken up, unless the candidate campaigns on a transfer.
    pub(super) fn handle_vote_request(&mut self, request: VoteRequest) -> VoteResponse {
        let sticky = self.config.check_quorum && !request.transfer;
        if request.term > self.term && sticky && self.hears_a_live_leader() {
            return VoteResponse { term: self.term, granted: false };
        }
        if request.term > self.term {
            self.become_follower(request.term, None);
        }
        let free = self.voted_for.is_none() || self.voted_for == Some(request.candidate);
        // Planted bug (test-only): a second candidate in the term gets a vote too.
        #[cfg(feature = "planted-bugs")]
        let free = free || self.config.planted_bug == Some(crate::PlantedBug::VoteTwiceInOneTerm);
        let granted = request.term == self.term && free && self.is_up_to_date(&request);
        if granted {
            self.voted_for = Some(request.candidate);
            self.save_hard_state();
            self.reset_election_timer();
        }
        VoteResponse { term: self.term, granted }
    }

    /// PreVote receiver (thesis §9.6): would this node vote for the candidate
    /// in `request.term`? It changes nothing here: no term, no vote, no
    /// timer. Yes only for a later term than this node's, a log at least as
    /// up to date, and no live leader heard from (stickiness).
    pub(super) fn handle_pre_vote_request(&mut self, request: VoteRequest) -> VoteResponse {
        let granted =
            request.term > self.term && self.is_up_to_date(&request) && !self.hears_a_live_leader();
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

    /// Counts a pre-vote; a majority starts the real election.
    pub(super) fn handle_pre_vote_response(&mut self, from: NodeId, response: &VoteResponse) {
        if self.role != Role::PreCandidate || !response.granted {
            return;
        }
        self.votes.insert(from);
        if self.votes.len() >= self.quorum() {
            self.campaign(false);
        }
    }

    /// Takes the lead in the current term and asserts it at once with a round
    /// of heartbeats (probes, as every follower starts in the probe state),
    /// which carry the no-op entry if
    /// [`Config::noop_on_election`](crate::Config::noop_on_election) asks for
    /// one.
    fn become_leader(&mut self) {
        tracing::debug!(id = %self.id, term = %self.term, "became leader");
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.votes.clear();
        let last = self.log.last_index();
        let now = self.ticks;
        self.progress = self
            .peers
            .iter()
            .map(|&peer| {
                let mut progress = Progress::new(last);
                // The votes just counted: a majority was heard from now.
                progress.last_heard = now;
                (peer, progress)
            })
            .collect();
        self.term_start_index = last;
        self.uncommitted_bytes = 0;
        self.heartbeat_elapsed = 0;
        if self.config.noop_on_election {
            let index = self.log.push_noop(self.term);
            self.appended_own(index, charged_bytes(&[]));
        }
        self.broadcast_heartbeat();
        self.maybe_commit();
    }
}
