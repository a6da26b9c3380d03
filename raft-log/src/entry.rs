//! [`Entry`]: one command in the replicated log.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{Index, Term};

/// One log entry: an opaque command, the index it occupies and the term of the
/// leader that created it (Raft §5.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where the entry sits in the log.
    pub index: Index,
    /// The term in which a leader appended it.
    pub term: Term,
    /// The command, opaque to Raft. Shared, not copied, when the entry is
    /// cloned: a leader sends one payload to every follower. On the wire and
    /// on disk it is encoded exactly as a `Vec<u8>` would be.
    pub data: Bytes,
}

impl Entry {
    /// Builds an entry.
    pub fn new(index: Index, term: Term, data: impl Into<Bytes>) -> Entry {
        Entry { index, term, data: data.into() }
    }
}
