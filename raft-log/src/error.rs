//! [`LogError`]: what a request outside the log, or one that would break it, returns.

use crate::{Index, Term};

/// Why the log refused a request. The log is unchanged when it returns one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The index lies at or before the base: a snapshot already covers it.
    #[error("index {index} is compacted (the log starts after {base})")]
    Compacted {
        /// The index asked for.
        index: Index,
        /// The log's base index.
        base: Index,
    },
    /// The index lies past the last entry.
    #[error("index {index} is past the last entry {last}")]
    Unavailable {
        /// The index asked for.
        index: Index,
        /// The log's last index.
        last: Index,
    },
    /// Appended entries do not follow on from the log without a gap, or their
    /// indices are not consecutive.
    #[error("entry at index {found} does not follow index {last}")]
    NotContiguous {
        /// The index the entry had to follow: one before the index it had to carry.
        last: Index,
        /// The index it carried.
        found: Index,
    },
    /// An appended entry's term is below the term of the entry before it (or of
    /// the base): terms never decrease along a Raft log (Raft §5.3).
    #[error("entry at index {index} has term {term}, below the term {previous} before it")]
    DecreasingTerm {
        /// The entry's index.
        index: Index,
        /// The entry's term.
        term: Term,
        /// The term of the entry before it.
        previous: Term,
    },
    /// A range whose start lies after its end.
    #[error("range start {start} is after its end {end}")]
    InvertedRange {
        /// The range's start.
        start: Index,
        /// The range's end.
        end: Index,
    },
}
