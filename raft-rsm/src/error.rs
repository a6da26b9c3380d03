//! The errors of `raft-rsm`: [`SubmitError`] and [`StartError`].

use raft_core::NodeId;

/// Why a submitted command has no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// This node does not lead, or lost the lead before the command
    /// committed (another entry, or one of a higher term, took its index).
    /// Try another node; `leader_hint` is the leader this one knows of.
    #[error("not the leader (leader hint: {leader_hint:?})")]
    WrongLeader {
        /// The leader this node last heard from, if any.
        leader_hint: Option<NodeId>,
    },
    /// No answer within the submit timeout; the command may still apply.
    #[error("no answer within the submit timeout")]
    TimedOut,
    /// The leader holds as many uncommitted commands as it may.
    #[error("the leader is busy; try again")]
    Busy,
    /// The command is larger than one log entry may be.
    #[error("the command takes {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Its encoded size plus the per-entry overhead.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The command could not be encoded.
    #[error("the command does not encode: {0}")]
    Encode(String),
    /// The node stopped.
    #[error("the node stopped")]
    Stopped,
}

/// Why the replicated state machine could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The node did not start.
    #[error("the node did not start")]
    Node(#[source] raft_core::NodeError),
    /// The applier thread could not be started.
    #[error("could not start the applier thread")]
    Spawn(#[source] std::io::Error),
}
