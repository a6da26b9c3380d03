//! [`LogError`]: what a request outside the log, or one that would break it, returns.

use crate::Index;

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
        /// The index the next entry had to carry.
        last: Index,
        /// The index it carried.
        found: Index,
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
