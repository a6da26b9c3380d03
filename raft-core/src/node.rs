//! [`Node`]: the driver that runs the protocol core on threads, over a
//! persister and a transport, and its [`NodeBuilder`].

use std::sync::Arc;

use raft_log::{Index, NodeId, Term};
use raft_persist::Persister;
use raft_transport::Transport;

use crate::{Applied, Config, NodeError, ProposeError, Request, Response, Status};

/// The receiving end of a node's apply channel.
pub type ApplyReceiver = crossbeam_channel::Receiver<Applied>;

/// Where a proposal will sit if it commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// The index the entry occupies.
    pub index: Index,
    /// The leader's term when it accepted the entry.
    pub term: Term,
}

/// A handle on a running Raft node. Clones share the node.
#[derive(Clone, Debug)]
pub struct Node {
    id: NodeId,
}

/// Builds and starts a [`Node`].
pub struct NodeBuilder {
    config: Config,
    persister: Option<Arc<dyn Persister>>,
    transport: Option<Arc<dyn Transport<Request, Response>>>,
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBuilder").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Node {
    /// Starts building a node with `config`.
    pub fn builder(config: Config) -> NodeBuilder {
        NodeBuilder { config, persister: None, transport: None }
    }

    /// This node's identity.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Proposes a command. Returns at once with where the entry will sit if it
    /// commits; the entry reaches the apply channel once committed.
    ///
    /// # Errors
    /// [`ProposeError::NotLeader`] on a follower or candidate,
    /// [`ProposeError::Shutdown`] after shutdown.
    pub fn propose(&self, data: impl Into<Vec<u8>>) -> Result<Proposal, ProposeError> {
        let _ = data.into();
        todo!()
    }

    /// The current term and whether this node believes it is the leader.
    pub fn state(&self) -> (Term, bool) {
        todo!()
    }

    /// A fuller view of the node's state.
    pub fn status(&self) -> Status {
        todo!()
    }

    /// Tells the node that the service's `data` holds everything through
    /// `index`, so the log up to there can be discarded (Raft §7). Safe to call
    /// from the thread that reads the apply channel.
    ///
    /// # Errors
    /// [`NodeError::SnapshotPastApplied`] if `index` was not yet applied,
    /// [`NodeError::Persist`] if saving failed, [`NodeError::Shutdown`].
    pub fn snapshot(&self, index: Index, data: Vec<u8>) -> Result<(), NodeError> {
        let _ = (index, data);
        todo!()
    }

    /// The bytes the persisted raft state takes (the lab's `PersistBytes()`).
    pub fn persisted_size(&self) -> u64 {
        todo!()
    }

    /// Stops the node: after it returns, the node sends nothing, applies
    /// nothing and persists nothing. Idempotent.
    pub fn shutdown(&self) {
        todo!()
    }
}

impl NodeBuilder {
    /// The persister holding this node's durable state.
    pub fn persister(mut self, persister: impl Persister) -> NodeBuilder {
        self.persister = Some(Arc::new(persister));
        self
    }

    /// The transport connecting this node to its peers.
    pub fn transport(mut self, transport: impl Transport<Request, Response>) -> NodeBuilder {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// Loads the persisted state, starts the node's threads and serves the
    /// transport. Returns the node and its apply channel.
    ///
    /// # Errors
    /// [`NodeError::Config`], [`NodeError::Missing`], [`NodeError::Persist`],
    /// [`NodeError::InconsistentState`], [`NodeError::Transport`].
    pub fn start(self) -> Result<(Node, ApplyReceiver), NodeError> {
        self.config.validate().map_err(NodeError::Config)?;
        todo!()
    }
}
