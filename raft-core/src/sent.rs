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
        }
    }

    /// The term the request was sent in.
    pub fn term(&self) -> Term {
        match *self {
            Sent::Vote { term } | Sent::Append { term, .. } | Sent::Snapshot { term, .. } => term,
        }
    }
}
