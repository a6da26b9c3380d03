//! [`Applied`]: what the node delivers to the service, in log order.

use bytes::Bytes;
use raft_log::{Index, Term};

/// One item on the apply channel. Items arrive in index order, without gaps or
/// repeats within one run of a node, and a snapshot only ever moves the
/// service forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A committed command: apply it to the state machine.
    Command {
        /// Its log index.
        index: Index,
        /// The term it was proposed in.
        term: Term,
        /// The command's bytes, as proposed (shared with the log, not copied).
        data: Bytes,
    },
    /// A leader's no-op entry ([`Config::noop_on_election`](crate::Config::noop_on_election)):
    /// nothing to apply, but it takes `index`, so the next item has
    /// `index + 1`.
    Noop {
        /// Its log index.
        index: Index,
        /// The term of the leader that appended it.
        term: Term,
    },
    /// A snapshot that replaces the state machine's state: everything through
    /// `index`. The next command, if any, has index `index + 1`.
    Snapshot {
        /// The last index the snapshot covers.
        index: Index,
        /// The term of that entry.
        term: Term,
        /// The service's snapshot bytes.
        data: Vec<u8>,
    },
}

impl Applied {
    /// The index of the command or no-op, or the last index the snapshot
    /// covers.
    pub fn index(&self) -> Index {
        match self {
            Applied::Command { index, .. }
            | Applied::Noop { index, .. }
            | Applied::Snapshot { index, .. } => *index,
        }
    }
}
