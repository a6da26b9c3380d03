//! Raft consensus (the extended paper's Figure 2 and §7): leader election, log
//! replication, persistence and snapshots, as a deterministic core
//! ([`Raft`]) and a batteries-included driver ([`Node`]).
//!
//! **[`Node`]** is what most services use. It is built from a [`Config`], a
//! [`Persister`](raft_persist::Persister) (where its term, vote, log and
//! snapshot live) and a [`Transport`](raft_transport::Transport) (how it
//! reaches its peers). [`Node::propose`] returns at once with a
//! [`ProposalHandle`] that resolves when the command commits (blocking, or as
//! a `Future`); committed commands reach the service, in log order, on its
//! [`ApplyReceiver`].
//!
//! **[`Raft`]** is the protocol alone, with no IO, clock or threads, for
//! users who bring their own (the role of etcd-io/raft's `RawNode`): feed it
//! ticks, messages, proposals and persistence reports, and carry out the
//! [`Ready`] it returns.
//!
//! Replication is pipelined: each follower's [progress](ProgressState) is
//! probed, then streamed to within a window of AppendEntries in flight, each
//! carrying every command proposed since the last, up to a byte bound; the
//! leader sends entries while it writes them to its own disk and counts its
//! own log toward a commit only once durable; and a bound on uncommitted
//! entries turns overload into [`ProposeError::Busy`].
//!
//! Not here: sockets, files and wire encodings (the persister's and the
//! transport's business), and membership changes.
//!
//! # Features
//!
//! - `planted-bugs` (off by default, test-only): adds
//!   `Config::planted_bug` and `PlantedBug`, known protocol bugs the core can
//!   be configured to commit, so that `raft-testkit`'s simulator can show it
//!   catches each one. No normal build enables it.
//!
//! # Example
//!
//! A one-node cluster over the in-process transport and the memory persister:
//!
//! ```
//! use std::time::Duration;
//!
//! use raft_core::{Applied, Config, Node, NodeId, ProposeError};
//! use raft_persist::MemPersister;
//! use raft_transport::ChannelNetwork;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let network = ChannelNetwork::new();
//! let (node, mut applied) = Node::builder(Config::new(NodeId(1), vec![NodeId(1)]))
//!     .persister(MemPersister::new())
//!     .transport(network.transport(NodeId(1))?)
//!     .start()?;
//!
//! // A lone node elects itself once its election timeout passes.
//! let handle = loop {
//!     match node.propose(b"hello".to_vec()) {
//!         Ok(handle) => break handle,
//!         Err(ProposeError::NotLeader { .. }) => std::thread::sleep(Duration::from_millis(20)),
//!         Err(error) => return Err(error.into()),
//!     }
//! };
//! let committed = handle.wait_timeout(Duration::from_secs(5))?;
//! // The leader's no-op (Config::noop_on_election) came first, at index 1.
//! assert!(matches!(applied.recv()?, Applied::Noop { .. }));
//! match applied.recv()? {
//!     Applied::Command { index, data, .. } => {
//!         assert_eq!(index, committed.index);
//!         assert_eq!(&data[..], b"hello");
//!     }
//!     other => panic!("expected a command, got {other:?}"),
//! }
//!
//! // A linearizable read without a log write: once the service has applied
//! // through the read index, its state is up to date.
//! let read_index = node.read_index().wait_timeout(Duration::from_secs(5))?;
//! assert!(read_index >= committed.index);
//! node.shutdown();
//! assert!(applied.recv().is_err(), "a stopped node delivers nothing more");
//! # Ok(())
//! # }
//! ```
//!
//! # How it is built
//!
//! The core is deterministic: it does no IO, reads no clock, spawns no
//! thread and draws randomness from a generator seeded by [`Config::seed`].
//! The node driver runs it on one event-loop thread. Each turn takes in a
//! batch of events (requests, answers, proposals, ticks), then carries out
//! the core's [`Ready`]: the leader's AppendEntries leave at once, the update
//! is saved, then votes and answers leave, then committed entries go to the
//! apply side in one batch. So nothing leaves a node before the state it
//! promises is durable, and neither the network nor a slow service ever
//! blocks the loop.

mod applied;
mod config;
mod error;
mod message;
mod node;
mod progress;
mod raft;
mod read;
mod ready;
mod sent;
mod status;
mod step;

pub use crate::applied::Applied;
#[cfg(feature = "planted-bugs")]
pub use crate::config::PlantedBug;
pub use crate::config::{
    Config, DEFAULT_ELECTION_TICKS_MAX, DEFAULT_ELECTION_TICKS_MIN, DEFAULT_HEARTBEAT_TICKS,
    DEFAULT_MAX_BYTES_PER_APPEND, DEFAULT_MAX_INFLIGHT_APPENDS, DEFAULT_MAX_INFLIGHT_BYTES,
    DEFAULT_MAX_UNCOMMITTED_BYTES, DEFAULT_MAX_UNCOMMITTED_ENTRIES, DEFAULT_TICK_INTERVAL,
};
pub use crate::error::{ConfigError, NodeError, ProposeError, RaftError, ReadError, TransferError};
pub use crate::message::{
    AppendRequest, AppendResponse, ReadIndexRequest, ReadIndexResponse, Request, Response,
    SnapshotRequest, SnapshotResponse, TimeoutNowRequest, TimeoutNowResponse, VoteRequest,
    VoteResponse,
};
pub use crate::node::{
    ApplyReceiver, Node, NodeBuilder, Proposal, ProposalError, ProposalHandle, ReadHandle,
    RecvError, RecvTimeoutError, StopReason, TryRecvError,
};
pub use crate::progress::{PeerProgress, ProgressState};
pub use crate::raft::Raft;
pub use crate::read::{ReadId, ReadOutcome};
pub use crate::ready::{Outgoing, Ready};
pub use crate::sent::Sent;
pub use crate::status::{Counters, Role, Status};
pub use crate::step::{Message, RequestId};
pub use bytes::Bytes;
pub use raft_log::{Index, NodeId, Term};
