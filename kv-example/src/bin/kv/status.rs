//! The status JSON of one node ([`NodeStatus`]) and of the cluster
//! ([`ClusterStatus`]), and the [`LeaderLog`] of recent leader changes.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use raft_core::{ProgressState, Role, Status};
use serde::{Deserialize, Serialize};

/// How many leader changes a node remembers.
pub(crate) const LEADER_CHANGES_KEPT: usize = 16;

/// One node's view of itself, as `GET /status` gives it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NodeStatus {
    pub(crate) id: u64,
    pub(crate) url: String,
    pub(crate) role: String,
    pub(crate) term: u64,
    pub(crate) leader: Option<u64>,
    pub(crate) commit_index: u64,
    pub(crate) applied_index: u64,
    pub(crate) persisted_index: u64,
    pub(crate) snapshot_index: u64,
    pub(crate) last_index: u64,
    pub(crate) elections: u64,
    /// On a leader handing its lead over, the node taking it.
    #[serde(default)]
    pub(crate) transfer: Option<u64>,
    /// On the leader, each follower's replication progress.
    pub(crate) progress: Vec<PeerStatus>,
    /// The leader changes this node has seen, oldest first.
    pub(crate) leader_changes: Vec<LeaderChange>,
}

/// A leader's view of one follower.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PeerStatus {
    pub(crate) id: u64,
    pub(crate) state: String,
    pub(crate) match_index: u64,
    pub(crate) next_index: u64,
    pub(crate) inflight: usize,
}

/// One change of leader, as a node saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LeaderChange {
    /// When it was seen, in milliseconds since the Unix epoch.
    pub(crate) at_ms: u64,
    pub(crate) term: u64,
    /// The new leader; `None` while there is none known.
    pub(crate) leader: Option<u64>,
}

/// The whole cluster as one node sees it, as `GET /cluster/status` gives it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct ClusterStatus {
    /// The node that answered.
    pub(crate) answered_by: u64,
    /// The leader of the highest term any reachable node reports.
    pub(crate) leader: Option<u64>,
    /// Every member, by id: its status, or why it gave none.
    pub(crate) nodes: Vec<MemberStatus>,
    /// The answering node's recent leader changes.
    pub(crate) leader_changes: Vec<LeaderChange>,
}

/// One member in [`ClusterStatus`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MemberStatus {
    pub(crate) id: u64,
    pub(crate) url: String,
    pub(crate) reachable: bool,
    /// Why it is not reachable.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub(crate) status: Option<NodeStatus>,
}

impl NodeStatus {
    pub(crate) fn new(
        status: &Status,
        url: String,
        leader_changes: Vec<LeaderChange>,
    ) -> NodeStatus {
        NodeStatus {
            id: status.id.0,
            url,
            role: role_name(status.role).to_owned(),
            term: status.term.0,
            leader: status.leader.map(|leader| leader.0),
            commit_index: status.commit_index.0,
            applied_index: status.applied_index.0,
            persisted_index: status.persisted_index.0,
            snapshot_index: status.snapshot_index.0,
            last_index: status.last_index.0,
            elections: status.counters.elections,
            transfer: status.transfer.map(|to| to.0),
            progress: status
                .progress
                .iter()
                .map(|peer| PeerStatus {
                    id: peer.id.0,
                    state: match peer.state {
                        ProgressState::Probe => "probe",
                        ProgressState::Replicate => "replicate",
                        ProgressState::Snapshot => "snapshot",
                    }
                    .to_owned(),
                    match_index: peer.match_index.0,
                    next_index: peer.next_index.0,
                    inflight: peer.inflight,
                })
                .collect(),
            leader_changes,
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Leader => "leader",
        Role::Candidate => "candidate",
        Role::PreCandidate => "pre-candidate",
        Role::Follower => "follower",
    }
}

/// The last [`LEADER_CHANGES_KEPT`] leader changes one node has seen.
#[derive(Debug, Default)]
pub(crate) struct LeaderLog {
    changes: VecDeque<LeaderChange>,
}

impl LeaderLog {
    /// Notes the leader `status` reports, if it differs from the last one
    /// noted.
    pub(crate) fn observe(&mut self, status: &Status) {
        let leader = status.leader.map(|leader| leader.0);
        let term = status.term.0;
        if self.changes.back().is_some_and(|last| last.leader == leader) {
            return;
        }
        if self.changes.len() == LEADER_CHANGES_KEPT {
            self.changes.pop_front();
        }
        self.changes.push_back(LeaderChange { at_ms: unix_millis(), term, leader });
    }

    /// The changes, oldest first.
    pub(crate) fn changes(&self) -> Vec<LeaderChange> {
        self.changes.iter().cloned().collect()
    }
}

fn unix_millis() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use raft_core::{Counters, Index, NodeId, Term};

    use super::*;

    fn status(term: u64, leader: Option<u64>) -> Status {
        Status {
            id: NodeId(1),
            term: Term(term),
            role: Role::Follower,
            leader: leader.map(NodeId),
            commit_index: Index(0),
            applied_index: Index(0),
            snapshot_index: Index(0),
            last_index: Index(0),
            persisted_index: Index(0),
            progress: Vec::new(),
            transfer: None,
            counters: Counters::default(),
        }
    }

    #[test]
    fn the_leader_log_notes_changes_only() {
        let mut log = LeaderLog::default();
        log.observe(&status(1, None));
        log.observe(&status(1, None));
        log.observe(&status(1, Some(2)));
        log.observe(&status(1, Some(2)));
        log.observe(&status(2, Some(3)));
        let seen: Vec<_> =
            log.changes().iter().map(|change| (change.term, change.leader)).collect();
        assert_eq!(seen, [(1, None), (1, Some(2)), (2, Some(3))]);
    }

    #[test]
    fn the_leader_log_keeps_the_latest_changes() {
        let mut log = LeaderLog::default();
        for term in 0..(LEADER_CHANGES_KEPT as u64 + 5) {
            log.observe(&status(term, Some(term % 2 + 1)));
        }
        let changes = log.changes();
        assert_eq!(changes.len(), LEADER_CHANGES_KEPT);
        assert_eq!(changes.last().unwrap().term, LEADER_CHANGES_KEPT as u64 + 4);
        assert_eq!(changes[0].term, 5);
    }
}
