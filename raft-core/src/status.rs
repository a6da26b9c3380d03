//! [`Status`] and [`Role`]: a read-only view of a node.

use raft_log::{Index, NodeId, Term};

/// The part a node plays in its current term (Raft §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Follows a leader, or waits for one.
    Follower,
    /// Asks for votes.
    Candidate,
    /// Replicates the log.
    Leader,
}

/// A snapshot of a node's state, for monitoring and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// This node.
    pub id: NodeId,
    /// Its current term.
    pub term: Term,
    /// Its role in that term.
    pub role: Role,
    /// The leader it knows of in that term.
    pub leader: Option<NodeId>,
    /// The highest index known committed.
    pub commit_index: Index,
    /// The highest index queued for the apply channel (the service may not
    /// have read it yet).
    pub applied_index: Index,
    /// The last index the latest snapshot covers.
    pub snapshot_index: Index,
    /// The index of the last log entry.
    pub last_index: Index,
}
