//! The Raft RPCs (Figure 2, §7), the thesis' extensions (PreVote §9.6,
//! TimeoutNow §3.10, a follower's ReadIndex §6.4), and the
//! [`Request`]/[`Response`] envelopes a transport carries.

use raft_log::{Entry, Index, NodeId, Term};
use serde::{Deserialize, Serialize};

/// RequestVote arguments (Raft §5.2, §5.4.1), also carried by a PreVote
/// (thesis §9.6), where `term` is the term the candidate would campaign in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRequest {
    /// The candidate's term (for a PreVote: its current term + 1).
    pub term: Term,
    /// The candidate.
    pub candidate: NodeId,
    /// The index of the candidate's last entry.
    pub last_log_index: Index,
    /// The term of the candidate's last entry.
    pub last_log_term: Term,
    /// The candidate campaigns because the leader handed it the lead
    /// (TimeoutNow, thesis §3.10): voters set leader stickiness aside.
    pub transfer: bool,
}

/// RequestVote and PreVote results. A PreVote's answer carries the voter's
/// own term, which a granted PreVote never exceeds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteResponse {
    /// The voter's current term, for the candidate to update itself.
    pub term: Term,
    /// Whether the candidate received the vote.
    pub granted: bool,
}

/// AppendEntries arguments (Raft §5.3): replication and heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendRequest {
    /// The leader's term.
    pub term: Term,
    /// The leader, so followers can redirect clients.
    pub leader: NodeId,
    /// The index of the entry just before the new ones.
    pub prev_log_index: Index,
    /// The term of that entry.
    pub prev_log_term: Term,
    /// The entries to store (empty for a heartbeat).
    pub entries: Vec<Entry>,
    /// The leader's commit index.
    pub leader_commit: Index,
    /// The leader's latest read round (ReadIndex, thesis §6.4), echoed in
    /// the answer: an answer in the leader's term to a request of round `r`
    /// confirms the leadership for every read of round `r` or earlier.
    pub read_round: u64,
}

/// AppendEntries results, with the hints for fast backtracking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResponse {
    /// The follower's current term.
    pub term: Term,
    /// Whether the follower's log matched `prev_log_index`/`prev_log_term`.
    pub success: bool,
    /// On success, the last index now known to match the leader's log.
    pub match_index: Index,
    /// On failure, the term of the follower's conflicting entry at
    /// `prev_log_index` (the lab's XTerm), if it has one.
    pub conflict_term: Option<Term>,
    /// On failure, the first index of `conflict_term` in the follower's log
    /// (XIndex), or the follower's next free index when it has no entry at
    /// `prev_log_index` (XLen).
    pub conflict_index: Index,
    /// The request's `read_round`, echoed.
    pub read_round: u64,
}

/// InstallSnapshot arguments (Raft §7), the whole snapshot in one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotRequest {
    /// The leader's term.
    pub term: Term,
    /// The leader.
    pub leader: NodeId,
    /// The last index the snapshot covers.
    pub last_included_index: Index,
    /// The term of that entry.
    pub last_included_term: Term,
    /// The service's snapshot bytes.
    pub data: Vec<u8>,
}

/// InstallSnapshot results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotResponse {
    /// The follower's current term.
    pub term: Term,
}

/// TimeoutNow arguments (thesis §3.10): the leader hands `leader`'s lead to
/// the receiver, which campaigns at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutNowRequest {
    /// The leader's term.
    pub term: Term,
    /// The leader.
    pub leader: NodeId,
}

/// TimeoutNow results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutNowResponse {
    /// The receiver's term, after it started campaigning.
    pub term: Term,
}

/// A follower's request for a read index (thesis §6.4): the leader answers
/// once it has confirmed its leadership, with the commit index a read that
/// began before the request may be served at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadIndexRequest {
    /// The follower's term.
    pub term: Term,
    /// The follower.
    pub follower: NodeId,
    /// The follower's name for the batch of reads it asks for, so it can
    /// match the answer ([`Sent::ReadIndex`](crate::Sent::ReadIndex)).
    pub batch: u64,
}

/// ReadIndex results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadIndexResponse {
    /// The answering node's term.
    pub term: Term,
    /// The read index, or `None` if the node does not lead (or lost the lead
    /// before confirming it).
    pub index: Option<Index>,
}

/// Any Raft request, as a transport carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// RequestVote.
    Vote(VoteRequest),
    /// AppendEntries.
    Append(AppendRequest),
    /// InstallSnapshot.
    Snapshot(SnapshotRequest),
    /// PreVote: would the receiver vote for the candidate in `term`?
    PreVote(VoteRequest),
    /// TimeoutNow.
    TimeoutNow(TimeoutNowRequest),
    /// ReadIndex, from a follower.
    ReadIndex(ReadIndexRequest),
}

/// Any Raft response, as a transport carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// RequestVote's result.
    Vote(VoteResponse),
    /// AppendEntries' result.
    Append(AppendResponse),
    /// InstallSnapshot's result.
    Snapshot(SnapshotResponse),
    /// PreVote's result.
    PreVote(VoteResponse),
    /// TimeoutNow's result.
    TimeoutNow(TimeoutNowResponse),
    /// ReadIndex's result.
    ReadIndex(ReadIndexResponse),
}

/// The largest term or index a message may carry. Anything beyond is refused
/// as malformed: no real cluster gets within 2^32 of 2^64, and refusing such
/// values keeps every `Term::next` and `Index::next` in range, so a peer that
/// sends `u64::MAX` cannot make a node panic or wrap its term around.
pub(crate) const MAX_PLAUSIBLE: u64 = u64::MAX - u32::MAX as u64;

impl Request {
    /// The node that sent the request: the candidate or the leader.
    pub fn sender(&self) -> NodeId {
        match self {
            Request::Vote(request) | Request::PreVote(request) => request.candidate,
            Request::Append(request) => request.leader,
            Request::Snapshot(request) => request.leader,
            Request::TimeoutNow(request) => request.leader,
            Request::ReadIndex(request) => request.follower,
        }
    }

    /// Whether every term and index in the request is within
    /// [`MAX_PLAUSIBLE`].
    pub(crate) fn is_plausible(&self) -> bool {
        let numbers = match self {
            Request::Vote(request) | Request::PreVote(request) => {
                [request.term.0, request.last_log_index.0, request.last_log_term.0]
            }
            Request::Append(request) => {
                [request.term.0, request.prev_log_index.0, request.leader_commit.0]
            }
            Request::Snapshot(request) => {
                [request.term.0, request.last_included_index.0, request.last_included_term.0]
            }
            Request::TimeoutNow(request) => [request.term.0, 0, 0],
            Request::ReadIndex(request) => [request.term.0, 0, 0],
        };
        numbers.iter().all(|&number| number <= MAX_PLAUSIBLE)
    }
}

impl Response {
    /// The responder's term.
    pub fn term(&self) -> Term {
        match self {
            Response::Vote(response) | Response::PreVote(response) => response.term,
            Response::Append(response) => response.term,
            Response::Snapshot(response) => response.term,
            Response::TimeoutNow(response) => response.term,
            Response::ReadIndex(response) => response.term,
        }
    }
}
