//! [`Entry`] and [`EntryKind`]: one record of the replicated log.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{Index, Term};

/// What an entry carries.
///
/// ```
/// use raft_log::{Entry, EntryKind, Index, Term};
///
/// let command = Entry::new(Index(1), Term(1), b"set x 1".to_vec());
/// assert_eq!(command.kind, EntryKind::Command);
/// let noop = Entry::noop(Index(2), Term(2));
/// assert_eq!(noop.kind, EntryKind::Noop);
/// assert!(noop.data.is_empty());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EntryKind {
    /// A service's command, opaque to Raft.
    #[default]
    Command,
    /// An empty entry a new leader appends to commit its predecessors'
    /// entries (thesis §6.4). It carries no data and never reaches the
    /// service as a command.
    Noop,
    /// A membership change. Reserved: no node creates one yet, and a node
    /// refuses an AppendEntries batch that carries one.
    Configuration,
}

/// One log entry: what it carries, the index it occupies and the term of the
/// leader that created it (Raft §5.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where the entry sits in the log.
    pub index: Index,
    /// The term in which a leader appended it.
    pub term: Term,
    /// What the entry carries.
    pub kind: EntryKind,
    /// The payload: the command of a [`EntryKind::Command`], empty for a
    /// no-op. Shared, not copied, when the entry is cloned: a leader sends
    /// one payload to every follower. On the wire and on disk it is encoded
    /// exactly as a `Vec<u8>` would be.
    pub data: Bytes,
}

impl Entry {
    /// Builds a command entry.
    pub fn new(index: Index, term: Term, data: impl Into<Bytes>) -> Entry {
        Entry { index, term, kind: EntryKind::Command, data: data.into() }
    }

    /// Builds a leader's no-op entry.
    pub fn noop(index: Index, term: Term) -> Entry {
        Entry { index, term, kind: EntryKind::Noop, data: Bytes::new() }
    }
}
