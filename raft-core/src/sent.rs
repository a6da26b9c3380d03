//! [`Sent`]: what the driver remembers of a request it sent, to hand back to
//! the core with the answer.

use raft_log::{Index, Term};

use crate::Request;

/// What a driver remembers of a request it sent, to hand back with the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
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
    pub(crate) fn of(request: &Request) -> Sent {
        match request {
            Request::Vote(request) => Sent::Vote { term: request.term },
            Request::Append(request) => {
                Sent::Append { term: request.term, prev_log_index: request.prev_log_index }
            }
            Request::Snapshot(request) => Sent::Snapshot {
                term: request.term,
                last_included_index: request.last_included_index,
            },
        }
    }

    /// The term the request was sent in.
    pub(crate) fn term(&self) -> Term {
        match *self {
            Sent::Vote { term } | Sent::Append { term, .. } | Sent::Snapshot { term, .. } => term,
        }
    }
}
