//! Raft consensus (the extended paper's Figure 2 and §7): leader election, log
//! replication, persistence and snapshots, behind a small [`Node`] API.
//!
//! A node is built from a [`Config`], a [`Persister`](raft_persist::Persister)
//! (where its term, vote, log and snapshot live) and a
//! [`Transport`](raft_transport::Transport) (how it reaches its peers). It
//! hands committed commands, in log order, to the service on its apply
//! channel.
//!
//! Not here: sockets, files and wire encodings (the persister's and the
//! transport's business), and membership changes.
//!
//! # Example
//!
//! A one-node cluster over the in-process transport and the memory persister:
//!
//! ```
//! use raft_core::{Applied, Config, Node, NodeId};
//! use raft_persist::MemPersister;
//! use raft_transport::ChannelNetwork;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let network = ChannelNetwork::new();
//! let (node, applied) = Node::builder(Config::new(NodeId(1), vec![NodeId(1)]))
//!     .persister(MemPersister::new())
//!     .transport(network.transport(NodeId(1))?)
//!     .start()?;
//!
//! // A lone node elects itself once its election timeout passes.
//! let proposal = loop {
//!     match node.propose(b"hello".to_vec()) {
//!         Ok(proposal) => break proposal,
//!         Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
//!     }
//! };
//! match applied.recv()? {
//!     Applied::Command { index, data, .. } => {
//!         assert_eq!(index, proposal.index);
//!         assert_eq!(data, b"hello");
//!     }
//!     other => panic!("expected a command, got {other:?}"),
//! }
//! node.shutdown();
//! # Ok(())
//! # }
//! ```
//!
//! # How it is built
//!
//! The protocol core (`Raft`, private) is deterministic: it does no IO, reads
//! no clock, spawns no thread and draws randomness from a generator seeded by
//! [`Config::seed`]. The node driver runs it on one event-loop thread: after
//! each batch of steps it saves the changes through the persister, then sends
//! messages and answers requests, then hands committed entries to an applier
//! thread that feeds the apply channel. So nothing leaves a node before the
//! state it depends on is durable, the network never blocks the loop, and a
//! slow service never blocks it either.

mod applied;
mod config;
mod error;
mod message;
mod node;
mod progress;
mod raft;
mod ready;
mod sent;
mod status;

pub use crate::applied::Applied;
pub use crate::config::{
    Config, DEFAULT_ELECTION_TICKS_MAX, DEFAULT_ELECTION_TICKS_MIN, DEFAULT_HEARTBEAT_TICKS,
    DEFAULT_MAX_ENTRIES_PER_APPEND, DEFAULT_TICK_INTERVAL,
};
pub use crate::error::{ConfigError, NodeError, ProposeError};
pub use crate::message::{
    AppendRequest, AppendResponse, Request, Response, SnapshotRequest, SnapshotResponse,
    VoteRequest, VoteResponse,
};
pub use crate::node::{ApplyReceiver, Node, NodeBuilder, Proposal};
pub(crate) use crate::sent::Sent;
pub use crate::status::{Role, Status};
pub use raft_log::{Index, NodeId, Term};
