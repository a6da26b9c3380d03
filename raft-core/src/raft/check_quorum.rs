//! CheckQuorum and leader stickiness (thesis §6.2, §9.6): a leader that
//! stops hearing from a majority steps down, and a node that hears from a
//! live leader refuses to help depose it.

use raft_log::NodeId;

use super::Raft;
use crate::Role;

impl Raft {
    /// Records that `peer` answered in this node's term: as leader, it is
    /// heard from now.
    pub(super) fn heard_from(&mut self, peer: NodeId) {
        let now = self.ticks;
        if let Some(progress) = self.progress.get_mut(&peer) {
            progress.last_heard = now;
        }
    }

    /// The leader's tick check, with
    /// [`Config::check_quorum`](crate::Config::check_quorum): if fewer than a
    /// majority (itself included) answered in the last `election_ticks_min`
    /// ticks, it steps down. Returns whether it still leads.
    pub(super) fn check_quorum(&mut self) -> bool {
        if !self.config.check_quorum {
            return true;
        }
        let window = u64::from(self.config.election_ticks_min);
        let now = self.ticks;
        let heard = self
            .progress
            .values()
            .filter(|progress| now.saturating_sub(progress.last_heard) < window)
            .count();
        if heard + 1 >= self.quorum() {
            return true;
        }
        tracing::info!(id = %self.id, term = %self.term, "stepping down: no word from a majority within an election timeout");
        self.counters.quorum_losses += 1;
        self.become_follower(self.term, None);
        false
    }

    /// Whether this node leads, or heard from the leader of its term within
    /// the shortest election timeout: it then refuses PreVotes, and under
    /// CheckQuorum RequestVotes too (leader stickiness). A node that started
    /// less than that long ago counts as having heard from one: it may have,
    /// before it restarted, and a leader's lease
    /// ([`Config::lease_reads`](crate::Config::lease_reads)) counts on it.
    pub(super) fn hears_a_live_leader(&self) -> bool {
        let within = self.election_elapsed < self.config.election_ticks_min;
        let just_started = self.ticks < u64::from(self.config.election_ticks_min);
        match self.role {
            Role::Leader => true,
            Role::Follower => within && (self.leader.is_some() || just_started),
            Role::PreCandidate | Role::Candidate => false,
        }
    }
}
