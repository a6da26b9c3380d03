//! [`HistoryError`] and [`VisualizationPolicyError`]: a history the checker
//! cannot take, and a visualization setting it cannot read.

/// Why a history cannot be checked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// An operation returned before it was called.
    #[error("operation {operation} returns at {returned} ns, before its call at {call} ns")]
    ReturnBeforeCall {
        /// The operation's index in the history.
        operation: usize,
        /// Its call time, in nanoseconds.
        call: u64,
        /// Its return time, in nanoseconds.
        returned: u64,
    },
}

/// Why the visualization setting could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VisualizationPolicyError {
    /// The variable holds something other than `never` or `always`.
    #[error("{variable} is {value:?}; expected \"never\", \"always\", or unset")]
    Unrecognized {
        /// The environment variable read.
        variable: &'static str,
        /// Its value (lossily decoded if it was not UTF-8).
        value: String,
    },
}
