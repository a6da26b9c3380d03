//! [`Entry`]: one command in the replicated log.

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
    /// The command, opaque to Raft.
    pub data: Vec<u8>,
}

impl Entry {
    /// Builds an entry.
    pub fn new(index: Index, term: Term, data: impl Into<Vec<u8>>) -> Entry {
        Entry { index, term, data: data.into() }
    }
}
