//! [`Sent`]: what a driver remembers of a request the core sent, to hand back
//! with the answer (the explicit echo of the paired request/answer design).

use raft_log::{Index, Term};

use crate::Request;

/// What a driver remembers of a request it sent, to hand back to
/// [`Raft::step`](crate::Raft::step) with the answer or the failure.
///
/// The core's messages are paired: each request gets one answer, or fails.
/// Answers do not repeat what was asked, so the driver keeps this small
/// summary of each request until its outcome is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sent {
    /// A RequestVote in `term`.
    Vote {
        /// The candidate's term.
        term: Term,
    },
    /// An AppendEntries in `term` following `prev_log_index`.
    Append {
        /// The leader's term.
        term: Term,
        /// The request's `prev_log_index`.
        prev_log_index: Index,
        /// How many entries it carried (0 for a heartbeat).
        entries: u64,
    },
    /// An InstallSnapshot in `term` through `last_included_index`.
    Snapshot {
        /// The leader's term.
        term: Term,
        /// The snapshot's last index.
        last_included_index: Index,
    },
    /// A PreVote for the election of `term` (the candidate's term + 1).
    PreVote {
        /// The term the candidate would campaign in.
        term: Term,
    },
    /// A TimeoutNow in `term`.
    TimeoutNow {
        /// The leader's term.
        term: Term,
    },
    /// A follower's ReadIndex request for its read batch `batch`.
    ReadIndex {
        /// The follower's term.
        term: Term,
        /// The batch.
        batch: u64,
    },
}

impl Sent {
    /// What to remember of `request`.
    ///
    /// ```
    /// use raft_core::{Index, NodeId, Request, Sent, Term, VoteRequest};
    ///
    /// let request = Request::Vote(VoteRequest {
    ///     term: Term(3),
    ///     candidate: NodeId(1),
    ///     last_log_index: Index(7),
    ///     last_log_term: Term(2),
    ///     transfer: false,
    /// });
    /// assert_eq!(Sent::of(&request), Sent::Vote { term: Term(3) });
    /// ```
    pub fn of(request: &Request) -> Sent {
        match request {
            Request::Vote(request) => Sent::Vote { term: request.term },
            Request::Append(request) => Sent::Append {
                term: request.term,
                prev_log_index: request.prev_log_index,
                entries: request.entries.len() as u64,
            },
            Request::Snapshot(request) => Sent::Snapshot {
                term: request.term,
                last_included_index: request.last_included_index,
            },
            Request::PreVote(request) => Sent::PreVote { term: request.term },
            Request::TimeoutNow(request) => Sent::TimeoutNow { term: request.term },
            Request::ReadIndex(request) => {
                Sent::ReadIndex { term: request.term, batch: request.batch }
            }
        }
    }

    /// The term the request carried (for a PreVote, the term of the
    /// election it asks about).
    pub fn term(&self) -> Term {
        match *self {
            Sent::Vote { term }
            | Sent::Append { term, .. }
            | Sent::Snapshot { term, .. }
            | Sent::PreVote { term }
            | Sent::TimeoutNow { term }
            | Sent::ReadIndex { term, .. } => term,
        }
    }
}
