//! The records of a version-1 log, whose entries have no kind, read so that
//! an old log can be rewritten in the current version.

use std::borrow::Cow;

use raft_log::{Index, Term};
use serde::Deserialize;
#[cfg(test)]
use serde::Serialize;

use crate::HardState;

/// A record as version 1 lays it out: the variants and fields of the current
/// [`Record`](super::Record), in the same order, with [`Entry`]s of the old
/// layout.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(crate) enum Record {
    /// As [`Record::Base`](super::Record::Base).
    Base {
        /// The number of the snapshot file; 0 means no snapshot.
        generation: u64,
        /// Where that snapshot ends.
        point: Option<(Index, Term)>,
    },
    /// As [`Record::Change`](super::Record::Change).
    Change {
        /// A new hard state.
        hard_state: Option<HardState>,
        /// Drop the entries from this index on.
        truncate_from: Option<Index>,
        /// Entries to append.
        append: Vec<Entry>,
    },
}

/// An entry as version 1 lays it out: [`raft_log::Entry`] before it gained a
/// kind. Every such entry was a command.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[cfg_attr(test, derive(Serialize))]
pub(crate) struct Entry {
    /// Where the entry sits in the log.
    pub(crate) index: Index,
    /// The term in which a leader appended it.
    pub(crate) term: Term,
    /// The command.
    pub(crate) data: Vec<u8>,
}

impl From<Entry> for raft_log::Entry {
    fn from(entry: Entry) -> raft_log::Entry {
        raft_log::Entry::new(entry.index, entry.term, entry.data)
    }
}

impl From<Record> for super::Record<'_> {
    fn from(record: Record) -> Self {
        match record {
            Record::Base { generation, point } => super::Record::Base { generation, point },
            Record::Change { hard_state, truncate_from, append } => super::Record::Change {
                hard_state,
                truncate_from,
                append: Cow::Owned(append.into_iter().map(raft_log::Entry::from).collect()),
            },
        }
    }
}
