//! The errors of `raft-core`: [`ConfigError`], [`RaftError`],
//! [`ProposeError`], [`TransferError`], [`ReadError`], [`NodeError`].

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
    /// Two settings contradict each other.
    #[error("{0}")]
    Contradiction(&'static str),
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
    /// The command alone is larger than one AppendEntries may carry
    /// ([`Config::max_bytes_per_append`](crate::Config::max_bytes_per_append)).
    #[error("the command takes {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// What the command counts: its bytes plus the per-entry overhead.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The leader holds as many uncommitted entries or bytes as it may; try
    /// again once some commit.
    #[error("too many uncommitted entries; try again later")]
    Busy,
    /// The leader is handing its lead to `to`
    /// ([`Raft::transfer_leadership`](crate::Raft::transfer_leadership)) and
    /// takes no new commands meanwhile.
    #[error("leadership is being transferred to node {to}")]
    Transferring {
        /// The node taking the lead.
        to: NodeId,
    },
    /// The node was shut down, or stopped on a failure
    /// ([`Node::stop_reason`](crate::Node::stop_reason) says which).
    #[error("the node is shut down")]
    Shutdown,
}

/// Why a leadership transfer could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// This node is not the leader; `leader_hint` is the leader it last heard
    /// from, if any.
    #[error("not the leader (leader hint: {leader_hint:?})")]
    NotLeader {
        /// The leader this node last heard from in its current term.
        leader_hint: Option<NodeId>,
    },
    /// The target is not a member of the cluster.
    #[error("node {0} is not a peer")]
    UnknownPeer(NodeId),
    /// The node was shut down.
    #[error("the node is shut down")]
    Shutdown,
}

/// Why a read index could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// No leader is known to ask, or the node asked is not the leader;
    /// `leader_hint` is the leader it last heard from, if any.
    #[error("not the leader (leader hint: {leader_hint:?})")]
    NotLeader {
        /// The leader this node last heard from in its current term.
        leader_hint: Option<NodeId>,
    },
    /// The leader lost its lead (or the request to it failed) before it
    /// could confirm the read: try again.
    #[error("leadership changed before the read was confirmed")]
    LeadershipLost,
    /// The node was shut down.
    #[error("the node is shut down")]
    Shutdown,
    /// No answer within the time given.
    #[error("no read index within the time given")]
    Timeout,
}

/// An error of the protocol core, [`Raft`](crate::Raft).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RaftError {
    /// The configuration is invalid.
    #[error("invalid configuration")]
    Config(#[source] ConfigError),
    /// The persisted state is inconsistent (entries that do not follow the
    /// snapshot, for instance), or the log refused a change the core made.
    #[error("the log is inconsistent")]
    InconsistentState(#[source] raft_log::LogError),
    /// A message from, or to, a node outside the cluster.
    #[error("node {0} is not a peer")]
    UnknownPeer(NodeId),
    /// A snapshot index beyond what the core has handed out to apply.
    #[error("snapshot index {index} is past the last applied index {applied}")]
    SnapshotPastApplied {
        /// The index the service gave.
        index: Index,
        /// The last index handed out to apply.
        applied: Index,
    },
}

impl From<RaftError> for NodeError {
    fn from(error: RaftError) -> NodeError {
        match error {
            RaftError::Config(error) => NodeError::Config(error),
            RaftError::InconsistentState(error) => NodeError::InconsistentState(error),
            RaftError::SnapshotPastApplied { index, applied } => {
                NodeError::SnapshotPastApplied { index, applied }
            }
            RaftError::UnknownPeer(peer) => NodeError::UnknownPeer(peer),
        }
    }
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
    /// A message named a node outside the cluster.
    #[error("node {0} is not a peer")]
    UnknownPeer(NodeId),
    /// [`Config::max_bytes_per_append`](crate::Config::max_bytes_per_append)
    /// does not fit in the transport's largest message.
    #[error(
        "max_bytes_per_append ({max_bytes_per_append}) does not fit in the transport's largest message ({max_message_size} bytes)"
    )]
    AppendTooLargeForTransport {
        /// The configured bound.
        max_bytes_per_append: u64,
        /// What the transport can carry.
        max_message_size: u64,
    },
    /// The node was shut down.
    #[error("the node is shut down")]
    Shutdown,
}
