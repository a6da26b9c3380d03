//! The errors of `raft-core`: [`ConfigError`], [`ProposeError`], [`NodeError`].

use raft_log::{Index, NodeId};

/// A [`Config`](crate::Config) setting out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `peers` is empty.
    #[error("the cluster has no members")]
    NoPeers,
    /// `id` is not among `peers`.
    #[error("node {0} is not among the peers")]
    NotAMember(NodeId),
    /// A node appears twice in `peers`.
    #[error("node {0} appears twice among the peers")]
    DuplicatePeer(NodeId),
    /// A numeric setting breaks its documented limit.
    #[error("{0}")]
    OutOfRange(&'static str),
}

/// Why a proposal was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposeError {
    /// This node is not the leader; `leader_hint` is the leader it last heard
    /// from, if any.
    #[error("not the leader (leader hint: {leader_hint:?})")]
    NotLeader {
        /// The leader this node last heard from in its current term.
        leader_hint: Option<NodeId>,
    },
    /// The node was shut down.
    #[error("the node is shut down")]
    Shutdown,
}

/// Why a node could not start or carry out a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The configuration is invalid.
    #[error("invalid configuration")]
    Config(#[source] ConfigError),
    /// The builder lacks a persister or a transport.
    #[error("the node builder has no {0}")]
    Missing(&'static str),
    /// The persister failed to load or save.
    #[error("the persister failed")]
    Persist(#[source] raft_persist::PersistError),
    /// The persisted state is inconsistent (entries that do not follow the
    /// snapshot, for instance), or the log refused a change the core made.
    #[error("the log is inconsistent")]
    InconsistentState(#[source] raft_log::LogError),
    /// A node thread could not be started.
    #[error("could not start a node thread")]
    Spawn(#[source] std::io::Error),
    /// The transport refused to serve.
    #[error("the transport failed")]
    Transport(#[source] raft_transport::TransportError),
    /// A snapshot index beyond what the node has handed to the applier.
    #[error("snapshot index {index} is past the last applied index {applied}")]
    SnapshotPastApplied {
        /// The index the service gave.
        index: Index,
        /// The last index the node has queued for the apply channel.
        applied: Index,
    },
    /// The node was shut down.
    #[error("the node is shut down")]
    Shutdown,
}
