//! [`Status`], [`Role`] and [`Counters`]: a read-only view of a node.

use raft_log::{Index, NodeId, Term};

use crate::PeerProgress;

/// The part a node plays in its current term (Raft §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Follows a leader, or waits for one.
    Follower,
    /// Asks whether it could win an election, before starting one
    /// ([`Config::pre_vote`](crate::Config::pre_vote)); its term is unchanged.
    PreCandidate,
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
    /// The last index durable on this node's disk.
    pub persisted_index: Index,
    /// On a leader, each follower's progress, by id; empty otherwise.
    pub progress: Vec<PeerProgress>,
    /// On a leader handing its lead over
    /// ([`Raft::transfer_leadership`](crate::Raft::transfer_leadership)), the
    /// node taking it.
    pub transfer: Option<NodeId>,
    /// What the node has done since it started.
    pub counters: Counters,
}

/// Running totals since a node started, for monitoring.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// AppendEntries requests sent (heartbeats included).
    pub appends_sent: u64,
    /// Entries carried by those requests.
    pub entries_sent: u64,
    /// AppendEntries answers that rejected the request.
    pub rejections: u64,
    /// InstallSnapshot requests sent.
    pub snapshots_sent: u64,
    /// Elections this node started (PreVote rounds not included).
    pub elections: u64,
    /// PreVote rounds this node started.
    pub pre_votes: u64,
    /// Times this node stepped down as leader because it had not heard from
    /// a majority within an election timeout (CheckQuorum).
    pub quorum_losses: u64,
    /// Reads this node confirmed as leader (by a ReadIndex round or its
    /// lease): each of its own, and one per follower's ReadIndex request,
    /// however many reads that request carried.
    pub reads_confirmed: u64,
    /// Messages the transport could not send (they did not encode, or were
    /// over its size limit); each is logged at error level. Counted by the
    /// [`Node`](crate::Node) driver.
    pub unsendable: u64,
}
